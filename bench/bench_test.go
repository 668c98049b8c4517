package bench_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/loadgen"
)

// benchStack is the running stack's configuration with a second set of
// apps on free ports (AppInstance), so that the bench's starting and
// stopping of apps leaves the stack's own apps, which other tests use, alone.
func benchStack(t *testing.T) (stack.Config, stacktest.Env) {
	t.Helper()
	env := stacktest.Load(t)
	cfg, err := stack.LoadConfig(func(k string) string {
		if k == "PHOTOBENCH_STACK_DIR" {
			return env.StackDir
		}
		return os.Getenv(k)
	}, env.StackDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AppBinary = filepath.Join(stacktest.RepoRoot(t), "bin", "photobench")
	if _, err := os.Stat(cfg.AppBinary); err != nil {
		t.Fatalf("%v: run make build (make test does)", err)
	}
	cfg.AppInstance = fmt.Sprintf("benchtest-%d", os.Getpid())
	cfg.VisionPort, cfg.MonolithPort, cfg.RuntimePort = stacktest.FreePort(t), stacktest.FreePort(t), stacktest.FreePort(t)
	ports := map[string]int{}
	for k := range cfg.FunctionPorts {
		ports[k] = stacktest.FreePort(t)
	}
	cfg.FunctionPorts = ports
	if env.AuthSecret != "" {
		cfg.AuthSecret = env.AuthSecret
	}
	return cfg, env
}

const tinyProfile = `name: tiny
slo_p99_ack: 1s
steady_phase: steady
vision: {latency: {distribution: fixed, fixed_ms: 2}}
experiments:
  - name: tiny
    scenario:
      name: tiny
      seed: 77
      users: 2
      timeout: 10s
      mix: {upload: 1, list: 1}
      photos: {count: 2, sizes: [{megapixels: 0.3}]}
      ready: {timeout: 30s}
      phases:
        - {name: warmup, warmup: true, duration: 2s, pacer: {type: constant, rate: 2}}
        - {name: steady, duration: 4s, pacer: {type: constant, rate: 4}}
        - {name: outage, duration: 5s, pacer: {type: constant, rate: 4}}
    faults:
      - {phase: outage, vision: {outage: fail}, text: vision outage}
`

// A whole bench run of a tiny profile against the monolith, on the real
// stack: the apps start and stop, the vision outage is injected and shows,
// the load generator's and Prometheus's figures are captured and saved.
func TestBenchRunsAndCapturesAProfile(t *testing.T) {
	cfg, env := benchStack(t)
	p, err := bench.ParseProfile([]byte(tinyProfile))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var log strings.Builder
	res, err := bench.RunProfile(context.Background(), bench.Config{Profile: p, Out: out, Stack: cfg,
		Archs: []string{results.Monolith}, Secret: []byte(cfg.AuthSecret), Cache: t.TempDir(), Log: &log})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(res.Runs) != 1 || res.Runs[0].Status != results.StatusOK || res.Partial {
		t.Fatalf("runs %+v\n%s", res.Runs, log.String())
	}
	run := res.Runs[0]
	steady, ok := run.Summary.Phase("steady")
	if !ok || steady.Ops[loadgen.OpUpload].OK == 0 || steady.Ops[loadgen.OpUpload].Errors != 0 {
		t.Errorf("steady: %+v: want uploads answered, no errors", steady.Ops)
	}
	outage, _ := run.Summary.Phase("outage")
	up := outage.Ops[loadgen.OpUpload]
	// The monolith retries vision once after its Retry-After, so uploads
	// near the outage's end may still succeed; the others are refused.
	if up.Scheduled == 0 || up.ErrorsByClass["5xx"] == 0 || up.OK >= up.Scheduled {
		t.Errorf("outage uploads %+v: want uploads refused with 503 during the vision outage", up)
	}
	if len(run.Faults) != 1 || run.Faults[0].End.Sub(run.Faults[0].Start) < 4*time.Second {
		t.Errorf("faults %+v: want the vision outage over the outage phase", run.Faults)
	}
	// Prometheus's view: the generator's requests, the monolith's CPU and
	// PostgreSQL's (from the bench's /proc reader).
	for _, q := range []struct{ name, label, value string }{
		{results.QRequestRate, "outcome", "ok"},
		{results.QProcessCPU, "component", "monolith"},
		{results.QComponentCPU, "component", "postgresql"},
		{results.QVisionOutage, "", ""},
	} {
		found := false
		for _, s := range run.Series[q.name] {
			if (q.label == "" || s.Labels[q.label] == q.value) && len(s.Points) > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s series with %s=%q captured (%d series)", q.name, q.label, q.value, len(run.Series[q.name]))
		}
	}
	peak := 0.0
	for _, s := range run.Series[results.QVisionOutage] {
		peak = max(peak, s.Max(run.Start, run.Drain))
	}
	if peak != 1 {
		t.Errorf("vision outage gauge peaked at %v during the run, want 1", peak)
	}
	var uploads int
	for _, pt := range run.Timeline {
		if pt.Op == "upload" {
			uploads += int(pt.Count)
		}
	}
	if uploads == 0 {
		t.Error("timeline has no upload points")
	}
	for _, f := range []string{"results.json", "queries.json", filepath.Join(run.Dir, "summary.json"),
		filepath.Join(run.Dir, "latency.hlog"), filepath.Join(run.Dir, "prom", results.QRequestRate+".json")} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if pids := stack.PIDs(cfg); pids["monolith"] != 0 || pids["vision"] != 0 {
		t.Errorf("apps left running: %v", pids)
	}
	_ = env
}

// An architecture that cannot start is reported as failed, and the bench
// goes on.
func TestBenchReportsAFailedRun(t *testing.T) {
	cfg, _ := benchStack(t)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.MonolithPort)) // the monolith's port, taken
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p, err := bench.ParseProfile([]byte(tinyProfile))
	if err != nil {
		t.Fatal(err)
	}
	res, err := bench.RunProfile(context.Background(), bench.Config{Profile: p, Out: t.TempDir(), Stack: cfg,
		Archs: []string{results.Monolith}, Secret: []byte(cfg.AuthSecret), Cache: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 1 || res.Runs[0].Status != results.StatusFailed || !strings.Contains(res.Runs[0].Error, "port") {
		t.Errorf("runs %+v: want the monolith run failed, naming the taken port", res.Runs)
	}
}

// Ctrl-C mid-run: the run stops, what was collected is kept and marked
// partial, and the apps the bench started are stopped.
func TestBenchInterruptedKeepsWhatItCollected(t *testing.T) {
	cfg, _ := benchStack(t)
	p, err := bench.ParseProfile([]byte(tinyProfile))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &syncWriter{b: &strings.Builder{}}
	go func() {
		// Cancel once the schedule is under way (the log says which run starts).
		for !strings.Contains(log.String(), "schedule started") {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(3 * time.Second)
		cancel()
	}()
	res, err := bench.RunProfile(ctx, bench.Config{Profile: p, Out: out, Stack: cfg,
		Archs: []string{results.Monolith, results.EventDriven}, Secret: []byte(cfg.AuthSecret), Cache: t.TempDir(), Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Partial || len(res.Runs) != 1 || res.Runs[0].Status != results.StatusPartial {
		t.Fatalf("partial %v, runs %+v: want one run, partial", res.Partial, res.Runs)
	}
	if !res.Runs[0].Summary.Partial {
		t.Error("the run's summary is not marked partial")
	}
	saved, err := results.Load(out)
	if err != nil || !saved.Partial || len(saved.Runs) != 1 {
		t.Errorf("results.json: %v, %+v", err, saved)
	}
	if pids := stack.PIDs(cfg); pids["monolith"] != 0 || pids["vision"] != 0 {
		t.Errorf("apps left running: %v", pids)
	}
}

// syncWriter lets the test read the log while the bench writes it.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
