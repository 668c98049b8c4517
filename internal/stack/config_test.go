package stack_test

import (
	"os"
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
	if cfg.MinIONotifyQueue {
		t.Error("MinIO's notification queue directory is on by default; want off (its 3 s drain loop is what upload-to-ready would measure; the reconciler recovers lost events)")
	}
	if cfg.VisionSeed != 1 {
		t.Errorf("vision seed %d by default, want 1", cfg.VisionSeed)
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
			env:  map[string]string{"PHOTOBENCH_PG_PORT": "25432", "PHOTOBENCH_KAFKA_PARTITIONS": "8", "PHOTOBENCH_MINIO_NOTIFY_QUEUE": "on"},
			check: func(t *testing.T, c stack.Config) {
				if !strings.Contains(c.PGDSN(), "127.0.0.1:25432") {
					t.Errorf("DSN %s ignores the port", c.PGDSN())
				}
				if c.Topics()[0].Partitions != 8 {
					t.Errorf("partitions = %d, want 8", c.Topics()[0].Partitions)
				}
				if !c.MinIONotifyQueue {
					t.Error("notify queue still off")
				}
			},
		},
		{
			name: "monolith storage passed through",
			env:  map[string]string{"PHOTOBENCH_MONOLITH_STORAGE": "s3"},
			check: func(t *testing.T, c stack.Config) {
				if c.MonolithStorage != "s3" {
					t.Errorf("MonolithStorage = %q, want s3", c.MonolithStorage)
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

func TestPGDataDirFor(t *testing.T) {
	const home = "/var/lib/postgresql"
	tests := []struct {
		name     string
		stackDir string
		euid     int
		pgHome   string
		want     string // exact, or a prefix when keyed
		keyed    bool
	}{
		{name: "ordinary user keeps it in the clone", stackDir: "/home/ann/photobench/.stack", euid: 1000, pgHome: home,
			want: "/home/ann/photobench/.stack/data/postgres"},
		{name: "root puts it under the postgres user's home", stackDir: "/root/photobench/.stack", euid: 0, pgHome: home,
			want: home + "/photobench/", keyed: true},
		{name: "root without a postgres home keeps it in the clone", stackDir: "/root/photobench/.stack", euid: 0, pgHome: "",
			want: "/root/photobench/.stack/data/postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stack.PGDataDirFor(tt.stackDir, tt.euid, tt.pgHome)
			if !tt.keyed {
				if got != tt.want {
					t.Errorf("PGDataDirFor = %q, want %q", got, tt.want)
				}
				return
			}
			if !strings.HasPrefix(got, tt.want) || !strings.HasSuffix(got, "/data") {
				t.Errorf("PGDataDirFor = %q, want %s<key>/data", got, tt.want)
			}
			if again := stack.PGDataDirFor(tt.stackDir, tt.euid, tt.pgHome); again != got {
				t.Errorf("not stable: %q then %q", got, again)
			}
			if other := stack.PGDataDirFor(tt.stackDir+"-2", tt.euid, tt.pgHome); other == got {
				t.Errorf("two stack directories share the cluster %q", got)
			}
		})
	}
}

func TestLoadConfigPGDataDir(t *testing.T) {
	env := map[string]string{"PHOTOBENCH_STACK_DIR": "/srv/clone/.stack"}
	cfg, err := stack.LoadConfig(func(k string) string { return env[k] }, ".stack")
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 && cfg.PGDataDir != "/srv/clone/.stack/data/postgres" {
		t.Errorf("PGDataDir = %q for an ordinary user, want it under the stack directory", cfg.PGDataDir)
	}
	if cfg.DataDirs()[0] != [2]string{"postgres", cfg.PGDataDir} {
		t.Errorf("DataDirs()[0] = %v, want postgres at %s", cfg.DataDirs()[0], cfg.PGDataDir)
	}
	env["PHOTOBENCH_PG_DATA_DIR"] = "/srv/pg"
	if cfg, err = stack.LoadConfig(func(k string) string { return env[k] }, ".stack"); err != nil {
		t.Fatal(err)
	}
	if cfg.PGDataDir != "/srv/pg" {
		t.Errorf("PGDataDir = %q, want the PHOTOBENCH_PG_DATA_DIR override /srv/pg", cfg.PGDataDir)
	}
}

// TestEnvFileIsPrivate: the env file holds the auth secret and MinIO's keys,
// so it is written 0600, and a file left 0644 by an older version is made
// 0600 when it is written again.
func TestEnvFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	cfg, err := stack.LoadConfig(func(k string) string {
		return map[string]string{"PHOTOBENCH_AUTH_SECRET": "a-secret-of-the-test-0123456789"}[k]
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		old  bool
	}{{"new file", false}, {"old 0644 file", true}} {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(cfg.EnvFile())
			if tt.old {
				if err := os.WriteFile(cfg.EnvFile(), []byte("export OLD=1\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := cfg.WriteEnvFile(true); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(cfg.EnvFile())
			if err != nil {
				t.Fatal(err)
			}
			if mode := fi.Mode().Perm(); mode != 0o600 {
				t.Errorf("env file mode %o, want 600", mode)
			}
			b, err := os.ReadFile(cfg.EnvFile())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "PHOTOBENCH_AUTH_SECRET='a-secret-of-the-test-0123456789'") {
				t.Errorf("env file lacks the secret:\n%s", b)
			}
		})
	}
}
