package demo_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/photobench/photobench/bench/demo"
	"github.com/photobench/photobench/loadgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// phase is one synthetic phase: uploads answered ok and 5xx (and other
// errors), their answer quantiles, and the followed uploads.
type phase struct {
	ok, refused, other uint64
	p50, p99           float64
	ready              uint64
	readyP50, readyP99 float64
}

func summary(phases ...phase) loadgen.Summary {
	s := loadgen.Summary{}
	for i, p := range phases {
		st := loadgen.Stats{OK: p.ok, Errors: p.refused + p.other,
			Latency: loadgen.Quantiles{Count: int64(p.ok + p.refused + p.other), P50: p.p50, P99: p.p99}}
		if p.refused > 0 {
			st.ErrorsByClass = map[string]uint64{"5xx": p.refused}
		}
		if p.other > 0 {
			if st.ErrorsByClass == nil {
				st.ErrorsByClass = map[string]uint64{}
			}
			st.ErrorsByClass["timeout"] = p.other
		}
		ps := loadgen.PhaseSummary{Name: demo.Phases[i], Ops: map[loadgen.Op]loadgen.Stats{
			loadgen.OpUpload: st, loadgen.OpList: {OK: 40},
		}}
		if p.ok > 0 {
			ps.Ready = &loadgen.ReadySummary{Followed: p.ok, Ready: p.ready,
				Latency: loadgen.Quantiles{Count: int64(p.ready), P50: p.readyP50, P99: p.readyP99}}
		}
		s.Phases = append(s.Phases, ps)
	}
	return s
}

// outage is a vision outage from 30 s to 70 s, after 40 s more: the
// monolith refuses every upload during it; the async monolith accepts them
// all and has the last one ready at 76.1 s, its jobs 1 before, peaking at
// 96 at 69 s and back to 1 at 77 s; the event-driven app accepts them all
// and has the last one ready at 84.2 s, its backlog 24 in the first 5 s
// (scale from zero), then 2, peaking at 180 at 68 s and back at 2 at 84 s.
func outage() demo.Outcome {
	o := demo.Outcome{Fault: demo.VisionOutage, Rate: 4, Users: 4,
		Start: t0, FaultStart: at(30), FaultEnd: at(70), End: at(120),
		Durations: [3]time.Duration{30 * time.Second, 40 * time.Second, 40 * time.Second},
		Archs: []demo.ArchOutcome{
			{Name: demo.Monolith, Summary: summary(
				phase{ok: 72, p50: 0.212, p99: 0.48, ready: 72, readyP50: 0.212, readyP99: 0.48},
				phase{refused: 96, p50: 0.004, p99: 0.012},
				phase{ok: 95, refused: 1, p50: 0.22, p99: 0.51, ready: 95, readyP50: 0.22, readyP99: 0.51},
			), LastReady: map[string]time.Time{demo.PhaseBefore: at(29.9), demo.PhaseAfter: at(109.9)}},
			{Name: demo.MonolithAsync, Summary: summary(
				phase{ok: 72, p50: 0.012, p99: 0.035, ready: 72, readyP50: 0.15, readyP99: 0.41},
				phase{ok: 96, p50: 0.011, p99: 0.03, ready: 96, readyP50: 21.5, readyP99: 37.2},
				phase{ok: 96, p50: 0.012, p99: 0.033, ready: 96, readyP50: 0.16, readyP99: 0.45},
			), LastReady: map[string]time.Time{demo.PhaseBefore: at(30.1), demo.PhaseFault: at(76.1), demo.PhaseAfter: at(110.2)}},
			{Name: demo.EventDriven, Summary: summary(
				phase{ok: 72, p50: 0.041, p99: 0.095, ready: 72, readyP50: 1.21, readyP99: 2.9},
				phase{ok: 96, p50: 0.043, p99: 0.1, ready: 96, readyP50: 24.1, readyP99: 38},
				phase{ok: 96, p50: 0.04, p99: 0.09, ready: 96, readyP50: 1.3, readyP99: 3.1},
			), LastReady: map[string]time.Time{demo.PhaseBefore: at(31), demo.PhaseFault: at(84.2), demo.PhaseAfter: at(111)}},
		},
	}
	for s := 1; s < 120; s++ {
		jobs := 1.0
		switch {
		case s >= 30 && s <= 69:
			jobs = float64(s-30) * 96 / 39
		case s > 69 && s < 77:
			jobs = 96 - float64(s-69)*13
		}
		o.Archs[1].Backlog = append(o.Archs[1].Backlog, demo.BacklogSample{At: at(float64(s)), Value: jobs})
		v := 2.0
		switch {
		case s <= 5:
			v = 24 // the functions scale from zero: not the pre-fault level
		case s >= 30 && s <= 68:
			v = float64(s-30) * 180 / 38
		case s > 68 && s < 84:
			v = 180 - float64(s-68)*11
		}
		o.Archs[2].Backlog = append(o.Archs[2].Backlog, demo.BacklogSample{At: at(float64(s)), Value: v})
	}
	return o
}

