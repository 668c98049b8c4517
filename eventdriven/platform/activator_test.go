package platform_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/eventdriven/platform"
)

// envHTTPReplica, when set, makes the test binary an HTTP test replica
// (httpReplicaMain) instead of running tests: "serve" answers requests,
// "never" never gets ready.
const envHTTPReplica = "PLATFORM_TEST_HTTP_REPLICA"

// init runs the HTTP test replica before the testing package parses its
// flags (the replica gets `fn NAME --addr 127.0.0.1:0`), so that it needs
// nothing from TestMain.
func init() {
	if mode := os.Getenv(envHTTPReplica); mode != "" {
		if err := httpReplicaMain(mode); err != nil {
			fmt.Fprintln(os.Stderr, "test http replica:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// httpReplicaMain is a small but real HTTP replica speaking the replica
// protocol: it prints its listening line and answers every request with
// 200 "replica ADDR" after reading the body and waiting ?sleep= (a Go
// duration), GET /in-flight with the requests in flight and GET
// /most-in-flight with the most it had in flight at once; on SIGTERM it finishes the requests in flight and exits. In mode "never" it starts but never
// gets ready.
func httpReplicaMain(mode string) error {
	name := "replica"
	if len(os.Args) > 2 && os.Args[1] == "fn" {
		name = os.Args[2]
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if mode == "never" {
		<-ctx.Done()
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	var inFlight, most atomic.Int64 // requests in flight, and the most seen
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/most-in-flight":
			fmt.Fprintf(w, "%d\n", most.Load())
			return
		case "/in-flight":
			fmt.Fprintf(w, "%d\n", inFlight.Load())
			return
		}
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		io.Copy(io.Discard, r.Body)
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil {
			time.Sleep(d)
		}
		fmt.Fprintf(w, "replica %s\n", addr)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("%s listening on http://%s\n", name, addr)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// httpFunction runs a runtime with one HTTP function fc whose replicas are
// HTTP test replicas in mode, and returns the function, the runtime's
// metrics registry and an activator server in front of it.
func httpFunction(t *testing.T, fc platform.FunctionConfig, mode string) (*platform.Function, *platform.Activator, *prometheus.Registry, *httptest.Server) {
	t.Helper()
	fc.Kind = platform.KindHTTP
	if fc.Addr == "" {
		fc.Addr = "127.0.0.1:0"
	}
	reg := prometheus.NewRegistry()
	m := platform.NewMetrics(reg)
	log := slog.New(slog.DiscardHandler)
	rt, err := platform.New(platform.Config{Functions: []platform.FunctionConfig{fc}}, platform.Options{
		Binary:    os.Args[0],
		Env:       []string{envHTTPReplica + "=" + mode},
		Log:       log,
		Metrics:   m,
		StopGrace: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	f := rt.Function(fc.Name)
	act := platform.NewActivator(f, m, log)
	srv := httptest.NewServer(act)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runtime: %v", err)
		}
	})
	return f, act, reg, srv
}

// histogramCount is the sample count of the histogram series name with the
// label function=fn (and phase=phase if not empty).
func histogramCount(t *testing.T, reg prometheus.Gatherer, name, fn, phase string) uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if (l.GetName() == "function" && l.GetValue() != fn) || (phase != "" && l.GetName() == "phase" && l.GetValue() != phase) {
					continue metrics
				}
			}
			n += m.GetHistogram().GetSampleCount()
		}
	}
	return n
}

func activatorGet(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestActivator(t *testing.T) {
	t.Run("scales from zero and proxies the held request", func(t *testing.T) {
		f, _, reg, srv := httpFunction(t, platform.FunctionConfig{
			Name: "echo", ActivatorTimeout: platform.Duration{Duration: 10 * time.Second},
		}, "serve")
		if n := len(f.ReadyAddrs()); n != 0 || f.Desired() != 0 {
			t.Fatalf("at start: %d ready, desired %d; want 0, 0", n, f.Desired())
		}
		code, _, body := activatorGet(t, srv.URL+"/v1/photos?x=1")
		if code != http.StatusOK || !strings.HasPrefix(body, "replica ") {
			t.Fatalf("first request: %d %q, want 200 from the replica", code, body)
		}
		if f.Desired() != 1 {
			t.Errorf("desired = %d after the first request, want 1", f.Desired())
		}
		code, _, body2 := activatorGet(t, srv.URL+"/again")
		if code != http.StatusOK || body2 != body {
			t.Errorf("second request: %d %q, want 200 %q (the same replica)", code, body2, body)
		}
		if n := histogramCount(t, reg, "photobench_runtime_activator_hold_seconds", "echo", ""); n != 1 {
			t.Errorf("activator holds observed: %d, want 1 (only the request at zero)", n)
		}
		if n := histogramCount(t, reg, "photobench_runtime_cold_start_seconds", "echo", platform.PhaseFirstRequest); n != 1 {
			t.Errorf("first_request cold starts observed: %d, want 1", n)
		}
	})

	t.Run("answers health probes at zero without waking a replica", func(t *testing.T) {
		f, _, reg, srv := httpFunction(t, platform.FunctionConfig{
			Name: "idle", ActivatorTimeout: platform.Duration{Duration: 10 * time.Second},
		}, "serve")
		for range 3 {
			if code, _, _ := activatorGet(t, srv.URL+"/healthz"); code != http.StatusOK {
				t.Fatalf("/healthz at zero answered %d, want 200", code)
			}
		}
		if f.Desired() != 0 || len(f.ReadyAddrs()) != 0 {
			t.Errorf("after health probes: desired %d, %d ready; want 0, 0", f.Desired(), len(f.ReadyAddrs()))
		}
		if n := histogramCount(t, reg, "photobench_runtime_activator_hold_seconds", "idle", ""); n != 0 {
			t.Errorf("activator holds observed: %d, want 0", n)
		}
	})

	t.Run("answers 503 when no replica gets ready in time", func(t *testing.T) {
		_, _, reg, srv := httpFunction(t, platform.FunctionConfig{
			Name: "stuck", ActivatorTimeout: platform.Duration{Duration: 300 * time.Millisecond},
		}, "never")
		start := time.Now()
		code, h, body := activatorGet(t, srv.URL+"/v1/photos")
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("answered after %v, want about the 300ms activator timeout", took)
		}
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") != "1" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("got %d Retry-After %q Content-Type %q, want 503, 1, application/json", code, h.Get("Retry-After"), h.Get("Content-Type"))
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code != "unavailable" || e.Error.Message == "" {
			t.Errorf("body %q (%v), want an unavailable JSON error", body, err)
		}
		if n := histogramCount(t, reg, "photobench_runtime_activator_hold_seconds", "stuck", ""); n != 1 {
			t.Errorf("activator holds observed: %d, want 1", n)
		}
	})
}

// TestAutoscale drives an HTTP function with concurrent slow requests: it
// scales up beyond one replica, then back to zero once the load stops and
// the grace period has passed.
func TestAutoscale(t *testing.T) {
	if testing.Short() {
		t.Skip("takes several seconds")
	}
	f, act, _, srv := httpFunction(t, platform.FunctionConfig{
		Name:                   "busy",
		MaxScale:               3,
		ContainerConcurrency:   1,
		TargetUtilization:      100,
		StableWindow:           platform.Duration{Duration: 2 * time.Second},
		ScaleToZeroGracePeriod: platform.Duration{Duration: time.Second},
		ActivatorTimeout:       platform.Duration{Duration: 10 * time.Second},
	}, "serve")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go act.Autoscale(ctx)

	// Three clients, each with one slow request in flight at a time.
	load, stopLoad := context.WithCancel(ctx)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed []string
	)
	for range 3 {
		wg.Go(func() {
			for load.Err() == nil {
				resp, err := http.Get(srv.URL + "/work?sleep=200ms")
				if err != nil {
					mu.Lock()
					failed = append(failed, err.Error())
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					mu.Lock()
					failed = append(failed, resp.Status)
					mu.Unlock()
				}
			}
		})
	}
	waitUntil(t, 10*time.Second, "more than one ready replica under load", func() bool {
		return len(f.ReadyAddrs()) >= 2
	})
	if act.InFlight() == 0 {
		t.Error("no request in flight under load")
	}
	stopLoad()
	wg.Wait()
	if len(failed) > 0 {
		t.Errorf("%d requests failed under load, e.g. %s", len(failed), failed[0])
	}
	waitUntil(t, 15*time.Second, "back to zero after the grace period", func() bool {
		return f.Desired() == 0 && len(f.Replicas()) == 0
	})
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(errors.New("timed out waiting for " + what))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
