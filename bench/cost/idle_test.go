package cost_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/results"
)

// The idle window starts once every backlog is drained, not when the idle
// phase starts: the synthetic run's idle phase is 100 s (t = 920 to 1020,
// samples at 915 and 1020); a consumer lag that reads 0 only from t = 960
// on leaves a 60 s window, and what was invoked in it is scaled to an hour
// by 3600/60, not 3600/100.
func TestIdleWindowStartsWhenTheBacklogIsDrained(t *testing.T) {
	const t0 = 1795564800.0
	lagUntil := func(r *results.Results, pts [][2]float64) {
		ed := &r.Runs[1]
		if ed.Arch != results.EventDriven {
			t.Fatalf("run 1 is %s", ed.Arch)
		}
		ed.Series[results.QLag][0].Points = pts
	}
	base := load(t, "synthetic.json")
	before, err := cost.Analyze(base, sheets(t))
	if err != nil {
		t.Fatal(err)
	}

	r := load(t, "synthetic.json")
	lagUntil(r, [][2]float64{{t0 + 115, 3}, {t0 + 150, 2}, {t0 + 160, 0}, {t0 + 220, 0}})
	a, err := cost.Analyze(r, sheets(t))
	if err != nil {
		t.Fatal(err)
	}
	u := a.Usage[results.EventDriven]
	if u.IdlePhaseSeconds != 100 || u.IdleDrainSeconds != 40 || u.IdleWindowSeconds != 60 {
		t.Errorf("idle phase %v s, drained after %v s, window %v s: want 100, 40, 60", u.IdlePhaseSeconds, u.IdleDrainSeconds, u.IdleWindowSeconds)
	}
	// The same usage (the synthetic counters have no sample between 915
	// and 1020) over 60 s instead of 100: the invoked part per hour grows
	// by 100/60.
	was := cellOf(t, before, idleTitle, sqs, "invoked while idle")
	now := cellOf(t, a, idleTitle, sqs, "invoked while idle")
	if was != "0.0005343" || now != "0.0008905" {
		t.Errorf("invoked while idle: %s before, %s after; want 0.0005343 and 0.0008905 (x 100/60)", was, now)
	}
	if got := cellOf(t, a, idleTitle, sqs, "idle window"); got != "60" {
		t.Errorf("idle window cell %q, want 60", got)
	}

	t.Run("never drained", func(t *testing.T) {
		r := load(t, "synthetic.json")
		lagUntil(r, [][2]float64{{t0 + 115, 3}, {t0 + 220, 1}})
		a, err := cost.Analyze(r, sheets(t))
		if err != nil {
			t.Fatal(err)
		}
		want := "not measured: the backlog (lag function=catalog) was not drained when the idle phase ended"
		if got := cellOf(t, a, idleTitle, sqs, "idle cost"); !strings.Contains(got, want) {
			t.Errorf("idle cost %q, want n/a because %s", got, want)
		}
		if u := a.Usage[results.EventDriven]; !slices.Contains(u.Missing, want) || u.IdleWindowSeconds != 0 {
			t.Errorf("missing %q, idle window %v: want the reason and no window", u.Missing, u.IdleWindowSeconds)
		}
	})
	t.Run("no lag series", func(t *testing.T) {
		r := load(t, "synthetic.json")
		delete(r.Runs[1].Series, results.QLag)
		a, err := cost.Analyze(r, sheets(t))
		if err != nil {
			t.Fatal(err)
		}
		if got := cellOf(t, a, idleTitle, aws, "idle cost"); !strings.Contains(got, "series lag absent") {
			t.Errorf("idle cost %q, want n/a: the lag series is absent", got)
		}
	})
}
