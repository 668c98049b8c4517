package stack_test

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/photobench/photobench/internal/stack"
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
	dir := t.TempDir()
	c, err := stack.LoadConfig(func(k string) string {
		if k == "PHOTOBENCH_STACK_DIR" {
			return dir
		}
		return ""
	}, dir)
	if err != nil {
		t.Fatal(err)
	}
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