// slow is a vision slowdown: every upload accepted, the monolith's slower,
// the event-driven backlog never back by the end, one photo not ready.
func slow() demo.Outcome {
	o := outage()
	o.Fault = demo.SlowVision
	o.Archs[0].Summary = summary(
		phase{ok: 72, p50: 0.212, p99: 0.48, ready: 72, readyP50: 0.212, readyP99: 0.48},
		phase{ok: 94, other: 2, p50: 0.9, p99: 3.1, ready: 94, readyP50: 0.9, readyP99: 3.1},
		phase{ok: 96, p50: 0.22, p99: 0.51, ready: 96, readyP50: 0.22, readyP99: 0.51},
	)
	o.Archs[1].Summary = summary(
		phase{ok: 72, p50: 0.012, p99: 0.035, ready: 72, readyP50: 0.15, readyP99: 0.41},
		phase{ok: 96, p50: 0.012, p99: 0.04, ready: 96, readyP50: 0.8, readyP99: 2.9},
		phase{ok: 96, p50: 0.012, p99: 0.033, ready: 96, readyP50: 0.16, readyP99: 0.45},
	)
	o.Archs[1].LastReady[demo.PhaseFault] = at(71.5)
	o.Archs[1].Backlog = []demo.BacklogSample{{At: at(20), Value: 0}, {At: at(50), Value: 6}, {At: at(75), Value: 0}}
	o.Archs[2].Summary = summary(
		phase{ok: 72, p50: 0.041, p99: 0.095, ready: 72, readyP50: 1.21, readyP99: 2.9},
		phase{ok: 96, p50: 0.043, p99: 0.1, ready: 95, readyP50: 4.1, readyP99: 9.5},
		phase{ok: 96, p50: 0.04, p99: 0.09, ready: 96, readyP50: 1.3, readyP99: 3.1},
	)
	o.Archs[2].Backlog = []demo.BacklogSample{{At: at(10), Value: 3}, {At: at(50), Value: 40}, {At: at(75), Value: 12}, {At: at(119), Value: 5}}
	o.FollowUpCut = true
	return o
}

