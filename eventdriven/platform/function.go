package platform

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"sync"
	"time"
)

// A Function is the set of replicas of one function, kept at a desired
// count by the supervisor (Runtime.Run). Its methods are safe for
// concurrent use.
type Function struct {
	rt   *Runtime
	cfg  FunctionConfig
	log  *slog.Logger
	wake chan struct{} // buffered 1: something changed, reconcile

	mu        sync.Mutex
	desired   int
	partCap   int        // most useful replicas (partitions); 0 = unknown
	replicas  []*replica // alive (stopping ones included), in start order
	readyCh   chan struct{}
	rr        int       // round robin over ready replicas in WaitReady
	lastAcct  time.Time // replica-seconds accounted up to here
	backoff   time.Duration
	notBefore time.Time // no start before (crash backoff)
	crashes   int       // in a row, since a replica last ran for the reset period
	restarts  int
	seq       int
}

// Replica describes one replica process of a function.
type Replica struct {
	// ID numbers the function's replicas in start order, from 1.
	ID int `json:"id"`
	// PID is the process id (also its process group id).
	PID int `json:"pid"`
	// Addr is the host:port from its listening line; empty until ready.
	Addr string `json:"addr,omitempty"`
	// Started is when the process was started.
	Started time.Time `json:"started"`
	// Ready: the replica printed its listening line.
	Ready bool `json:"ready"`
	// Stopping: the replica was asked to stop (SIGTERM) and has not exited.
	Stopping bool `json:"stopping"`
}

// Status is a function's state, as the runtime's /status shows it.
type Status struct {
	Name     string    `json:"name"`
	Kind     Kind      `json:"kind"`
	Desired  int       `json:"desired"`
	Replicas []Replica `json:"replicas"`
	// Restarts counts replicas that crashed or failed their liveness
	// probe.
	Restarts int `json:"restarts"`
	// CrashesInARow counts crashes since a replica last ran for the
	// restart backoff's reset period.
	CrashesInARow int `json:"crashes_in_a_row"`
	// CrashLoop: CrashesInARow reached RestartBackoff.LoopAfter.
	CrashLoop bool `json:"crash_loop"`
	// RestartBackoff is the wait before the last crashed replica is
	// replaced, as a Go duration; empty without crashes.
	RestartBackoff string `json:"restart_backoff,omitempty"`
	// NextStart is the earliest a replacement may start, while that is
	// in the future.
	NextStart *time.Time `json:"next_start,omitempty"`
}

// Status returns the function's state.
func (f *Function) Status() Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := Status{
		Name: f.cfg.Name, Kind: f.cfg.Kind, Desired: f.desired, Replicas: []Replica{},
		Restarts: f.restarts, CrashesInARow: f.crashes, CrashLoop: f.crashes >= f.rt.opts.Restart.LoopAfter,
	}
	for _, r := range f.replicas {
		st.Replicas = append(st.Replicas, r.Replica)
	}
	if f.backoff > 0 {
		st.RestartBackoff = f.backoff.String()
	}
	if next := f.notBefore; time.Now().Before(next) {
		st.NextStart = &next
	}
	return st
}

type replica struct {
	Replica
	cmd        *exec.Cmd
	firstEvent bool
	unhealthy  bool          // stopped because its liveness probe failed: counts as a crash
	done       chan struct{} // closed once the process was reaped
}

func newFunction(rt *Runtime, cfg FunctionConfig) *Function {
	f := &Function{
		rt:      rt,
		cfg:     cfg,
		log:     rt.log.With("function", cfg.Name),
		wake:    make(chan struct{}, 1),
		readyCh: make(chan struct{}),
		desired: cfg.Min(),
	}
	if rt.opts.Pinned {
		f.desired = 1
	}
	rt.m.init(cfg)
	rt.m.DesiredReplicas.WithLabelValues(cfg.Name).Set(float64(f.desired))
	return f
}

// Name returns the function's name.
func (f *Function) Name() string { return f.cfg.Name }

