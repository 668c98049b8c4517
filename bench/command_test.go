package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stacktest"
)

// TestRefusesWhileAnotherLoadRuns: a live session (or a demo, or a
// photobench load) registered with the stack's Prometheus stops a bench
// before it starts anything.
func TestRefusesWhileAnotherLoadRuns(t *testing.T) {
	c := stacktest.Unstarted(t)
	sleeper := exec.Command("sleep", "60") // a process that stands for the live session
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	if err := os.MkdirAll(c.SDDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("live-%d", sleeper.Process.Pid)
	if _, err := promsd.Register(c.SDDir(), promsd.Target{Name: name, Addr: "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "PHOTOBENCH_STACK_DIR" {
			return c.Dir
		}
		return ""
	}
	var out bytes.Buffer
	err := bench.Run(context.Background(), []string{"--out", filepath.Join(t.TempDir(), "r")}, getenv, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "another load runs") || !strings.Contains(err.Error(), fmt.Sprintf("live pid %d", sleeper.Process.Pid)) {
		t.Fatalf("err = %v, want a refusal naming the live session", err)
	}
}
