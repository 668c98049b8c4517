package estimate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/internal/procstat"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stack"
)

// Exporter serves, on loopback, what the estimate needs beyond the apps'
// own metrics, and registers it with the stack's Prometheus (scrape label
// source="live"): the stack's servers' CPU and memory
// (photobench_component_cpu_seconds_total and _resident_memory_bytes, the
// collector a bench serves: package procstat over stack.ServerPIDs), which
// nothing exports unless a bench or a live session runs, and the CPU of
// PostgreSQL's backends by database (BackendCPUMetric), which splits
// PostgreSQL's CPU between the variants.
type Exporter struct {
	// Addr is the exporter's host:port: the instance label of its series.
	Addr string

	promURL string
	srv     *http.Server
	unreg   func() error

	mu    sync.Mutex
	since time.Time
}

// Export starts an Exporter for the stack c, with more collectors served
// beside (the session's own, if any). It does not wait for Prometheus to
// discover it (up to about 5 s): WaitScraped does. Close stops it.
func Export(c stack.Config, more ...prometheus.Collector) (*Exporter, error) {
	reg := prometheus.NewRegistry()
	servers := procstat.New(func() map[string]int { return stack.ServerPIDs(c) })
	backends := NewBackends("/proc", func() int { return stack.ServerPIDs(c)[postgres] })
	for _, col := range append([]prometheus.Collector{servers, backends}, more...) {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("live exporter: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("live exporter: %w", err)
	}
	e := &Exporter{Addr: ln.Addr().String(), promURL: c.PrometheusURL()}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go e.srv.Serve(ln)
	// The name is unique among running processes (one exporter each).
	e.unreg, err = promsd.Register(c.SDDir(), promsd.Target{Name: fmt.Sprintf("live-%d", os.Getpid()),
		Addr: e.Addr, Labels: map[string]string{"source": "live"}}) // no component label: the series carry their own
	if err != nil {
		e.srv.Close()
		return nil, err
	}
	return e, nil
}

// WaitScraped waits until Prometheus has scraped the exporter since now
// (its discovery takes up to about 5 s), or ctx is done. The first time,
// it sets Since.
func (e *Exporter) WaitScraped(ctx context.Context) error {
	if err := promsd.WaitScraped(ctx, e.promURL, e.Addr, time.Now()); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.since.IsZero() {
		e.since = time.Now()
	}
	return nil
}

// Since is when the exporter's series began: the return of the first
// WaitScraped (zero before). An estimate's window starts no earlier: its
// counters are cumulative (a server's CPU since it started), so a series
// that begins inside a window would count all of its past.
func (e *Exporter) Since() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.since
}

// Close unregisters the exporter and stops it.
func (e *Exporter) Close() error {
	return errors.Join(e.unreg(), e.srv.Close())
}