func TestDemoSummarize(t *testing.T) {
	tests := []struct {
		name    string
		outcome demo.Outcome
		check   func(t *testing.T, s demo.Summary)
		golden  string
		phrases []string // all in the conclusion
	}{
		{
			name: "vision outage", outcome: outage(), golden: "outage.golden",
			check: func(t *testing.T, s demo.Summary) {
				var names []string
				for _, a := range s.Archs {
					names = append(names, a.Name)
				}
				if got := strings.Join(names, ", "); got != strings.Join(demo.Archs, ", ") {
					t.Errorf("archs %s", got)
				}
				m, a, e := s.Archs[0], s.Archs[1], s.Archs[2]
				if f := m.Phases[1]; f.OK != 0 || f.Refused != 96 || f.Answered != 96 || f.OtherErrors != 0 {
					t.Errorf("monolith during the fault: %+v", f)
				}
				if f := m.Phases[2]; f.OK != 95 || f.Refused != 1 || f.Answered != 96 {
					t.Errorf("monolith after the fault: %+v", f)
				}
				if f := a.Phases[1]; f.OK != 96 || f.Refused != 0 || f.Ready != 96 || f.ToReady.P99 != 37.2 || !f.LastReady.Equal(at(76.1)) {
					t.Errorf("async monolith during the fault: %+v", f)
				}
				if f := e.Phases[1]; f.OK != 96 || f.Refused != 0 || f.Followed != 96 || f.Ready != 96 ||
					f.ToReady.P99 != 38 || f.Answer.P50 != 0.043 || !f.LastReady.Equal(at(84.2)) {
					t.Errorf("event-driven during the fault: %+v", f)
				}
				if m.Backlog != nil {
					t.Errorf("monolith backlog %+v, want none: it queues nothing", m.Backlog)
				}
				checkBacklog(t, a.Backlog, demo.Backlog{Unit: "jobs", Known: true, PreFault: 1, Peak: 96, PeakAfter: 39 * time.Second, CaughtUp: true, CatchUp: 7 * time.Second})
				checkBacklog(t, e.Backlog, demo.Backlog{Unit: "messages", Known: true, PreFault: 2, Peak: 180, PeakAfter: 38 * time.Second, CaughtUp: true, CatchUp: 14 * time.Second})
			},
			phrases: []string{
				"During the outage the monolith refused 96 of 96 uploads (5xx); the async monolith accepted 96 of 96 and had them all ready 6.1 s after the outage ended; the event-driven app accepted 96 of 96 and had them all ready 14.2 s after the outage ended.",
				"Once vision was back the monolith accepted 95 of 96 uploads again",
				"Both answering before the work is done, the async monolith (one process, its jobs in its own PostgreSQL) had uploads ready in p50 150ms before the outage, the event-driven app (functions tied by MinIO's events and Kafka) in 1.21s.",
			},
		},
		{
			name: "slow vision", outcome: slow(), golden: "slow.golden",
			check: func(t *testing.T, s demo.Summary) {
				if f := s.Archs[0].Phases[1]; f.OK != 94 || f.Refused != 0 || f.OtherErrors != 2 || f.Answered != 96 {
					t.Errorf("monolith during the fault: %+v", f)
				}
				checkBacklog(t, s.Archs[1].Backlog, demo.Backlog{Unit: "jobs", Known: true, Peak: 6, PeakAfter: 20 * time.Second, CaughtUp: true, CatchUp: 5 * time.Second})
				checkBacklog(t, s.Archs[2].Backlog, demo.Backlog{Unit: "messages", Known: true, PreFault: 3, Peak: 40, PeakAfter: 20 * time.Second})
				if !s.FollowUpCut {
					t.Error("FollowUpCut lost")
				}
			},
			phrases: []string{
				"During the slowdown the monolith failed 2 of 96 uploads; the async monolith accepted 96 of 96 and had them all ready 1.5 s after the slowdown ended; the event-driven app accepted 96 of 96 and had 95 of them ready by the end of the demo.",
				"Upload p99 before -> during: monolith 480ms -> 3.10s (vision is inside its request); async monolith ack 35ms -> 40ms, upload to ready 410ms -> 2.90s; event-driven ack 95ms -> 100ms, upload to ready 2.90s -> 9.50s.",
			},
		},
		{
			name: "no backlog samples, stopped early", golden: "partial.golden",
			outcome: func() demo.Outcome {
				o := outage()
				o.Interrupted = true
				o.Archs[1].Backlog, o.Archs[1].BacklogError = nil, "query backlog: connection refused"
				o.Archs[2].Backlog, o.Archs[2].BacklogError = nil, "Prometheus has no photobench_runtime_lag series"
				o.Archs[2].Summary.Phases[1].Ready.Ready = 90
				for i := range o.Archs { // stopped during the fault
					o.Archs[i].Summary.Phases = o.Archs[i].Summary.Phases[:2]
				}
				return o
			}(),
			check: func(t *testing.T, s demo.Summary) {
				if b := s.Archs[2].Backlog; b == nil || b.Known || !strings.Contains(b.Why, "no photobench_runtime_lag") {
					t.Errorf("event-driven backlog %+v", b)
				}
				if b := s.Archs[1].Backlog; b == nil || b.Known || b.Why != "query backlog: connection refused" {
					t.Errorf("async monolith backlog %+v", b)
				}
				if s.Archs[2].Phases[2] != (demo.PhaseFigures{}) {
					t.Errorf("a phase that never ran has figures: %+v", s.Archs[2].Phases[2])
				}
				if !s.Interrupted {
					t.Error("Interrupted lost")
				}
			},
			phrases: []string{"the event-driven app accepted 96 of 96 and had 90 of them ready by the end of the demo."},
		},
		{
			name: "two architectures (an outcome of before the async monolith)", golden: "two.golden",
			outcome: func() demo.Outcome {
				o := outage()
				o.Archs = []demo.ArchOutcome{o.Archs[0], o.Archs[2]}
				return o
			}(),
			check: func(t *testing.T, s demo.Summary) {
				if len(s.Archs) != 2 || s.Archs[1].Backlog == nil || !s.Archs[1].Backlog.Known {
					t.Errorf("archs %+v", s.Archs)
				}
			},
			phrases: []string{
				"During the outage the monolith refused 96 of 96 uploads (5xx); the event-driven app accepted 96 of 96 and had them all ready 14.2 s after the outage ended.",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := demo.Summarize(tt.outcome)
			tt.check(t, s)
			for _, p := range tt.phrases {
				if !strings.Contains(s.Conclusion, p) {
					t.Errorf("conclusion lacks %q:\n%s", p, s.Conclusion)
				}
			}
			var buf bytes.Buffer
			if err := s.Write(&buf); err != nil {
				t.Fatal(err)
			}
			checkScreen(t, buf.String())
			golden(t, tt.golden, buf.Bytes())
		})
	}
}

