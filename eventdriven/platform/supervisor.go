package platform

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/photobench/photobench/eventdriven/deploy"
)

// DefaultStopGrace is how long a replica has between SIGTERM and SIGKILL:
// deploy.StopGrace, 10 s (Kubernetes' terminationGracePeriodSeconds
// defaults to 30 s). The runtime tells each replica its grace
// (deploy.EnvStopGrace), and the replica fits its stop into it
// (deploy.ShutdownWithin: the in-flight event gets 7/10 of it, the whole
// stop 8/10), so a scale-in never needs the SIGKILL.
const DefaultStopGrace = deploy.StopGrace

// accountEvery is how often replica-seconds are brought up to date (and
// crash loops that ended noticed).
const accountEvery = 250 * time.Millisecond

// RestartBackoff is how the supervisor waits before replacing a replica
// that crashed (exited without being asked to, failed to start, or was
// killed by its liveness probe), as Kubernetes' CrashLoopBackOff does: the
// first wait is Initial, each further crash doubles it up to Max, and a
// replica that has run for Reset ends the loop (the next crash waits
// Initial again). LoopAfter crashes in a row put the function in the
// crash-loop state (photobench_runtime_crash_loop, Status, a log line).
type RestartBackoff struct {
	Initial, Max, Reset time.Duration
	LoopAfter           int
}

// DefaultRestartBackoff is Kubernetes' CrashLoopBackOff (10 s doubling to
// 5 min, reset after 10 min of running) scaled to benchmark runs of
// minutes: 500 ms doubling to 30 s, reset after 60 s (twice the cap, as
// Kubernetes' 10 min is twice its 5 min). One crash in a run (a chaos
// kill) costs half a second; a replica that crashes at once is retried
// 0.5, 1, 2, 4, 8, 16 s, then every 30 s, so about 8 starts in its first
// two minutes instead of one every 100 ms; three crashes in a row are a
// crash loop.
var DefaultRestartBackoff = RestartBackoff{Initial: 500 * time.Millisecond, Max: 30 * time.Second, Reset: 60 * time.Second, LoopAfter: 3}

// Options configures a Runtime.
type Options struct {
	// Binary is the replica executable: the photobench binary. Required.
	Binary string
	// Args returns a replica's arguments; default `fn NAME --addr
	// 127.0.0.1:0`.
	Args func(fn string) []string
	// Env is added to the runtime's own environment for every replica.
	Env []string
	// Brokers are the Kafka bootstrap addresses the event scalers read lag
	// from; required for event functions unless Pinned.
	Brokers []string
	// Log receives the runtime's logs; nil discards them.
	Log *slog.Logger
	// Metrics receives the runtime's metrics; nil uses an unregistered set.
	Metrics *Metrics
	// Pinned runs one replica of every function and never scales (the
	// always-on baseline).
	Pinned bool
	// StopGrace is the SIGTERM-to-SIGKILL grace; default DefaultStopGrace.
	// Replicas get it in their environment (deploy.EnvStopGrace).
	StopGrace time.Duration
	// Restart is the crash restart backoff; zero fields take
	// DefaultRestartBackoff's.
	Restart RestartBackoff
	// Liveness is the event replicas' liveness probe; zero fields take
	// DefaultLivenessProbe's.
	Liveness LivenessProbe
	// Stderr receives the replicas' stderr (their logs); default os.Stderr.
	Stderr io.Writer
}

// Runtime runs functions as replica processes: a supervisor keeping each
// function at its desired replica count, and a lag scaler for each event
// function.
type Runtime struct {
	opts  Options
	log   *slog.Logger
	m     *Metrics
	fns   []*Function
	byN   map[string]*Function
	spawn chan spawnReq

	mu      sync.Mutex
	running bool
}

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

