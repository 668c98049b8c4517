package loadgen_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen"
)

// The example scenarios shipped in scenarios/ stay valid.
func TestExampleScenarios(t *testing.T) {
	files, err := filepath.Glob("scenarios/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example scenarios (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := loadgen.LoadScenario(f); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("smoke", func(t *testing.T) {
		s, err := loadgen.LoadScenario("scenarios/smoke.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if s.Duration() != 10*time.Second || s.Users != 4 || len(s.Phases) != 2 || !s.Phases[0].Warmup {
			t.Errorf("smoke: %v, %d users, phases %+v", s.Duration(), s.Users, s.Phases)
		}
		if n := loadgen.Count(s.Phases[0].Pacer, s.Phases[0].Duration) + loadgen.Count(s.Phases[1].Pacer, s.Phases[1].Duration); n != 44 {
			t.Errorf("smoke schedules %d hits, want 4 + 40", n)
		}
	})
}
