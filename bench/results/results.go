// Package results is the data of one `photobench bench` run, as the
// orchestrator (package bench) collects it and the report (package
// bench/report) reads it: results.json in the run directory, beside the raw
// Prometheus series and the load generator's interval logs it was made from.
package results

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/photobench/photobench/internal/atomicfile"
	"github.com/photobench/photobench/loadgen"
)

// File is the name of the results file in a run directory.
const File = "results.json"

// Architecture names, as the stack labels their processes' metrics
// (label architecture).
const (
	// Monolith is the synchronous monolith: everything inside the request.
	Monolith = "monolith"
	// MonolithAsync is the same monolith answering 202 after a transactional
	// enqueue; its own workers (River) finish the photo.
	MonolithAsync = "monolith-async"
	// EventDriven is the functions choreographed over Kafka.
	EventDriven = "eventdriven"
)

// Archs are the architectures, in the order reports show them: the one
// axis that changes from each to the next is coupling in time (sync to
// async), then one process to many.
var Archs = []string{Monolith, MonolithAsync, EventDriven}

// Results is one bench run: a profile run against each architecture.
type Results struct {
	Profile     string    `json:"profile"`
	Description string    `json:"description"`
	Started     time.Time `json:"started"`
	Ended       time.Time `json:"ended"`
	Partial     bool      `json:"partial"` // interrupted: what was collected until then
	Machine     Machine   `json:"machine"`
	// Settings are the knobs that shape the figures (vision profile, MinIO
	// notification queue, runtime mode, SLO, ...), name to value, for the
	// report's "how this was measured" section.
	Settings map[string]string `json:"settings"`
	// SteadyPhase and IdlePhase name the phases the cost model reads: load
	// and idle ("" when the profile has none). SLO is the p99 ack latency a
	// sweep step must stay under (with errors under 1%) to count.
	SteadyPhase string  `json:"steady_phase"`
	IdlePhase   string  `json:"idle_phase"`
	SLO         float64 `json:"slo_p99_ack_seconds"`
	// SLOReady is the p99 upload-to-ready a sweep step must stay under
	// (profile setting slo_p99_ready; 0 when none), and SweepSLO the whole
	// SLO the sweep's steps were judged against (Run.CheckSLO).
	SLOReady float64 `json:"slo_p99_ready_seconds"`
	SweepSLO SLO     `json:"sweep_slo"`
	// OrderSeed seeds the order of the runs; Order lists the runs as they
	// ran, each with the state it started from (see RunStart). Planned is
	// every run the profile could make, in the seed's order, before sweeps
	// were cut short.
	OrderSeed int64      `json:"order_seed"`
	Order     []RunStart `json:"order"`
	Planned   []string   `json:"planned"`
	// Sweeps are the verdicts that decided how far each variant's sweep
	// went: one per sweep run, in run order.
	Sweeps []SweepStep `json:"sweeps,omitempty"`
	// Seeds are every seed of the bench, by what it seeds: "order",
	// "vision", "scenario:<name>".
	Seeds map[string]int64 `json:"seeds"`
	Runs  []Run            `json:"runs"`
	// Queries are the PromQL expressions the series were captured with.
	Queries []Query `json:"queries"`
}

// Machine is the fingerprint of the machine the run was measured on.
type Machine struct {
	CPU         string            `json:"cpu"`
	Cores       int               `json:"cores"`
	MemoryBytes uint64            `json:"memory_bytes"`
	OS          string            `json:"os"`
	Kernel      string            `json:"kernel"`
	Versions    map[string]string `json:"versions"` // go, postgresql, kafka, minio, prometheus, java, photobench
	// Commit is the git commit the photobench binary that ran the apps was
	// built from, Dirty whether its tree had uncommitted changes, and
	// CommitSource where they were read: "binary" (its build info) or
	// "git" (the working tree, when the binary has none).
	Commit       string `json:"commit"`
	Dirty        bool   `json:"dirty"`
	CommitSource string `json:"commit_source"`
	// Deployment says where the runs went: the local native stack (the
	// bench started the apps) or a target deployment it did not start
	// (photobench bench --target), with its URLs. Empty in results
	// written before it was recorded: the local stack.
	Deployment string `json:"deployment,omitempty"`
	// Load is the host's load just before the bench started.
	Load HostLoad `json:"load"`
}

