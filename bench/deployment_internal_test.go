package bench

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
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
	// A target naming a native stack: its hooks get that stack's directory.
	b.cfg.Target.Stack = "/srv/photobench/.stack"
	b.cfg.Target.Restart["kafka"] = target.Hook{"sh", "-c", `echo "$PHOTOBENCH_STACK_DIR" > ` + mark}
	if err := b.restart(ctx, "kafka"); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(mark); strings.TrimSpace(string(data)) != "/srv/photobench/.stack" {
		t.Errorf("the hook saw PHOTOBENCH_STACK_DIR=%q", data)
	}
}

// A target without a native stack: the bench records nothing of a stack it
// cannot read, and says so; its fingerprint is the bench's machine and
// binary.
func TestTargetWithoutStackRecordsNoStack(t *testing.T) {
	p, err := ParseProfile([]byte("name: t\nexperiments:\n  - name: e\n    scenario:\n      name: e\n      seed: 1\n      users: 1\n      mix: {list: 1}\n      phases: [{name: steady, duration: 1s, pacer: {type: constant, rate: 1}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tg := &target.Target{Name: "kind", Prometheus: "http://127.0.0.1:9", Variants: map[string]string{"monolith": "http://127.0.0.1:9"},
		Vision: target.None, Metrics: target.Metrics{Listen: "0.0.0.0:9464", Advertise: "bench:9464"}}
	b := &bencher{cfg: Config{Profile: p, Target: tg, Archs: []string{"monolith-async"}}}
	set := b.settings()
	for _, k := range append(slices.Clone(stackSettings), "monolith_async_fetch_poll") {
		if !strings.Contains(set[k], "the target's") {
			t.Errorf("setting %s = %q: want it marked the target's", k, set[k])
		}
	}
	for _, k := range []string{"deployment", "start_state", "vision_seed", "restart_hooks", "runtime_series"} {
		if set[k] == "" {
			t.Errorf("setting %s not recorded", k)
		}
	}
	if !strings.Contains(set["restart_hooks"], "kafka: none") {
		t.Errorf("restart_hooks %q", set["restart_hooks"])
	}
	m := b.fingerprint()
	for _, k := range []string{"postgresql", "kafka", "minio", "prometheus", "java"} {
		if v, ok := m.Versions[k]; ok {
			t.Errorf("version %s = %q recorded for a target without a stack", k, v)
		}
	}
	if !strings.HasPrefix(m.Deployment, "target kind (") || m.Cores == 0 || !strings.Contains(m.CommitSource, "of the bench") {
		t.Errorf("fingerprint %+v", m)
	}
}
