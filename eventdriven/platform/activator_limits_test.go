package platform_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven/platform"
)

// replicaCount GETs path on a replica directly and parses its number.
func replicaCount(t *testing.T, addr, path string) int {
	t.Helper()
	_, _, body := activatorGet(t, "http://"+addr+path)
	n, err := strconv.Atoi(strings.TrimSpace(body))
	if err != nil {
		t.Fatalf("%s: %q", path, body)
	}
	return n
}

// answer is one response: its status, Retry-After and JSON error code and
// message (if any).
type answer struct {
	code                int
	retryAfter, errCode string
	message             string
}

func getAnswer(url string) (answer, error) {
	resp, err := http.Get(url)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	var e struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(b, &e) == nil {
		a.errCode, a.message = e.Error.Code, e.Error.Message
	}
	return a, nil
}

// concurrently sends n GETs of url at once and returns their answers.
func concurrently(t *testing.T, n int, url string) []answer {
	t.Helper()
	out := make([]answer, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a, err := getAnswer(url)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
			out[i] = a
		})
	}
	wg.Wait()
	return out
}

func TestActivatorEnforcesContainerConcurrency(t *testing.T) {
	f, _, _, srv := httpFunction(t, platform.FunctionConfig{
		Name: "capped", MaxScale: 1, ContainerConcurrency: 3,
		ActivatorTimeout: platform.Duration{Duration: 30 * time.Second},
	}, "serve")
	if code, _, _ := activatorGet(t, srv.URL+"/warm"); code != http.StatusOK {
		t.Fatalf("warm-up answered %d", code)
	}
	for i, a := range concurrently(t, 12, srv.URL+"/work?sleep=300ms") {
		if a.code != http.StatusOK {
			t.Errorf("request %d: %+v, want 200 (queued, then proxied)", i, a)
		}
	}
	addrs := f.ReadyAddrs()
	if len(addrs) != 1 {
		t.Fatalf("ready replicas %v, want one", addrs)
	}
	if most := replicaCount(t, addrs[0], "/most-in-flight"); most != 3 {
		t.Errorf("the replica had at most %d requests in flight at once; want containerConcurrency, 3", most)
	}
}

func TestActivatorQueueIsBounded(t *testing.T) {
	// One replica of one slot: one request proxied, QueueDepthFactor x 1 x 1
	// = 10 queued (answered 503 once the 1 s timeout passes), the rest
	// answered 503 at once.
	_, _, reg, srv := httpFunction(t, platform.FunctionConfig{
		Name: "narrow", MaxScale: 1, ContainerConcurrency: 1,
		ActivatorTimeout: platform.Duration{Duration: time.Second},
	}, "serve")
	if code, _, _ := activatorGet(t, srv.URL+"/warm"); code != http.StatusOK {
		t.Fatalf("warm-up answered %d", code)
	}
	count := map[string]int{}
	for i, a := range concurrently(t, 13, srv.URL+"/work?sleep=3s") {
		switch {
		case a.code == http.StatusOK:
			count["ok"]++
		case a.code == http.StatusServiceUnavailable && a.retryAfter == "1" && a.errCode == "unavailable" && a.message != "":
			count["503"]++
		default:
			t.Errorf("request %d: %+v, want 200 or 503 with Retry-After 1 and a JSON error", i, a)
		}
	}
	if count["ok"] != 1 || count["503"] != 12 {
		t.Errorf("answers %v, want 1 ok and 12 503", count)
	}
	for reason, want := range map[string]float64{platform.RejectTimeout: 10, platform.RejectQueueFull: 2} {
		if v := metricValue(t, reg, "photobench_runtime_activator_rejected_total", map[string]string{"function": "narrow", "reason": reason}); v != want {
			t.Errorf("rejected{reason=%s} = %v, want %v", reason, v, want)
		}
	}
}