// TargetPrefix starts Machine.Deployment when the runs went to a target.
const TargetPrefix = "target "

// OnTarget says whether the runs went to a deployment the bench did not
// start.
func (m Machine) OnTarget() bool { return strings.HasPrefix(m.Deployment, TargetPrefix) }

// Query is one captured Prometheus range query.
type Query struct {
	Name        string `json:"name"` // key in Run.Series
	Expr        string `json:"expr"` // PromQL with {{arch}} already substituted per run
	Unit        string `json:"unit"` // "seconds", "bytes", "requests/s", "replicas", "messages", ...
	Description string `json:"description"`
}

// Run statuses.
const (
	StatusOK      = "ok"
	StatusFailed  = "failed"  // the architecture did not start or the run broke; Error says why
	StatusPartial = "partial" // interrupted (Ctrl-C): what was collected until then
)

// Run is one architecture's run of the profile's scenario (one repetition,
// or one step of a sweep, or one coupling scenario).
type Run struct {
	Arch     string `json:"arch"`     // Monolith, MonolithAsync or EventDriven
	Scenario string `json:"scenario"` // scenario name, e.g. "quick", "sweep-40", "pg-restart"
	Repeat   int    `json:"repeat"`   // 1-based
	// SweepRate and SweepPhase are set on the runs of a rate sweep: the
	// constant rate (requests/s) the sweep gave SweepPhase in this run.
	SweepRate  float64 `json:"sweep_rate,omitempty"`
	SweepPhase string  `json:"sweep_phase,omitempty"`
	Status     string  `json:"status"`
	Error      string  `json:"error,omitempty"`
	Dir        string  `json:"dir"` // raw data of this run, relative to the run directory

	Start time.Time `json:"start"` // the schedule's start: time 0 of every timeline
	End   time.Time `json:"end"`   // the schedule's end
	Drain time.Time `json:"drain"` // when the last followed upload was final (>= End)

	Phases []Window `json:"phases"` // the scenario's phases, in order
	Faults []Window `json:"faults"` // injected faults (vision outage, restarts)

	Summary loadgen.Summary `json:"summary"` // the load generator's HDR summary, warm-up excluded
	// Timeline is per second from Start: the generator's own figures from its
	// interval log, for the latency-over-time charts.
	Timeline []Point `json:"timeline"`
	// Series are the Prometheus range queries over [Start-CaptureMargin,
	// Drain+CaptureMargin] at a 1 s step, by Query.Name.
	Series map[string][]Series `json:"series"`
}

