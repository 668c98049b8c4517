package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/cli"
	"github.com/photobench/photobench/loadgen"
)

// calibrate attack at 200/s for 1 s: every scheduled hit is sent and answered,
// and the figures come as one JSON line.
func TestCalibrateAttack(t *testing.T) {
	var gets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			gets.Add(1)
		}
		io.WriteString(w, "photobench calibrate")
	}))
	defer srv.Close()
	var stdout, stderr bytes.Buffer
	err := cli.Run(context.Background(), []string{"calibrate", "attack", "--url", srv.URL + "/", "--rate", "200", "--duration", "1s"},
		noEnv, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v (stderr %q)", err, stderr.String())
	}
	out := stdout.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("stdout %q, want one line", out)
	}
	var st loadgen.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	if st.Scheduled != 200 || st.Sent != 200 || st.OK != 200 || gets.Load() != 200 {
		t.Errorf("scheduled %d, sent %d, ok %d, server saw %d; want 200 each", st.Scheduled, st.Sent, st.OK, gets.Load())
	}
	if st.TargetRate < 199.9 || st.TargetRate > 200.1 || st.AchievedRate <= 0 || st.Latency.P99 <= 0 {
		t.Errorf("target rate %g, achieved %g, latency p99 %g", st.TargetRate, st.AchievedRate, st.Latency.P99)
	}
}

// calibrate serve prints its address first, answers GET, and stops when
// the context ends.
func TestCalibrateServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- cli.Run(ctx, []string{"calibrate", "serve"}, noEnv, pw, io.Discard) }()
	addr, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("first line %q, want a loopback host:port", addr)
	}
	resp, err := http.Get("http://" + strings.TrimSpace(addr) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) != 20 {
		t.Errorf("got %d with %d bytes, want 200 with 20", resp.StatusCode, len(body))
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}

