package bench_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/loadgen"
)

func TestBuiltInProfilesParse(t *testing.T) {
	for _, name := range bench.Profiles() {
		t.Run(name, func(t *testing.T) {
			p, err := bench.LoadProfile(name)
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != name || len(p.Experiments) == 0 {
				t.Errorf("profile %+v", p)
			}
		})
	}
	if got := strings.Join(bench.Profiles(), ","); got != "full,quick" {
		t.Errorf("profiles %s, want full,quick", got)
	}
}

// quick, make bench's default, is a first look: once against each
// architecture, and with each run's start, drain and capture under 10
// minutes; its description says so first. It also has every phase the
// issue asks for.
func TestQuickProfileShape(t *testing.T) {
	p, err := bench.LoadProfile("quick")
	if err != nil {
		t.Fatal(err)
	}
	n := len(results.Archs)
	if d := p.Estimate(n); d >= 10*time.Minute {
		t.Errorf("quick takes about %s against %d architectures (%s of load): not under 10 minutes", d, n, p.Duration(n))
	}
	if !strings.HasPrefix(p.Description, "A first look: one run per architecture, so no intervals.") {
		t.Errorf("description %q does not begin by saying it is a first look", p.Description)
	}
	if got, want := p.Runs(n), n; got != want {
		t.Errorf("quick makes %d runs against %d architectures, want %d", got, n, want)
	}
	sc := p.Experiments[0].Scenario
	var names []string
	for _, ph := range sc.Phases {
		names = append(names, ph.Name)
	}
	if got := strings.Join(names, ","); got != "warmup,steady,burst,idle,cold,before,outage,recovery" {
		t.Errorf("phases %s", got)
	}
	steady, burst, idle := sc.Phases[1], sc.Phases[2], sc.Phases[3]
	if r := float64(loadgen.Count(burst.Pacer, time.Second)) / float64(loadgen.Count(steady.Pacer, time.Second)); r != 3 {
		t.Errorf("burst is %gx steady, want 3x", r)
	}
	// Longer than the functions' cooldown (10 s) plus Knative's stable
	// window (10 s) and grace (10 s): scale to zero shows.
	if idle.Duration <= 30*time.Second {
		t.Errorf("idle gap %s is not longer than the scale-to-zero cooldown", idle.Duration)
	}
	if f := p.Experiments[0].Faults; len(f) != 1 || f[0].Phase != "outage" || sc.Phases[6].Duration != 30*time.Second {
		t.Errorf("faults %+v: want a 30-second vision outage", f)
	}
}

func TestFullProfileSweepsAndRepeats(t *testing.T) {
	p, err := bench.LoadProfile("full")
	if err != nil {
		t.Fatal(err)
	}
	var sweep, repeats bool
	faults := map[string]bool{}
	for _, e := range p.Experiments {
		// Past the 64-100 req/s (16-25 photos/s) 2 cores sustained, with
		// rates enough below it for two failures to mean a knee.
		if e.Sweep != nil && len(e.Sweep.Rates) >= 6 && slices.Max(e.Sweep.Rates) >= 150 {
			sweep = true
		}
		if e.Name == p.Steady && e.Repeats >= 5 {
			repeats = true
		}
		for _, f := range e.Faults {
			faults[f.Restart+string(f.Vision)] = true
		}
	}
	if !sweep || !repeats || len(faults) != 4 {
		t.Errorf("full: sweep %v, repeats %v, faults %v: want a sweep past 150 req/s, 5 repetitions of steady, 4 coupling scenarios", sweep, repeats, faults)
	}
	if slo := p.SweepSLO(); slo.AckP99 <= 0 || slo.ReadyP99 <= 0 {
		t.Errorf("sweep SLO %+v: want ack and ready p99", slo)
	}
}

// minimalProfile is the least a profile needs.
const minimalProfile = `name: t
experiments:
  - name: e
    scenario:
      users: 1
      mix: {list: 1}
      phases:
        - {name: p, duration: 1s, pacer: {type: constant, rate: 1}}
`

func TestBadProfilesFailWithOneLineNamingTheField(t *testing.T) {
	base := minimalProfile
	tests := []struct {
		name, text, want string
	}{
		{"unknown profile field", "nam: x\n", "field nam not found"},
		{"no experiments", "name: t\n", "experiments: at least one"},
		{"broken scenario", strings.Replace(base, "rate: 1", "rate: -1", 1), "experiments[0].scenario.phases[0].pacer.rate"},
		{"fault on a missing phase", base + "    faults:\n      - {phase: nope, vision: {outage: fail}, text: x}\n", "experiments[0].faults[0].phase"},
		{"unknown restart", base + "    faults:\n      - {phase: p, restart: minio, text: x}\n", "experiments[0].faults[0].restart"},
		{"bad vision field", base + "    faults:\n      - {phase: p, vision: {outages: fail}, text: x}\n", "experiments[0].faults[0].vision"},
		{"bad slo", "slo_p99_ack: soon\n" + base, "slo_p99_ack"},
		{"sweep of a missing phase", base + "    sweep: {phase: q, rates: [1]}\n", "experiments[0].sweep.phase"},
		{"vision seed 0 (would be random)", "vision_seed: 0\n" + base, "vision_seed"},
		{"bad ready slo", "slo_p99_ready: -1s\n" + base, "slo_p99_ready"},
		{"order seed not a number", "order_seed: x\n" + base, "order_seed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bench.ParseProfile([]byte(tt.text))
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line containing %q", msg, tt.want)
			}
		})
	}
	for text, want := range map[string]int{base: 1, "vision_seed: 42\n" + base: 42} {
		p, err := bench.ParseProfile([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if p.VisionSeed != want {
			t.Errorf("vision seed %d, want %d", p.VisionSeed, want)
		}
	}
	if _, err := bench.LoadProfile("nope"); err == nil || !strings.Contains(err.Error(), "unknown profile \"nope\"") {
		t.Errorf("unknown profile: %v", err)
	}
}

func TestOrderSeedDefaultsAndIsRead(t *testing.T) {
	base := minimalProfile
	for text, want := range map[string]int64{base: bench.DefaultOrderSeed, "order_seed: 9\n" + base: 9} {
		p, err := bench.ParseProfile([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if p.OrderSeed != want {
			t.Errorf("order seed %d, want %d", p.OrderSeed, want)
		}
	}
}
