package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench/target"
)

// A target's restart fault runs its command; a failing one is an error
// with its exit and last line; a server without one is not injected.
func TestTargetRestartHooks(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "restarted")
	b := &bencher{cfg: Config{Target: &target.Target{Name: "t", Restart: map[string]target.Hook{
		"kafka":    {"sh", "-c", "echo kafka > " + mark},
		"postgres": {"sh", "-c", "echo starting; echo no such statefulset >&2; exit 3"},
		"minio":    nil,
	}}}}
	ctx := context.Background()
	if err := b.restart(ctx, "kafka"); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(mark); err != nil || strings.TrimSpace(string(data)) != "kafka" {
		t.Fatalf("the kafka hook did not run: %q, %v", data, err)
	}
	err := b.restart(ctx, "postgres")
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "no such statefulset") {
		t.Fatalf("postgres: %v, want its exit and last line", err)
	}
	for _, s := range []string{"minio", "prometheus"} {
		if err := b.restart(ctx, s); !errors.Is(err, errNoHook) {
			t.Errorf("%s: %v, want not injected", s, err)
		}
	}
}
