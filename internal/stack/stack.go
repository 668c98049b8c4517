package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/photobench/photobench/internal/healthcheck"
)

// service is one server of the stack. Up drives each through
// check -> prepare -> command -> ready -> setup.
type service interface {
	name() string
	// check reports a missing binary or library, before anything starts.
	check(c Config) error
	// prepare writes configuration and initialises data on first use.
	prepare(ctx context.Context, c Config) error
	// command builds the server's command line and environment.
	command(c Config) (*exec.Cmd, error)
	// ready probes once whether the server answers; nil means ready.
	ready(ctx context.Context, c Config) error
	// setup creates what the project needs inside the server (databases,
	// topics, buckets); it is idempotent and runs on every Up.
	setup(ctx context.Context, c Config) error
	// stopSignal is the signal that shuts the server down cleanly and quickly.
	stopSignal() syscall.Signal
	// endpoint is what Up prints for the server.
	endpoint(c Config) string
}

// servers lists the stack's servers in start order: MinIO needs Kafka (and
// its topics) for its notification target; Prometheus comes last so its
// first scrapes find everything up.
func servers() []service {
	return []service{postgres{}, kafka{}, minio{}, prometheus{}}
}

// services lists what Up starts: the servers, then the apps when c names
// the photobench binary to run them with.
func services(c Config) []service {
	if c.AppBinary == "" {
		return servers()
	}
	return append(servers(), apps()...)
}

// known lists every service Down and Status know of, whether or not c
// starts apps.
func known() []service { return append(servers(), apps()...) }

// ServiceNames lists the stack's servers (not the apps) in start order:
// the set compose/docker-compose.yml must also run.
func ServiceNames() []string {
	var names []string
	for _, s := range servers() {
		names = append(names, s.name())
	}
	return names
}

// AllNames lists every service the stack can run, apps included.
func AllNames() []string {
	var names []string
	for _, s := range known() {
		names = append(names, s.name())
	}
	return names
}

const stopGrace = 30 * time.Second

// Up starts every service that is not running yet, waits until each is ready,
// creates the project's databases, topics and buckets, and writes the env
// file. It returns the names of the services it started. If anything fails,
// it stops the services it started and returns a one-line error that names
// the service and the cause.
func Up(ctx context.Context, c Config, out io.Writer) (started []string, err error) {
	return up(ctx, c, services(c), out)
}

// UpApps starts the named apps (vision, monolith, runtime, front) like Up,
// for a stack whose servers run already: photobench bench runs one
// architecture at a time. c.AppBinary must be set.
func UpApps(ctx context.Context, c Config, names []string, out io.Writer) (started []string, err error) {
	var svcs []service
	for _, n := range names {
		found := false
		for _, a := range apps() {
			if a.name() == n {
				svcs, found = append(svcs, a), true
			}
		}
		if !found {
			return nil, fmt.Errorf("stack up: %q is not an app (%s)", n, strings.Join(AppNames(), ", "))
		}
	}
	return up(ctx, c, svcs, out)
}

// AppNames lists the apps the stack can run, in start order.
func AppNames() []string {
	var names []string
	for _, a := range apps() {
		names = append(names, a.name())
	}
	return names
}

// PIDs returns the process ids of the running services by name.
func PIDs(c Config) map[string]int {
	out := map[string]int{}
	for _, s := range known() {
		if rec, ok := readPID(c.pidFile(s.name())); ok && rec.alive() {
			out[s.name()] = rec.PID
		}
	}
	return out
}

// serverComponents are the component labels of the stack's servers, by
// service name: how their CPU and memory are exported (package procstat).
var serverComponents = map[string]string{"postgres": "postgresql", "kafka": "kafka", "minio": "minio", "prometheus": "prometheus"}

// ServerPIDs returns the process ids of the stack's running servers
// (PostgreSQL, Kafka, MinIO, Prometheus) by their component label:
// postgresql, kafka, minio, prometheus. The roots of the process trees
// whose CPU a bench and a live session export.
func ServerPIDs(c Config) map[string]int {
	out := map[string]int{}
	for svc, pid := range PIDs(c) {
		if n, ok := serverComponents[svc]; ok {
			out[n] = pid
		}
	}
	return out
}

