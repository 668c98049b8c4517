package results_test

import (
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
		{"counts from the last sample before the window", series([2]float64{9, 5}, [2]float64{10, 6}, [2]float64{11, 8}, [2]float64{12, 20}), 10, 11, 3},
		{"a series born inside the window counts from 0", series([2]float64{10, 1.5}, [2]float64{11, 2.5}), 9, 20, 2.5},
		{"a reset starts again from 0", series([2]float64{1, 10}, [2]float64{2, 12}, [2]float64{3, 1}, [2]float64{4, 4}), 1.5, 4, 2 + 1 + 3},
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
	if inc["a"] != 2+4 || inc["b"] != 7 {
		t.Errorf("Increases = %v, want a 6 (born in the window), b 7", inc)
	}
	peaks := r.Peaks("cpu", "component", from, to)
	if peaks["a"] != 5 || peaks["b"] != 7 {
		t.Errorf("Peaks = %v, want a 5 (2+3 at t=11), b 7", peaks)
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
