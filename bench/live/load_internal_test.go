package live

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/loadgen"
)

// answer is one request of op answered with status in second sec (at
// half past), lat after its intended start.
func answer(op loadgen.Op, sec int64, lat time.Duration, status int) loadgen.Result {
	done := time.Unix(sec, 500*int64(time.Millisecond))
	return loadgen.Result{Hit: loadgen.Hit{Op: op, Intended: done.Add(-lat)}, Sent: done.Add(-lat), Done: done, Status: status}
}

// The rates and counts of a frame are over the whole seconds before now's:
// the current second, older seconds and a stale slot of the ring (the
// same slot 128 s ago) do not count; the totals count everything.
func TestVariantWindowsOverWholeSeconds(t *testing.T) {
	const s0 = 1_000_000
	now := time.Unix(s0+10, 400*int64(time.Millisecond)) // the window is seconds s0+5 .. s0+9
	v := &variant{name: "monolith", label: "monolith"}
	ms := time.Millisecond
	// Stale: the slot of s0+7, two minutes before (uploads, so their
	// latencies are pruned too).
	for range 5 {
		v.observe(answer(loadgen.OpUpload, s0+7-ringSeconds, 1000*ms, 200))
	}
	for range 3 {
		v.observe(answer(loadgen.OpGet, s0+4, ms, 200)) // before the window
	}
	v.observe(answer(loadgen.OpUpload, s0+5, 10*ms, 201))
	v.observe(answer(loadgen.OpUpload, s0+5, 20*ms, 201))
	v.observe(answer(loadgen.OpGet, s0+6, ms, 200))
	v.observe(answer(loadgen.OpGet, s0+6, ms, 200))
	v.observe(answer(loadgen.OpGet, s0+6, ms, 500))
	v.observe(answer(loadgen.OpList, s0+8, ms, 200))
	v.observe(answer(loadgen.OpList, s0+8, ms, 200))
	v.observe(loadgen.Result{Hit: loadgen.Hit{Op: loadgen.OpGet, Intended: time.Unix(s0+8, 0)}, Dropped: true})
	v.observe(answer(loadgen.OpUpload, s0+9, 40*ms, 201))
	v.observe(answer(loadgen.OpUpload, s0+9, 30*ms, 201))
	timeout := answer(loadgen.OpGet, s0+9, 15*time.Second, 0)
	timeout.Timeout = true
	v.observe(timeout)
	canceled := answer(loadgen.OpGet, s0+9, ms, 0)
	canceled.Canceled = true
	v.observe(canceled) // neither an answer nor an error
	for range 7 {
		v.observe(answer(loadgen.OpList, s0+10, ms, 200)) // the current second
	}
	v.observe(answer(loadgen.OpGet, s0+10, ms, 503))

	var f VariantFrame
	v.figures(now, &f)
	if f.Achieved != 8.0/5 {
		t.Errorf("achieved %v/s, want 8 answers 2xx over 5 s = 1.6", f.Achieved)
	}
	if f.Offered != 0 {
		t.Errorf("offered %v/s without a run, want 0", f.Offered)
	}
	if f.UploadsOK != 9 || f.Errors != 3 || f.Dropped != 1 {
		t.Errorf("totals: uploads %d, errors %d, dropped %d; want 9, 3, 1", f.UploadsOK, f.Errors, f.Dropped)
	}
	if f.AckN != 4 || f.AckP50 != 20 || f.AckP99 != 40 {
		t.Errorf("ack: n %d, p50 %v, p99 %v; want 4, 20, 40 (the stale uploads pruned)", f.AckN, f.AckP50, f.AckP99)
	}
	if f.ReadyN != 0 || f.ReadyP50.Known() || f.ReadyP99.Known() {
		t.Errorf("ready: n %d, p50 %v, p99 %v; want none", f.ReadyN, f.ReadyP50, f.ReadyP99)
	}
	// The cost window: 4 uploads, 8 ok, sent 8 ok + 2 errors + 1 dropped.
	up, ok, sent, _ := v.counts(now, RateWindow)
	if up != 4 || ok != 8 || sent != 11 {
		t.Errorf("counts over 5 s: uploads %d, ok %d, sent %d; want 4, 8, 11", up, ok, sent)
	}
	up, ok, sent, _ = v.counts(now, 6*time.Second)
	if up != 4 || ok != 11 || sent != 14 {
		t.Errorf("counts over 6 s: uploads %d, ok %d, sent %d; want 4, 11, 14", up, ok, sent)
	}

	// The reset forgets every figure.
	v.observeReady(loadgen.ReadyResult{ID: "p1", Outcome: loadgen.ReadyOK, Upload: loadgen.Hit{Intended: now.Add(-time.Second)}, ServerReady: now})
	v.reset()
	f = VariantFrame{}
	v.figures(now, &f)
	if f.Achieved != 0 || f.UploadsOK != 0 || f.Errors != 0 || f.Dropped != 0 || f.AckN != 0 || f.ReadyN != 0 || f.AckP50.Known() || len(f.Photos) != 0 {
		t.Errorf("after the reset: %+v", f)
	}
}

