package platform

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// LivenessProbe is how the runtime checks that an event function's
// replicas are alive, with Kubernetes' livenessProbe fields: every Period
// it GETs each ready replica's /healthz, bounded by Timeout, and a replica
// that fails FailureThreshold probes in a row is restarted: stopped (SIGTERM,
// SIGKILL after the grace) and replaced after the crash backoff, counted as
// a crash. A replica fails its probe while a handler call has run longer
// than its deadline (deploy.HandlerDeadline; eventdriven/platform/liveness),
// or when it does not answer.
//
// HTTP functions are not probed: their /healthz is their own (ingest's and
// query's check PostgreSQL), and restarting a replica because a dependency
// is down would not bring it back; the activator's proxy errors show them.
type LivenessProbe struct {
	Period, Timeout  time.Duration
	FailureThreshold int
}

// DefaultLivenessProbe is Kubernetes' default (every 10 s, 1 s timeout, 3
// failures) with a 2 s period: a wedged replica is restarted within
// HandlerDeadline + 6 s.
var DefaultLivenessProbe = LivenessProbe{Period: 2 * time.Second, Timeout: time.Second, FailureThreshold: 3}

// probe runs the liveness probe of an event function's replicas until ctx
// ends.
func (f *Function) probe(ctx context.Context) {
	p := f.rt.opts.Liveness
	client := &http.Client{Timeout: p.Timeout}
	fails := map[int]int{} // replica ID -> failures in a row
	t := time.NewTicker(p.Period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		seen := map[int]bool{}
		for _, r := range f.Replicas() {
			if !r.Ready || r.Stopping {
				continue
			}
			seen[r.ID] = true
			wg.Go(func() {
				err := probeOnce(ctx, client, r.Addr)
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					fails[r.ID] = 0
					return
				}
				fails[r.ID]++
				f.log.Warn("liveness probe failed", "replica", r.ID, "pid", r.PID, "failures", fails[r.ID], "threshold", p.FailureThreshold, "error", err)
				if fails[r.ID] >= p.FailureThreshold {
					f.restartUnhealthy(r.ID, err)
				}
			})
		}
		wg.Wait()
		for id := range fails {
			if !seen[id] {
				delete(fails, id)
			}
		}
	}
}

// probeOnce GETs addr's /healthz: nil for a 2xx answer.
func probeOnce(ctx context.Context, client *http.Client, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("/healthz answered %s: %s", resp.Status, body)
	}
	return nil
}

// restartUnhealthy stops the replica id after its liveness probe failed,
// counting it as a crash: the replacement waits out the crash backoff.
func (f *Function) restartUnhealthy(id int, err error) {
	now := time.Now()
	f.mu.Lock()
	for _, r := range f.replicas {
		if r.ID != id || r.Stopping {
			continue
		}
		f.restarts++
		f.crashBackoffLocked(now, now.Sub(r.Started))
		f.rt.m.Restarts.WithLabelValues(f.cfg.Name).Inc()
		f.rt.m.LivenessFailures.WithLabelValues(f.cfg.Name).Inc()
		f.log.Error("replica failed its liveness probe; restarting it", "replica", r.ID, "pid", r.PID, "error", err, "restart_in", f.backoff.String())
		f.stopLocked(r)
	}
	f.mu.Unlock()
	f.poke()
}
