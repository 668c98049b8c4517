// Package sleep waits, for a while or until a moment on a schedule, giving
// up when a context ends.
package sleep

import (
	"context"
	"math/rand/v2"
	"time"
)

// Until waits until t or until ctx is done, whichever comes first, and
// reports whether it reached t with ctx still live. A t already past
// returns at once: true unless ctx is already done, so that a cancelled
// context is never mistaken for an arrival.
func Until(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// For waits d or until ctx is done, whichever comes first, and reports
// whether it waited d with ctx still live. A d of zero or less returns at
// once: true unless ctx is already done.
func For(ctx context.Context, d time.Duration) bool {
	return Until(ctx, time.Now().Add(d))
}

// Backoff is the wait before retry n (from 1): exponential from base
// (base, 2 x base, 4 x base, ...), capped at ceiling, with full jitter
// (uniform in [0, that]). A base of zero or less waits up to ceiling.
func Backoff(base, ceiling time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	if base <= 0 || d > ceiling {
		d = ceiling
	}
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}