func up(ctx context.Context, c Config, svcs []service, out io.Writer) (started []string, err error) {
	for _, d := range []string{c.Dir, filepath.Join(c.Dir, "run"), filepath.Join(c.Dir, "logs"), filepath.Join(c.Dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("stack up: %w", err)
		}
	}

	running := map[string]bool{}
	var problems []string
	for _, s := range svcs {
		if rec, ok := readPID(c.pidFile(s.name())); ok && rec.alive() {
			running[s.name()] = true
			continue
		}
		if err := s.check(c); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", s.name(), err))
		}
		for _, p := range append(c.Ports(), c.appPorts()...) {
			if p.Service == s.name() && !portFree(c.Host, p.Port) {
				problems = append(problems, fmt.Sprintf("%s: port %s is already in use (set %s to another port)", s.name(), c.addr(p.Port), p.Name))
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.New("stack up: " + strings.Join(problems, "; "))
	}

	defer func() {
		if err != nil && len(started) > 0 {
			fmt.Fprintf(out, "stack up failed; stopping what this run started: %s\n", strings.Join(started, ", "))
			_ = stopServices(c, started, io.Discard)
			started = nil
		}
	}()
	for _, s := range svcs {
		t0 := time.Now()
		if running[s.name()] {
			if err := waitReady(ctx, c, s, nil, 10*time.Second); err != nil {
				return started, fmt.Errorf("stack up: %s: running (pid file %s) but not ready: %w", s.name(), c.pidFile(s.name()), err)
			}
		} else {
			fmt.Fprintf(out, "%-10s starting\n", s.name())
			if err := s.prepare(ctx, c); err != nil {
				return started, fmt.Errorf("stack up: %s: prepare: %w (log: %s)", s.name(), err, c.logFile(s.name()))
			}
			cmd, err := s.command(c)
			if err != nil {
				return started, fmt.Errorf("stack up: %s: %w", s.name(), err)
			}
			p, err := startProcess(cmd, c.logFile(s.name()), c.pidFile(s.name()))
			if err != nil {
				return started, fmt.Errorf("stack up: %s: start %s: %w", s.name(), cmd.Path, err)
			}
			started = append(started, s.name())
			if err := waitReady(ctx, c, s, p, c.ReadyTimeout); err != nil {
				return started, fmt.Errorf("stack up: %s: %w", s.name(), err)
			}
		}
		if err := setupWithRetry(ctx, c, s); err != nil {
			return started, fmt.Errorf("stack up: %s: setup: %w", s.name(), err)
		}
		state := "ready in " + time.Since(t0).Round(10*time.Millisecond).String()
		if running[s.name()] {
			state = "already running"
		}
		fmt.Fprintf(out, "%-10s %-22s %s\n", s.name(), state, s.endpoint(c))
	}
	if c.AppInstance != "" {
		// A second set of apps: the env file keeps describing the stack's
		// own, which other processes and tests read.
		return started, nil
	}
	if err := c.writeEnvFile(c.AppBinary != "" || appsRunning(c)); err != nil {
		return started, fmt.Errorf("stack up: %w", err)
	}
	fmt.Fprintf(out, "environment: . %s\n", c.EnvFile())
	return started, nil
}

// appsRunning reports whether any app of the stack runs (started by an
// earlier Up), so that an Up that starts no apps keeps their part of the
// env file.
func appsRunning(c Config) bool {
	for _, a := range apps() {
		if rec, ok := readPID(c.pidFile(a.name())); ok && rec.alive() {
			return true
		}
	}
	return false
}

// waitReady polls the service's probe until it answers, the process exits,
// the timeout passes or ctx ends.
func waitReady(ctx context.Context, c Config, s service, p *process, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
		last = s.ready(pctx, c)
		pcancel()
		if last == nil {
			return nil
		}
		var exited <-chan struct{}
		if p != nil {
			exited = p.exited
		}
		select {
		case <-exited:
			msg := fmt.Sprintf("exited before it was ready (%v)", p.err)
			if l := lastLogLine(c.logFile(s.name())); l != "" {
				msg += ": " + l
			}
			return fmt.Errorf("%s (log: %s)", msg, c.logFile(s.name()))
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("not ready after %s: %v (log: %s)", timeout, last, c.logFile(s.name()))
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WaitReady waits until every server of the stack answers its readiness
// probe, however it was started, or the timeout passes.
func WaitReady(ctx context.Context, c Config, timeout time.Duration) error {
	for _, s := range servers() {
		if err := waitReady(ctx, c, s, nil, timeout); err != nil {
			return fmt.Errorf("%s: %w", s.name(), err)
		}
	}
	return nil
}

// Provision creates what the project needs inside servers that run already,
// however they were started (natively by Up, or as containers): the database,
// the topics, the buckets and MinIO's bucket notifications. It is idempotent.
func Provision(ctx context.Context, c Config) error {
	for _, s := range servers() {
		if err := setupWithRetry(ctx, c, s); err != nil {
			return fmt.Errorf("provision %s: %w", s.name(), err)
		}
	}
	return nil
}

// setupWithRetry runs the service's setup until it succeeds, for up to 30 s:
// a server that answers its readiness probe may still refuse some requests
// for a moment (Kafka loading its metadata, MinIO initialising), and setup
// is idempotent, so trying again is safe.
func setupWithRetry(ctx context.Context, c Config, s service) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := s.setup(sctx, c)
		cancel()
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// httpOK is a readiness probe: GET url answers 2xx within probeTimeout
// (the same probe as the containers' `photobench healthcheck`).
func httpOK(ctx context.Context, url string) error {
	return healthcheck.Check(ctx, url, probeTimeout)
}

// probeTimeout bounds one readiness probe; the caller's context bounds
// the wait.
const probeTimeout = 5 * time.Second

func portFree(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// Down stops the named services (all when names is empty) in reverse start
// order, each by the pid Up recorded, and removes their pid files. It never
// signals a process it did not start.
func Down(c Config, names []string, out io.Writer) error {
	if len(names) == 0 {
		names = AllNames()
	}
	for _, n := range names {
		if !slices.Contains(AllNames(), n) {
			return fmt.Errorf("stack down: unknown service %q (known: %s)", n, strings.Join(AllNames(), ", "))
		}
	}
	return stopServices(c, names, out)
}

func stopServices(c Config, names []string, out io.Writer) error {
	var errs []error
	stop := func(name string, sig syscall.Signal) {
		path := c.pidFile(name)
		rec, ok := readPID(path)
		if !ok {
			return
		}
		if !rec.alive() {
			os.Remove(path)
			return
		}
		t0 := time.Now()
		if err := stopPID(rec, sig, stopGrace); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		os.Remove(path)
		os.Remove(filepath.Join(c.SDDir(), c.instanceName(name)+".json")) // an app's scrape target
		fmt.Fprintf(out, "%-10s stopped (pid %d) in %s\n", name, rec.PID, time.Since(t0).Round(10*time.Millisecond))
	}
	svcs := known()
	slices.Reverse(svcs)
	// Processes recorded under names this version no longer runs (a
	// service renamed or dropped since they started) go first, so that a
	// full Down never leaves one behind.
	if len(names) == len(AllNames()) {
		pids, _ := filepath.Glob(filepath.Join(c.Dir, "run", "*.pid"))
		for _, p := range pids {
			if n := strings.TrimSuffix(filepath.Base(p), ".pid"); !slices.Contains(AllNames(), n) {
				stop(n, syscall.SIGTERM)
			}
		}
	}
	for _, s := range svcs {
		if slices.Contains(names, s.name()) {
			stop(s.name(), s.stopSignal())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("stack down: %w", errors.Join(errs...))
	}
	return nil
}

// Status is the state of one service of the stack.
type Status struct {
	Service  string
	PID      int    // 0 when not running
	Endpoint string // where it listens
	// Ready is nil when the service answers its readiness probe.
	Ready error
}

// Running reports whether the service's recorded process is alive.
func (s Status) Running() bool { return s.PID != 0 }

// Statuses reports, for every service, whether its process runs and whether
// it answers.
func Statuses(ctx context.Context, c Config) []Status {
	var st []Status
	for _, s := range known() {
		x := Status{Service: s.name(), Endpoint: s.endpoint(c), Ready: errors.New("not running")}
		if rec, ok := readPID(c.pidFile(s.name())); ok && rec.alive() {
			x.PID = rec.PID
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			x.Ready = s.ready(pctx, c)
			cancel()
		}
		st = append(st, x)
	}
	return st
}

// Clean removes the stack's data, logs and generated configuration, and the
// PostgreSQL cluster wherever it lives (see PGDataDirFor). The installed
// binaries and jars (bin/, lib/) stay, so the next Up needs no rebuild. It
// refuses while any service runs.
func Clean(c Config, out io.Writer) error {
	for _, s := range known() {
		if rec, ok := readPID(c.pidFile(s.name())); ok && rec.alive() {
			return fmt.Errorf("stack clean: %s is running (pid %d); stop the stack first (make down)", s.name(), rec.PID)
		}
	}
	if err := cleanPGData(c, out); err != nil {
		return fmt.Errorf("stack clean: %w", err)
	}
	entries, err := os.ReadDir(c.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stack clean: %w", err)
	}
	keep := map[string]bool{}
	for _, d := range []string{c.BinDir, c.KafkaLibDir} {
		if rel, err := filepath.Rel(c.Dir, d); err == nil && !strings.HasPrefix(rel, "..") {
			keep[strings.Split(rel, string(filepath.Separator))[0]] = true
		}
	}
	for _, e := range entries {
		if keep[e.Name()] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(c.Dir, e.Name())); err != nil {
			return fmt.Errorf("stack clean: %w", err)
		}
		fmt.Fprintf(out, "removed %s\n", filepath.Join(c.Dir, e.Name()))
	}
	return nil
}
