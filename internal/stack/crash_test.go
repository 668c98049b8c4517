package stack_test

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
)

// Children finds a process's children by their arguments, as the chaos
// matrix finds the runtime's replicas of one function (`photobench fn
// NAME`), and not the others.
func TestChildrenByArguments(t *testing.T) {
	var pids []int
	for _, arg := range []string{"30", "31"} {
		cmd := exec.Command("sleep", arg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		pids = append(pids, cmd.Process.Pid)
	}
	if got := stack.Children(os.Getpid(), "30"); !slices.Equal(got, pids[:1]) {
		t.Errorf("children running sleep 30: %v, want %v", got, pids[:1])
	}
	if got := stack.Children(os.Getpid(), "32"); len(got) != 0 {
		t.Errorf("children running sleep 32: %v, want none", got)
	}
	if got := stack.Children(pids[0], "30"); len(got) != 0 {
		t.Errorf("children of the sleep: %v, want none", got)
	}
}

// Kill and Start refuse names the stack does not know, and Kill a
// service that does not run, without signalling anything.
func TestKillRefusesWhatDoesNotRun(t *testing.T) {
	c := stacktest.Unstarted(t)
	if _, err := stack.Kill(c, "postgres"); err == nil {
		t.Error("killed a postgres that does not run")
	}
	if _, err := stack.Kill(c, "mainframe"); err == nil {
		t.Error("killed an unknown service")
	}
	if err := stack.Start(t.Context(), c, "mainframe", nil); err == nil {
		t.Error("started an unknown service")
	}
}

// AppURL names each app's own port, and refuses servers and unknown names.
func TestAppURL(t *testing.T) {
	dir := t.TempDir()
	c, err := stack.LoadConfig(func(k string) string {
		return map[string]string{"PHOTOBENCH_STACK_DIR": dir, "PHOTOBENCH_RUNTIME_PORT": "23456", "PHOTOBENCH_MONOLITH_PORT": "23457"}[k]
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"runtime": "http://127.0.0.1:23456", "monolith": "http://127.0.0.1:23457"} {
		if got, err := c.AppURL(name); err != nil || got != want {
			t.Errorf("AppURL(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"postgres", "mainframe"} {
		if got, err := c.AppURL(name); err == nil {
			t.Errorf("AppURL(%q) = %q, want an error", name, got)
		}
	}
}
