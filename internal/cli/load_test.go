package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/cli"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/loadgen"
)

const loadScenario = `name: test
users: 2
mix: {list: 1}
phases:
  - {name: only, duration: 1s, pacer: {type: constant, rate: 2}}
`

func writeScenario(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func noEnv(string) string { return "" }

func TestLoadErrors(t *testing.T) {
	good := writeScenario(t, loadScenario)
	bad := writeScenario(t, strings.Replace(loadScenario, "rate: 2", "rate: 0", 1))
	health503 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer health503.Close()
	wrongSecret := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer wrongSecret.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now

	tests := []struct {
		name string
		args []string
		want []string // all in the one-line message
	}{
		{"no flags", nil, []string{"--scenario is required", "--target is required"}},
		{"every bad flag at once", []string{"--target", "localhost:8080", "--arch", "bad label!", "--secret", "short", "extra"},
			[]string{`unexpected arguments ["extra"]`, "--scenario is required", `--target "localhost:8080" is not an http(s) URL`, `--arch "bad label!"`, "shorter than 16 bytes"}},
		{"unknown flag", []string{"--rate", "5"}, []string{"flag provided but not defined: -rate"}},
		{"missing scenario file", []string{"--scenario", filepath.Join(t.TempDir(), "nope.yaml"), "--target", closed}, []string{"nope.yaml", "no such file"}},
		{"invalid scenario", []string{"--scenario", bad, "--target", closed}, []string{"phases[0].pacer.rate: must be positive"}},
		{"unreachable target", []string{"--scenario", good, "--target", closed}, []string{"target " + closed + " unreachable"}},
		{"tokens rejected", []string{"--scenario", good, "--target", wrongSecret.URL}, []string{"rejects our bearer tokens (401)", "PHOTOBENCH_AUTH_SECRET"}},
		{"unhealthy target", []string{"--scenario", good, "--target", health503.URL}, []string{"target " + health503.URL + " unreachable: /healthz answered 503"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			var stdout, stderr bytes.Buffer
			start := time.Now()
			err := cli.Run(context.Background(), append([]string{"load", "--out", out}, tt.args...), noEnv, &stdout, &stderr)
			if err == nil {
				t.Fatal("no error")
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("failed after %v, want at once (health check bounded by 3 s)", d)
			}
			msg := cli.Message(err)
			for _, w := range tt.want {
				if !strings.Contains(msg, w) || strings.Contains(msg, "\n") {
					t.Errorf("message %q: want one line mentioning %q", msg, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("run directory created (%v) although the run never started", err)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
		})
	}
}

func TestLoadHelp(t *testing.T) {
	var stdout bytes.Buffer
	if err := cli.Run(context.Background(), []string{"load", "-h"}, noEnv, &stdout, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"--scenario", "--target", "--secret", "--out", "--arch", "--cache", "PHOTOBENCH_AUTH_SECRET"} {
		if !strings.Contains(stdout.String(), f) {
			t.Errorf("help lacks %q", f)
		}
	}
}

func readSummary(t *testing.T, dir string) loadgen.Summary {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s loadgen.Summary
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// Ctrl-C (ctx cancelled) against a target that never answers: the run stops
// within a second and writes its partial summary.
func TestLoadInterruptWritesPartial(t *testing.T) {
	stall := make(chan struct{})
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || requests.Add(1) == 1 { // health and token checks pass
			return
		}
		select {
		case <-r.Context().Done():
		case <-stall:
		}
	}))
	defer srv.Close()
	defer close(stall)
	sc := writeScenario(t, strings.NewReplacer("duration: 1s", "duration: 1m", "rate: 2", "rate: 20").Replace(loadScenario))
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var stdout bytes.Buffer
	go func() {
		done <- cli.Run(ctx, []string{"load", "--scenario", sc, "--target", srv.URL, "--out", out}, noEnv, &stdout, &bytes.Buffer{})
	}()
	time.Sleep(1500 * time.Millisecond)
	cancel()
	stopped := time.Now()
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5 s after the interrupt")
	}
	if d := time.Since(stopped); d > time.Second {
		t.Errorf("stopped %v after the interrupt, want within 1 s", d)
	}
	if err == nil || !strings.Contains(err.Error(), "partial") {
		t.Errorf("err = %v, want a partial-results error", err)
	}
	s := readSummary(t, out)
	if !s.Partial || len(s.Phases) != 1 {
		t.Fatalf("summary %+v: want one phase, partial", s)
	}
	if all := s.Phases[0].All; all.Scheduled < 20 || all.Canceled == 0 || all.OK != 0 {
		t.Errorf("summary %+v: want ~30 scheduled, all in flight cancelled", all)
	}
	if !strings.Contains(stdout.String(), "PARTIAL") {
		t.Errorf("table does not say partial:\n%s", stdout.String())
	}
}

// uploadsOK scrapes the monolith's count of successful uploads.
func uploadsOK(t *testing.T, base string) uint64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), `photobench_monolith_uploads_total{outcome="ok"} `); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return uint64(n)
		}
	}
	t.Fatalf("no photobench_monolith_uploads_total{outcome=\"ok\"} in %s/metrics (%v)", base, sc.Err())
	return 0
}

