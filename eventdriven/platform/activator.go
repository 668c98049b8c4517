package platform

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/internal/proxy"
	"github.com/photobench/photobench/photo"
)

// Activator is the HTTP front of one HTTP function, the part Knative's
// activator and queue-proxy play: clients (and front) talk to it at
// FunctionConfig.Addr, never to a replica. It proxies each request to a
// ready replica (the one with the fewest requests in flight); at zero
// replicas it holds the request, asks the Function for one replica and
// proxies once it is ready, or answers 503 after ActivatorTimeout. It also
// measures the load the autoscaler (Autoscale) scales on: requests in
// flight, averaged over time, and whether any arrived.
//
// An Activator is an http.Handler; the caller runs the listener and
// Autoscale.
type Activator struct {
	f     *Function
	cfg   FunctionConfig
	m     *Metrics
	log   *slog.Logger
	proxy *httputil.ReverseProxy

	inFlight atomic.Int64 // requests being held or proxied

	mu sync.Mutex
	// load: in-flight integrated over time since the last Load call.
	area     float64 // request-seconds
	areaFrom time.Time
	changed  time.Time
	arrived  int // requests that arrived since the last Load call
	// routing
	perAddr map[string]int // in flight per replica address
	next    int            // round-robin start among equally loaded replicas
	// replicas that answered a request (the first answer of each is a
	// cold start's last phase)
	answered map[string]bool
}

// NewActivator returns the activator of the HTTP function f. m may be
// shared by every function (its metrics carry a function label); log gets
// the component and function attributes added.
func NewActivator(f *Function, m *Metrics, log *slog.Logger) *Activator {
	now := time.Now()
	a := &Activator{
		f:        f,
		cfg:      f.Config(),
		m:        m,
		log:      log.With("component", "activator", "function", f.Name()),
		areaFrom: now,
		changed:  now,
		perAddr:  make(map[string]int),
		answered: make(map[string]bool),
	}
	a.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(&url.URL{Scheme: "http", Host: pr.In.Context().Value(targetKey{}).(*target).addr})
			pr.SetXForwarded()
		},
		Transport:    m.Sent.Transport(f.Name(), proxy.NewTransport()),
		ErrorHandler: a.proxyError,
	}
	return a
}

// targetKey is the request context key of the chosen replica, a *target.
type targetKey struct{}

// target is the replica a request is proxied to.
type target struct {
	addr   string
	failed bool // it could not be reached
}

// ServeHTTP holds the request until a replica is ready (scaling from zero
// if need be) and proxies it there. A request held longer than
// ActivatorTimeout, or one the replica cannot be reached for, is answered
// 503 unavailable with Retry-After 1.
func (a *Activator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A health probe asks whether the function can be served, which the
	// activator answers itself while no replica runs: forwarding it would
	// wake a replica for every probe and defeat scale to zero.
	if r.URL.Path == "/healthz" && a.pick() == "" {
		w.Write([]byte("ok (scaled to zero)\n"))
		return
	}
	a.begin()
	defer a.end()

	addr := a.pick()
	if addr == "" {
		var err error
		addr, err = a.hold(r.Context())
		if err != nil {
			httpapi.Error(w, r, a.log, err)
			return
		}
	}

	a.mu.Lock()
	a.perAddr[addr]++
	a.mu.Unlock()
	tg := &target{addr: addr}
	a.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, tg)))
	a.mu.Lock()
	a.perAddr[addr]--
	if a.perAddr[addr] <= 0 {
		delete(a.perAddr, addr)
	}
	first := !tg.failed && !a.answered[addr]
	if first {
		a.answered[addr] = true
	}
	a.mu.Unlock()
	if first {
		a.firstAnswer(addr)
	}
}

