// Package liveness is the replica side of the runtime's liveness probe: an
// event function's process tracks its handler calls and answers /healthz
// 503 while one has run longer than its deadline (a wedged handler holds
// its partition, and no redelivery happens while the process lives). The
// runtime probes /healthz as Kubernetes' kubelet probes a livenessProbe
// and restarts a replica that fails it (eventdriven/platform).
//
// It is its own package so that the function processes
// (eventdriven/kafka) can use it without importing the runtime.
package liveness

import (
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Tracker tracks the handler calls in flight. It is safe for concurrent
// use.
type Tracker struct {
	deadline time.Duration

	mu    sync.Mutex
	next  uint64
	calls map[uint64]time.Time // start of each call in flight
}

// New returns a tracker for which a call longer than deadline is wedged.
func New(deadline time.Duration) *Tracker {
	return &Tracker{deadline: deadline, calls: map[uint64]time.Time{}}
}

// Begin records the start of a handler call; the returned func records its
// end.
func (t *Tracker) Begin() (end func()) {
	t.mu.Lock()
	id := t.next
	t.next++
	t.calls[id] = time.Now()
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		delete(t.calls, id)
		t.mu.Unlock()
	}
}

// Check returns an error naming the oldest call in flight if it has run
// longer than the deadline at now; nil otherwise.
func (t *Tracker) Check(now time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var oldest time.Time
	for _, start := range t.calls {
		if oldest.IsZero() || start.Before(oldest) {
			oldest = start
		}
	}
	if ran := now.Sub(oldest); !oldest.IsZero() && ran > t.deadline {
		return fmt.Errorf("a handler call has run for %v, over its deadline of %v", ran.Round(time.Millisecond), t.deadline)
	}
	return nil
}

// ServeHTTP answers a liveness probe: 200 "ok", or 503 with the reason
// while a call is over its deadline.
func (t *Tracker) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := t.Check(time.Now()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "wedged: %v\n", err)
		return
	}
	w.Write([]byte("ok\n"))
}
