package cli_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/cli"
)

func TestDemoErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer healthy.Close()
	unhealthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer unhealthy.Close()
	sdBusy := t.TempDir() // a bench is registered there, as process 1 (always alive)
	if err := os.WriteFile(filepath.Join(sdBusy, "bench-1.json"), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	sdStale := t.TempDir() // a load generator that is gone
	if err := os.WriteFile(filepath.Join(sdStale, "loadgen-999999999.json"), []byte("[]"), 0o644); err != nil {
		t.Fatal(err)
	}
	targets := func(mono, ed, vision string) []string {
		return []string{"--target-monolith", mono, "--target-eventdriven", ed, "--vision", vision}
	}

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // all in the one-line message
	}{
		{"no demo", nil, nil, []string{"name a demo: vision-outage or slow-vision"}},
		{"unknown demo", []string{"kafka-outage"}, nil, []string{`unknown demo "kafka-outage" (want vision-outage or slow-vision)`}},
		{"unknown flag", []string{"vision-outage", "--seed", "3"}, nil, []string{"flag provided but not defined: -seed"}},
		{"bad duration", []string{"slow-vision", "--fault-duration", "forty"}, nil, []string{"invalid value", "-fault-duration"}},
		{"every bad value at once", append([]string{"vision-outage", "extra", "--rate", "0", "--fault-duration", "10m", "--secret", "short"},
			targets("localhost:8080", closed, closed)...), nil,
			[]string{`unexpected arguments ["extra"]`, `--target-monolith "localhost:8080" is not an http(s) URL`,
				"--rate 0: want more than 0 and at most 50", "--fault-duration 10m0s", "shorter than 16 bytes"}},
		{"rate too high, flags before the name", []string{"--rate", "500", "slow-vision"}, nil, []string{"demo slow-vision: --rate 500"}},
		{"unreachable targets", append([]string{"vision-outage"}, targets(closed, closed, healthy.URL)...), nil,
			[]string{"target " + closed + " unreachable", "is the stack up?"}},
		{"unhealthy vision", append([]string{"slow-vision"}, targets(healthy.URL, healthy.URL, unhealthy.URL)...), nil,
			[]string{"target " + unhealthy.URL + " unreachable: /healthz answered 503"}},
		{"targets from the environment", []string{"vision-outage"},
			map[string]string{"PHOTOBENCH_MONOLITH_URL": closed, "PHOTOBENCH_EVENTDRIVEN_URL": healthy.URL, "PHOTOBENCH_VISION_URL": healthy.URL},
			[]string{"target " + closed + " unreachable"}},
		{"a bench is running", append([]string{"vision-outage"}, targets(healthy.URL, healthy.URL, healthy.URL)...),
			map[string]string{"PHOTOBENCH_PROMETHEUS_SD_DIR": sdBusy},
			[]string{"another load runs against the stack (bench pid 1)"}},
		{"a gone load generator does not count", append([]string{"vision-outage"}, targets(closed, healthy.URL, healthy.URL)...),
			map[string]string{"PHOTOBENCH_PROMETHEUS_SD_DIR": sdStale},
			[]string{"target " + closed + " unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			start := time.Now()
			err := cli.Run(context.Background(), append([]string{"demo"}, tt.args...), func(k string) string { return tt.env[k] }, &stdout, &stderr)
			if err == nil {
				t.Fatal("no error")
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("failed after %v, want at once (health checks bounded by 3 s)", d)
			}
			msg := cli.Message(err)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) || strings.Contains(msg, "\n") {
					t.Errorf("message %q: want one line mentioning %q", msg, w)
				}
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
		})
	}
}

func TestDemoHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "demo"}, {"demo", "-h"}, {"demo", "vision-outage", "--help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout bytes.Buffer
			if err := cli.Run(context.Background(), args, noEnv, &stdout, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"vision-outage", "slow-vision", "--target-monolith", "--target-eventdriven", "--vision",
				"--rate", "--fault-duration", "--secret", "PHOTOBENCH_MONOLITH_URL", "PHOTOBENCH_AUTH_SECRET"} {
				if !strings.Contains(stdout.String(), f) {
					t.Errorf("help lacks %q", f)
				}
			}
		})
	}
}