// Offered is the hits the Switch started in the last RateWindow, per second.
func TestVariantOfferedFromTheSwitch(t *testing.T) {
	sw := loadgen.NewSwitch(loadgen.Constant{Rate: 1000})
	for i := range uint64(200) { // hits at 0, 1, ..., 199 ms from the origin
		if _, ok := sw.Due(i); !ok {
			t.Fatal("the switch ended")
		}
	}
	v := &variant{runs: []*run{{sw: sw, api: &loadgen.APIRun{}}}}
	var f VariantFrame
	v.figures(sw.Origin().Add(RateWindow+50500*time.Microsecond), &f)
	// Offsets in (50.5 ms, 5.0505 s]: hits 51 to 199.
	if f.Offered != 149.0/5 {
		t.Errorf("offered %v/s, want 149 hits over 5 s = 29.8", f.Offered)
	}
	f = VariantFrame{}
	v.figures(sw.Origin().Add(2*time.Second), &f)
	if f.Offered != 200.0/5 {
		t.Errorf("offered %v/s 2 s after the start, want 200 hits over 5 s = 40", f.Offered)
	}
}

// The polls of the cost window are the rise of the followers' polls from
// the first sample in it; a fall (a run ended) counts none.
func TestVariantCountsPolls(t *testing.T) {
	now := time.Unix(2_000_000, 0)
	v := &variant{polls: []pollSample{{now.Add(-40 * time.Second), 5}, {now.Add(-30 * time.Second), 10}, {now.Add(-20 * time.Second), 30}, {now, 50}}}
	if _, _, _, polls := v.counts(now, CostWindow); polls != 40 {
		t.Errorf("polls over 30 s: %d, want 50-10 = 40", polls)
	}
	v.polls = append(v.polls, pollSample{now.Add(time.Second), 2})
	if _, _, _, polls := v.counts(now.Add(time.Second), CostWindow); polls != 0 {
		t.Errorf("polls after a fall: %d, want 0", polls)
	}
}

func lats(ms ...float64) []timed {
	var out []timed
	for _, m := range ms {
		out = append(out, timed{lat: time.Duration(m * float64(time.Millisecond))})
	}
	return out
}

func TestPercentilesNearestRank(t *testing.T) {
	seq := func(n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = float64(i + 1)
		}
		rand.New(rand.NewPCG(1, 2)).Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	for _, c := range []struct {
		name     string
		in       []float64
		p50, p99 Num
	}{
		{"one", []float64{7.5}, 7.5, 7.5},
		{"two", []float64{30, 10}, 10, 30},
		{"ten", seq(10), 5, 10},
		{"99", seq(99), 50, 99},
		{"100", seq(100), 50, 99},
		{"101", seq(101), 51, 100},
		{"1000", seq(1000), 500, 990},
	} {
		t.Run(c.name, func(t *testing.T) {
			p50, p99 := percentiles(lats(c.in...))
			if p50 != c.p50 || p99 != c.p99 {
				t.Errorf("p50 %v, p99 %v; want %v, %v", p50, p99, c.p50, c.p99)
			}
		})
	}
	if p50, p99 := percentiles(nil); p50.Known() || p99.Known() {
		t.Errorf("none: p50 %v, p99 %v; want NA", p50, p99)
	}
}

// prune keeps the entries after the cut, in any order.
func TestPrune(t *testing.T) {
	cut := time.Unix(3_000_000, 0)
	ts := []timed{{cut.Add(time.Second), 1}, {cut.Add(-time.Second), 2}, {cut, 3}, {cut.Add(time.Millisecond), 4}, {cut.Add(-time.Hour), 5}}
	var got []time.Duration
	for _, x := range prune(ts, cut) {
		got = append(got, x.lat)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 4 {
		t.Errorf("kept %v, want [1 4]", got)
	}
}

// increases: the first frame is a baseline; later, each process's rise
// adds to its group, a new process counts from 0, a process whose
// counter fell (restarted) counts from 0 again, and kinds stay apart.
func TestIncreasesPerProcess(t *testing.T) {
	s := &Session{counters: map[string]float64{}, totals: map[string]float64{}, baseline: map[string]bool{}}
	cold := func(inst, fn string, v float64) promsd.Sample {
		return promsd.Sample{Labels: map[string]string{"instance": inst, "function": fn}, Value: v}
	}
	dlq := func(inst string, v float64) promsd.Sample {
		return promsd.Sample{Labels: map[string]string{"instance": inst, "component": "runtime", "topic": "photos.dlq"}, Value: v}
	}
	frame := func() { s.frames = append(s.frames, Frame{}) }
	check := func(step string, got, want map[string]float64) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", step, got, want)
			return
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || g != w {
				t.Errorf("%s: %v, want %v", step, got, want)
				return
			}
		}
	}

	check("first frame", s.increases("cold", []promsd.Sample{cold("a:1", "thumbnail", 5), cold("b:1", "thumbnail", 3), cold("c:1", "tagger", 2)}, "function"), map[string]float64{})
	check("first frame dlq", s.increases("dlq", []promsd.Sample{dlq("r:1", 9)}, ""), map[string]float64{})
	frame()
	check("second frame", s.increases("cold", []promsd.Sample{cold("a:1", "thumbnail", 7), cold("b:1", "thumbnail", 3), cold("c:1", "tagger", 2), cold("d:1", "thumbnail", 4)}, "function"),
		map[string]float64{"thumbnail": 2 + 4, "tagger": 0})
	check("second frame dlq", s.increases("dlq", []promsd.Sample{dlq("r:1", 10), dlq("q:1", 1)}, ""), map[string]float64{"": 1 + 1})
	frame()
	check("third frame", s.increases("cold", []promsd.Sample{cold("a:1", "thumbnail", 1), cold("c:1", "tagger", 5), cold("d:1", "thumbnail", 4)}, "function"),
		map[string]float64{"thumbnail": 6 + 1, "tagger": 3})
	check("no samples", s.increases("cold", nil, "function"), map[string]float64{"thumbnail": 7, "tagger": 3})
}

