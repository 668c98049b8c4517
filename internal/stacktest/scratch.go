package stacktest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/stack"
)

// Scratch returns the configuration of a second stack in a fresh
// directory, on free ports, using the installed binaries of the main one
// (make deps); it does not start it. env overrides or adds variables. The
// stack's data, the PostgreSQL cluster included wherever it lives, is
// removed when the test ends (a test that starts the stack registers its
// stack.Down cleanup later, so that runs first).
func Scratch(t *testing.T, env map[string]string) stack.Config {
	t.Helper()
	NativeOnly(t)
	root := RepoRoot(t)
	// MkdirTemp makes the directory 0700, as a home directory is: the stack
	// must work from there as root too (the PostgreSQL server then runs as
	// the postgres user, who cannot enter it).
	dir, err := os.MkdirTemp("", "photobench-stack-test-")
	if err != nil {
		t.Fatal(err)
	}
	var cfg stack.Config
	t.Cleanup(func() {
		if err := stack.Clean(cfg, io.Discard); err != nil {
			t.Errorf("clean: %v", err)
		}
		os.RemoveAll(dir)
	})
	vars := map[string]string{
		"PHOTOBENCH_STACK_DIR":     dir,
		"PHOTOBENCH_STACK_BIN_DIR": filepath.Join(root, ".stack", "bin"),
		"PHOTOBENCH_KAFKA_LIB_DIR": filepath.Join(root, ".stack", "lib", "kafka"),
		"PHOTOBENCH_KAFKA_HEAP_MB": "256",
	}
	for _, name := range []string{"PG", "KAFKA", "KAFKA_CONTROLLER", "MINIO", "PROMETHEUS", "VISION", "MONOLITH", "MONOLITH_ASYNC", "RUNTIME"} {
		vars["PHOTOBENCH_"+name+"_PORT"] = fmt.Sprint(FreePort(t))
	}
	for name := range deploy.Ports {
		vars["PHOTOBENCH_"+strings.ToUpper(name)+"_PORT"] = fmt.Sprint(FreePort(t))
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err = stack.LoadConfig(func(k string) string { return vars[k] }, ".stack")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Unstarted returns the configuration of a stack in a fresh directory
// that nothing runs: for tests of what refuses, or takes the stack's
// locks, without any server.
func Unstarted(t testing.TB) stack.Config {
	t.Helper()
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
	return c
}

// UpScratch starts a Scratch stack with the apps, from the photobench
// binary make test builds, and stops it when the test ends.
func UpScratch(t *testing.T, env map[string]string) stack.Config {
	t.Helper()
	cfg := Scratch(t, env)
	cfg.AppBinary = filepath.Join(RepoRoot(t), "bin", "photobench")
	if _, err := os.Stat(cfg.AppBinary); err != nil {
		t.Fatalf("%v: run make build (make test does)", err)
	}
	var out bytes.Buffer
	_, err := stack.Up(context.Background(), cfg, &out)
	t.Cleanup(func() { stack.Down(cfg, nil, io.Discard) })
	if err != nil {
		t.Fatalf("up: %v\n%s", err, out.String())
	}
	return cfg
}
