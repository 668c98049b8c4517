// Package ops is what the live page's presenter controls do to the stack
// make up runs: kill a replica of an event-driven function (KillReplica),
// restart one of the servers (Restart), empty the three apps' data so a
// workshop can start over (Reset), and say whether any of that would
// disturb a measurement or another load running against the stack (Busy).
// Each acts on a stack.Config, through package stack, on the processes
// that stack's pid files record and nothing else; callers check Busy
// before every control.
package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stack"
)

// Busy returns nil when the controls may act on c's stack; otherwise an
// error that names who they would disturb: a photobench bench or chaos
// holding the stack's measurement lock (stack.LockBench, taken and
// released at once), or another load registered with the stack's
// Prometheus (promsd.Loads: a bench, a photobench load, a demo, another
// live session). This process's own registration (a live session
// registers as kind "live") does not count.
func Busy(c stack.Config) error {
	release, err := stack.LockBench(c, "photobench live")
	if errors.Is(err, stack.ErrBusy) {
		return fmt.Errorf("a measurement runs against the stack: %w; the controls would spoil its figures, wait until it ends", err)
	}
	if err != nil {
		return fmt.Errorf("busy: %w", err)
	}
	release()
	if loads := promsd.Loads(c.SDDir(), os.Getpid()); len(loads) > 0 {
		return fmt.Errorf("another load runs against the stack (%s): the controls would disturb it, wait until it ends", strings.Join(loads, ", "))
	}
	return nil
}

// Functions are the functions KillReplica knows: those the runtime runs
// as replicas (deploy's HTTP and event functions; the front is not one,
// it always runs as one process of its own).
func Functions() []string { return deploy.Names(deploy.TriggerHTTP, deploy.TriggerEvent) }

// KillReplica sends SIGKILL to one live replica of the event-driven
// function (a child of c's runtime run as "photobench fn NAME", with its
// process group), the newest one (started last: the one the scaler added
// last), and waits until it is gone. It returns the pid it killed. The
// runtime notices the crash and starts a replacement when the function
// still has work (restart backoff and scaling are the runtime's). A
// function the runtime does not run, a function scaled to zero and a
// runtime that does not run are errors that say so.
func KillReplica(c stack.Config, function string) (pid int, err error) {
	if !slices.Contains(Functions(), function) {
		return 0, fmt.Errorf("kill replica: unknown function %q (known: %s)", function, strings.Join(Functions(), ", "))
	}
	rt := stack.PIDs(c)["runtime"]
	if rt == 0 {
		return 0, errors.New("kill replica: the runtime does not run (make up starts it)")
	}
	var newest uint64
	for _, p := range stack.Children(rt, "fn", function) {
		if st, err := stack.StartTime(p); err == nil && (pid == 0 || st > newest) {
			pid, newest = p, st
		}
	}
	if pid == 0 {
		return 0, fmt.Errorf("kill replica: %s has no replica (scaled to zero)", function)
	}
	// Each replica leads a process group of its own.
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return pid, fmt.Errorf("kill replica %d of %s: %w", pid, function, err)
	}
	// The runtime reaps it; until then it is a zombie, which Children
	// skips.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !slices.Contains(stack.Children(rt, "fn", function), pid) {
			return pid, nil
		}
	}
	return pid, fmt.Errorf("kill replica %d of %s: still running 5s after SIGKILL", pid, function)
}

// Servers are the servers Restart restarts. Prometheus is not one: the
// live page reads its figures from it.
var Servers = []string{"kafka", "minio", "postgres"}

// Restart restarts the named server of c (one of Servers) as the bench's
// restart fault does (stack.Restart): a clean stop, then a start, waiting
// until it is ready again and its topics, buckets or databases are set
// up. The apps keep running and reconnect on their own. A server that
// does not run (an earlier restart failed half-way) is started. It
// returns how long the server was away; progress lines go to out.
func Restart(ctx context.Context, c stack.Config, server string, out io.Writer) (took time.Duration, err error) {
	if !slices.Contains(Servers, server) {
		return 0, fmt.Errorf("restart: %q is not a server the controls restart (%s)", server, strings.Join(Servers, ", "))
	}
	t0 := time.Now()
	err = stack.Restart(ctx, c, server, out)
	took = time.Since(t0)
	if err != nil {
		return took, fmt.Errorf("restart %s: %w", server, err)
	}
	return took, nil
}