// A short real run against the stack's monolith: every scheduled upload is
// sent and answered 201, and the server counted them.
func TestLoadAgainstMonolith(t *testing.T) {
	env := stacktest.Load(t)
	env.Apps(t)
	if env.MonolithURL == "" {
		t.Fatal("the stack does not run the monolith (no PHOTOBENCH_MONOLITH_URL): run make test, or make up first")
	}
	sc := writeScenario(t, `name: monolith-upload
seed: 4242
users: 2
timeout: 10s
mix: {upload: 1}
photos: {count: 3, sizes: [{megapixels: 0.3}]}
phases:
  - {name: uploads, duration: 5s, pacer: {type: constant, rate: 4}}
`)
	out := t.TempDir()
	before := uploadsOK(t, env.MonolithURL)
	var stdout bytes.Buffer
	err := cli.Run(context.Background(), []string{"load", "--scenario", sc, "--target", env.MonolithURL,
		"--out", out, "--arch", "monolith", "--cache", t.TempDir()},
		func(k string) string {
			if k == "PHOTOBENCH_AUTH_SECRET" {
				return env.AuthSecret
			}
			return ""
		}, &stdout, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	after := uploadsOK(t, env.MonolithURL)
	s := readSummary(t, out)
	ph, ok := s.Phase("uploads")
	if s.Partial || !ok {
		t.Fatalf("summary %+v: want the uploads phase, complete", s)
	}
	up := ph.Ops[loadgen.OpUpload]
	if up.Scheduled != 20 || up.Sent != up.Scheduled || up.OK != up.Sent || up.Errors != 0 || up.Dropped != 0 {
		t.Errorf("uploads %+v: want 20 scheduled, sent and ok", up)
	}
	if up.Latency.Count != int64(up.Sent) || up.Latency.P50 <= 0 {
		t.Errorf("latency %+v: want one value per upload", up.Latency)
	}
	// Tolerance 0 in principle: the server counts exactly the uploads it
	// answered 201. But other tests upload to the same monolith concurrently
	// (go test runs packages in parallel), so its counter may have moved by
	// more; it can never have moved by less.
	if delta := after - before; delta < up.OK || delta > up.OK+50 {
		t.Errorf("server counted %d ok uploads during the run, the summary %d (want equal, up to 50 more from other tests)", delta, up.OK)
	}
	if !strings.Contains(stdout.String(), "upload") || !strings.Contains(stdout.String(), "(monolith)") {
		t.Errorf("summary table:\n%s", stdout.String())
	}
	var info map[string]any
	data, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil || json.Unmarshal(data, &info) != nil || info["arch"] != "monolith" || info["target"] != env.MonolithURL {
		t.Errorf("run.json %s (%v)", data, err)
	}
	// The monolith answers 201 with the photo ready: every upload is ready
	// at its answer, without a single poll.
	if r := ph.Ready; r == nil || r.Followed != up.OK || r.Ready != up.OK || r.Polls != 0 || r.Latency.Count != int64(up.OK) {
		t.Errorf("ready %+v: want all %d uploads ready at their answer, no polls", r, up.OK)
	}
	tags := hlogTags(t, out)
	for _, tag := range []string{"uploads/upload/latency", "uploads/upload/service", "uploads/upload/ready"} {
		if tags[tag] != int64(up.OK) {
			t.Errorf("latency.hlog: %d values tagged %s, want %d (all tags %v)", tags[tag], tag, up.OK, tags)
		}
	}
}

// hlogTags reads the run directory's interval log and returns the number of
// values recorded per tag.
func hlogTags(t *testing.T, dir string) map[string]int64 {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "latency.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ivs, err := loadgen.ReadIntervalLog(f)
	if err != nil {
		t.Fatalf("latency.hlog: %v", err)
	}
	n := map[string]int64{}
	for _, iv := range ivs {
		n[iv.Tag] += iv.Hist.TotalCount()
	}
	return n
}

// A short real run against the event-driven app: uploads are answered 202
// pending and followed until ready, and the generator's metrics reach the
// stack's Prometheus through its registration.
func TestLoadFollowsEventDrivenUploadsAndRegistersMetrics(t *testing.T) {
	env := stacktest.Load(t)
	env.Apps(t)
	sc := writeScenario(t, `name: eventdriven-ready
seed: 4343
users: 2
timeout: 10s
mix: {upload: 1}
photos: {count: 3, sizes: [{megapixels: 0.3}]}
ready: {timeout: 60s, min_poll: 50ms, max_poll: 500ms}
phases:
  - {name: uploads, duration: 6s, pacer: {type: constant, rate: 2}}
`)
	out := t.TempDir()
	arch := "eventdriven-test-" + strconv.Itoa(os.Getpid())
	var stdout bytes.Buffer
	err := cli.Run(context.Background(), []string{"load", "--scenario", sc, "--target", env.EventDrivenURL,
		"--out", out, "--arch", arch, "--cache", t.TempDir()},
		func(k string) string {
			switch k {
			case "PHOTOBENCH_AUTH_SECRET":
				return env.AuthSecret
			case "PHOTOBENCH_PROMETHEUS_SD_DIR":
				return env.SDDir
			case "PHOTOBENCH_PROMETHEUS_URL":
				return env.PrometheusURL
			}
			return ""
		}, &stdout, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, out)
	ph, ok := s.Phase("uploads")
	if !ok {
		t.Fatalf("summary %+v: no uploads phase", s)
	}
	up := ph.Ops[loadgen.OpUpload]
	if up.Scheduled != 12 || up.OK != 12 {
		t.Fatalf("uploads %+v: want 12 scheduled and accepted", up)
	}
	r := ph.Ready
	if r == nil || r.Followed != 12 || r.Ready != 12 {
		t.Fatalf("ready %+v: want all 12 uploads followed until ready", r)
	}
	// Pending at the answer, so each needed at least one poll; ready after
	// the upload was acked, so upload-to-ready is longer than the ack.
	if r.Polls < 12 || r.Latency.Count != 12 || r.Latency.P50 < up.Latency.P50 || r.Observed.P50 < r.Latency.P50 {
		t.Errorf("ready %+v against ack %+v: want at least one poll per photo, ready after ack, observed after ready_at", r, up.Latency)
	}
	if !strings.Contains(stdout.String(), "upload to ready") {
		t.Errorf("summary table has no ready section:\n%s", stdout.String())
	}
	if n := hlogTags(t, out)["uploads/upload/ready"]; n != 12 {
		t.Errorf("latency.hlog: %d ready values, want 12", n)
	}
	// The registration is gone with the run; its scrapes stay, the last one
	// taken after the run ended.
	if files, _ := filepath.Glob(filepath.Join(env.SDDir, "loadgen-*.json")); len(files) != 0 {
		for _, f := range files {
			if data, _ := os.ReadFile(f); strings.Contains(string(data), strconv.Itoa(os.Getpid())) {
				t.Errorf("registration %s left behind", f)
			}
		}
	}
	q := `max_over_time(photobench_loadgen_requests_total{architecture="` + arch + `",operation="upload",outcome="ok"}[5m])`
	var body struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	resp, err := http.Get(env.PrometheusURL + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Data.Result) != 1 {
		t.Fatalf("Prometheus has %d series for %s, want 1: the generator was not scraped", len(body.Data.Result), q)
	}
	v, _ := strconv.ParseFloat(body.Data.Result[0].Value[1].(string), 64)
	if v != 12 {
		t.Errorf("Prometheus scraped %v ok uploads, want 12 as in the summary", v)
	}
}