// New checks cfg and opts and returns a runtime for cfg's functions. It
// starts nothing: Run does.
func New(cfg Config, opts Options) (*Runtime, error) {
	cfg.Functions = append([]FunctionConfig(nil), cfg.Functions...)
	cfg.Defaults()
	errs := []error{cfg.Validate()}
	if opts.Binary == "" {
		errs = append(errs, errors.New("no replica binary"))
	}
	if !opts.Pinned && len(opts.Brokers) == 0 {
		for _, f := range cfg.Functions {
			if f.Kind == KindEvent {
				errs = append(errs, errors.New("event functions need Kafka brokers to scale on"))
				break
			}
		}
	}
	if opts.StopGrace < 0 {
		errs = append(errs, fmt.Errorf("negative stop grace %v", opts.StopGrace))
	}
	if b := opts.Restart; b.Initial < 0 || b.Max < 0 || b.Reset < 0 || b.LoopAfter < 0 {
		errs = append(errs, fmt.Errorf("negative restart backoff %+v", b))
	}
	if p := opts.Liveness; p.Period < 0 || p.Timeout < 0 || p.FailureThreshold < 0 {
		errs = append(errs, fmt.Errorf("negative liveness probe %+v", p))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new runtime: %w", err)
	}
	if opts.Args == nil {
		opts.Args = func(fn string) []string { return []string{"fn", fn, "--addr", "127.0.0.1:0"} }
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	if opts.StopGrace == 0 {
		opts.StopGrace = DefaultStopGrace
	}
	opts.Restart.Initial = cmp.Or(opts.Restart.Initial, DefaultRestartBackoff.Initial)
	opts.Restart.Max = max(cmp.Or(opts.Restart.Max, DefaultRestartBackoff.Max), opts.Restart.Initial)
	opts.Restart.Reset = cmp.Or(opts.Restart.Reset, DefaultRestartBackoff.Reset)
	opts.Restart.LoopAfter = cmp.Or(opts.Restart.LoopAfter, DefaultRestartBackoff.LoopAfter)
	opts.Liveness.Period = cmp.Or(opts.Liveness.Period, DefaultLivenessProbe.Period)
	opts.Liveness.Timeout = cmp.Or(opts.Liveness.Timeout, DefaultLivenessProbe.Timeout)
	opts.Liveness.FailureThreshold = cmp.Or(opts.Liveness.FailureThreshold, DefaultLivenessProbe.FailureThreshold)
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	opts.Env = append([]string(nil), opts.Env...)
	opts.Brokers = append([]string(nil), opts.Brokers...)
	rt := &Runtime{
		opts:  opts,
		log:   opts.Log.With("component", "platform"),
		m:     opts.Metrics,
		byN:   map[string]*Function{},
		spawn: make(chan spawnReq),
	}
	for _, fc := range cfg.Functions {
		f := newFunction(rt, fc)
		rt.fns = append(rt.fns, f)
		rt.byN[fc.Name] = f
	}
	return rt, nil
}

// Function returns the named function, or nil if there is none.
func (rt *Runtime) Function(name string) *Function { return rt.byN[name] }

// Functions returns every function, in configuration order.
func (rt *Runtime) Functions() []*Function { return append([]*Function(nil), rt.fns...) }

// Run supervises the functions until ctx ends: it keeps each at its
// desired replica count, replacing crashed replicas, and runs the event
// functions' lag scalers (unless Pinned). HTTP functions are scaled by
// whoever calls their SetDesired (the activator). When ctx ends it stops
// every replica (SIGTERM, SIGKILL after the grace) and returns once no
// replica process is left. A Runtime runs once.
func (rt *Runtime) Run(ctx context.Context) error {
	rt.mu.Lock()
	if rt.running {
		rt.mu.Unlock()
		return errors.New("run runtime: already run")
	}
	rt.running = true
	rt.mu.Unlock()

	spawnerDone := make(chan struct{})
	go rt.spawner(spawnerDone)

	var wg sync.WaitGroup
	for _, f := range rt.fns {
		f.account()
		wg.Go(func() { f.supervise(ctx) })
		if f.cfg.Kind == KindEvent && !rt.opts.Pinned {
			wg.Go(func() { f.scale(ctx) })
		}
		if f.cfg.Kind == KindEvent {
			wg.Go(func() { f.probe(ctx) })
		}
	}
	acctCtx, stopAcct := context.WithCancel(context.Background())
	var acct sync.WaitGroup
	acct.Go(func() {
		t := time.NewTicker(accountEvery)
		defer t.Stop()
		for {
			select {
			case <-acctCtx.Done():
				return
			case <-t.C:
				for _, f := range rt.fns {
					f.account()
				}
			}
		}
	})
	rt.log.Info("runtime started", "functions", len(rt.fns), "pinned", rt.opts.Pinned)
	wg.Wait()
	stopAcct()
	acct.Wait()
	for _, f := range rt.fns {
		f.account()
	}
	close(rt.spawn)
	<-spawnerDone
	rt.log.Info("runtime stopped")
	return nil
}

// spawner starts every replica from one OS thread that lives as long as
// replicas may: Pdeathsig fires when the thread that forked the child
// exits, not the process, and Go may retire other threads.
func (rt *Runtime) spawner(done chan<- struct{}) {
	runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
	defer close(done)
	for req := range rt.spawn {
		req.err <- req.cmd.Start()
	}
}

// supervise is a function's reconcile loop.
func (f *Function) supervise(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if wait := f.reconcile(); wait > 0 {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			f.stopAll()
			return
		case <-f.wake:
		case <-timer.C:
		}
	}
}

