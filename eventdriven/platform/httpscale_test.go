package platform_test

import (
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven/platform"
)

func TestHTTPScalerDecide(t *testing.T) {
	// Target 7 in flight per replica (10 at 70%), window 10s, grace 30s.
	cfg := platform.FunctionConfig{
		Name: "query", Kind: platform.KindHTTP, MinScale: 0, MaxScale: 4,
		ContainerConcurrency: 10, TargetUtilization: 70,
		StableWindow:           platform.Duration{Duration: 10 * time.Second},
		ScaleToZeroGracePeriod: platform.Duration{Duration: 30 * time.Second},
	}
	type step struct {
		at       int // seconds from the start
		avg      float64
		inFlight int
		arrived  int
		want     int
	}
	tests := []struct {
		name  string
		cfg   func(*platform.FunctionConfig)
		steps []step
	}{
		{name: "idle stays at zero", steps: []step{{0, 0, 0, 0, 0}, {1, 0, 0, 0, 0}, {60, 0, 0, 0, 0}}},
		{name: "one request wakes one replica", steps: []step{{0, 0.1, 1, 1, 1}}},
		{name: "arrived and gone still counts", steps: []step{{0, 0, 0, 1, 1}}},
		{name: "average over target rounds up", steps: []step{{0, 14, 14, 20, 2}, {1, 15, 15, 20, 3}}},
		{name: "exactly on target", steps: []step{{0, 7, 7, 7, 1}}},
		{name: "capped at maxScale", steps: []step{{0, 100, 100, 100, 4}}},
		{
			name: "window averages a burst away",
			// 28 for one second then nothing: the window mean falls as
			// the idle samples come in, down to the last replica.
			steps: []step{{0, 28, 28, 28, 4}, {1, 0, 0, 0, 2}, {2, 0, 0, 0, 2}, {3, 0, 0, 0, 1}, {11, 0, 0, 0, 1}},
		},
		{
			name:  "zero only after the grace period without requests",
			steps: []step{{0, 3, 3, 3, 1}, {1, 0, 0, 0, 1}, {29, 0, 0, 0, 1}, {30, 0, 0, 0, 0}},
		},
		{
			name:  "a request restarts the grace period",
			steps: []step{{0, 3, 3, 3, 1}, {20, 0, 0, 1, 1}, {31, 0, 0, 0, 1}, {49, 0, 0, 0, 1}, {50, 0, 0, 0, 0}},
		},
		{
			name:  "never zero with a request in flight",
			steps: []step{{0, 0, 1, 0, 1}, {100, 0, 1, 0, 1}},
		},
		{
			name: "scale-down delay holds the higher count",
			cfg:  func(c *platform.FunctionConfig) { c.ScaleDownDelay = platform.Duration{Duration: 5 * time.Second} },
			// The window mean falls from 4 to 2 at once; with a 5 s delay
			// the 4 is kept until it is 5 s old.
			steps: []step{{0, 28, 28, 28, 4}, {1, 0, 0, 0, 4}, {4, 0, 0, 0, 4}, {5, 0, 0, 0, 2}},
		},
		{
			name:  "minScale kept",
			cfg:   func(c *platform.FunctionConfig) { c.MinScale = 2 },
			steps: []step{{0, 0, 0, 0, 2}, {100, 0, 0, 0, 2}, {101, 30, 30, 30, 3}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			if tt.cfg != nil {
				tt.cfg(&c)
			}
			s := platform.NewHTTPScaler(c)
			t0 := time.Unix(1_700_000_000, 0)
			for _, st := range tt.steps {
				got := s.Decide(t0.Add(time.Duration(st.at)*time.Second), st.avg, st.inFlight, st.arrived)
				if got != st.want {
					t.Fatalf("at %ds (avg %v, in flight %d, arrived %d): %d replicas, want %d",
						st.at, st.avg, st.inFlight, st.arrived, got, st.want)
				}
			}
		})
	}
}
