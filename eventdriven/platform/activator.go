package platform

import (
	"context"
	"errors"
	"fmt"
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
// ready replica (the one with the fewest requests in flight), never more
// than ContainerConcurrency at once to one replica (Knative's hard
// containerConcurrency limit, which its queue-proxy enforces). A request
// that finds no free slot waits in the activator's queue: at zero replicas
// it asks the Function for one replica; it is proxied once a slot frees or
// a replica gets ready, or answered 503 with Retry-After after
// ActivatorTimeout. The queue holds at most QueueDepthFactor x
// ContainerConcurrency x MaxScale requests (Knative's queue-proxy queues
// 10 x containerConcurrency per replica); beyond it a request is answered
// 503 at once. It also measures the load the autoscaler (Autoscale) scales
// on: requests in flight (queued ones included), averaged over time, and
// whether any arrived.
//
// Drain (the runtime's SIGTERM) makes it answer 503 to every new or queued
// request while the proxied ones finish.
//
// An Activator is an http.Handler; the caller runs the listener (with
// NewActivatorServer's timeouts) and Autoscale.
type Activator struct {
	f     *Function
	cfg   FunctionConfig
	m     *Metrics
	log   *slog.Logger
	proxy *httputil.ReverseProxy

	inFlight atomic.Int64 // requests being held or proxied
	draining chan struct{}
	drain    sync.Once

	mu sync.Mutex
	// load: in-flight integrated over time since the last Load call.
	area     float64 // request-seconds
	areaFrom time.Time
	changed  time.Time
	arrived  int // requests that arrived since the last Load call
	// routing
	perAddr map[string]int // in flight per replica address
	next    int            // round-robin start among equally loaded replicas
	queued  int            // requests waiting for a slot
	freed   chan struct{}  // closed (and replaced) when a slot frees
	// replicas that answered a request (the first answer of each is a
	// cold start's last phase)
	answered map[string]bool
}

// QueueDepthFactor sizes the activator's queue: this many times the
// function's full capacity (ContainerConcurrency x MaxScale), as Knative's
// queue-proxy queues 10 x containerConcurrency.
const QueueDepthFactor = 10

// Reasons a request is refused (label reason of ActivatorRejected).
const (
	RejectTimeout   = "timeout"    // no slot within ActivatorTimeout
	RejectQueueFull = "queue_full" // the queue was full
	RejectDraining  = "draining"   // the runtime is stopping
)

// Activator listener timeouts (NewActivatorServer), as the functions' own
// servers have: a client gets 5 s to send its headers and 60 s for the
// whole request (an upload body at the byte limit over a slow link), the
// answer must be written within 120 s (queueing, a cold start and the
// replica's work included), and an idle keep-alive connection is closed
// after 120 s. A client that sends its body slowly holds a replica's slot
// at most ReadTimeout.
const (
	ActivatorReadHeaderTimeout = 5 * time.Second
	ActivatorReadTimeout       = 60 * time.Second
	ActivatorWriteTimeout      = 120 * time.Second
	ActivatorIdleTimeout       = 120 * time.Second
)

// NewActivatorServer returns the HTTP server of an activator, with the
// Activator* timeouts.
func NewActivatorServer(a *Activator) *http.Server {
	return &http.Server{
		Handler:           a,
		ReadHeaderTimeout: ActivatorReadHeaderTimeout,
		ReadTimeout:       ActivatorReadTimeout,
		WriteTimeout:      ActivatorWriteTimeout,
		IdleTimeout:       ActivatorIdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
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
		draining: make(chan struct{}),
		freed:    make(chan struct{}),
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

// ServeHTTP waits for a free slot on a ready replica (scaling from zero
// if need be) and proxies the request there. A request that waited longer
// than ActivatorTimeout, found the queue full, arrived while draining, or
// whose replica cannot be reached, is answered 503 unavailable with
// Retry-After 1.
func (a *Activator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.isDraining() {
		w.Header().Set("Connection", "close")
		a.reject(w, r, RejectDraining, errors.New("draining"))
		return
	}
	// A health probe asks whether the function can be served, which the
	// activator answers itself while no replica runs: forwarding it would
	// wake a replica for every probe and defeat scale to zero.
	if r.URL.Path == "/healthz" && len(a.f.ReadyAddrs()) == 0 {
		w.Write([]byte("ok (scaled to zero)\n"))
		return
	}
	a.begin()
	defer a.end()

	addr, err := a.acquire(r.Context())
	if err != nil {
		httpapi.Error(w, r, a.log, err)
		return
	}
	tg := &target{addr: addr}
	a.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), targetKey{}, tg)))
	a.mu.Lock()
	a.releaseLocked(addr)
	first := !tg.failed && !a.answered[addr]
	if first {
		a.answered[addr] = true
	}
	a.mu.Unlock()
	if first {
		a.firstAnswer(addr)
	}
}

