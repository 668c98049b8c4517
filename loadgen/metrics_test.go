package loadgen_test

import (
	"math"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen"
)

// results makes n answered get results whose latency is i ms and service time i/2 ms.
func results(n int) []loadgen.Result {
	t0 := time.Unix(1000, 0)
	out := make([]loadgen.Result, n)
	for i := range out {
		intended := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		lat := time.Duration(i+1) * time.Millisecond
		out[i] = loadgen.Result{
			Hit:       loadgen.Hit{Seq: uint64(i), Op: loadgen.OpGet, Intended: intended},
			PhaseName: "main",
			Sent:      intended,
			Conn:      intended.Add(lat / 2),
			Done:      intended.Add(lat),
			Status:    200,
		}
	}
	return out
}

func TestRecorder(t *testing.T) {
	rs := results(1000)
	one := loadgen.NewRecorder()
	for _, r := range rs {
		one.Add(r)
	}
	a, b := loadgen.NewRecorder(), loadgen.NewRecorder()
	for i, r := range rs {
		if i%3 == 0 {
			a.Add(r)
		} else {
			b.Add(r)
		}
	}
	a.Merge(b)

	for name, rec := range map[string]*loadgen.Recorder{"single": one, "merged": a} {
		t.Run(name, func(t *testing.T) {
			st := phase(t, rec.Summary(false), "main").Ops[loadgen.OpGet]
			if st.Scheduled != 1000 || st.Sent != 1000 || st.OK != 1000 {
				t.Errorf("counts %+v", st)
			}
			// Latencies are 1..1000 ms: quantiles to 3 significant digits.
			for _, q := range []struct {
				name      string
				got, want float64
			}{
				{"p50", st.Latency.P50, 0.500}, {"p90", st.Latency.P90, 0.900},
				{"p99", st.Latency.P99, 0.990}, {"p999", st.Latency.P999, 0.999},
				{"max", st.Latency.Max, 1.000}, {"service p50", st.Service.P50, 0.250},
			} {
				if math.Abs(q.got-q.want) > q.want*1e-3 {
					t.Errorf("%s = %v, want %v", q.name, q.got, q.want)
				}
			}
			// 1000 hits 10 ms apart: 999 gaps over 9.99 s.
			if math.Abs(st.TargetRate-100) > 1e-9 || math.Abs(st.AchievedRate-100) > 1e-9 {
				t.Errorf("rates %v / %v, want 100", st.TargetRate, st.AchievedRate)
			}
		})
	}
}

func TestRecorderIgnoresWarmupAndCountsDrops(t *testing.T) {
	rec := loadgen.NewRecorder()
	rs := results(3)
	rs[0].Warmup = true
	rs[1].Dropped, rs[1].Sent, rs[1].Conn, rs[1].Done = true, time.Time{}, time.Time{}, time.Time{}
	for _, r := range rs {
		rec.Add(r)
	}
	st := phase(t, rec.Summary(true), "main").All
	if st.Scheduled != 2 || st.Dropped != 1 || st.OK != 1 || st.Latency.Count != 1 {
		t.Errorf("scheduled %d dropped %d ok %d latencies %d, want 2 1 1 1", st.Scheduled, st.Dropped, st.OK, st.Latency.Count)
	}
}

func TestResultClass(t *testing.T) {
	sent := time.Unix(1, 0)
	tests := []struct {
		name string
		r    loadgen.Result
		want string
	}{
		{"ok", loadgen.Result{Sent: sent, Status: 204}, "ok"},
		{"redirect", loadgen.Result{Sent: sent, Status: 302}, "ok"},
		{"client error", loadgen.Result{Sent: sent, Status: 404}, "4xx"},
		{"server error", loadgen.Result{Sent: sent, Status: 503}, "5xx"},
		{"timeout", loadgen.Result{Sent: sent, Timeout: true, Err: errTest}, "timeout"},
		{"transport", loadgen.Result{Sent: sent, Err: errTest}, "transport"},
		{"build", loadgen.Result{Err: errTest}, "build"},
		{"dropped", loadgen.Result{Dropped: true}, "dropped"},
		{"canceled", loadgen.Result{Sent: sent, Canceled: true, Err: errTest}, "canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Class(); got != tt.want {
				t.Errorf("Class() = %q, want %q", got, tt.want)
			}
		})
	}
}

var errTest = errorString("test")

type errorString string

func (e errorString) Error() string { return string(e) }
