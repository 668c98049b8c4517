package eventdriven_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
)

// BenchmarkColdStarts measures cold starts of every function under the
// scale-to-zero runtime that make up runs: each cycle waits until every
// function is at zero replicas, uploads one photo through the front and
// reads it until it is ready (waking ingest, query, thumbnailer, tagger and
// catalog), then reads the runtime's log for the cold starts of that cycle:
// process ready, first event handled (event functions), first request
// answered (HTTP functions), each from the replica's start. It reports p50
// and p99 per function and phase over b.N cycles (run with -benchtime 20x).
//
//	make up
//	go test -run '^$' -bench ColdStarts -benchtime 20x -timeout 30m ./eventdriven/
func BenchmarkColdStarts(b *testing.B) {
	env := stacktest.Load(b)
	env.Apps(b)
	logPath := filepath.Join(env.StackDir, "logs", "runtime.log")
	c := newClient(b, env, user("cold"))
	img := synth.JPEG(synth.Options{Seed: 77, Width: 1200, Height: 900})
	samples := map[string][]float64{}
	for range b.N {
		waitAllAtZero(b, 2*time.Minute)
		offset := fileSize(logPath)
		id := c.upload(img)
		if p := c.waitFinal(id, 2*time.Minute); p.Status != "ready" {
			b.Fatalf("photo %s ended %s", id, p.Status)
		}
		time.Sleep(500 * time.Millisecond) // let the last log lines land
		for k, v := range coldStartsSince(b, logPath, offset) {
			samples[k] = append(samples[k], v...)
		}
	}
	for k, v := range samples {
		b.ReportMetric(pct(v, 50), k+"_p50_ms")
		b.ReportMetric(pct(v, 99), k+"_p99_ms")
		b.ReportMetric(float64(len(v)), k+"_n")
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// coldStartsSince parses the runtime's JSON log from offset and returns
// cold-start durations in ms keyed function_phase.
func coldStartsSince(b *testing.B, path string, offset int64) map[string][]float64 {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	f.Seek(offset, 0)
	phases := map[string]string{
		"replica ready":                      "process_ready",
		"replica handled its first event":    "first_event",
		"replica answered its first request": "first_request",
	}
	out := map[string][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct {
			Msg      string `json:"msg"`
			Function string `json:"function"`
			After    string `json:"after"`
		}
		if json.Unmarshal(sc.Bytes(), &l) != nil || phases[l.Msg] == "" {
			continue
		}
		d, err := time.ParseDuration(l.After)
		if err != nil {
			continue
		}
		k := l.Function + "_" + phases[l.Msg]
		out[k] = append(out[k], float64(d)/float64(time.Millisecond))
	}
	return out
}

// waitAllAtZero waits until the runtime runs no replica.
func waitAllAtZero(b *testing.B, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://127.0.0.1:18096/metrics")
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		running := false
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "photobench_runtime_replicas{") && !strings.HasSuffix(line, " 0") {
				running = true
			}
		}
		resp.Body.Close()
		if !running {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Fatal("functions did not scale to zero")
}
