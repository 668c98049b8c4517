package loadgen_test

import (
	"errors"
	"math"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/photobench/photobench/loadgen"
)

var exportT0 = time.Unix(1_750_000_000, 0)

// exportResult is an answered request of op in phase, sent lag after its
// intended start, connected at lag+wait and done at latency.
func exportResult(op loadgen.Op, phase string, lag, wait, latency time.Duration) loadgen.Result {
	return loadgen.Result{
		Hit:       loadgen.Hit{Op: op, Intended: exportT0},
		PhaseName: phase,
		Sent:      exportT0.Add(lag),
		Conn:      exportT0.Add(lag + wait),
		Done:      exportT0.Add(latency),
		Status:    200,
	}
}

// exportSeries finds the series of family name whose labels include want; nil
// if there is none.
func exportSeries(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) *dto.Metric {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue metrics
				}
			}
			return m
		}
	}
	return nil
}

// exportWant is one expected series: a counter or gauge Value, or a
// histogram's Count and Sum; Absent if the series must not exist.
type exportWant struct {
	name   string
	labels map[string]string
	value  float64
	count  uint64
	sum    float64
	absent bool
}

func exportCheck(t *testing.T, reg *prometheus.Registry, wants []exportWant) {
	t.Helper()
	for _, w := range wants {
		m := exportSeries(t, reg, w.name, w.labels)
		switch {
		case w.absent:
			if m != nil {
				t.Errorf("%s%v exists, want none", w.name, w.labels)
			}
		case m == nil:
			t.Errorf("%s%v missing", w.name, w.labels)
		case m.GetHistogram() != nil:
			h := m.GetHistogram()
			if h.GetSampleCount() != w.count || math.Abs(h.GetSampleSum()-w.sum) > 1e-9 {
				t.Errorf("%s%v count %d sum %v, want %d and %v", w.name, w.labels,
					h.GetSampleCount(), h.GetSampleSum(), w.count, w.sum)
			}
		case m.GetCounter() != nil:
			if got := m.GetCounter().GetValue(); got != w.value {
				t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
			}
		case m.GetGauge() != nil:
			if got := m.GetGauge().GetValue(); got != w.value {
				t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
			}
		default:
			t.Errorf("%s%v: unexpected metric type", w.name, w.labels)
		}
	}
}