// checkBacklog compares a summarised backlog with want.
func checkBacklog(t *testing.T, got *demo.Backlog, want demo.Backlog) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("backlog %+v, want %+v", got, want)
	}
}

// checkScreen fails unless text fits one screen: demo.Height lines of
// demo.Width columns.
func checkScreen(t *testing.T, text string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) > demo.Height {
		t.Errorf("%d lines, want at most %d:\n%s", len(lines), demo.Height, text)
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > demo.Width {
			t.Errorf("line %d has %d columns, want at most %d: %q", i+1, n, demo.Width, l)
		}
		if strings.HasSuffix(l, " ") {
			t.Errorf("line %d ends in a space: %q", i+1, l)
		}
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("summary differs from %s (go test -update rewrites it):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

func TestDemoLookup(t *testing.T) {
	for _, name := range []string{"vision-outage", "slow-vision"} {
		t.Run(name, func(t *testing.T) {
			f, ok := demo.Lookup(name)
			if !ok || f.Name != name || len(f.Patch) == 0 || f.Noun == "" {
				t.Fatalf("Lookup(%q) = %+v, %v", name, f, ok)
			}
			c := demo.DefaultConfig(f)
			c.MonolithURL, c.MonolithAsyncURL, c.EventDrivenURL, c.VisionURL = "http://127.0.0.1:1", "http://127.0.0.1:4", "http://127.0.0.1:2", "http://127.0.0.1:3"
			c.Secret = []byte("0123456789abcdef")
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			if d := c.Duration(); d > 150*time.Second {
				t.Errorf("the default demo takes %s, want at most 2.5 minutes", d)
			}
			sc := demo.Scenario(c)
			if err := sc.Validate(); err != nil {
				t.Fatal(err)
			}
			if len(sc.Phases) != 3 || sc.Phases[1].Name != demo.PhaseFault || sc.Phases[1].Duration != 40*time.Second || !sc.Ready.Follow {
				t.Errorf("scenario %+v", sc)
			}
		})
	}
	if _, ok := demo.Lookup("nope"); ok {
		t.Error("Lookup(nope) found a demo")
	}
}
