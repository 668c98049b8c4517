package deploy

import (
	"fmt"
	"time"
)

// StopGrace is how long a function's process has between SIGTERM and
// SIGKILL: the scale-to-zero runtime's default and the Kubernetes
// manifests' terminationGracePeriodSeconds. Kubernetes' default is 30 s
// (KEDA scales a Deployment and uses its grace; Knative sets a revision's
// grace to its request timeout, 300 s by default). Ours is 10 s: a
// replica handles one event, or a few requests, at a time, each well under
// a second, and a scale-in that waits 30 s for nothing bills 30
// replica-seconds.
const StopGrace = 10 * time.Second

// EnvStopGrace names the environment variable through which a launcher
// (the runtime) tells a function's process its grace, a Go duration; unset,
// the process assumes StopGrace.
const EnvStopGrace = "PHOTOBENCH_STOP_GRACE"

// Shutdown is how a function's process spends its grace once SIGTERM
// arrives, so that it exits on its own before the SIGKILL: the in-flight
// event's handler may run until Handler (then its ctx is cancelled and the
// event is left uncommitted, to be redelivered: safe), the consumer then
// leaves its group and the HTTP server finishes its requests until Drain;
// Grace - Drain is the margin for the process to exit.
type Shutdown struct {
	// Grace is SIGTERM to SIGKILL.
	Grace time.Duration
	// Drain bounds the HTTP server's graceful shutdown (and so the
	// process's whole stop): 8/10 of the grace, 8 s of 10 s.
	Drain time.Duration
	// Handler bounds the in-flight event's handler after SIGTERM (the
	// consumer's StopTimeout): 7/10 of the grace, 7 s of 10 s, leaving the
	// consumer a tenth to commit, close its reader and leave the group.
	Handler time.Duration
}

// ShutdownWithin returns the shutdown budget of a process whose grace is
// grace.
func ShutdownWithin(grace time.Duration) Shutdown {
	return Shutdown{Grace: grace, Drain: grace * 8 / 10, Handler: grace * 7 / 10}
}

// Shutdown is the process's shutdown budget, from EnvStopGrace (default
// StopGrace). A value that is not a positive duration is a problem, reported
// by Err.
func (a *Args) Shutdown() Shutdown {
	v := a.getenv(EnvStopGrace)
	if v == "" {
		return ShutdownWithin(StopGrace)
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		a.problem("%s %q: want a positive duration such as %s", EnvStopGrace, v, StopGrace)
		return ShutdownWithin(StopGrace)
	}
	return ShutdownWithin(d)
}

// String describes the budget for logs, e.g. "grace 10s: handler 7s, drain 8s".
func (s Shutdown) String() string {
	return fmt.Sprintf("grace %v: handler %v, drain %v", s.Grace, s.Handler, s.Drain)
}

// HandlerDeadline is how long one call of an event function's handler may
// run before the process reports itself wedged on /healthz (503), which
// the runtime's liveness probe turns into a restart. Our handlers take
// well under a second (the tagger's vision call is bounded at 5 s per
// attempt); Knative's request timeout, the nearest thing on a real
// platform, is 300 s. A retry's backoff between calls is not a call, so a
// function waiting out a dependency's outage is never counted wedged.
const HandlerDeadline = 30 * time.Second

// EnvHandlerDeadline names the environment variable that overrides
// HandlerDeadline, a Go duration.
const EnvHandlerDeadline = "PHOTOBENCH_HANDLER_DEADLINE"

// HandlerDeadline is the process's handler deadline, from
// EnvHandlerDeadline (default HandlerDeadline). A value that is not a
// positive duration is a problem, reported by Err.
func (a *Args) HandlerDeadline() time.Duration {
	v := a.getenv(EnvHandlerDeadline)
	if v == "" {
		return HandlerDeadline
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		a.problem("%s %q: want a positive duration such as %s", EnvHandlerDeadline, v, HandlerDeadline)
		return HandlerDeadline
	}
	return d
}
