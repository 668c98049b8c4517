package cli_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/photobench/photobench/internal/cli"
	"github.com/photobench/photobench/internal/minio"
	"github.com/photobench/photobench/internal/stacktest"
)

func TestMonolithHelp(t *testing.T) {
	var help strings.Builder // on stderr, as flag's usage is
	if err := cli.Run(context.Background(), []string{"monolith", "--help"}, visionNoEnv, io.Discard, &help); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--storage disk|s3", "PHOTOBENCH_MONOLITH_STORAGE", "default disk", "--s3-bucket", "default monolith", "PHOTOBENCH_S3_ENDPOINT", "PHOTOBENCH_S3_SECRET_KEY"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestMonolithConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"no database", nil, nil, []string{"no database", "PHOTOBENCH_PG_DSN"}},
		{"every problem at once", []string{"--pg-dsn", "postgres://x/y", "--addr", "nowhere", "--vision-url", "::", "--max-uploads", "0", "--vision-timeout", "0s", "--max-bytes", "0", "extra"}, nil,
			[]string{"--addr", "--vision-url", "--max-uploads", "--vision-timeout", "--max-bytes", "unexpected arguments"}},
		{"async knobs", []string{"--pg-dsn", "postgres://x/y", "--mode", "later", "--workers", "0", "--job-timeout", "10s", "--rescue-after", "5s", "--fetch-cooldown", "0s"}, nil,
			[]string{"--mode", "--workers", "--rescue-after", "--fetch-cooldown"}},
		{"mode from the environment", nil, map[string]string{"PHOTOBENCH_MONOLITH_MODE": "eventually", "PHOTOBENCH_PG_DSN": "postgres://x/y"}, []string{`--mode "eventually"`}},
		{"unknown storage", []string{"--pg-dsn", "postgres://x/y", "--storage", "tape"}, nil, []string{`--storage "tape"`, "disk or s3"}},
		{"unknown storage from the environment", []string{"--pg-dsn", "postgres://x/y"}, map[string]string{"PHOTOBENCH_MONOLITH_STORAGE": "S3"}, []string{`--storage "S3"`}},
		{"s3 without MinIO", []string{"--pg-dsn", "postgres://x/y", "--storage", "s3"}, nil,
			[]string{"PHOTOBENCH_S3_ENDPOINT", "PHOTOBENCH_S3_ACCESS_KEY", "PHOTOBENCH_S3_SECRET_KEY"}},
		{"the event-driven app's bucket", []string{"--pg-dsn", "postgres://x/y", "--storage", "s3", "--s3-bucket", "originals"}, s3Env, []string{`--s3-bucket "originals"`, "event-driven"}},
		{"no bucket name", []string{"--pg-dsn", "postgres://x/y", "--storage", "s3", "--s3-bucket", "Not_A_Bucket"}, s3Env, []string{`--s3-bucket "Not_A_Bucket"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cli.Run(context.Background(), append([]string{"monolith"}, tt.args...), func(k string) string { return tt.env[k] }, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			msg := cli.Message(err)
			if strings.Contains(msg, "\n") {
				t.Errorf("not one line: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not mention %q", msg, w)
				}
			}
		})
	}
}

var s3Env = map[string]string{"PHOTOBENCH_S3_ENDPOINT": "http://127.0.0.1:1", "PHOTOBENCH_S3_ACCESS_KEY": "a", "PHOTOBENCH_S3_SECRET_KEY": "b"}

// photobench monolith on port 0 against the stack's PostgreSQL, in each
// mode: it creates its database, answers /healthz, and shuts down cleanly
// when cancelled.
func TestMonolithRunsAndShutsDown(t *testing.T) {
	env := stacktest.Load(t)
	for _, mode := range []string{"sync", "async"} {
		t.Run(mode, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			base, done := startMonolith(ctx, t, []string{"--mode", mode, "--data-dir", t.TempDir(), "--pg-dsn", freshDSN(t, env)}, visionNoEnv)
			waitVisionHealthy(t, base)
			cancel()
			if err := <-done; err != nil {
				t.Errorf("after cancel: %v, want a clean shutdown", err)
			}
		})
	}
}

// With --storage s3 the monolith makes its bucket, says so in its info
// metric, and its health depends on the bucket.
func TestMonolithRunsWithS3(t *testing.T) {
	env := stacktest.Load(t)
	bucket := stacktest.FreshBucket(t, env, "pbtest-cli-")
	getenv := func(k string) string {
		return map[string]string{
			"PHOTOBENCH_MONOLITH_STORAGE": "s3",
			"PHOTOBENCH_S3_ENDPOINT":      env.S3Endpoint,
			"PHOTOBENCH_S3_ACCESS_KEY":    env.S3AccessKey,
			"PHOTOBENCH_S3_SECRET_KEY":    env.S3SecretKey,
		}[k]
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startMonolith(ctx, t, []string{"--s3-bucket", bucket, "--pg-dsn", freshDSN(t, env)}, getenv)
	waitVisionHealthy(t, base)

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `photobench_monolith_info{storage="s3"} 1`; !strings.Contains(string(metrics), want) {
		t.Errorf("metrics lack %s", want)
	}

	client, err := minio.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.RemoveBucket(context.Background(), bucket); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "bucket "+bucket) {
		t.Errorf("/healthz without the bucket: %s %s, want 503 naming the bucket", resp.Status, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("after cancel: %v, want a clean shutdown", err)
	}
}

// startMonolith runs photobench monolith on port 0 with args until ctx
// ends, and returns its base URL and Run's result to come.
func startMonolith(ctx context.Context, t *testing.T, args []string, getenv func(string) string) (string, <-chan error) {
	t.Helper()
	out, stdout := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, append([]string{"monolith", "--addr", "127.0.0.1:0"}, args...), getenv, stdout, io.Discard)
		stdout.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v (run: %v)", err, <-done)
	}
	go io.Copy(io.Discard, out)
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "monolith listening on ")
	if !ok {
		t.Fatalf("listening line %q", line)
	}
	return base, done
}

// freshDSN names a database of the stack's PostgreSQL that the monolith
// creates, dropped when the test ends.
func freshDSN(t *testing.T, env stacktest.Env) string {
	b := make([]byte, 6)
	rand.Read(b)
	db := "pbtest_cli_" + hex.EncodeToString(b)
	u, _ := url.Parse(env.PGDSN)
	u.Path = "/" + db
	t.Cleanup(func() {
		ctx := context.Background()
		if c, err := pgx.Connect(ctx, env.PGDSN); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	return u.String()
}
