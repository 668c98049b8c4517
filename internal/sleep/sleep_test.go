package sleep_test

import (
	"context"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/sleep"
)

func TestUntil(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		in      time.Duration // from now
		want    bool
		atLeast time.Duration // how long it must have waited
	}{
		{"future, live", live, 30 * time.Millisecond, true, 30 * time.Millisecond},
		{"past, live", live, -time.Second, true, 0},
		{"past, done", done, -time.Second, false, 0},
		{"future, done", done, time.Hour, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got := sleep.Until(tt.ctx, start.Add(tt.in))
			took := time.Since(start)
			if got != tt.want {
				t.Errorf("Until = %v, want %v", got, tt.want)
			}
			if took < tt.atLeast || took > tt.atLeast+5*time.Second {
				t.Errorf("took %s, want at least %s and not an hour", took, tt.atLeast)
			}
		})
	}
}

// A context cancelled while waiting ends the wait early.
func TestUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	if sleep.Until(ctx, start.Add(time.Hour)) {
		t.Error("Until = true after the context was cancelled")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s to notice the cancellation", took)
	}
}

func TestFor(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if !sleep.For(context.Background(), 20*time.Millisecond) {
		t.Error("For(live, 20ms) = false, want true")
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Errorf("For(live, 20ms) returned after %v", waited)
	}
	if sleep.For(done, time.Hour) {
		t.Error("For(done, 1h) = true, want false")
	}
	if sleep.For(done, 0) {
		t.Error("For(done, 0) = true, want false: a cancelled context is not an arrival")
	}
	if !sleep.For(context.Background(), 0) {
		t.Error("For(live, 0) = false, want true")
	}
}

func TestBackoffStaysWithinItsCeilings(t *testing.T) {
	base, ceiling := 100*time.Millisecond, time.Second
	for n, bound := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 60: time.Second} {
		var top time.Duration
		for range 2000 {
			d := sleep.Backoff(base, ceiling, n)
			if d < 0 || d > bound {
				t.Fatalf("retry %d waited %v, want within [0, %v]", n, d, bound)
			}
			top = max(top, d)
		}
		if top < bound/2 {
			t.Errorf("retry %d: at most %v in 2000 draws, want jitter up to %v", n, top, bound)
		}
	}
	if d := sleep.Backoff(0, 0, 3); d != 0 {
		t.Errorf("no ceiling: %v, want 0", d)
	}
}