// Drain makes the activator refuse new requests (503, Connection: close)
// and answer 503 to the queued ones at once; requests already proxied to a
// replica finish. The runtime calls it on SIGTERM, before it closes the
// listener, while the replicas drain.
func (a *Activator) Drain() {
	a.drain.Do(func() { close(a.draining) })
}

func (a *Activator) isDraining() bool {
	select {
	case <-a.draining:
		return true
	default:
		return false
	}
}

// reject answers 503 with Retry-After 1 and counts the refusal.
func (a *Activator) reject(w http.ResponseWriter, r *http.Request, reason string, err error) {
	httpapi.Error(w, r, a.log, a.refusal(reason, err))
}

func (a *Activator) refusal(reason string, err error) error {
	a.m.ActivatorRejected.WithLabelValues(a.f.Name(), reason).Inc()
	msg := a.f.Name() + " is busy; try again"
	switch reason {
	case RejectDraining:
		msg = a.f.Name() + " is shutting down; try again"
	case RejectTimeout:
		if len(a.f.ReadyAddrs()) == 0 {
			msg = a.f.Name() + " is starting; try again"
		}
	}
	return &photo.Error{Kind: photo.Unavailable, Message: msg, RetryAfter: time.Second, Err: fmt.Errorf("activator %s: %w", reason, err)}
}

// acquire returns a ready replica with a free slot, taking the slot. With
// none, it waits in the queue (asking for one replica at zero) until a
// slot frees or a replica gets ready, at most ActivatorTimeout; a wait is
// observed in photobench_runtime_activator_hold_seconds.
func (a *Activator) acquire(ctx context.Context) (string, error) {
	var start time.Time
	var wctx context.Context
	observe := func() {
		if !start.IsZero() {
			a.m.ActivatorHold.WithLabelValues(a.f.Name()).Observe(time.Since(start).Seconds())
		}
	}
	for {
		ready := a.f.readyChan() // before the addresses: no wake-up is missed
		addrs := a.f.ReadyAddrs()
		a.mu.Lock()
		if addr := a.pickLocked(addrs); addr != "" {
			a.perAddr[addr]++
			a.mu.Unlock()
			observe()
			return addr, nil
		}
		if start.IsZero() {
			if a.queued >= a.queueDepth() {
				a.mu.Unlock()
				return "", a.refusal(RejectQueueFull, fmt.Errorf("%d requests queued", a.queueDepth()))
			}
			start = time.Now()
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(ctx, a.cfg.ActivatorTimeout.Duration)
			defer cancel()
		}
		if len(addrs) == 0 {
			// Scale from zero, under the lock the autoscaler decides under
			// (see scale).
			a.f.SetDesired(max(a.f.Desired(), 1))
		}
		a.queued++
		freed := a.freed
		a.mu.Unlock()
		var err error
		select {
		case <-freed:
		case <-ready:
		case <-a.draining:
			err = a.refusal(RejectDraining, errors.New("draining"))
		case <-wctx.Done():
			if ctx.Err() != nil {
				err = &photo.Error{Kind: photo.Unavailable, Message: "request cancelled while waiting for " + a.f.Name(), RetryAfter: time.Second, Err: context.Cause(ctx)}
			} else {
				err = a.refusal(RejectTimeout, context.Cause(wctx))
			}
		}
		a.mu.Lock()
		a.queued--
		a.mu.Unlock()
		if err != nil {
			observe()
			return "", err
		}
	}
}

// queueDepth is how many requests may wait for a slot.
func (a *Activator) queueDepth() int {
	return QueueDepthFactor * a.cfg.ContainerConcurrency * a.cfg.MaxScale
}

// releaseLocked gives back a slot of addr and wakes the queue.
func (a *Activator) releaseLocked(addr string) {
	a.perAddr[addr]--
	if a.perAddr[addr] <= 0 {
		delete(a.perAddr, addr)
	}
	close(a.freed)
	a.freed = make(chan struct{})
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

// pickLocked returns the ready replica with the fewest requests in flight,
// fewer than ContainerConcurrency, rotating among equals, or "" when none
// has a free slot.
func (a *Activator) pickLocked(addrs []string) string {
	if len(addrs) == 0 {
		return ""
	}
	a.next++
	best, bestN := "", 0
	for i := range addrs {
		addr := addrs[(a.next+i)%len(addrs)]
		n := a.perAddr[addr]
		if n >= a.cfg.ContainerConcurrency {
			continue
		}
		if best == "" || n < bestN {
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
	// Set under the lock: two requests ending together could otherwise
	// set their counts out of order and leave the gauge at 1 while idle.
	a.m.InFlightRequests.WithLabelValues(a.f.Name()).Set(float64(n))
	a.mu.Unlock()
}

func (a *Activator) end() {
	a.mu.Lock()
	a.accumulate(time.Now())
	n := a.inFlight.Add(-1)
	a.m.InFlightRequests.WithLabelValues(a.f.Name()).Set(float64(n))
	a.mu.Unlock()
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
