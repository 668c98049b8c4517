package live

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/command"
)

// stackEnv is the environment of a stack set up in a temporary directory
// (its Prometheus targets directory exists), plus vars.
func stackEnv(t *testing.T, vars map[string]string) func(string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "prometheus", "targets"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PHOTOBENCH_STACK_DIR": dir}
	for k, v := range vars {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

func TestParseFlags(t *testing.T) {
	o, _, err := parse([]string{"--addr", "0.0.0.0:9000", "--presenter-token", "tok", "--start", "--rate", "3", "--max-rate", "20",
		"--max-load", "1h", "--secret", "0123456789abcdef0123456789abcdef", "--target-monolith", "http://m:1/",
		"--target-monolith-async", "http://a:2", "--target-eventdriven", "http://e:3/", "--vision", "http://v:4/"},
		stackEnv(t, map[string]string{"PHOTOBENCH_LIVE_PORT": "18200", "PHOTOBENCH_LIVE_TOKEN": "from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if o.addr != "0.0.0.0:9000" || o.token != "tok" || !o.start || c.Rate != 3 || c.MaxRate != 20 || c.MaxLoad != time.Hour ||
		string(c.Secret) != "0123456789abcdef0123456789abcdef" {
		t.Errorf("flags: %+v", o)
	}
	if c.MonolithURL != "http://m:1" || c.MonolithAsyncURL != "http://a:2" || c.EventDrivenURL != "http://e:3" || c.VisionURL != "http://v:4" {
		t.Errorf("URLs (without the trailing slash): %s %s %s %s", c.MonolithURL, c.MonolithAsyncURL, c.EventDrivenURL, c.VisionURL)
	}
}

func TestParseDefaults(t *testing.T) {
	o, sc, err := parse(nil, stackEnv(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "127.0.0.1:18100" || o.token != "" || o.start {
		t.Errorf("addr %q, token %q, start %v; want 127.0.0.1:18100, none, false", o.addr, o.token, o.start)
	}
	if o.cfg.Rate != DefaultRate || o.cfg.MaxRate != DefaultMaxRate || o.cfg.MaxLoad != DefaultMaxLoad {
		t.Errorf("rate %g, max rate %g, max load %s", o.cfg.Rate, o.cfg.MaxRate, o.cfg.MaxLoad)
	}
	if err := o.cfg.Validate(); err != nil {
		t.Errorf("the stack's defaults: %v", err)
	}
	if o.cfg.CacheDir != filepath.Join(sc.Dir, "loadgen-cache") {
		t.Errorf("cache dir %q", o.cfg.CacheDir)
	}

	o, _, err = parse(nil, stackEnv(t, map[string]string{"PHOTOBENCH_LIVE_PORT": " 18200 ", "PHOTOBENCH_LIVE_TOKEN": "from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	if o.addr != "127.0.0.1:18200" || o.token != "from-env" {
		t.Errorf("from the environment: addr %q, token %q", o.addr, o.token)
	}
}

// Every problem of the command line at once, as a usage error.
func TestParseProblems(t *testing.T) {
	for _, port := range []string{"abc", "0", "65536", "-1"} {
		t.Run(port, func(t *testing.T) {
			_, _, err := parse([]string{"--rate", "0", "--addr", "nohostport", "extra", "args"},
				stackEnv(t, map[string]string{"PHOTOBENCH_LIVE_PORT": port}))
			if !errors.Is(err, command.ErrUsage) {
				t.Fatalf("err %v, want a usage error", err)
			}
			for _, want := range []string{`PHOTOBENCH_LIVE_PORT "` + port + `" is not a port`, `unexpected arguments ["extra" "args"]`,
				`--addr "nohostport": want HOST:PORT`, "the rate must be above 0"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%v\ndoes not say %q", err, want)
				}
			}
		})
	}
	_, _, err := parse([]string{"--no-such-flag"}, stackEnv(t, nil))
	if !errors.Is(err, command.ErrUsage) || !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("unknown flag: %v", err)
	}
	_, _, err = parse(nil, func(k string) string { return map[string]string{"PHOTOBENCH_STACK_DIR": t.TempDir()}[k] })
	if err == nil || errors.Is(err, command.ErrUsage) || !strings.Contains(err.Error(), "make up first") {
		t.Errorf("no stack here: %v", err)
	}
}

func TestRunHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h"} {
		var stdout, stderr bytes.Buffer
		if err := Run(context.Background(), []string{arg}, func(string) string { return "" }, &stdout, &stderr); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		if stdout.String() != Usage {
			t.Errorf("%s printed %q, want the usage", arg, stdout.String())
		}
	}
	if !strings.Contains(Usage, "--presenter-token") || !strings.Contains(Usage, "PHOTOBENCH_LIVE_PORT") {
		t.Error("the usage does not name the presenter token and the port's variable")
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:18100": true, "localhost:1": true, "[::1]:80": true, "127.0.0.2:80": true,
		"0.0.0.0:80": false, ":80": false, "192.168.1.5:80": false, "[::]:80": false, "example.com:80": false,
		"127.0.0.1": false, "localhost.evil.com:80": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}

// Validate names every problem at once, on one line.
func TestValidateEveryProblem(t *testing.T) {
	c := DefaultConfig()
	c.MonolithURL, c.MonolithAsyncURL, c.EventDrivenURL, c.VisionURL, c.PrometheusURL = "ftp://m", "", "x", "http://v", "http://p"
	c.Secret = []byte("short")
	c.MaxRate, c.Rate, c.MaxLoad, c.Users = 2000, 3000, 9*time.Hour, 0
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{`monolith URL "ftp://m"`, `async monolith URL ""`, `event-driven URL "x"`, "secret is shorter",
		"highest rate must be above 0 and at most 1000 per second, got 2000", "rate must be above 0 and at most 2000 per second, got 3000",
		"load's limit must be above 0 and at most 8h0m0s, got 9h0m0s", "users, timeout and tick must be positive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not say %q", err, want)
		}
	}
	for _, ok := range []string{"vision URL", "Prometheus URL"} {
		if strings.Contains(err.Error(), ok) {
			t.Errorf("%v\nnames the good %s", err, ok)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("not one line: %q", err)
	}
	c = DefaultConfig()
	c.MonolithURL, c.MonolithAsyncURL, c.EventDrivenURL, c.VisionURL, c.PrometheusURL = "http://m", "http://a", "https://e", "http://v", "http://p"
	c.Secret = []byte("0123456789abcdef0123456789abcdef")
	if err := c.Validate(); err != nil {
		t.Errorf("a good config: %v", err)
	}
	c.Rate = c.MaxRate + 1
	if err := c.Validate(); err == nil {
		t.Error("a rate above the highest: no error")
	}
}
