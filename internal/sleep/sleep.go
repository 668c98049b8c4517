// Package sleep waits, for a while or until a moment on a schedule, giving
// up when a context ends.
package sleep

import (
	"context"
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
