package platform_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/platform"
)

// fnRecords are what envFn replicas wrote: process starts, and the event
// ids whose handling began and finished (with how many times each).
type fnRecords struct {
	starts      []time.Time
	begun, done map[string]int
}

func (fx *scaleFixture) records(t *testing.T) fnRecords {
	t.Helper()
	rec := fnRecords{begun: map[string]int{}, done: map[string]int{}}
	for _, fs := range outLines(t, fx.out) {
		switch fs[0] {
		case "start":
			ns, _ := strconv.ParseInt(fs[1], 10, 64)
			rec.starts = append(rec.starts, time.Unix(0, ns))
		case "begin":
			rec.begun[fs[1]]++
		case "done":
			rec.done[fs[1]]++
		}
	}
	return rec
}

// lag is the fixture group's total lag.
func (fx *scaleFixture) lag(t *testing.T) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaWait)
	defer cancel()
	lag, err := kafka.Lag(ctx, fx.brokers, fx.group, []string{fx.topic})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, ps := range lag {
		for _, v := range ps {
			n += v
		}
	}
	return n
}

// fnRuntime is a pinned runtime of one envFn replica in mode.
func (fx *scaleFixture) fnRuntime(t *testing.T, mode string, delay time.Duration, tune func(*platform.Options), env ...string) *platform.Runtime {
	t.Helper()
	opts := fx.options("worker", delay, append([]string{envFn + "=" + mode}, env...)...)
	opts.Pinned = true
	opts.Stderr = t.Output()
	if tune != nil {
		tune(&opts)
	}
	rt, err := platform.New(platform.Config{Functions: []platform.FunctionConfig{fx.function("worker")}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// TestStopWithinGrace stops a replica (SIGTERM, as a scale-in does) while
// its handler is busy: the replica fits its stop into the grace the
// runtime gave it, so it is never SIGKILLed, and the event is either
// handled and committed or left uncommitted and handled by the next
// replica: none is lost.
func TestStopWithinGrace(t *testing.T) {
	fn := map[string]string{"function": "worker"}

	t.Run("a handler that finishes within the budget is committed", func(t *testing.T) {
		fx := newScaleFixture(t)
		// Grace 4 s: the handler may take 2.8 s after SIGTERM; it needs 2 s.
		rt := fx.fnRuntime(t, fnSlow, 2*time.Second, func(o *platform.Options) { o.StopGrace = 4 * time.Second })
		r := startRuntime(t, rt)
		fx.produce(t, 1)
		pollUntil(t, "the handler started", func() bool { return len(fx.records(t).begun) == 1 })
		r.stop(t)
		rec := fx.records(t)
		if len(rec.done) != 1 {
			t.Errorf("events handled: %v, want the one in flight at the stop", rec.done)
		}
		if n := fx.lag(t); n != 0 {
			t.Errorf("lag after the stop = %d, want 0 (the handled event committed)", n)
		}
		if v := metricValue(t, fx.reg, "photobench_runtime_stop_kills_total", fn); v != 0 {
			t.Errorf("photobench_runtime_stop_kills_total = %v, want 0", v)
		}
	})

	t.Run("a handler over the budget is left uncommitted and redelivered", func(t *testing.T) {
		fx := newScaleFixture(t)
		// Grace 4 s: the handler's ctx is cancelled 2.8 s after SIGTERM.
		rt := fx.fnRuntime(t, fnUntilStop, 0, func(o *platform.Options) { o.StopGrace = 4 * time.Second })
		r := startRuntime(t, rt)
		fx.produce(t, 1)
		pollUntil(t, "the handler started", func() bool { return len(fx.records(t).begun) == 1 })
		r.stop(t)
		if v := metricValue(t, fx.reg, "photobench_runtime_stop_kills_total", fn); v != 0 {
			t.Errorf("photobench_runtime_stop_kills_total = %v, want 0 (the replica exits within its grace)", v)
		}
		if rec := fx.records(t); len(rec.done) != 0 {
			t.Fatalf("events handled: %v, want none (the handler was cut short)", rec.done)
		}
		if n := fx.lag(t); n != 1 {
			t.Fatalf("lag after the stop = %d, want 1 (left uncommitted)", n)
		}

		// The next replica gets it again and handles it.
		next := startRuntime(t, fx.fnRuntime(t, fnSlow, 0, nil))
		pollUntil(t, "the event redelivered and handled", func() bool { return len(fx.records(t).done) == 1 })
		pollUntil(t, "the event committed", func() bool { return fx.lag(t) == 0 })
		next.stop(t)
		rec := fx.records(t)
		for id, n := range rec.begun {
			if n != 2 || rec.done[id] != 1 {
				t.Errorf("event %s: begun %d times, done %d; want 2 and 1", id, n, rec.done[id])
			}
		}
	})
}

// TestCrashLoopBacksOff runs a function whose process exits at once:
// restarts wait longer each time up to the cap, and the crash loop shows in
// the metrics and the function's Status.
func TestCrashLoopBacksOff(t *testing.T) {
	fx := newScaleFixture(t)
	backoff := platform.RestartBackoff{Initial: 100 * time.Millisecond, Max: 400 * time.Millisecond, Reset: time.Minute, LoopAfter: 3}
	rt := fx.fnRuntime(t, fnExit, 0, func(o *platform.Options) { o.Restart = backoff })
	f := rt.Function("worker")
	r := startRuntime(t, rt)
	pollUntil(t, "seven starts", func() bool { return len(fx.records(t).starts) >= 7 })
	st := f.Status()
	r.stop(t)

	// Start k+1 follows crash k after at least the backoff: 100, 200, 400,
	// 400, ... ms (a start comes a little after its process's start line of
	// the previous one, so the gaps are lower bounds).
	starts := fx.records(t).starts
	want := backoff.Initial
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < want {
			t.Errorf("start %d came %v after start %d, want at least the backoff %v", i+1, gap, i, want)
		}
		want = min(2*want, backoff.Max)
	}
	if !st.CrashLoop || st.CrashesInARow < 6 || st.Restarts < 6 || st.RestartBackoff != "400ms" {
		t.Errorf("status %+v; want a crash loop of at least 6 crashes, backoff capped at 400ms", st)
	}
	fn := map[string]string{"function": "worker"}
	if v := metricValue(t, fx.reg, "photobench_runtime_crash_loop", fn); v != 1 {
		t.Errorf("photobench_runtime_crash_loop = %v, want 1", v)
	}
	if v := metricValue(t, fx.reg, "photobench_runtime_restart_backoff_seconds", fn); v != 0.4 {
		t.Errorf("photobench_runtime_restart_backoff_seconds = %v, want 0.4 (the cap)", v)
	}
	if v := metricValue(t, fx.reg, "photobench_runtime_restarts_total", fn); v < 6 {
		t.Errorf("photobench_runtime_restarts_total = %v, want >= 6", v)
	}
}

// TestWedgedHandlerRestarted runs a function whose handler blocks for good
// on the first event (ignoring its ctx): the replica fails its liveness
// probe once the call passes its deadline, is restarted, and the
// replacement handles every event, the wedged one included.
func TestWedgedHandlerRestarted(t *testing.T) {
	fx := newScaleFixture(t)
	rt := fx.fnRuntime(t, fnWedgeFirst, 0, func(o *platform.Options) {
		o.StopGrace = 2 * time.Second
		o.Liveness = platform.LivenessProbe{Period: 200 * time.Millisecond, Timeout: 500 * time.Millisecond, FailureThreshold: 3}
		o.Restart = platform.RestartBackoff{Initial: 100 * time.Millisecond}
	}, "PHOTOBENCH_HANDLER_DEADLINE=1s")
	r := startRuntime(t, rt)
	const n = 3
	fx.produce(t, n)
	pollUntil(t, "every event handled", func() bool { return len(fx.records(t).done) == n })
	pollUntil(t, "every event committed", func() bool { return fx.lag(t) == 0 })
	r.stop(t)
	fn := map[string]string{"function": "worker"}
	if v := metricValue(t, fx.reg, "photobench_runtime_liveness_failures_total", fn); v < 1 {
		t.Errorf("photobench_runtime_liveness_failures_total = %v, want >= 1", v)
	}
	if v := metricValue(t, fx.reg, "photobench_runtime_restarts_total", fn); v < 1 {
		t.Errorf("photobench_runtime_restarts_total = %v, want >= 1", v)
	}
	rec := fx.records(t)
	if len(rec.starts) < 2 {
		t.Errorf("%d replica starts, want the wedged one and its replacement", len(rec.starts))
	}
	for id, c := range rec.done {
		if c != 1 {
			t.Errorf("event %s done %d times, want 1", id, c)
		}
	}
}