// Config returns the function's configuration, defaults filled in.
func (f *Function) Config() FunctionConfig { return f.cfg }

// SetDesired sets how many replicas the supervisor keeps, clamped to the
// function's [min, max] (max also capped at the partition count for event
// functions, once known). A change is counted in
// photobench_runtime_scaling_decisions_total by direction. In pinned mode
// it does nothing: every function keeps one replica.
func (f *Function) SetDesired(n int) {
	if f.rt.opts.Pinned {
		return
	}
	f.mu.Lock()
	n = f.clampLocked(n)
	old := f.desired
	f.desired = n
	f.mu.Unlock()
	if n == old {
		return
	}
	dir := DirectionUp
	if n < old {
		dir = DirectionDown
	}
	f.rt.m.ScalingDecisions.WithLabelValues(f.cfg.Name, dir).Inc()
	f.rt.m.DesiredReplicas.WithLabelValues(f.cfg.Name).Set(float64(n))
	f.log.Info("scaling", "from", old, "to", n, "direction", dir)
	f.poke()
}

func (f *Function) clampLocked(n int) int {
	lo, hi := f.cfg.Min(), f.cfg.Max()
	if f.partCap > 0 && f.partCap < hi {
		hi = f.partCap
	}
	lo = min(lo, hi)
	return max(lo, min(n, hi))
}

// Desired returns the replica count the supervisor is keeping.
func (f *Function) Desired() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.desired
}

// Replicas describes the function's live replica processes (stopping ones
// included), in start order.
func (f *Function) Replicas() []Replica {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Replica, 0, len(f.replicas))
	for _, r := range f.replicas {
		out = append(out, r.Replica)
	}
	return out
}

// ReadyAddrs returns the host:port of replicas that printed their listening
// line and are not stopping.
func (f *Function) ReadyAddrs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.readyLocked()
}

func (f *Function) readyLocked() []string {
	var out []string
	for _, r := range f.replicas {
		if r.Ready && !r.Stopping {
			out = append(out, r.Addr)
		}
	}
	return out
}

// WaitReady returns the address of a ready replica (round robin over the
// ready ones), waiting until one is or ctx ends. It does not scale the
// function up: a caller holding a request at zero replicas (the activator)
// calls SetDesired first.
func (f *Function) WaitReady(ctx context.Context) (string, error) {
	for {
		f.mu.Lock()
		if addrs := f.readyLocked(); len(addrs) > 0 {
			f.rr++
			a := addrs[f.rr%len(addrs)]
			f.mu.Unlock()
			return a, nil
		}
		ch := f.readyCh
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return "", fmt.Errorf("wait for a ready replica of %s: %w", f.cfg.Name, context.Cause(ctx))
		}
	}
}

// readyChan is closed when a replica next gets ready.
func (f *Function) readyChan() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.readyCh
}

// ObserveFirstRequest records a cold start's first_request phase: d from
// the replica's process start to the first request it answered.
func (f *Function) ObserveFirstRequest(d time.Duration) {
	f.rt.m.ColdStart.WithLabelValues(f.cfg.Name, PhaseFirstRequest).Observe(d.Seconds())
	f.log.Info("replica answered its first request", "after", d.String())
}

// poke asks the reconcile loop to look again.
func (f *Function) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// accountLocked adds the replica-seconds since the last call.
func (f *Function) accountLocked(now time.Time) {
	if !f.lastAcct.IsZero() && len(f.replicas) > 0 {
		if d := now.Sub(f.lastAcct).Seconds(); d > 0 {
			f.rt.m.ReplicaSeconds.WithLabelValues(f.cfg.Name).Add(float64(len(f.replicas)) * d)
		}
	}
	f.lastAcct = now
}

func (f *Function) account() {
	f.mu.Lock()
	now := time.Now()
	f.accountLocked(now)
	f.endCrashLoopLocked(now)
	f.mu.Unlock()
}