func exportLabels(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestExporterObserve(t *testing.T) {
	ms := time.Millisecond
	getMain := exportLabels("operation", "get", "phase", "main")
	tests := []struct {
		name    string
		results []loadgen.Result
		want    []exportWant
	}{
		{
			name: "answered",
			results: []loadgen.Result{
				exportResult(loadgen.OpGet, "main", 2*ms, 8*ms, 150*ms),
				exportResult(loadgen.OpGet, "main", 0, 0, 50*ms),
			},
			want: []exportWant{
				{name: "photobench_loadgen_requests_total", labels: exportLabels("operation", "get", "phase", "main", "outcome", "ok"), value: 2},
				{name: "photobench_loadgen_latency_seconds", labels: getMain, count: 2, sum: 0.2},
				{name: "photobench_loadgen_service_seconds", labels: getMain, count: 2, sum: 0.140 + 0.050},
				{name: "photobench_loadgen_schedule_lag_seconds", labels: exportLabels("phase", "main"), count: 2, sum: 0.002},
			},
		},
		{
			name: "warm-up phase labelled",
			results: func() []loadgen.Result {
				r := exportResult(loadgen.OpUpload, "warmup", 0, ms, 30*ms)
				r.Warmup = true
				return []loadgen.Result{r, exportResult(loadgen.OpUpload, "main", 0, ms, 40*ms)}
			}(),
			want: []exportWant{
				{name: "photobench_loadgen_requests_total", labels: exportLabels("operation", "upload", "phase", "warmup", "outcome", "ok"), value: 1},
				{name: "photobench_loadgen_requests_total", labels: exportLabels("operation", "upload", "phase", "main", "outcome", "ok"), value: 1},
				{name: "photobench_loadgen_latency_seconds", labels: exportLabels("operation", "upload", "phase", "warmup"), count: 1, sum: 0.030},
				{name: "photobench_loadgen_latency_seconds", labels: exportLabels("operation", "upload", "phase", "main"), count: 1, sum: 0.040},
			},
		},
		{
			name: "error statuses are measured",
			results: func() []loadgen.Result {
				a, b := exportResult(loadgen.OpGet, "main", 0, 0, 10*ms), exportResult(loadgen.OpGet, "main", 0, 0, 20*ms)
				a.Status, b.Status = 404, 503
				return []loadgen.Result{a, b}
			}(),
			want: []exportWant{
				{name: "photobench_loadgen_requests_total", labels: exportLabels("operation", "get", "phase", "main", "outcome", "4xx"), value: 1},
				{name: "photobench_loadgen_requests_total", labels: exportLabels("operation", "get", "phase", "main", "outcome", "5xx"), value: 1},
				{name: "photobench_loadgen_latency_seconds", labels: getMain, count: 2, sum: 0.030},
			},
		},
		{
			name: "timeout and transport are measured",
			results: func() []loadgen.Result {
				a, b := exportResult(loadgen.OpGet, "main", 0, 0, 5000*ms), exportResult(loadgen.OpGet, "main", 0, 0, 3*ms)
				a.Status, a.Timeout, a.Err = 0, true, errors.New("deadline")
				b.Status, b.Err = 0, errors.New("connection refused")
				return []loadgen.Result{a, b}
			}(),
			want: []exportWant{
				{name: "photobench_loadgen_requests_total", labels: exportLabels("operation", "get", "phase", "main", "outcome", "timeout"), value: 1},
				{name: "photobench_loadgen_requests_total", labels: exportLabels("operation", "get", "phase", "main", "outcome", "transport"), value: 1},
				{name: "photobench_loadgen_latency_seconds", labels: getMain, count: 2, sum: 5.003},
			},
		},
		{
			name: "dropped is only counted",
			results: []loadgen.Result{{Hit: loadgen.Hit{Op: loadgen.OpGet, Intended: exportT0},
				PhaseName: "main", Dropped: true}},
			want: []exportWant{
				{name: "photobench_loadgen_requests_total", labels: exportLabels("operation", "get", "phase", "main", "outcome", "dropped"), value: 1},
				{name: "photobench_loadgen_latency_seconds", labels: getMain, absent: true},
				{name: "photobench_loadgen_schedule_lag_seconds", labels: exportLabels("phase", "main"), absent: true},
			},
		},
		{
			name: "build failure is only counted",
			results: []loadgen.Result{{Hit: loadgen.Hit{Op: loadgen.OpGet, Intended: exportT0},
				PhaseName: "main", Done: exportT0, Err: errors.New("no photo")}},
			want: []exportWant{
				{name: "photobench_loadgen_requests_total", labels: exportLabels("operation", "get", "phase", "main", "outcome", "build"), value: 1},
				{name: "photobench_loadgen_latency_seconds", labels: getMain, absent: true},
				{name: "photobench_loadgen_schedule_lag_seconds", labels: exportLabels("phase", "main"), absent: true},
			},
		},
		{
			name: "canceled has lag but no latency",
			results: func() []loadgen.Result {
				r := exportResult(loadgen.OpGet, "main", 4*ms, 0, 10*ms)
				r.Canceled, r.Err = true, errors.New("context canceled")
				return []loadgen.Result{r}
			}(),
			want: []exportWant{
				{name: "photobench_loadgen_requests_total", labels: exportLabels("operation", "get", "phase", "main", "outcome", "canceled"), value: 1},
				{name: "photobench_loadgen_schedule_lag_seconds", labels: exportLabels("phase", "main"), count: 1, sum: 0.004},
				{name: "photobench_loadgen_latency_seconds", labels: getMain, absent: true},
				{name: "photobench_loadgen_service_seconds", labels: getMain, absent: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			e := loadgen.NewExporter(reg, "monolith")
			for _, r := range tt.results {
				e.Observe(r)
			}
			exportCheck(t, reg, tt.want)
		})
	}
}

func TestExporterObserveReady(t *testing.T) {
	upload := loadgen.Hit{Op: loadgen.OpUpload, Intended: exportT0}
	tests := []struct {
		name   string
		result loadgen.ReadyResult
		want   []exportWant
	}{
		{
			name: "ready uses the server's ready_at",
			result: loadgen.ReadyResult{Upload: upload, PhaseName: "main", Outcome: loadgen.ReadyOK,
				Observed: exportT0.Add(900 * time.Millisecond), ServerReady: exportT0.Add(750 * time.Millisecond),
				Polls: 3, PollErrors: 1},
			want: []exportWant{
				{name: "photobench_loadgen_ready_total", labels: exportLabels("phase", "main", "outcome", "ready"), value: 1},
				{name: "photobench_loadgen_ready_latency_seconds", labels: exportLabels("phase", "main", "outcome", "ready"), count: 1, sum: 0.75},
				{name: "photobench_loadgen_ready_polls_total", labels: exportLabels("phase", "main"), value: 3},
				{name: "photobench_loadgen_ready_poll_errors_total", labels: exportLabels("phase", "main"), value: 1},
			},
		},
		{
			name: "failed falls back to the observing poll",
			result: loadgen.ReadyResult{Upload: upload, PhaseName: "warmup", Warmup: true, Outcome: loadgen.ReadyFailed,
				Observed: exportT0.Add(2 * time.Second), Polls: 5},
			want: []exportWant{
				{name: "photobench_loadgen_ready_total", labels: exportLabels("phase", "warmup", "outcome", "failed"), value: 1},
				{name: "photobench_loadgen_ready_latency_seconds", labels: exportLabels("phase", "warmup", "outcome", "failed"), count: 1, sum: 2},
				{name: "photobench_loadgen_ready_polls_total", labels: exportLabels("phase", "warmup"), value: 5},
				{name: "photobench_loadgen_ready_poll_errors_total", labels: exportLabels("phase", "warmup"), value: 0},
			},
		},
		{
			name: "timeout is only counted",
			result: loadgen.ReadyResult{Upload: upload, PhaseName: "main", Outcome: loadgen.ReadyTimeout,
				Polls: 40, PollErrors: 2},
			want: []exportWant{
				{name: "photobench_loadgen_ready_total", labels: exportLabels("phase", "main", "outcome", "timeout"), value: 1},
				{name: "photobench_loadgen_ready_latency_seconds", labels: exportLabels("phase", "main"), absent: true},
				{name: "photobench_loadgen_ready_polls_total", labels: exportLabels("phase", "main"), value: 40},
				{name: "photobench_loadgen_ready_poll_errors_total", labels: exportLabels("phase", "main"), value: 2},
			},
		},
		{
			name:   "canceled is only counted",
			result: loadgen.ReadyResult{Upload: upload, PhaseName: "main", Outcome: loadgen.ReadyAborted},
			want: []exportWant{
				{name: "photobench_loadgen_ready_total", labels: exportLabels("phase", "main", "outcome", "canceled"), value: 1},
				{name: "photobench_loadgen_ready_latency_seconds", labels: exportLabels("phase", "main"), absent: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			e := loadgen.NewExporter(reg, "eventdriven")
			e.ObserveReady(tt.result)
			exportCheck(t, reg, tt.want)
		})
	}
}

func TestExporterGauges(t *testing.T) {
	tests := []struct {
		name string
		set  func(e *loadgen.Exporter)
		want []exportWant
	}{
		{
			name: "caller-set gauges",
			set: func(e *loadgen.Exporter) {
				e.SetInFlight(12)
				e.SetFollowing(7)
				e.SetTargetRate(250.5)
			},
			want: []exportWant{
				{name: "photobench_loadgen_in_flight", value: 12},
				{name: "photobench_loadgen_following", value: 7},
				{name: "photobench_loadgen_target_rate_per_second", value: 250.5},
			},
		},
		{
			name: "current phase is 1, earlier ones 0",
			set: func(e *loadgen.Exporter) {
				e.SetPhase("warmup")
				e.SetPhase("steady")
				e.SetPhase("spike")
			},
			want: []exportWant{
				{name: "photobench_loadgen_phase", labels: exportLabels("phase", "warmup"), value: 0},
				{name: "photobench_loadgen_phase", labels: exportLabels("phase", "steady"), value: 0},
				{name: "photobench_loadgen_phase", labels: exportLabels("phase", "spike"), value: 1},
			},
		},
		{
			name: "empty phase ends the run",
			set: func(e *loadgen.Exporter) {
				e.SetPhase("warmup")
				e.SetPhase("steady")
				e.SetPhase("")
			},
			want: []exportWant{
				{name: "photobench_loadgen_phase", labels: exportLabels("phase", "warmup"), value: 0},
				{name: "photobench_loadgen_phase", labels: exportLabels("phase", "steady"), value: 0},
				{name: "photobench_loadgen_phase", labels: exportLabels("phase", ""), absent: true},
			},
		},
		{
			name: "run info names the latest scenario",
			set: func(e *loadgen.Exporter) {
				e.SetRun("smoke")
				e.SetRun("steady-100")
			},
			want: []exportWant{
				{name: "photobench_loadgen_run_info", labels: exportLabels("scenario", "steady-100"), value: 1},
				{name: "photobench_loadgen_run_info", labels: exportLabels("scenario", "smoke"), absent: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			e := loadgen.NewExporter(reg, "monolith")
			tt.set(e)
			exportCheck(t, reg, tt.want)
		})
	}
}

// exportEverything makes every metric family of e have a series.
func exportEverything(e *loadgen.Exporter) {
	e.Observe(exportResult(loadgen.OpGet, "main", 0, 0, time.Millisecond))
	e.ObserveReady(loadgen.ReadyResult{Upload: loadgen.Hit{Op: loadgen.OpUpload, Intended: exportT0},
		PhaseName: "main", Outcome: loadgen.ReadyOK, Observed: exportT0.Add(time.Second)})
	e.SetInFlight(1)
	e.SetFollowing(1)
	e.SetTargetRate(1)
	e.SetPhase("main")
	e.SetRun("smoke")
}

func TestExporterRegistry(t *testing.T) {
	tests := []struct {
		name      string
		arch      string
		wantLabel bool
	}{
		{name: "architecture label", arch: "monolith", wantLabel: true},
		{name: "no architecture", arch: "", wantLabel: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			exportEverything(loadgen.NewExporter(reg, tt.arch))
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatalf("gather: %v", err)
			}
			var names []string
			for _, mf := range mfs {
				names = append(names, mf.GetName())
				if mf.GetHelp() == "" {
					t.Errorf("%s has no help text", mf.GetName())
				}
				for _, m := range mf.GetMetric() {
					arch, found := "", false
					for _, lp := range m.GetLabel() {
						if lp.GetName() == "architecture" {
							arch, found = lp.GetValue(), true
						}
					}
					if found != tt.wantLabel || arch != tt.arch {
						t.Errorf("%s%v: architecture label %q (present %v), want %q (present %v)",
							mf.GetName(), m.GetLabel(), arch, found, tt.arch, tt.wantLabel)
					}
				}
			}
			want := slices.Clone(loadgen.ExportedMetricNames())
			sort.Strings(want)
			sort.Strings(names)
			if !slices.Equal(names, want) {
				t.Errorf("registered families %v, ExportedMetricNames %v", names, want)
			}
			problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
			if err != nil {
				t.Fatalf("lint: %v", err)
			}
			for _, p := range problems {
				t.Errorf("lint: %s: %s", p.Metric, p.Text)
			}
		})
	}
}

func TestExporterConcurrent(t *testing.T) {
	const goroutines, each = 8, 500
	reg := prometheus.NewRegistry()
	e := loadgen.NewExporter(reg, "monolith")
	phases := []string{"warmup", "main"}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				phase := phases[i%2]
				e.Observe(exportResult(loadgen.OpGet, phase, 0, 0, time.Duration(g+1)*time.Millisecond))
				e.ObserveReady(loadgen.ReadyResult{Upload: loadgen.Hit{Op: loadgen.OpUpload, Intended: exportT0},
					PhaseName: phase, Outcome: loadgen.ReadyOK, Observed: exportT0.Add(time.Second), Polls: 1})
				e.SetInFlight(i)
				e.SetFollowing(i)
				e.SetTargetRate(float64(i))
				e.SetPhase(phase)
				e.SetRun("smoke")
			}
		}()
	}
	wg.Wait()
	var wantSum float64
	for g := range goroutines {
		wantSum += float64(each/2) * float64(g+1) / 1000
	}
	var want []exportWant
	for _, phase := range phases {
		want = append(want,
			exportWant{name: "photobench_loadgen_requests_total",
				labels: exportLabels("operation", "get", "phase", phase, "outcome", "ok"), value: goroutines * each / 2},
			exportWant{name: "photobench_loadgen_latency_seconds",
				labels: exportLabels("operation", "get", "phase", phase), count: goroutines * each / 2, sum: wantSum},
			exportWant{name: "photobench_loadgen_ready_polls_total",
				labels: exportLabels("phase", phase), value: goroutines * each / 2},
		)
	}
	exportCheck(t, reg, want)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "photobench_loadgen_phase" && len(mf.GetMetric()) != 2 {
			t.Errorf("%d phase series, want 2", len(mf.GetMetric()))
		}
	}
}
