package loadgen_test

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
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

// readyResults makes the ReadyResults of phase 1 ("main") TestRecorderReady
// expects: upload i intended at i·10 ms; 100 final photos (the first failed)
// ready i+1 ms after intended and observed 2(i+1) ms after, with 2 polls
// each; 3 timeouts (5 polls, 1 failed each) answered at 2 s; an error (2
// failed polls); a cancelled follow (1 poll); and a warm-up result.
func readyResults() []loadgen.ReadyResult {
	t0 := time.Unix(1000, 0)
	var out []loadgen.ReadyResult
	add := func(i int, o loadgen.ReadyOutcome, polls, errs int) *loadgen.ReadyResult {
		in := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		out = append(out, loadgen.ReadyResult{
			Upload:    loadgen.Hit{Seq: uint64(i), Phase: 1, Op: loadgen.OpUpload, Intended: in},
			PhaseName: "main", ID: fmt.Sprint(i), Outcome: o, Acked: in.Add(time.Millisecond),
			Polls: polls, PollErrors: errs,
		})
		return &out[len(out)-1]
	}
	for i := range 100 {
		o := loadgen.ReadyOK
		if i == 0 {
			o = loadgen.ReadyFailed
		}
		r := add(i, o, 2, 0)
		r.ServerReady = r.Upload.Intended.Add(time.Duration(i+1) * time.Millisecond)
		r.Observed = r.Upload.Intended.Add(time.Duration(2*(i+1)) * time.Millisecond)
	}
	for i := range 3 {
		add(100+i, loadgen.ReadyTimeout, 5, 1).Acked = t0.Add(2 * time.Second)
	}
	add(103, loadgen.ReadyError, 2, 2)
	add(104, loadgen.ReadyAborted, 1, 0)
	w := add(105, loadgen.ReadyOK, 100, 0)
	w.Warmup, w.Observed = true, t0.Add(time.Hour)
	return out
}

func TestRecorderReady(t *testing.T) {
	rs := readyResults()
	skips := []loadgen.ReadySkip{{Phase: 1, PhaseName: "main", N: 4}, {Phase: 0, PhaseName: "warm", Warmup: true, N: 7}}
	one := loadgen.NewRecorder()
	for _, r := range rs {
		one.AddReady(r)
	}
	for _, s := range skips {
		one.AddReadySkipped(s)
	}
	a, b := loadgen.NewRecorder(), loadgen.NewRecorder()
	for i, r := range rs {
		if i%3 == 0 {
			a.AddReady(r)
		} else {
			b.AddReady(r)
		}
	}
	b.AddReadySkipped(skips[0])
	b.AddReadySkipped(skips[1])
	a.Merge(b)

	for name, rec := range map[string]*loadgen.Recorder{"single": one, "merged": a} {
		t.Run(name, func(t *testing.T) {
			sum := rec.Summary(false)
			if _, ok := sum.Phase("warm"); ok {
				t.Error("warm-up skips made a phase")
			}
			rd := phase(t, sum, "main").Ready
			if rd == nil {
				t.Fatal("no ready summary")
			}
			counts := loadgen.ReadySummary{Followed: 105, Ready: 99, Failed: 1, Timeouts: 3, Errors: 1, Canceled: 1,
				Skipped: 4, Polls: 218, PollErrors: 5}
			got := *rd
			got.PollsPerPhoto, got.PollRate, got.Latency, got.Observed = 0, 0, loadgen.Quantiles{}, loadgen.Quantiles{}
			if got != counts {
				t.Errorf("counts\n got %+v\nwant %+v", got, counts)
			}
			// 218 polls from the first intended start (t0) to the last answer (t0 + 2 s).
			if math.Abs(rd.PollsPerPhoto-218.0/105) > 1e-9 || math.Abs(rd.PollRate-109) > 1e-9 {
				t.Errorf("polls per photo %v, poll rate %v, want %v and 109", rd.PollsPerPhoto, rd.PollRate, 218.0/105)
			}
			if rd.Latency.Count != 100 || rd.Observed.Count != 100 {
				t.Errorf("latencies %d / %d, want 100 ready and failed", rd.Latency.Count, rd.Observed.Count)
			}
			// Latencies 1..100 ms, observed 2..200 ms, to 3 significant digits.
			for _, q := range []struct {
				name      string
				got, want float64
			}{
				{"p50", rd.Latency.P50, 0.050}, {"p90", rd.Latency.P90, 0.090}, {"p99", rd.Latency.P99, 0.099},
				{"max", rd.Latency.Max, 0.100}, {"observed p50", rd.Observed.P50, 0.100}, {"observed max", rd.Observed.Max, 0.200},
			} {
				if math.Abs(q.got-q.want) > q.want*1e-3 {
					t.Errorf("%s = %v, want %v", q.name, q.got, q.want)
				}
			}
		})
	}
}

func TestReadySummaryJSON(t *testing.T) {
	rec := loadgen.NewRecorder()
	for _, r := range results(2) { // phase 0: requests only
		rec.Add(r)
	}
	rec.AddReady(readyResults()[5]) // phase 1
	data, err := json.Marshal(rec.Summary(false))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Phases []map[string]json.RawMessage `json:"phases"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Phases[0]["ready"]; ok || len(got.Phases) != 2 {
		t.Fatalf("phases %s: want the first without ready", data)
	}
	var ready map[string]any
	if err := json.Unmarshal(got.Phases[1]["ready"], &ready); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range ready {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := "canceled errors failed followed latency_seconds observed_seconds poll_errors poll_rate polls polls_per_photo ready skipped timeouts"
	if strings.Join(keys, " ") != want {
		t.Errorf("ready keys\n got %s\nwant %s", strings.Join(keys, " "), want)
	}
}
