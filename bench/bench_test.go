package bench_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
	cfg.VisionPort, cfg.MonolithPort, cfg.MonolithAsyncPort = stacktest.FreePort(t), stacktest.FreePort(t), stacktest.FreePort(t)
	cfg.RuntimePort = stacktest.FreePort(t)
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

// A whole bench run of a tiny profile against the three architectures, on
// the real stack: the apps start and stop, the same vision outage is
// injected into each run and shows (the monolith refuses uploads, the
// async monolith and the event-driven app accept them), the load
// generator's and Prometheus's figures are captured and saved, and the
// settings say how the monoliths ran.
//
// It runs on a scratch stack of its own, which the bench starts and
// stops: on the shared stack its event-driven run would share consumer
// groups with the stack's own runtime, and each would handle some of the
// other's events (another package's vision-outage test saw its photos made
// ready by this run's healthy vision).
func TestBenchRunsAndCapturesAProfile(t *testing.T) {
	cfg, p := scratchServers(t)
	out := t.TempDir()
	var log strings.Builder
	res, err := bench.RunProfile(context.Background(), bench.Config{Profile: p, Out: out, Stack: cfg,
		Secret: []byte(cfg.AuthSecret), Cache: t.TempDir(), Log: &log}) // Archs: all, by default
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(res.Runs) != len(results.Archs) || res.Partial {
		t.Fatalf("runs %+v\n%s", res.Runs, log.String())
	}
	// The runs ran in the order the seed draws, each architecture once.
	order := bench.Order(results.Archs, 1, p.OrderSeed)[0]
	if res.OrderSeed != p.OrderSeed || len(res.Order) != len(res.Runs) || len(res.Planned) != len(res.Runs) {
		t.Errorf("order seed %d, order %+v, planned %v", res.OrderSeed, res.Order, res.Planned)
	}
	for i, run := range res.Runs {
		if run.Arch != order[i] || run.Status != results.StatusOK {
			t.Fatalf("run %d: %s %s (%s), want %s ok\n%s", i, run.Arch, run.Status, run.Error, order[i], log.String())
		}
		t.Run(run.Arch, func(t *testing.T) { checkRun(t, out, run) })
		if i < len(res.Order) {
			t.Run(run.Arch+"/start", func(t *testing.T) { checkStart(t, cfg, run, res.Order[i]) })
		}
	}
	checkFingerprint(t, res)
	for _, k := range []string{"monolith_async_workers", "monolith_async_fetch_poll", "monolith_async_retry_backoff", "monolith_async_max_attempts"} {
		if res.Settings[k] == "" {
			t.Errorf("setting %s not recorded", k)
		}
	}
	// The storage setting says what each monolith reported it used.
	storage, _, _ := strings.Cut(res.Settings["monolith_storage"], ":")
	for _, run := range res.Runs {
		if run.Arch == results.EventDriven {
			continue
		}
		var used []string
		for _, s := range run.Series[results.QMonolithInfo] {
			used = append(used, s.Labels["storage"])
		}
		if len(used) != 1 || used[0] != storage {
			t.Errorf("%s reported storage %v, the setting says %q", run.Arch, used, res.Settings["monolith_storage"])
		}
	}
	pids := stack.PIDs(cfg)
	for _, app := range []string{"vision", "monolith", "monolith-async", "runtime", "front"} {
		if pids[app] != 0 {
			t.Errorf("apps left running: %v", pids)
			break
		}
	}
}

// scratchServers starts the servers of a scratch stack, without the apps,
// and returns its configuration (the apps to run from bin/photobench) and
// the tiny profile. The servers are started here, so that a bench (which
// stops the servers it started) leaves them up for the checks after it.
func scratchServers(t *testing.T) (stack.Config, *bench.Profile) {
	t.Helper()
	cfg := stacktest.Scratch(t, nil)
	if _, err := stack.Up(context.Background(), cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Down(cfg, nil, io.Discard) })
	cfg.AppBinary = filepath.Join(stacktest.RepoRoot(t), "bin", "photobench")
	p, err := bench.ParseProfile([]byte(tinyProfile))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, p
}

