package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/bench/target"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/healthcheck"
	"github.com/photobench/photobench/internal/stack"
)

// Where the runs go: the local stack (Config.Stack, the default) or a
// target deployment (Config.Target). These answer for both.

// stackKnown says whether the servers are a native stack the bench can
// read (settings, versions, process trees, start state): the local one, or
// the one a target file names.
func (b *bencher) stackKnown() bool { return b.cfg.Target == nil || b.cfg.Target.Stack != "" }

func (b *bencher) promURL() string { return b.where.Prometheus }

func (b *bencher) appSet() string { return b.where.AppSet }

// apiURL is the base URL of an architecture's public API.
func (b *bencher) apiURL(arch string) string { return b.where.Variants[arch] }

// visionURL is the vision stand-in's base URL, "" when the target says
// none.
func (b *bencher) visionURL() string {
	if v := b.where.Vision; v != target.None {
		return v
	}
	return ""
}

// restart restarts a server for a restart fault: on the local stack in
// process, on a target through its hook. A target without a hook for the
// server is errNoHook.
func (b *bencher) restart(ctx context.Context, server string) error {
	t := b.cfg.Target
	if t == nil {
		return stack.Restart(ctx, b.cfg.Stack, server, io.Discard)
	}
	hook := t.Restart[server]
	if len(hook) == 0 {
		return errNoHook
	}
	var env []string
	if t.Stack != "" {
		// The stack the target names, as the bench read it (a
		// `photobench stack restart` hook reads the environment).
		env = []string{"PHOTOBENCH_STACK_DIR=" + t.Stack}
	}
	return runHook(ctx, hook, env)
}

// errNoHook is a fault the target cannot inject.
var errNoHook = errors.New("not injected: the target file gives no restart command for it")

// hookTimeout bounds a target's restart command.
const hookTimeout = 5 * time.Minute

// runHook runs a target's command with the bench's environment and env; a
// failure names its exit and the last line it printed.
func runHook(ctx context.Context, hook target.Hook, env []string) error {
	hctx, cancel := context.WithTimeout(ctx, hookTimeout)
	defer cancel()
	cmd := exec.CommandContext(hctx, hook[0], hook[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		last := strings.TrimSpace(out.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		if last != "" {
			return fmt.Errorf("%s: %w: %s", hook, err, brief.OneLine(last))
		}
		return fmt.Errorf("%s: %w", hook, err)
	}
	return nil
}

// checkTarget fails at once when the target's Prometheus or a variant
// does not answer, before any run.
func (b *bencher) checkTarget(ctx context.Context) error {
	t := b.cfg.Target
	fmt.Fprintf(b.cfg.Log, "bench: target %s: a deployment the bench did not start; its apps are not started, restarted or emptied between runs\n", t.Name)
	check := func(what, url string) error {
		if err := healthcheck.Check(ctx, url, 10*time.Second); err != nil {
			return fmt.Errorf("target %s: %s does not answer: %w", t.Name, what, err)
		}
		return nil
	}
	if err := check("prometheus", b.promURL()+"/-/ready"); err != nil {
		return err
	}
	for _, a := range b.cfg.Archs {
		if err := check(a, b.apiURL(a)+"/healthz"); err != nil {
			return err
		}
	}
	if v := b.visionURL(); v != "" {
		return check("vision", v+"/healthz")
	}
	return nil
}

// fingerprint is the machine's, and where the runs went. Without a native
// stack to read, the servers' versions are the target's and not recorded,
// and the commit is the bench binary's own (the target's apps may differ).
func (b *bencher) fingerprint() results.Machine {
	t := b.cfg.Target
	if t == nil {
		m := Fingerprint(b.cfg.Stack)
		m.Deployment = "the local native stack; the bench started each architecture's apps for every run"
		return m
	}
	var m results.Machine
	if t.Stack != "" {
		m = Fingerprint(b.cfg.Stack)
	} else {
		m = hostFingerprint()
		exe, _ := os.Executable()
		binaryFingerprint(&m, exe)
		m.CommitSource += " of the bench (the target's apps are not checked)"
		if v, ok := m.Versions["photobench"]; ok {
			m.Versions["photobench"] = v + " (the bench's binary)"
		}
	}
	m.Deployment = results.TargetPrefix + t.Describe() + ": a deployment the bench did not start"
	return m
}
