package results_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/bench/results"
)

func series(pts ...[2]float64) results.Series {
	return results.Series{Labels: map[string]string{"component": "x"}, Points: pts}
}

func TestIncrease(t *testing.T) {
	at := func(s float64) time.Time { return time.UnixMilli(int64(s * 1000)) }
	tests := []struct {
		name     string
		s        results.Series
		from, to float64
		want     float64
	}{
		{"counts from the last sample before the window", series([2]float64{9, 5}, [2]float64{10, 6}, [2]float64{11, 8}, [2]float64{12, 20}), 9.5, 11, 3},
		{"the sample at the window's start is the baseline", series([2]float64{9, 5}, [2]float64{10, 6}, [2]float64{11, 8}, [2]float64{12, 20}), 10, 11, 2},
		{"the sample at the window's end is in", series([2]float64{10, 6}, [2]float64{11, 8}), 10, 11, 2},
		{"windows that meet count each sample once", series([2]float64{10, 1}, [2]float64{11, 4}, [2]float64{12, 9}), 11, 12, 5},
		{"a series born inside the window counts from 0", series([2]float64{10, 1.5}, [2]float64{11, 2.5}), 9, 20, 2.5},
		{"a series born at the window's start is its baseline", series([2]float64{9, 1.5}, [2]float64{11, 2.5}), 9, 20, 1},
		{"a series that ends inside the window keeps what it grew", series([2]float64{8, 3}, [2]float64{10, 7}), 9, 20, 4},
		{"a reset starts again from 0", series([2]float64{1, 10}, [2]float64{2, 12}, [2]float64{3, 1}, [2]float64{4, 4}), 1.5, 4, 2 + 1 + 3},
		{"a reset at the first sample inside the window", series([2]float64{1, 10}, [2]float64{2, 3}), 1, 2, 3},
		{"nothing in the window", series([2]float64{1, 10}), 2, 3, 0},
		{"samples after the window are ignored", series([2]float64{1, 1}, [2]float64{5, 9}), 0, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Increase(at(tt.from), at(tt.to)); got != tt.want {
				t.Errorf("Increase = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIncreasesAndPeaksGroupByLabel(t *testing.T) {
	r := results.Run{Series: map[string][]results.Series{"cpu": {
		{Labels: map[string]string{"component": "a", "instance": "1"}, Points: [][2]float64{{10, 1}, {11, 2}}},
		{Labels: map[string]string{"component": "a", "instance": "2"}, Points: [][2]float64{{11, 3}, {12, 4}}},
		{Labels: map[string]string{"component": "b", "instance": "3"}, Points: [][2]float64{{10, 7}, {12, 7}}},
	}}}
	from, to := time.Unix(10, 0), time.Unix(12, 0)
	inc := r.Increases("cpu", "component", from, to)
	if inc["a"] != 1+4 || inc["b"] != 0 {
		t.Errorf("Increases = %v, want a 5 (1 grown, 4 born in the window), b 0", inc)
	}
	peaks := r.Peaks("cpu", "component", from, to)
	if peaks["a"] != 5 || peaks["b"] != 7 {
		t.Errorf("Peaks = %v, want a 5 (2+3 at t=11), b 7", peaks)
	}
}

// The reason counters are captured per process: when a replica exits, the
// sum over replicas drops, and a sum taken before the increase reads that
// as a reset. Summed per series, the exit loses nothing and adds nothing.
func TestIncreasesSumEachSeriesOwnIncrease(t *testing.T) {
	a := results.Series{Labels: map[string]string{"component": "tagger", "instance": "a"}, Points: [][2]float64{{0, 40}, {1, 45}, {2, 49}, {3, 49}, {4, 49}}}
	// b exits after t=2: the sum of a and b drops from 77 to 49.
	b := results.Series{Labels: map[string]string{"component": "tagger", "instance": "b"}, Points: [][2]float64{{0, 18}, {1, 23}, {2, 28}}}
	r := results.Run{Series: map[string][]results.Series{"events": {a, b}}}
	from, to := time.Unix(0, 0), time.Unix(4, 0)
	if got := r.Increases("events", "component", from, to)["tagger"]; got != 9+10 {
		t.Errorf("per-series increase = %v, want 19 (a 40->49, b 18->28)", got)
	}
	// The same data summed first, as the capture used to: the drop reads
	// as a reset and the whole sum is counted again.
	summed := results.Series{Points: [][2]float64{{0, 58}, {1, 68}, {2, 77}, {3, 49}, {4, 49}}}
	if got := summed.Increase(from, to); got != 19+49 {
		t.Errorf("summed first: %v, want 68 (the exit read as a reset)", got)
	}
}

// IncreasesBy groups by any function of the labels and leaves out the
// series it rejects.
func TestIncreasesBy(t *testing.T) {
	r := results.Run{Series: map[string][]results.Series{"ev": {
		{Labels: map[string]string{"component": "catalog", "outcome": "ok"}, Points: [][2]float64{{0, 1}, {1, 5}}},
		{Labels: map[string]string{"component": "catalog", "outcome": "dead_lettered"}, Points: [][2]float64{{0, 0}, {1, 2}}},
		{Labels: map[string]string{"component": "tagger", "outcome": "ok"}, Points: [][2]float64{{0, 0}, {1, 3}}},
	}}}
	got := r.IncreasesBy("ev", func(l map[string]string) (string, bool) { return l["component"], l["outcome"] == "ok" }, time.Unix(0, 0), time.Unix(1, 0))
	if len(got) != 2 || got["catalog"] != 4 || got["tagger"] != 3 {
		t.Errorf("IncreasesBy = %v, want catalog 4, tagger 3", got)
	}
}

// Every architecture's queries select its own series, under names unique
// in the list; the async monolith's job backlog is among its own, and only
// there.
func TestQueriesSelectTheirArchitecture(t *testing.T) {
	for _, arch := range results.Archs {
		t.Run(arch, func(t *testing.T) {
			seen := map[string]bool{}
			for _, q := range results.Queries(arch) {
				if seen[q.Name] {
					t.Errorf("query %s listed twice", q.Name)
				}
				seen[q.Name] = true
				for _, other := range results.Archs {
					if other != arch && strings.Contains(q.Expr, `architecture="`+other+`"`) {
						t.Errorf("%s: %s selects %s", q.Name, q.Expr, other)
					}
				}
			}
			for _, name := range []string{results.QMonolithInfo, results.QProcessCPU} {
				if !seen[name] {
					t.Errorf("no query %s", name)
				}
			}
			async := arch == results.MonolithAsync
			for _, name := range []string{results.QJobs, results.QJobAttempts} {
				if seen[name] != async {
					t.Errorf("query %s listed: %v, want %v", name, seen[name], async)
				}
			}
		})
	}
	for _, q := range results.Queries(results.MonolithAsync) {
		if q.Name == results.QJobs && q.Expr != `sum by (state) (photobench_monolith_jobs{architecture="monolith-async"})` {
			t.Errorf("jobs: %s", q.Expr)
		}
	}
}

// Every counter is captured per process (its query keeps instance), so
// that no two processes' series are summed before each one's increase is
// taken; the HTTP work queries leave scrapes and health checks out.
func TestCountersAreCapturedPerProcess(t *testing.T) {
	counter := regexp.MustCompile(`\(([a-z_]+(_total|_count|_sum|_bucket))\{`)
	by := regexp.MustCompile(`^sum by \(([^)]*)\)`)
	for _, arch := range results.Archs {
		for _, q := range results.Queries(arch) {
			m := counter.FindStringSubmatch(q.Expr)
			if m == nil || strings.Contains(q.Expr, "rate(") {
				continue
			}
			if g := by.FindStringSubmatch(q.Expr); g == nil || !strings.Contains(g[1], "instance") {
				t.Errorf("%s %s: counter %s summed over processes: %s", arch, q.Name, m[1], q.Expr)
			}
		}
	}
	for _, q := range results.Queries(results.EventDriven) {
		if q.Name == results.QHTTPRequests || q.Name == results.QHTTPSeconds {
			if !strings.Contains(q.Expr, `route!~"/metrics|/healthz"`) {
				t.Errorf("%s counts scrapes or health checks: %s", q.Name, q.Expr)
			}
		}
	}
}

// The queries of one set of apps select that set's series only (the
// stack's own apps of the same architecture may run beside a bench's).
func TestQueriesForASetSelectIt(t *testing.T) {
	for _, q := range results.QueriesFor(results.EventDriven, "benchtest-1") {
		switch q.Name {
		case results.QComponentCPU, results.QComponentMemory, results.QObjectRequests,
			results.QRequestRate, results.QInFlight, results.QFollowing, results.QRequests, results.QReady:
			// the stack's servers (one of each) and the bench's own load generator
			if strings.Contains(q.Expr, "app_set") {
				t.Errorf("%s selects a set: %s", q.Name, q.Expr)
			}
		default:
			if !strings.Contains(q.Expr, `app_set="benchtest-1"`) {
				t.Errorf("%s does not select the set: %s", q.Name, q.Expr)
			}
		}
	}
	for _, q := range results.Queries(results.EventDriven) {
		if strings.Contains(q.Expr, "app_set") {
			t.Errorf("%s selects a set without one asked: %s", q.Name, q.Expr)
		}
	}
}

// A run committed compressed loads as results.json.gz; a broken one says so.
func TestLoadCompressed(t *testing.T) {
	dir := t.TempDir()
	want := &results.Results{Profile: "full", Runs: []results.Run{{Arch: results.EventDriven, Scenario: "steady", Repeat: 5}}}
	if err := results.Save(dir, want); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, results.File))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, results.File+".gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, results.File))
	got, err := results.Load(dir)
	if err != nil || got.Profile != "full" || len(got.Runs) != 1 || got.Runs[0].Repeat != 5 {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	os.WriteFile(filepath.Join(dir, results.File+".gz"), []byte("not gzip"), 0o644)
	if _, err := results.Load(dir); err == nil || !strings.Contains(err.Error(), ".gz") {
		t.Errorf("a broken results.json.gz: %v, want an error naming it", err)
	}
	if _, err := results.Load(t.TempDir()); err == nil {
		t.Error("no results at all: no error")
	}
}