// checkStart checks the state a run started from: a monolith from empty
// resources of its own, removed after the run; the event-driven app with
// its consumer groups at the end of their topics.
func checkStart(t *testing.T, cfg stack.Config, run results.Run, st results.RunStart) {
	if st.Arch != run.Arch || st.Dir != run.Dir || len(st.Problems) > 0 {
		t.Errorf("start %+v of run %s %s", st, run.Arch, run.Dir)
	}
	if st.Load.Seconds <= 0 || st.Load.LoadAvg[0] <= 0 {
		t.Errorf("host load before the run %+v", st.Load)
	}
	switch run.Arch {
	case results.EventDriven:
		if st.Shared == "" || len(st.Lag) != 3 {
			t.Errorf("start %+v: want the shared resources named and every group's lag", st)
		}
		for g, n := range st.Lag {
			if n != 0 {
				t.Errorf("group %s %d messages behind at the start", g, n)
			}
		}
	default:
		if st.Fresh == "" || len(st.Rows) != 1 || len(st.Objects) != 1 {
			t.Fatalf("start %+v: want the run's own database and data directory", st)
		}
		for k, n := range st.Rows {
			if n != 0 {
				t.Errorf("%s: %d rows at the start, want 0", k, n)
			}
			db, _, _ := strings.Cut(k, ".")
			if databaseExists(t, cfg, db) {
				t.Errorf("the run's database %s is still there", db)
			}
		}
		for dir, n := range st.Objects {
			if n != 0 {
				t.Errorf("%s: %d files at the start, want 0", dir, n)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the run's data directory %s is still there (%v)", dir, err)
			}
		}
	}
}

// databaseExists reports whether the stack's PostgreSQL has database db.
func databaseExists(t *testing.T, cfg stack.Config, db string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, cfg.DatabaseDSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", db).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// checkFingerprint checks what the results say of how they were made.
func checkFingerprint(t *testing.T, res *results.Results) {
	m := res.Machine
	if len(m.Commit) != 40 || m.CommitSource == "" {
		t.Errorf("commit %q from %q: want the binary's", m.Commit, m.CommitSource)
	}
	for _, k := range []string{"go", "postgresql", "kafka", "minio", "prometheus", "java", "photobench"} {
		if m.Versions[k] == "" {
			t.Errorf("no %s version in %v", k, m.Versions)
		}
	}
	if m.Load.Seconds <= 0 {
		t.Errorf("host load %+v", m.Load)
	}
	if res.Seeds["order"] != res.OrderSeed || res.Seeds["vision"] == 0 || res.Seeds["scenario:tiny"] != 77 {
		t.Errorf("seeds %v", res.Seeds)
	}
	for _, k := range []string{"architecture_order", "minio_notify_target", "pool_sizes", "scaling_thumbnailer", "start_state"} {
		if res.Settings[k] == "" {
			t.Errorf("setting %s not recorded", k)
		}
	}
}

// checkRun checks one architecture's run of the tiny profile.
func checkRun(t *testing.T, out string, run results.Run) {
	steady, ok := run.Summary.Phase("steady")
	if !ok || steady.Ops[loadgen.OpUpload].OK == 0 || steady.Ops[loadgen.OpUpload].Errors != 0 {
		t.Errorf("steady: %+v: want uploads answered, no errors", steady.Ops)
	}
	outage, _ := run.Summary.Phase("outage")
	up := outage.Ops[loadgen.OpUpload]
	switch run.Arch {
	case results.Monolith:
		// The monolith retries vision once after its Retry-After, so
		// uploads near the outage's end may still succeed; the others
		// are refused.
		if up.Scheduled == 0 || up.ErrorsByClass["5xx"] == 0 || up.OK >= up.Scheduled {
			t.Errorf("outage uploads %+v: want uploads refused with 503 during the vision outage", up)
		}
	default:
		if up.Scheduled == 0 || up.OK != up.Scheduled {
			t.Errorf("outage uploads %+v: want every upload accepted during the vision outage", up)
		}
	}
	if run.Arch == results.MonolithAsync {
		for _, ph := range []string{"steady", "outage"} {
			ps, _ := run.Summary.Phase(ph)
			if r := ps.Ready; r == nil || r.Followed == 0 || r.Ready != r.Followed {
				t.Errorf("%s: followed until ready %+v: want every accepted upload ready", ph, r)
			}
		}
	}
	if len(run.Faults) != 1 || run.Faults[0].End.Sub(run.Faults[0].Start) < 4*time.Second {
		t.Errorf("faults %+v: want the vision outage over the outage phase", run.Faults)
	}
	// Prometheus's view: the generator's requests, the app's CPU and
	// PostgreSQL's (from the bench's /proc reader), and what is the
	// architecture's own.
	type series struct{ name, label, value string }
	want := []series{
		{results.QRequestRate, "outcome", "ok"},
		{results.QComponentCPU, "component", "postgresql"},
		{results.QVisionOutage, "", ""},
	}
	switch run.Arch {
	case results.Monolith:
		want = append(want, series{results.QProcessCPU, "component", "monolith"})
	case results.MonolithAsync:
		want = append(want, series{results.QProcessCPU, "component", "monolith-async"},
			series{results.QJobs, "state", "retryable"},
			series{results.QJobAttempts, "outcome", "ready"})
	case results.EventDriven:
		want = append(want, series{results.QProcessCPU, "component", "ingest"},
			series{results.QReplicas, "function", "thumbnailer"})
	}
	for _, q := range want {
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
	if run.Arch != results.MonolithAsync && len(run.Series[results.QJobs]) != 0 {
		t.Errorf("%s: %d series of the async monolith's jobs captured", run.Arch, len(run.Series[results.QJobs]))
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
