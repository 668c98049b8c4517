package stack_test

import (
	"strings"
	"testing"

	"github.com/photobench/photobench/internal/stack"
)

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := stack.LoadConfig(func(string) string { return "" }, ".stack")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PHOTOBENCH_PG_DSN":         "postgres://photobench:photobench@127.0.0.1:15432/photobench?sslmode=disable",
		"PHOTOBENCH_KAFKA_BROKERS":  "127.0.0.1:19092",
		"PHOTOBENCH_S3_ENDPOINT":    "http://127.0.0.1:19000",
		"PHOTOBENCH_PROMETHEUS_URL": "http://127.0.0.1:19090",
	}
	for _, kv := range cfg.Env() {
		if w, ok := want[kv[0]]; ok && kv[1] != w {
			t.Errorf("%s = %q, want %q", kv[0], kv[1], w)
		}
		delete(want, kv[0])
	}
	if len(want) > 0 {
		t.Errorf("env contract lacks %v", want)
	}
	for _, tp := range cfg.Topics() {
		wantParts := 4
		if strings.HasSuffix(tp.Name, ".dlq") {
			wantParts = 1
		}
		if tp.Partitions != wantParts {
			t.Errorf("topic %s has %d partitions, want %d", tp.Name, tp.Partitions, wantParts)
		}
	}
	if !cfg.MinIONotifyQueue {
		t.Error("MinIO's notification queue directory is off by default; want on (events survive a Kafka outage)")
	}
}

func TestLoadConfigOverridesAndErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // substrings; empty means no error
		check   func(t *testing.T, c stack.Config)
	}{
		{
			name: "ports overridden",
			env:  map[string]string{"PHOTOBENCH_PG_PORT": "25432", "PHOTOBENCH_KAFKA_PARTITIONS": "8", "PHOTOBENCH_MINIO_NOTIFY_QUEUE": "off"},
			check: func(t *testing.T, c stack.Config) {
				if !strings.Contains(c.PGDSN(), "127.0.0.1:25432") {
					t.Errorf("DSN %s ignores the port", c.PGDSN())
				}
				if c.Topics()[0].Partitions != 8 {
					t.Errorf("partitions = %d, want 8", c.Topics()[0].Partitions)
				}
				if c.MinIONotifyQueue {
					t.Error("notify queue still on")
				}
			},
		},
		{
			name:    "every bad value reported at once",
			env:     map[string]string{"PHOTOBENCH_PG_PORT": "postgres", "PHOTOBENCH_KAFKA_HEAP_MB": "1", "PHOTOBENCH_MINIO_NOTIFY_QUEUE": "maybe"},
			wantErr: []string{"PHOTOBENCH_PG_PORT", "PHOTOBENCH_KAFKA_HEAP_MB", "PHOTOBENCH_MINIO_NOTIFY_QUEUE"},
		},
		{
			name:    "two services on one port",
			env:     map[string]string{"PHOTOBENCH_MINIO_PORT": "19090"},
			wantErr: []string{"port 19090", "PHOTOBENCH_MINIO_PORT", "PHOTOBENCH_PROMETHEUS_PORT"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := stack.LoadConfig(func(k string) string { return tt.env[k] }, ".stack")
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, c)
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