// reconcile starts or stops replicas so that as many are running (not
// stopping) as desired. It returns how long to wait before it can start
// more (crash backoff), or 0.
func (f *Function) reconcile() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var active []*replica
	for _, r := range f.replicas {
		if !r.Stopping {
			active = append(active, r)
		}
	}
	// Surplus: stop the newest (they have the least warm state).
	for i := len(active) - 1; i >= f.desired; i-- {
		f.stopLocked(active[i])
	}
	for n := len(active); n < f.desired; n++ {
		if wait := time.Until(f.notBefore); wait > 0 {
			return wait
		}
		if err := f.startLocked(); err != nil {
			f.crashBackoffLocked(time.Now(), 0)
			f.log.Error("start replica failed", "error", err, "retry_in", f.backoff.String())
			return f.backoff
		}
	}
	return 0
}

// crashBackoffLocked counts a crash (or failed start) of a replica that
// ran for ran and sets the wait before the next start.
func (f *Function) crashBackoffLocked(now time.Time, ran time.Duration) {
	b := f.rt.opts.Restart
	if ran >= b.Reset {
		f.crashes, f.backoff = 0, 0
	}
	f.crashes++
	if f.crashes == 1 {
		f.backoff = b.Initial
	} else {
		f.backoff = min(2*f.backoff, b.Max)
	}
	f.notBefore = now.Add(f.backoff)
	f.rt.m.RestartBackoff.WithLabelValues(f.cfg.Name).Set(f.backoff.Seconds())
	if f.crashes == b.LoopAfter {
		f.rt.m.CrashLoop.WithLabelValues(f.cfg.Name).Set(1)
		f.log.Error("crash loop: replicas keep crashing; restarts back off", "crashes_in_a_row", f.crashes, "restart_in", f.backoff.String(), "backoff_max", b.Max.String())
	}
}

// endCrashLoopLocked ends the crash backoff once a replica has run for the
// reset period, as Kubernetes does after 10 min of running.
func (f *Function) endCrashLoopLocked(now time.Time) {
	if f.crashes == 0 {
		return
	}
	for _, r := range f.replicas {
		if !r.Stopping && now.Sub(r.Started) >= f.rt.opts.Restart.Reset {
			if f.crashes >= f.rt.opts.Restart.LoopAfter {
				f.log.Info("crash loop over: a replica has run for the reset period", "replica", r.ID, "reset", f.rt.opts.Restart.Reset.String())
			}
			f.crashes, f.backoff = 0, 0
			f.rt.m.RestartBackoff.WithLabelValues(f.cfg.Name).Set(0)
			f.rt.m.CrashLoop.WithLabelValues(f.cfg.Name).Set(0)
			return
		}
	}
}

// startLocked starts one replica process.
func (f *Function) startLocked() error {
	o := f.rt.opts
	cmd := exec.Command(o.Binary, o.Args(f.cfg.Name)...)
	cmd.Env = append(append(os.Environ(), o.Env...), deploy.EnvStopGrace+"="+o.StopGrace.String())
	cmd.Stderr = o.Stderr
	// Own process group, so a stop reaches whatever the replica started;
	// SIGKILL if the runtime dies, so a killed runtime leaves no orphans.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("start replica of %s: %w", f.cfg.Name, err)
	}
	req := spawnReq{cmd: cmd, err: make(chan error, 1)}
	f.rt.spawn <- req
	if err := <-req.err; err != nil {
		return fmt.Errorf("start replica of %s: %w", f.cfg.Name, err)
	}
	now := time.Now()
	f.accountLocked(now)
	f.seq++
	r := &replica{
		Replica: Replica{ID: f.seq, PID: cmd.Process.Pid, Started: now},
		cmd:     cmd,
		done:    make(chan struct{}),
	}
	f.replicas = append(f.replicas, r)
	f.rt.m.Replicas.WithLabelValues(f.cfg.Name).Set(float64(len(f.replicas)))
	f.log.Info("replica started", "replica", r.ID, "pid", r.PID)
	go f.watch(r, stdout)
	return nil
}