// firstAnswer reports the cold start's first_request phase of the replica
// at addr, which just answered its first request: the time since its
// process started. It also forgets the replicas that are gone.
func (a *Activator) firstAnswer(addr string) {
	reps := a.f.Replicas()
	live := make(map[string]bool, len(reps))
	for _, r := range reps {
		live[r.Addr] = true
		if r.Addr == addr {
			a.f.ObserveFirstRequest(time.Since(r.Started))
		}
	}
	a.mu.Lock()
	for k := range a.answered {
		if !live[k] {
			delete(a.answered, k)
		}
	}
	a.mu.Unlock()
}

// hold waits for a ready replica after asking for one (scale from zero),
// bounded by ActivatorTimeout, and observes the hold.
func (a *Activator) hold(ctx context.Context) (string, error) {
	start := time.Now()
	a.mu.Lock()
	a.f.SetDesired(max(a.f.Desired(), 1))
	a.mu.Unlock()

	timeout := a.cfg.ActivatorTimeout.Duration
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addr, err := a.f.WaitReady(wctx)
	a.m.ActivatorHold.WithLabelValues(a.f.Name()).Observe(time.Since(start).Seconds())
	if err != nil {
		msg := a.f.Name() + " is starting; try again"
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			msg = "request cancelled while " + a.f.Name() + " was starting"
		}
		return "", &photo.Error{Kind: photo.Unavailable, Message: msg, RetryAfter: time.Second, Err: err}
	}
	// Another replica may have become ready meanwhile; prefer the least
	// loaded one.
	if p := a.pick(); p != "" {
		addr = p
	}
	return addr, nil
}

// pick returns the ready replica with the fewest requests in flight,
// rotating among equals, or "" when none is ready.
func (a *Activator) pick() string {
	addrs := a.f.ReadyAddrs()
	if len(addrs) == 0 {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.next++
	best, bestN := "", 0
	for i := range addrs {
		addr := addrs[(a.next+i)%len(addrs)]
		if n := a.perAddr[addr]; best == "" || n < bestN {
			best, bestN = addr, n
		}
	}
	return best
}

func (a *Activator) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	tg := r.Context().Value(targetKey{}).(*target)
	tg.failed = true
	httpapi.Error(w, r, a.log, &photo.Error{
		Kind:       photo.Unavailable,
		Message:    a.f.Name() + " is unavailable",
		RetryAfter: time.Second,
		Err:        errors.Join(errors.New("proxy to "+tg.addr), err),
	})
}

// begin and end count a request in and out of flight, integrating the
// in-flight count over time for the autoscaler.
func (a *Activator) begin() {
	a.mu.Lock()
	a.accumulate(time.Now())
	a.arrived++
	n := a.inFlight.Add(1)
	a.mu.Unlock()
	a.m.InFlightRequests.WithLabelValues(a.f.Name()).Set(float64(n))
}

func (a *Activator) end() {
	a.mu.Lock()
	a.accumulate(time.Now())
	n := a.inFlight.Add(-1)
	a.mu.Unlock()
	a.m.InFlightRequests.WithLabelValues(a.f.Name()).Set(float64(n))
}

// accumulate adds the in-flight count times the time since the last change
// to the load area. a.mu is held.
func (a *Activator) accumulate(now time.Time) {
	a.area += float64(a.inFlight.Load()) * now.Sub(a.changed).Seconds()
	a.changed = now
}

// InFlight is the number of requests being held or proxied now.
func (a *Activator) InFlight() int { return int(a.inFlight.Load()) }

// Load returns the time-averaged number of requests in flight and the
// number of requests that arrived since the previous call (since
// NewActivator for the first), and starts a new period. It is what the
// autoscaler samples every second.
func (a *Activator) Load() (avgInFlight float64, arrived int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.loadLocked(time.Now())
}

func (a *Activator) loadLocked(now time.Time) (float64, int) {
	a.accumulate(now)
	avg := float64(a.inFlight.Load())
	if span := now.Sub(a.areaFrom).Seconds(); span > 0 {
		avg = a.area / span
	}
	arrived := a.arrived
	a.area, a.areaFrom, a.arrived = 0, now, 0
	return avg, arrived
}
