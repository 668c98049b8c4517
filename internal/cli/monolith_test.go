package cli_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/photobench/photobench/internal/cli"
	"github.com/photobench/photobench/internal/stacktest"
)

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

// photobench monolith, in each mode, on port 0 against the stack's
// PostgreSQL: it creates its database (and in async mode River's tables),
// answers /healthz, and shuts down cleanly when cancelled.
func TestMonolithRunsAndShutsDown(t *testing.T) {
	env := stacktest.Load(t)
	for _, mode := range []string{"sync", "async"} {
		t.Run(mode, func(t *testing.T) {
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

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out, stdout := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- cli.Run(ctx, []string{"monolith", "--mode", mode, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--pg-dsn", u.String()}, visionNoEnv, stdout, io.Discard)
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
			waitVisionHealthy(t, base)
			cancel()
			if err := <-done; err != nil {
				t.Errorf("after cancel: %v, want a clean shutdown", err)
			}
		})
	}
}
