package loadgen_test

import (
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen"
)

func TestLoadScenario(t *testing.T) {
	t.Run("full", func(t *testing.T) {
		s, err := loadgen.LoadScenario("testdata/full.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != "full" || s.Seed != 42 || s.Users != 10 || s.MaxInFlight != 500 || s.Timeout != 10*time.Second {
			t.Errorf("header = %q seed %d users %d cap %d timeout %v", s.Name, s.Seed, s.Users, s.MaxInFlight, s.Timeout)
		}
		wantMix := []loadgen.Weight{{Op: "upload", Weight: 1}, {Op: "get", Weight: 5}, {Op: "list", Weight: 2},
			{Op: "search", Weight: 1}, {Op: "thumbnail", Weight: 3}, {Op: "delete", Weight: 0.5}}
		if len(s.Mix) != len(wantMix) {
			t.Fatalf("mix = %v", s.Mix)
		}
		for i := range wantMix {
			if s.Mix[i] != wantMix[i] {
				t.Errorf("mix[%d] = %v, want %v", i, s.Mix[i], wantMix[i])
			}
		}
		wantPhases := []struct {
			name   string
			d      time.Duration
			warmup bool
			count  uint64
		}{
			{"warmup", 10 * time.Second, true, 200},
			{"poisson", 30 * time.Second, false, 0},  // random: checked separately
			{"ramp", time.Minute, false, 6600},       // (20+200)/2·60
			{"steps", 30 * time.Second, false, 700},  // 10·10 + 0 + 40·15
			{"spike", 30 * time.Second, false, 2000}, // 20·25 + 300·5
			{"sine", 2 * time.Minute, false, 12000},  // two whole periods of mean 100
			{"rest", 5 * time.Second, false, 0},
		}
		if len(s.Phases) != len(wantPhases) {
			t.Fatalf("got %d phases", len(s.Phases))
		}
		for i, w := range wantPhases {
			p := s.Phases[i]
			if p.Name != w.name || p.Duration != w.d || p.Warmup != w.warmup {
				t.Errorf("phase %d = %q %v warmup %v, want %q %v %v", i, p.Name, p.Duration, p.Warmup, w.name, w.d, w.warmup)
			}
			if got := loadgen.Count(p.Pacer, p.Duration); w.name != "poisson" && got != w.count {
				t.Errorf("phase %q: %d hits, want %d", p.Name, got, w.count)
			}
		}
		if got := loadgen.Count(s.Phases[1].Pacer, 30*time.Second); got < 1350 || got > 1650 {
			t.Errorf("poisson phase: %d hits, want 1500 ± 10%%", got)
		}
		if got := s.Duration(); got != 4*time.Minute+45*time.Second {
			t.Errorf("Duration = %v", got)
		}
		want := loadgen.ReadyConfig{Follow: true, Timeout: 90 * time.Second, MinPoll: 20 * time.Millisecond, MaxPoll: time.Second, MaxFollowing: 200}
		if s.Ready != want {
			t.Errorf("Ready = %+v, want %+v", s.Ready, want)
		}
	})
	t.Run("defaults", func(t *testing.T) {
		s, err := loadgen.LoadScenario("testdata/minimal.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if s.Seed != loadgen.DefaultSeed || s.Users != loadgen.DefaultUsers ||
			s.MaxInFlight != loadgen.DefaultMaxInFlight || s.Timeout != loadgen.DefaultTimeout {
			t.Errorf("defaults not applied: %+v", s)
		}
		want := loadgen.DefaultReadyConfig()
		want.Follow = false // the mix does not upload
		if s.Ready != want {
			t.Errorf("Ready = %+v, want %+v", s.Ready, want)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		if _, err := loadgen.LoadScenario("testdata/nope.yaml"); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestParseScenarioErrors(t *testing.T) {
	// Each case is a valid scenario with one thing broken.
	const ok = "mix: {get: 1}\nphases:\n  - {name: a, duration: 1s, pacer: {type: constant, rate: 5}}\n"
	phase := func(p string) string { return "mix: {get: 1}\nphases:\n  - " + p + "\n" }
	pacer := func(p string) string { return phase("{name: a, duration: 1s, pacer: " + p + "}") }
	tests := []struct {
		name, yaml, want string
	}{
		{"empty file", "", "scenario: file is empty"},
		{"syntax", "mix: {get: 1\n", "scenario: line 1: did not find expected ',' or '}'"},
		{"unknown top-level field", "usres: 3\n" + ok, "usres: unknown field"},
		{"unknown phase field", phase("{name: a, duration: 1s, warmpu: true, pacer: {type: idle}}"), "phases[0].warmpu: unknown field"},
		{"unknown pacer field", pacer("{type: constant, rat: 5}"), "phases[0].pacer.rat: unknown field"},
		{"unknown field in block style", "mix: {get: 1}\nphases:\n  - name: a\n    duration: 1s\n    pacer:\n      type: constant\n      rate: 5\n      burst: 2\n", "phases[0].pacer.burst: unknown field"},
		{"users not a number", "users: many\n" + ok, "users: must be a whole number"},
		{"users zero", "users: 0\n" + ok, "users: must be positive"},
		{"users negative", "users: -3\n" + ok, "users: must be positive"},
		{"cap zero", "max_in_flight: 0\n" + ok, "max_in_flight: must be positive"},
		{"seed negative", "seed: -1\n" + ok, "seed: must be a whole number"},
		{"timeout malformed", "timeout: soon\n" + ok, `timeout: invalid duration "soon" (want e.g. 30s, 2m, 500ms)`},
		{"timeout zero", "timeout: 0s\n" + ok, "timeout: must be positive"},
		{"mix missing", "phases:\n  - {name: a, duration: 1s, pacer: {type: idle}}\n", "mix: must name at least one operation"},
		{"mix unknown op", "mix: {get: 1, upsert: 2}\nphases:\n  - {name: a, duration: 1s, pacer: {type: idle}}\n", "mix.upsert: unknown operation (want one of upload, get, list, search, thumbnail, delete)"},
		{"mix negative", "mix: {get: -1, list: 2}\nphases:\n  - {name: a, duration: 1s, pacer: {type: idle}}\n", "mix.get: must be a non-negative number"},
		{"mix all zero", "mix: {get: 0}\nphases:\n  - {name: a, duration: 1s, pacer: {type: idle}}\n", "mix: needs a positive weight"},
		{"mix weight not a number", "mix: {get: lots}\nphases:\n  - {name: a, duration: 1s, pacer: {type: idle}}\n", "mix.get: must be a number"},
		{"mix a list", "mix: [get]\nphases:\n  - {name: a, duration: 1s, pacer: {type: idle}}\n", "mix: must be a mapping"},
		{"phases missing", "mix: {get: 1}\n", "phases: must list at least one phase"},
		{"phases a mapping", "mix: {get: 1}\nphases: {name: a}\n", "phases: must be a list"},
		{"phase name missing", phase("{duration: 1s, pacer: {type: idle}}"), "phases[0].name: is required"},
		{"phase name repeated", ok + "  - {name: a, duration: 1s, pacer: {type: idle}}\n", `phases[1].name: "a" is used by an earlier phase`},
		{"phase duration missing", phase("{name: a, pacer: {type: idle}}"), "phases[0].duration: is required"},
		{"phase duration negative", phase("{name: a, duration: -1s, pacer: {type: idle}}"), "phases[0].duration: must not be negative"},
		{"phase duration unitless", phase("{name: a, duration: 10, pacer: {type: idle}}"), `phases[0].duration: invalid duration "10" (want e.g. 30s, 2m, 500ms)`},
		{"warmup not bool", phase("{name: a, duration: 1s, warmup: maybe, pacer: {type: idle}}"), "phases[0].warmup: must be true or false"},
		{"pacer missing", phase("{name: a, duration: 1s}"), "phases[0].pacer: is required"},
		{"pacer type missing", pacer("{rate: 5}"), "phases[0].pacer.type: is required (constant, poisson, ramp, step, spike, sine or idle)"},
		{"pacer type unknown", pacer("{type: burst}"), `phases[0].pacer.type: unknown pacer "burst" (want constant, poisson, ramp, step, spike, sine or idle)`},
		{"constant rate missing", pacer("{type: constant}"), "phases[0].pacer.rate: is required"},
		{"constant rate zero", pacer("{type: constant, rate: 0}"), "phases[0].pacer.rate: must be positive"},
		{"constant rate negative", pacer("{type: constant, rate: -5}"), "phases[0].pacer.rate: must be positive"},
		{"constant rate infinite", pacer("{type: constant, rate: .inf}"), "phases[0].pacer.rate: must be a finite number"},
		{"constant rate text", pacer("{type: constant, rate: fast}"), "phases[0].pacer.rate: must be a number"},
		{"field of another type", pacer("{type: constant, rate: 5, peak: 9}"), "phases[0].pacer.peak: not used by pacer type constant"},
		{"idle with rate", pacer("{type: idle, rate: 5}"), "phases[0].pacer.rate: not used by pacer type idle"},
		{"poisson rate zero", pacer("{type: poisson, rate: 0}"), "phases[0].pacer.rate: must be positive"},
		{"ramp to missing", pacer("{type: ramp, from: 1}"), "phases[0].pacer.to: is required"},
		{"ramp both zero", pacer("{type: ramp, from: 0, to: 0}"), "phases[0].pacer.to: from and to cannot both be 0 (use type idle)"},
		{"ramp negative", pacer("{type: ramp, from: -1, to: 5}"), "phases[0].pacer.from: must not be negative"},
		{"ramp over zero", pacer("{type: ramp, from: 1, to: 5, over: 0s}"), "phases[0].pacer.over: must be positive"},
		{"step empty", pacer("{type: step, steps: []}"), "phases[0].pacer.steps: must list at least one step"},
		{"step rate missing", pacer("{type: step, steps: [{rate: 1, duration: 1s}, {duration: 1s}]}"), "phases[0].pacer.steps[1].rate: is required"},
		{"step duration missing", pacer("{type: step, steps: [{rate: 1}]}"), "phases[0].pacer.steps[0].duration: is required"},
		{"step unknown field", pacer("{type: step, steps: [{rate: 1, duration: 1s, ramp: true}]}"), "phases[0].pacer.steps[0].ramp: unknown field"},
		{"spike peak zero", pacer("{type: spike, base: 1, peak: 0, start: 1s, length: 1s}"), "phases[0].pacer.peak: must be positive"},
		{"spike start missing", pacer("{type: spike, base: 1, peak: 5, length: 1s}"), "phases[0].pacer.start: is required"},
		{"spike length bad", pacer("{type: spike, base: 1, peak: 5, start: 1s, length: long}"), `phases[0].pacer.length: invalid duration "long" (want e.g. 30s, 2m, 500ms)`},
		{"sine amplitude too big", pacer("{type: sine, mean: 5, amplitude: 6, period: 1m}"), "phases[0].pacer.amplitude: must not exceed mean (the rate would go negative)"},
		{"sine period missing", pacer("{type: sine, mean: 5, amplitude: 1}"), "phases[0].pacer.period: is required"},
		{"ready not a mapping", "ready: true\n" + ok, "ready: must be a mapping"},
		{"ready unknown field", "ready: {follw: true}\n" + ok, "ready.follw: unknown field"},
		{"ready follow not bool", "ready: {follow: maybe}\n" + ok, "ready.follow: must be true or false"},
		{"ready timeout zero", "ready: {timeout: 0s}\n" + ok, "ready.timeout: must be positive"},
		{"ready timeout malformed", "ready: {timeout: soon}\n" + ok, `ready.timeout: invalid duration "soon" (want e.g. 30s, 2m, 500ms)`},
		{"ready min_poll negative", "ready: {min_poll: -1s}\n" + ok, "ready.min_poll: must not be negative"},
		{"ready max_poll below min_poll", "ready: {min_poll: 1s, max_poll: 500ms}\n" + ok, "ready.max_poll: must be at least ready.min_poll"},
		{"ready max_poll below default min_poll", "ready: {max_poll: 10ms}\n" + ok, "ready.max_poll: must be at least ready.min_poll"},
		{"ready max_following zero", "ready: {max_following: 0}\n" + ok, "ready.max_following: must be positive"},
		{"ready max_following text", "ready: {max_following: all}\n" + ok, "ready.max_following: must be a whole number"},
		{"ready checked when not following", "ready: {follow: false, max_following: -1}\n" + ok, "ready.max_following: must be positive"},
		{"third phase", ok + "  - {name: b, duration: 1s, pacer: {type: idle}}\n  - {name: c, duration: 1s, pacer: {type: constant, rate: -2}}\n", "phases[2].pacer.rate: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadgen.ParseScenario([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got %q\nwant %q", got, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
		})
	}
	t.Run("the base case is valid", func(t *testing.T) {
		if _, err := loadgen.ParseScenario([]byte(ok)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseScenarioReady(t *testing.T) {
	const phases = "phases:\n  - {name: a, duration: 1s, pacer: {type: constant, rate: 5}}\n"
	def := loadgen.DefaultReadyConfig()
	with := func(change func(*loadgen.ReadyConfig)) loadgen.ReadyConfig {
		c := def
		change(&c)
		return c
	}
	tests := []struct {
		name, yaml string
		want       loadgen.ReadyConfig
	}{
		{"uploads: followed by default", "mix: {upload: 1, get: 1}\n", def},
		{"no uploads: not followed", "mix: {get: 1}\n", with(func(c *loadgen.ReadyConfig) { c.Follow = false })},
		{"zero upload weight: not followed", "mix: {upload: 0, get: 1}\n", with(func(c *loadgen.ReadyConfig) { c.Follow = false })},
		{"empty section", "mix: {upload: 1}\nready: {}\n", def},
		{"follow off", "mix: {upload: 1}\nready: {follow: false}\n", with(func(c *loadgen.ReadyConfig) { c.Follow = false })},
		{"follow on without uploads", "mix: {get: 1}\nready: {follow: true}\n", def},
		{"some fields", "mix: {upload: 1}\nready: {max_poll: 500ms, max_following: 10}\n",
			with(func(c *loadgen.ReadyConfig) { c.MaxPoll, c.MaxFollowing = 500*time.Millisecond, 10 })},
		{"block style", "mix: {upload: 1}\nready:\n  timeout: 1m\n  min_poll: 2s\n  max_poll: 2s\n",
			with(func(c *loadgen.ReadyConfig) { c.Timeout, c.MinPoll = time.Minute, 2*time.Second })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := loadgen.ParseScenario([]byte(tt.yaml + phases))
			if err != nil {
				t.Fatal(err)
			}
			if s.Ready != tt.want {
				t.Errorf("Ready = %+v, want %+v", s.Ready, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	valid := func() *loadgen.Scenario {
		return &loadgen.Scenario{Users: 1, MaxInFlight: 1, Timeout: time.Second,
			Mix:    []loadgen.Weight{{Op: loadgen.OpGet, Weight: 1}},
			Phases: []loadgen.Phase{{Name: "a", Duration: time.Second, Pacer: loadgen.Idle{}}}}
	}
	tests := []struct {
		name   string
		change func(*loadgen.Scenario)
		want   string
	}{
		{"valid", func(*loadgen.Scenario) {}, ""},
		{"no users", func(s *loadgen.Scenario) { s.Users = 0 }, "users: must be positive"},
		{"no cap", func(s *loadgen.Scenario) { s.MaxInFlight = 0 }, "max_in_flight: must be positive"},
		{"no timeout", func(s *loadgen.Scenario) { s.Timeout = 0 }, "timeout: must be positive"},
		{"unknown op", func(s *loadgen.Scenario) { s.Mix[0].Op = "put" }, `mix[0]: unknown operation "put"`},
		{"nil pacer", func(s *loadgen.Scenario) { s.Phases[0].Pacer = nil }, "phases[0].pacer: is required"},
		{"no phases", func(s *loadgen.Scenario) { s.Phases = nil }, "phases: must list at least one phase"},
		{"following", func(s *loadgen.Scenario) { s.Ready = loadgen.DefaultReadyConfig() }, ""},
		{"ready unset, not following", func(s *loadgen.Scenario) { s.Ready = loadgen.ReadyConfig{MaxPoll: -1} }, ""},
		{"following without a timeout", func(s *loadgen.Scenario) { s.Ready = loadgen.ReadyConfig{Follow: true} }, "ready.timeout: must be positive"},
		{"following with max_poll below min_poll", func(s *loadgen.Scenario) {
			s.Ready = loadgen.DefaultReadyConfig()
			s.Ready.MaxPoll = s.Ready.MinPoll - 1
		}, "ready.max_poll: must be at least ready.min_poll"},
		{"following without a cap", func(s *loadgen.Scenario) {
			s.Ready = loadgen.DefaultReadyConfig()
			s.Ready.MaxFollowing = 0
		}, "ready.max_following: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.change(s)
			err := s.Validate()
			if got := errString(err); got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestScenarioUploads(t *testing.T) {
	tests := []struct {
		name string
		mix  []loadgen.Weight
		want bool
	}{
		{"uploads", []loadgen.Weight{{Op: loadgen.OpList, Weight: 1}, {Op: loadgen.OpUpload, Weight: 2}}, true},
		{"upload at weight 0", []loadgen.Weight{{Op: loadgen.OpList, Weight: 1}, {Op: loadgen.OpUpload, Weight: 0}}, false},
		{"no uploads", []loadgen.Weight{{Op: loadgen.OpGet, Weight: 1}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&loadgen.Scenario{Mix: tt.mix}).Uploads(); got != tt.want {
				t.Errorf("Uploads() = %v, want %v", got, tt.want)
			}
		})
	}
}
