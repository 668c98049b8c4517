package cli_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/internal/cli"
)

// TestServersRefuseDevelopmentSecret runs every process that verifies or
// forwards bearer tokens without PHOTOBENCH_AUTH_SECRET: off loopback each
// refuses to start, naming the variable, before it opens anything (the
// context is already cancelled, so a server that went on would fail
// otherwise); on loopback each logs a warning and goes on (but the
// runtime, which would start replicas of this test binary).
func TestServersRefuseDevelopmentSecret(t *testing.T) {
	env := map[string]string{
		"PHOTOBENCH_S3_ENDPOINT": "http://127.0.0.1:1", "PHOTOBENCH_S3_ACCESS_KEY": "a", "PHOTOBENCH_S3_SECRET_KEY": "b",
		"PHOTOBENCH_CATALOG_PG_DSN": "postgres://127.0.0.1:1/catalog",
	}
	servers := []struct {
		name string
		args func(addr string) []string
	}{
		{"monolith", func(a string) []string {
			return []string{"monolith", "--pg-dsn", "postgres://127.0.0.1:1/x", "--addr", a}
		}},
		{"async monolith", func(a string) []string {
			return []string{"monolith", "--mode", "async", "--pg-dsn", "postgres://127.0.0.1:1/x", "--addr", a}
		}},
		{"ingest", func(a string) []string { return []string{"fn", "ingest", "--addr", a} }},
		{"query", func(a string) []string { return []string{"fn", "query", "--addr", a} }},
		{"front", func(a string) []string { return []string{"fn", "front", "--addr", a} }},
		{"runtime", func(a string) []string { return []string{"runtime", "--pinned", "--listen", "query=" + a} }},
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, s := range servers {
		for _, addr := range []string{"0.0.0.0:0", ":0", "127.0.0.1:0"} {
			if s.name == "runtime" && addr == "127.0.0.1:0" {
				continue
			}
			t.Run(s.name+" on "+addr, func(t *testing.T) {
				var stderr strings.Builder
				err := cli.Run(ctx, s.args(addr), func(k string) string { return env[k] }, io.Discard, &stderr)
				if addr != "127.0.0.1:0" {
					if err == nil || !strings.Contains(cli.Message(err), auth.EnvSecret) || !strings.Contains(cli.Message(err), "loopback") {
						t.Fatalf("err = %v, want a refusal naming %s", err, auth.EnvSecret)
					}
					return
				}
				if err != nil && strings.Contains(err.Error(), auth.EnvSecret) {
					t.Fatalf("refused on loopback: %v", err)
				}
				if !strings.Contains(stderr.String(), "development secret") {
					t.Errorf("no warning on loopback; stderr:\n%s", stderr.String())
				}
			})
		}
	}
}
