package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/bench/target"
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

// A bad target file, or a target whose Prometheus does not answer, stops
// the bench with a one-line error before any run.
func TestTargetErrors(t *testing.T) {
	c := stacktest.Unstarted(t)
	getenv := func(k string) string {
		if k == "PHOTOBENCH_STACK_DIR" {
			return c.Dir
		}
		return ""
	}
	dir := t.TempDir()
	closed := fmt.Sprintf("http://127.0.0.1:%d", stacktest.FreePort(t))
	for _, tc := range []struct{ name, file, want string }{
		{"unknown field", "name: x\nprometheus: " + closed + "\nvariants: {monolith: " + closed + "}\nvision: none\nmetrics: {listen: '127.0.0.1:0', file_sd: " + dir + "}\nregion: eu\n", "field region not found"},
		{"missing file", "", "no such file"},
		{"prometheus down", "name: x\nprometheus: " + closed + "\nvariants: {monolith: " + closed + "}\nvision: none\nmetrics: {listen: '127.0.0.1:0', file_sd: " + dir + "}\n", "target x: prometheus does not answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "target.yaml")
			if tc.file != "" {
				if err := os.WriteFile(file, []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(t.TempDir(), "r")
			var stdout bytes.Buffer
			err := bench.Run(context.Background(), []string{"--target", file, "--out", out}, getenv, &stdout, &stdout)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line containing %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(out, "results.json")); !os.IsNotExist(err) {
				t.Errorf("results written despite the error (%v)", err)
			}
		})
	}
}

// --print-target writes the local stack as a target file that --target
// reads back as the same description.
func TestPrintTarget(t *testing.T) {
	c := stacktest.Unstarted(t)
	getenv := func(k string) string {
		if k == "PHOTOBENCH_STACK_DIR" {
			return c.Dir
		}
		return ""
	}
	var out, errb bytes.Buffer
	if err := bench.Run(context.Background(), []string{"--print-target"}, getenv, &out, &errb); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "local.yaml")
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := target.Load(file)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := target.Local(c)
	for s, h := range want.Restart { // the binary differs: the test's is not photobench
		if len(got.Restart[s]) != len(h) || !slices.Equal(got.Restart[s][1:], h[1:]) {
			t.Errorf("restart %s: %v, want %v", s, got.Restart[s], h)
		}
	}
	want.Restart, got.Restart = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("printed\n%+v\nwant\n%+v", got, want)
	}
}