// Window is a named stretch of a run.
type Window struct {
	Name        string    `json:"name"`
	Warmup      bool      `json:"warmup,omitempty"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Description string    `json:"description,omitempty"` // e.g. "constant 10/s", "vision outage: fail"
	// NotInjected marks a fault the deployment could not take (a target
	// without the hook): its window is kept, its figures measure no fault.
	NotInjected bool `json:"not_injected,omitempty"`
}

// Point is one second of the generator's own view, per operation ("ready" is
// upload-to-ready by the upload's intended second).
type Point struct {
	T     float64 `json:"t"`  // seconds from Run.Start to the interval's start
	Op    string  `json:"op"` // an operation, or "ready"
	Count int64   `json:"count"`
	P50   float64 `json:"p50"` // seconds
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Series is one Prometheus series: its labels and its samples.
type Series struct {
	Labels map[string]string `json:"labels"`
	Points [][2]float64      `json:"points"` // [unix seconds, value]
}

// Save writes r as dir/results.json.
func Save(dir string, r *Results) error {
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return fmt.Errorf("save results: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, File), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("save results: %w", err)
	}
	return nil
}

// Load reads dir/results.json, or dir/results.json.gz (File + ".gz") when
// there is no results.json: how a sample run is committed to the
// repository, compressed.
func Load(dir string) (*Results, error) {
	path := filepath.Join(dir, File)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		var gzErr error
		if data, gzErr = readGzip(path + ".gz"); gzErr == nil {
			err, path = nil, path+".gz"
		} else if !errors.Is(gzErr, fs.ErrNotExist) {
			err = gzErr
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("load results %s: %w", path, err)
	}
	return &r, nil
}

func readGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// RunsOf returns the runs of arch for the named scenario, in order.
func (r *Results) RunsOf(arch, scenario string) []Run {
	var out []Run
	for _, run := range r.Runs {
		if run.Arch == arch && run.Scenario == scenario {
			out = append(out, run)
		}
	}
	return out
}

// Injected returns the run's faults that were injected: a fault a target
// could not take is left out of every figure about faults.
func (r Run) Injected() []Window {
	var out []Window
	for _, f := range r.Faults {
		if !f.NotInjected {
			out = append(out, f)
		}
	}
	return out
}

// Phase returns the run's window of the named phase.
func (r Run) Phase(name string) (Window, bool) {
	for _, w := range r.Phases {
		if w.Name == name {
			return w, true
		}
	}
	return Window{}, false
}

// Values returns the samples of s between from and to (inclusive), in order.
func (s Series) Values(from, to time.Time) []float64 {
	var v []float64
	f, t := float64(from.UnixMilli())/1e3, float64(to.UnixMilli())/1e3
	for _, p := range s.Points {
		if p[0] >= f && p[0] <= t {
			v = append(v, p[1])
		}
	}
	return v
}

// Increase is how much the counter s grew in the window (from, to]: the
// sample at from (or the last one before it) is the baseline, and every
// sample after it up to to adds its growth. A series whose first sample is
// after from was born inside the window (its process started then, and
// counters start at 0): it counts from 0. Resets (a restarted process
// under the same labels) are handled as Prometheus's increase does: a drop
// starts a new run from 0. Windows that meet (the end of one is the start
// of the next) count each sample once.
func (s Series) Increase(from, to time.Time) float64 {
	f, t := float64(from.UnixMilli())/1e3, float64(to.UnixMilli())/1e3
	var total, prev float64
	have := false
	for _, p := range s.Points {
		if p[0] > t {
			break
		}
		if p[0] <= f {
			prev, have = p[1], true
			continue
		}
		if !have { // the series begins inside the window: from 0
			prev, have = 0, true
		}
		if p[1] < prev {
			total += p[1] // reset
		} else {
			total += p[1] - prev
		}
		prev = p[1]
	}
	return total
}

// Max is the largest sample of s between from and to (0 when none).
func (s Series) Max(from, to time.Time) float64 {
	m := 0.0
	for _, v := range s.Values(from, to) {
		m = max(m, v)
	}
	return m
}

// Increases sums the Increase of every series of the named query over the
// window, grouped by the value of label (all under "" when label is "").
func (r Run) Increases(name, label string, from, to time.Time) map[string]float64 {
	return r.IncreasesBy(name, func(l map[string]string) (string, bool) { return l[label], true }, from, to)
}

// IncreasesBy sums the Increase of every series of the named query over
// the window, grouped by key(labels); series for which key says false are
// left out.
func (r Run) IncreasesBy(name string, key func(labels map[string]string) (string, bool), from, to time.Time) map[string]float64 {
	out := map[string]float64{}
	for _, s := range r.Series[name] {
		if k, ok := key(s.Labels); ok {
			out[k] += s.Increase(from, to)
		}
	}
	return out
}

// Peaks returns, grouped by label, the largest sum over the series of the
// named query at one sample time in the window (e.g. the peak resident
// memory of all of a function's replicas together).
func (r Run) Peaks(name, label string, from, to time.Time) map[string]float64 {
	sums := map[string]map[float64]float64{}
	for _, s := range r.Series[name] {
		k := s.Labels[label]
		if sums[k] == nil {
			sums[k] = map[float64]float64{}
		}
		f, t := float64(from.UnixMilli())/1e3, float64(to.UnixMilli())/1e3
		for _, p := range s.Points {
			if p[0] >= f && p[0] <= t {
				sums[k][p[0]] += p[1]
			}
		}
	}
	out := map[string]float64{}
	for k, byT := range sums {
		for _, v := range byT {
			out[k] = max(out[k], v)
		}
	}
	return out
}