// watch reads a replica's protocol lines until its stdout closes, then
// reaps it.
func (f *Function) watch(r *replica, stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		f.line(r, sc.Text())
	}
	_, _ = io.Copy(io.Discard, stdout) // a line over the scanner's limit
	err := r.cmd.Wait()
	f.exited(r, err)
}

// line handles one stdout line of a replica.
func (f *Function) line(r *replica, line string) {
	line = strings.TrimSpace(line)
	if _, rest, ok := strings.Cut(line, " listening on "); ok {
		addr := strings.TrimPrefix(strings.TrimPrefix(rest, "http://"), "https://")
		addr, _, _ = strings.Cut(addr, "/")
		f.mu.Lock()
		if r.Ready {
			f.mu.Unlock()
			return
		}
		r.Addr, r.Ready = addr, true
		d := time.Since(r.Started)
		close(f.readyCh)
		f.readyCh = make(chan struct{})
		f.mu.Unlock()
		f.rt.m.ColdStart.WithLabelValues(f.cfg.Name, PhaseProcessReady).Observe(d.Seconds())
		f.log.Info("replica ready", "replica", r.ID, "pid", r.PID, "addr", addr, "after", d.String())
		return
	}
	if strings.HasSuffix(line, " first event handled") {
		f.mu.Lock()
		first := !r.firstEvent
		r.firstEvent = true
		f.mu.Unlock()
		if first {
			d := time.Since(r.Started)
			f.rt.m.ColdStart.WithLabelValues(f.cfg.Name, PhaseFirstEvent).Observe(d.Seconds())
			f.log.Info("replica handled its first event", "replica", r.ID, "pid", r.PID, "after", d.String())
		}
	}
}

// exited removes a reaped replica; one that was not asked to stop crashed
// and is replaced after a backoff.
func (f *Function) exited(r *replica, err error) {
	now := time.Now()
	f.mu.Lock()
	f.accountLocked(now)
	for i, x := range f.replicas {
		if x == r {
			f.replicas = append(f.replicas[:i:i], f.replicas[i+1:]...)
			break
		}
	}
	crashed := !r.Stopping
	if crashed {
		f.restarts++
		f.crashBackoffLocked(now, now.Sub(r.Started))
	}
	backoff := f.backoff
	f.rt.m.Replicas.WithLabelValues(f.cfg.Name).Set(float64(len(f.replicas)))
	f.mu.Unlock()
	close(r.done)
	if crashed {
		f.rt.m.Restarts.WithLabelValues(f.cfg.Name).Inc()
		f.log.Warn("replica crashed", "replica", r.ID, "pid", r.PID, "error", fmt.Sprint(err), "ran", now.Sub(r.Started).String(), "restart_in", backoff.String())
	} else {
		f.log.Info("replica stopped", "replica", r.ID, "pid", r.PID, "error", fmt.Sprint(err))
	}
	f.poke()
}

// stopLocked asks a replica to stop: SIGTERM to its process group, SIGKILL
// after the grace.
func (f *Function) stopLocked(r *replica) {
	if r.Stopping {
		return
	}
	r.Stopping = true
	f.log.Info("stopping replica", "replica", r.ID, "pid", r.PID)
	grace := f.rt.opts.StopGrace
	go func() {
		select {
		case <-r.done:
			return
		default:
		}
		_ = syscall.Kill(-r.PID, syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-r.done:
		case <-t.C:
			f.log.Warn("replica did not stop within the grace; killing it", "replica", r.ID, "pid", r.PID, "grace", grace.String())
			f.rt.m.StopKills.WithLabelValues(f.cfg.Name).Inc()
			_ = syscall.Kill(-r.PID, syscall.SIGKILL)
		}
	}()
}

// stopAll stops every replica and waits until all have exited.
func (f *Function) stopAll() {
	f.mu.Lock()
	rs := append([]*replica(nil), f.replicas...)
	for _, r := range rs {
		f.stopLocked(r)
	}
	f.mu.Unlock()
	for _, r := range rs {
		<-r.done
	}
}