func TestCalibrateErrors(t *testing.T) {
	empty := t.TempDir() // a stack bin directory without vegeta
	fake := filepath.Join(t.TempDir(), "vegeta")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, vegetaOnPath := exec.LookPath("vegeta")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string // all in the one-line message
		not  []string // none in it
		skip bool
	}{
		{name: "no subcommand", args: []string{"calibrate"}, want: []string{"calibrate: no subcommand given (run, attack or serve)"}},
		{name: "unknown subcommand", args: []string{"calibrate", "explode"}, want: []string{`unknown subcommand "explode"`}},
		{name: "attack without flags", args: []string{"calibrate", "attack"},
			want: []string{"calibrate attack: --url is required", "--rate 0 is not in (0, 1e9]"}},
		{name: "attack, every bad flag at once", args: []string{"calibrate", "attack", "--url", "localhost:80", "--rate", "-5",
			"--duration", "0s", "--warmup", "-1s", "--max-in-flight", "0", "--max-conns", "-1", "--timeout", "0s"},
			want: []string{`--url "localhost:80" is not an http(s) URL`, "--rate -5 is not in (0, 1e9]", "--duration must be positive",
				"--warmup must not be negative", "--max-in-flight must be positive", "--max-conns must not be negative",
				"--timeout must be positive"},
			not: []string{"warm-up", "max in flight"}},
		{name: "attack, unknown flag", args: []string{"calibrate", "attack", "--workers", "5"}, want: []string{"calibrate attack: flag provided but not defined: -workers"}},
		{name: "attack, bad number", args: []string{"calibrate", "attack", "--rate", "fast"}, want: []string{`invalid value "fast" for flag -rate`}},
		{name: "attack, extra arguments", args: []string{"calibrate", "attack", "--url", "http://127.0.0.1:1/", "--rate", "1", "now"},
			want: []string{`calibrate attack: unexpected arguments ["now"]`}},
		{name: "serve, bad address", args: []string{"calibrate", "serve", "--addr", "nowhere"}, want: []string{`--addr "nowhere" is not HOST:PORT`}},
		{name: "run, every bad flag at once", args: []string{"calibrate", "run", "--rates", "1000,abc,1.5,0,1000", "--duration", "500ms",
			"--repeats", "0", "--pause", "-1s", "--max-in-flight", "0", "--max-conns", "-1", "--timeout", "0s", "--wrk-threads", "4",
			"--wrk-connections", "2", "--search-step", "1", "--search-budget", "-1m", "--out", ""},
			want: []string{`--rates "abc" is not a number`, "--rates 1.5 is not a whole number in [1, 1e7]",
				"--rates 0 is not a whole number in [1, 1e7]", "--rates 1000 is listed twice",
				"--duration must be at least 1s", "--repeats must be at least 1", "--pause must not be negative",
				"--max-in-flight must be positive", "--max-conns must not be negative", "--timeout must be at least 1s",
				"--wrk-connections must be at least as many as the threads (4)",
				"--search-step must be in (1, 10]", "--search-budget must not be negative", "--out and --md must name files"},
			not: []string{"max in flight", "search step"}},
		{name: "run, no wrk threads", args: []string{"calibrate", "run", "--wrk-threads", "0"}, want: []string{"--wrk-threads must be at least 1"}},
		{name: "run, bad flags before a missing vegeta", args: []string{"calibrate", "run", "--repeats", "0", "--vegeta", filepath.Join(empty, "vegeta")},
			want: []string{"calibrate run: --repeats must be at least 1"}, not: []string{"vegeta", "binary"}},
		{name: "run, vegeta not where --vegeta says", args: []string{"calibrate", "run", "--vegeta", filepath.Join(empty, "vegeta")},
			want: []string{"vegeta", "is not an executable", "run stack/calibrate-deps.sh (or make loadgen-calibrate)"}},
		{name: "run, vegeta not installed", args: []string{"calibrate", "run"}, env: map[string]string{"PHOTOBENCH_STACK_BIN_DIR": empty},
			want: []string{"calibrate: vegeta not found at " + filepath.Join(empty, "vegeta") + " or on PATH", "stack/calibrate-deps.sh"},
			skip: vegetaOnPath == nil},
		{name: "run, wrk not installed", args: []string{"calibrate", "run", "--vegeta", fake, "--wrk", filepath.Join(empty, "wrk")},
			want: []string{"calibrate: wrk", "is not an executable", "stack/calibrate-deps.sh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip {
				t.Skip("vegeta is on PATH, so it cannot be missing")
			}
			var stdout, stderr bytes.Buffer
			err := cli.Run(context.Background(), tt.args, func(k string) string { return tt.env[k] }, &stdout, &stderr)
			if err == nil {
				t.Fatal("no error")
			}
			msg := cli.Message(err)
			if strings.Contains(msg, "\n") {
				t.Errorf("message %q is not one line", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(msg, w) {
					t.Errorf("message %q has %q", msg, w)
				}
			}
		})
	}
}

func TestCalibrateHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"calibrate", "-h"}, []string{"calibrate run", "calibrate attack", "calibrate serve", "stack/calibrate-deps.sh"}},
		{[]string{"calibrate", "help"}, []string{"calibrate run"}},
		{[]string{"calibrate", "run", "-h"}, []string{"--rates", "--duration", "--repeats", "--pause", "--max-in-flight", "--timeout",
			"--wrk-threads", "--wrk-connections", "--search-step", "--search-budget", "--out", "--md", "--vegeta", "--wrk",
			"results/loadgen-calibration.json", "schedule lag p99 is < 10ms"}},
		{[]string{"calibrate", "attack", "--help"}, []string{"--url", "--rate", "--duration", "--warmup", "--max-in-flight", "--timeout", "JSON line"}},
		{[]string{"calibrate", "serve", "-h"}, []string{"--addr", "first line of stdout"}},
		{[]string{"help"}, []string{"calibrate"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout bytes.Buffer
			if err := cli.Run(context.Background(), tt.args, noEnv, &stdout, &bytes.Buffer{}); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("help lacks %q", w)
				}
			}
		})
	}
}