func TestActivatorSlowBody(t *testing.T) {
	f, act, _, _ := httpFunction(t, platform.FunctionConfig{
		Name: "uploads", MaxScale: 1, ContainerConcurrency: 1,
		ActivatorTimeout: platform.Duration{Duration: 30 * time.Second},
	}, "serve")
	srv := httptest.NewUnstartedServer(act)
	srv.Config = platform.NewActivatorServer(act)
	if c := srv.Config; c.ReadHeaderTimeout <= 0 || c.ReadTimeout <= 0 || c.WriteTimeout <= 0 || c.IdleTimeout <= 0 {
		t.Fatalf("activator server timeouts %v %v %v %v; want all set", c.ReadHeaderTimeout, c.ReadTimeout, c.WriteTimeout, c.IdleTimeout)
	}
	srv.Config.ReadTimeout = time.Second // the default 60 s, shortened for the test
	srv.Start()
	t.Cleanup(srv.Close)
	if code, _, _ := activatorGet(t, srv.URL+"/warm"); code != http.StatusOK {
		t.Fatalf("warm-up answered %d", code)
	}

	// Headers, 10 bytes of a 1000-byte body, then nothing.
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/photos HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadAll(bufio.NewReader(conn)); err != nil {
		t.Fatalf("the slow client's connection was not ended by the server: %v", err)
	}
	waitUntil(t, 10*time.Second, "the replica's slot freed", func() bool { return act.InFlight() == 0 })
	if code, _, _ := activatorGet(t, srv.URL+"/after"); code != http.StatusOK {
		t.Errorf("a request after the slow client answered %d, want 200 (its one slot free again)", code)
	}
	if addrs := f.ReadyAddrs(); len(addrs) != 1 || replicaCount(t, addrs[0], "/in-flight") != 0 {
		t.Errorf("replica still busy after the slow client was cut off")
	}
}

// TestRuntimeDrainsActivatorsOnStop stops the runtime process (as SIGTERM
// does) while a request is being proxied: that request is answered, new
// ones are refused at once (503 or a closed listener), and Run returns.
func TestRuntimeDrainsActivatorsOnStop(t *testing.T) {
	t.Setenv(envHTTPReplica, "serve")
	cfg := filepath.Join(t.TempDir(), "functions.yaml")
	if err := os.WriteFile(cfg, []byte("functions:\n  - name: echo\n    kind: http\n    addr: 127.0.0.1:0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &lines{}
	done := make(chan error, 1)
	go func() {
		done <- platform.Run(ctx, []string{"--config", cfg, "--pinned", "--addr", "127.0.0.1:0"},
			func(string) string { return "" }, stdout, t.Output())
	}()
	activator := regexp.MustCompile(`echo activator on (http://\S+)`)
	var base string
	waitUntil(t, 30*time.Second, "the activator listening", func() bool {
		if m := activator.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
		return base != ""
	})
	_, _, body := activatorGet(t, base+"/warm")
	replica := strings.TrimSpace(strings.TrimPrefix(body, "replica "))

	// The runtime's /status shows the function and its replica.
	own := regexp.MustCompile(`runtime listening on (http://\S+)`).FindStringSubmatch(stdout.String())
	if own == nil {
		t.Fatalf("no runtime listening line in %q", stdout.String())
	}
	_, _, status := activatorGet(t, own[1]+"/status")
	var st struct{ Functions []platform.Status }
	if err := json.Unmarshal([]byte(status), &st); err != nil || len(st.Functions) != 1 || st.Functions[0].Name != "echo" ||
		len(st.Functions[0].Replicas) != 1 || st.Functions[0].Replicas[0].Addr != replica || st.Functions[0].CrashLoop {
		t.Errorf("/status %s (%v); want echo with its one replica at %s, no crash loop", status, err, replica)
	}

	slow := make(chan answer, 1)
	go func() {
		a, err := getAnswer(base + "/work?sleep=2s")
		if err != nil {
			t.Errorf("the request in flight at the stop: %v", err)
		}
		slow <- a
	}()
	waitUntil(t, 10*time.Second, "the slow request at the replica", func() bool { return replicaCount(t, replica, "/in-flight") == 1 })
	cancel()

	for range 5 {
		a, err := getAnswer(base + "/new")
		if err == nil && (a.code != http.StatusServiceUnavailable || !strings.Contains(a.message, "shutting down")) {
			t.Errorf("a new request after the stop: %+v; want refused (503 shutting down, or no listener)", a)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a := <-slow; a.code != http.StatusOK {
		t.Errorf("the request in flight at the stop: %+v, want 200", a)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after the stop")
	}
}

// lines is an io.Writer safe for concurrent use, read back as a string.
type lines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
