package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/cli"
)

func TestVisionHelp(t *testing.T) {
	for _, args := range [][]string{{"vision", "-h"}, {"vision", "--help"}, {"help", "vision"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout bytes.Buffer
			if err := cli.Run(context.Background(), args, visionNoEnv, &stdout, io.Discard); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"photobench vision", "--addr", "PHOTOBENCH_VISION_ADDR", "--latency-p99", "--outage", "/admin/profile"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("help lacks %q", want)
				}
			}
		})
	}
}

func TestVisionConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"unknown flag", []string{"--frobnicate"}, nil, []string{"frobnicate"}},
		{"arguments", []string{"extra"}, nil, []string{"unexpected arguments"}},
		{"bad env addr", nil, map[string]string{"PHOTOBENCH_VISION_ADDR": "nonsense"}, []string{"--addr"}},
		{"every problem at once", []string{
			"--latency", "gaussian", "--latency-fixed", "soon", "--error-rate", "2", "--max-concurrency", "many",
			"--rate-limit", "-1", "--retry-after", "1.5s", "--outage", "maybe", "--max-bytes", "0", "--max-pixels", "x",
			"--seed", "-3", "--log-level", "loud", "--addr", "127.0.0.1:99999",
		}, nil, []string{
			"latency.distribution", "--latency-fixed", "error_rate", "--max-concurrency", "rate_limit_rps",
			"--retry-after", "outage", "--max-bytes", "--max-pixels", "--seed", "--log-level", "--addr",
		}},
		{"lognormal p99 below median", []string{"--latency-median", "100ms", "--latency-p99", "50ms"}, nil, []string{"p99_ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			err := cli.Run(context.Background(), append([]string{"vision"}, tt.args...), getenv, io.Discard, io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			msg := cli.Message(err)
			if strings.Contains(msg, "\n") {
				t.Errorf("message %q spans lines", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not mention %q", msg, w)
				}
			}
		})
	}
}

// photobench vision on port 0: it says where it listens, answers, applies
// the profile flags and stops cleanly when its context ends.
func TestVisionRunsAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, stdout := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- cli.Run(ctx, []string{"vision", "--addr", "127.0.0.1:0", "--outage", "fail", "--retry-after", "4s"}, visionNoEnv, stdout, io.Discard)
		stdout.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v (run: %v)", err, <-done)
	}
	go io.Copy(io.Discard, out)
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "vision listening on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("listening line %q", line)
	}
	waitVisionHealthy(t, url)

	resp, err := http.Post(url+"/v1/analyze", "application/octet-stream", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "4" {
		t.Errorf("analyze under --outage fail: %d Retry-After %q, want 503 and 4", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, err = http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"photobench_vision_profile_outage 1", "go_goroutines", "process_cpu_seconds_total"} {
		if !bytes.Contains(metrics, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("after cancel: %v, want a clean shutdown", err)
	}
}

func TestVisionAddrFromEnv(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, stdout := io.Pipe()
	done := make(chan error, 1)
	env := map[string]string{"PHOTOBENCH_VISION_ADDR": "127.0.0.1:0"}
	go func() {
		done <- cli.Run(ctx, []string{"vision"}, func(k string) string { return env[k] }, stdout, io.Discard)
		stdout.Close()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no listening line: %v (run: %v)", err, <-done)
	}
	go io.Copy(io.Discard, out)
	if strings.Contains(line, ":18081") || !strings.Contains(line, "http://127.0.0.1:") {
		t.Errorf("listening line %q: want the address from PHOTOBENCH_VISION_ADDR", line)
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
}

func visionNoEnv(string) string { return "" }

// waitVisionHealthy polls url/healthz until it answers 200.
func waitVisionHealthy(t *testing.T, url string) {
	t.Helper()
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if i == 500 {
			t.Fatalf("%s/healthz never answered: %v", url, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