// A kind whose query failed on the first frame takes its baseline on the
// first frame it is read: what its processes counted before the session
// (a bench's dead letters) is not the session's.
func TestIncreasesBaselineOfALateKind(t *testing.T) {
	s := &Session{counters: map[string]float64{}, totals: map[string]float64{}, baseline: map[string]bool{}}
	reconciled := func(v float64) []promsd.Sample {
		return []promsd.Sample{{Labels: map[string]string{"instance": "r:1", "function": "reconciler"}, Value: v}}
	}
	s.increases("cold", nil, "function") // the first frame: only the cold starts answered
	s.frames = append(s.frames, Frame{})
	if got := s.increases("reconciled", reconciled(40), ""); got[""] != 0 {
		t.Errorf("first reading: %v, want no increase", got)
	}
	s.frames = append(s.frames, Frame{})
	if got := s.increases("reconciled", reconciled(43), ""); got[""] != 3 {
		t.Errorf("second reading: %v, want 3", got)
	}
}

func TestNumJSON(t *testing.T) {
	in := struct {
		A Num `json:"a"`
		B Num `json:"b"`
		C Num `json:"c"`
		D Num `json:"d"`
	}{NA, Num(math.Inf(1)), 1.5, 0}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"a":null,"b":null,"c":1.5,"d":0}` {
		t.Errorf("marshal: %s", b)
	}
	out := in
	out.C = 9
	if err := json.Unmarshal([]byte(`{"a":null,"b":2.25,"c":null,"d":-3}`), &out); err != nil {
		t.Fatal(err)
	}
	if out.A.Known() || out.B != 2.25 || out.C.Known() || out.D != -3 {
		t.Errorf("unmarshal: %+v", out)
	}
	if err := json.Unmarshal([]byte(`{"a":"x"}`), &out); err == nil {
		t.Error("unmarshal of a string: no error")
	}
	if NA.Known() || Num(math.Inf(-1)).Known() || !Num(0).Known() {
		t.Error("Known: NaN and Inf are unknown, 0 is known")
	}
}

// The shapes' schedules, counted over their periods.
func TestPacerShapes(t *testing.T) {
	count := func(shape string, rate float64, d time.Duration) uint64 {
		t.Helper()
		p, err := Pacer(shape, rate)
		if err != nil {
			t.Fatal(err)
		}
		return loadgen.Count(p, d)
	}
	s := time.Second
	for _, c := range []struct {
		shape string
		d     time.Duration
		want  uint64
	}{
		{ShapeConstant, 10*s - 1, 40},
		{ShapeConstant, 100*s - 1, 400},
		{ShapeBurst, 25*s - 1, 100},        // 4/s for 25 s
		{ShapeBurst, 30*s - 1, 100 + 100},  // then 20/s for 5 s
		{ShapeBurst, 55*s - 1, 200 + 100},  // and again
		{ShapeGap, 30*s - 1, 120},          // 4/s for 30 s
		{ShapeGap, 75*s - 1, 120},          // then nothing for 45 s
		{ShapeGap, 85*s - 1, 120 + 40},     // and again
		{ShapeGap, 150*s - 1, 120 + 120},   // two periods
		{ShapeBurst, 60*s - 1, 2 * (200)},  // two periods
		{ShapeConstant, 250 * s / 1000, 1}, // the first hit at 0
	} {
		if got := count(c.shape, 4, c.d); got != c.want {
			t.Errorf("%s at 4/s: %d hits before %s, want %d", c.shape, got, c.d, c.want)
		}
	}
	_, err := Pacer("sawtooth", 4)
	if err == nil || !strings.Contains(err.Error(), `"sawtooth"`) || !strings.Contains(err.Error(), "constant, burst, gap") {
		t.Errorf("unknown shape: %v", err)
	}
}
