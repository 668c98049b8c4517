package platform

import (
	"testing"
	"time"
)

func eventConfig() FunctionConfig {
	c := Config{Functions: []FunctionConfig{{Name: "f", Kind: KindEvent, Group: "f", Topics: []string{"t"}}}}
	c.Defaults()
	return c.Functions[0]
}

// A consumer that keeps up reads zero lag at most polls while events flow:
// the events arriving keep it active, so it is never stopped under load.
func TestDecideKeepsAReplicaWhileEventsArrive(t *testing.T) {
	cfg := eventConfig()
	s := &scaleState{}
	t0 := time.Unix(1000, 0)
	cur := decide(cfg, s, t0, 0, 3, true)
	if cur != 1 {
		t.Fatalf("lag 3: %d replicas, want 1", cur)
	}
	for i := 1; i <= 60; i++ { // a minute of polls at lag 0, one event a second
		cur = decide(cfg, s, t0.Add(time.Duration(i)*time.Second), cur, 0, true)
		if cur != 1 {
			t.Fatalf("after %d s of arriving events at lag 0: %d replicas, want 1", i, cur)
		}
	}
	// The flow stops: zero after the cooldown, not before.
	stop := t0.Add(60 * time.Second)
	for i := 1; i <= 20; i++ {
		now := stop.Add(time.Duration(i) * time.Second)
		cur = decide(cfg, s, now, cur, 0, false)
		idle := time.Duration(i) * time.Second
		if want := 1; idle < cfg.CooldownPeriod.Duration && cur != want {
			t.Fatalf("%v idle: %d replicas, want %d", idle, cur, want)
		}
	}
	if cur != 0 {
		t.Errorf("20 s idle (cooldown %v): %d replicas, want 0", cfg.CooldownPeriod.Duration, cur)
	}
}

// Scaling down follows the highest recommendation of the stabilisation
// window; scaling up is immediate.
func TestDecideStabilisesScaleDown(t *testing.T) {
	cfg := eventConfig()
	s := &scaleState{}
	t0 := time.Unix(1000, 0)
	cur := decide(cfg, s, t0, 1, 20, true) // lag 20 / threshold 5
	if cur != 4 {
		t.Fatalf("lag 20: %d replicas, want 4 at once", cur)
	}
	w := cfg.ScaleDownStabilizationWindow.Duration
	for d := time.Second; d < w; d += time.Second {
		if got := decide(cfg, s, t0.Add(d), cur, 2, true); got != 4 {
			t.Fatalf("%v after the peak, inside the %v window: %d replicas, want 4", d, w, got)
		}
	}
	if got := decide(cfg, s, t0.Add(w), cur, 2, true); got != 1 {
		t.Errorf("once the peak left the window: %d replicas, want 1", got)
	}
	// Never above the current count: the window holds down, it does not
	// scale up.
	s = &scaleState{}
	decide(cfg, s, t0, 0, 20, true)
	if got := decide(cfg, s, t0.Add(time.Second), 2, 2, true); got != 2 {
		t.Errorf("at 2 replicas with a recent 4 recommended: %d, want 2", got)
	}
}
