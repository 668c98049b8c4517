package eventdriven_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	kgo "github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
)

// BenchmarkSideBySide runs both architectures of the running stack (make
// up with PHOTOBENCH_RUNTIME_PINNED=on: one replica per function; the vision
// service at zero added latency)
// on the same synthetic photos, back to back, and reports:
//
//   - mono_photos/s, ed_photos/s: sustained uploads per second at
//     saturation (8 clients, 120 photos); for the event-driven app, until
//     every photo is ready;
//   - at half the event-driven saturation rate, open loop for 20 s: the
//     monolith's ack latency (= its ready latency) and the event-driven
//     app's ack and upload-to-ready latency, p50 and p99, in ms.
//
// It is bounded (a fixed count and duration) and talks to loopback only.
//
//	PHOTOBENCH_RUNTIME_PINNED=on make up
//	go test -run '^$' -bench SideBySide -benchtime 1x -count 3 -timeout 30m ./eventdriven/
func BenchmarkSideBySide(b *testing.B) {
	env := stacktest.Load(b)
	env.Apps(b)
	imgs := make([][]byte, 8)
	for i := range imgs {
		imgs[i] = synth.JPEG(synth.Options{Seed: uint64(900 + i), Width: 1600, Height: 1200})
	}
	iss, err := auth.NewIssuer([]byte(env.AuthSecret))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	db, err := pgx.Connect(ctx, env.CatalogDSN)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close(ctx)

	for range b.N {
		owner := func(tag string) (string, string) {
			u := user("bench-" + tag)
			tok, err := iss.Mint(u, time.Hour)
			if err != nil {
				b.Fatal(err)
			}
			return u, tok
		}
		const n = 120
		_, tok := owner("mono-sat")
		mono := saturate(b, env.MonolithURL, tok, imgs, n, http.StatusCreated)
		edUser, tok := owner("ed-sat")
		start := time.Now()
		saturate(b, env.EventDrivenURL, tok, imgs, n, http.StatusAccepted)
		waitReady(b, db, edUser, n, 5*time.Minute)
		ed := float64(n) / time.Since(start).Seconds()
		b.ReportMetric(mono, "mono_photos/s")
		b.ReportMetric(ed, "ed_photos/s")

		rate := ed / 2
		_, tok = owner("mono-half")
		monoAck := openLoop(b, env.MonolithURL, tok, imgs, rate, 20*time.Second, http.StatusCreated)
		edUser, tok = owner("ed-half")
		objects := stacktest.TailTopic(b, env.KafkaBrokers, deploy.TopicObjects)
		before := scrapeStages(b, env.SDDir)
		edAck := openLoop(b, env.EventDrivenURL, tok, imgs, rate, 20*time.Second, http.StatusAccepted)
		edReady := readyLatencies(b, db, edUser, len(edAck), 5*time.Minute)
		after := scrapeStages(b, env.SDDir)
		notify := notificationDelays(objects, edUser, len(edAck))
		b.ReportMetric(pct(notify, 50), "notify_p50_ms")
		b.ReportMetric(pct(notify, 99), "notify_p99_ms")
		for k, v := range after {
			if n := v[1] - before[k][1]; n > 0 {
				b.ReportMetric((v[0]-before[k][0])/n*1000, k+"_mean_ms")
			}
		}
		b.ReportMetric(rate, "half_rate/s")
		b.ReportMetric(pct(monoAck, 50), "mono_ack_p50_ms")
		b.ReportMetric(pct(monoAck, 99), "mono_ack_p99_ms")
		b.ReportMetric(pct(edAck, 50), "ed_ack_p50_ms")
		b.ReportMetric(pct(edAck, 99), "ed_ack_p99_ms")
		b.ReportMetric(pct(edReady, 50), "ed_ready_p50_ms")
		b.ReportMetric(pct(edReady, 99), "ed_ready_p99_ms")
	}
}

func post(url, tok string, img []byte) (int, error) {
	req, _ := http.NewRequest("POST", url+"/v1/photos", bytes.NewReader(img))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// saturate posts n photos from 8 concurrent clients and returns the ack
// rate.
func saturate(b *testing.B, url, tok string, imgs [][]byte, n int, want int) float64 {
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if code, err := post(url, tok, imgs[i%int64(len(imgs))]); err != nil || code != want {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%s: %d of %d uploads failed", url, f, n)
	}
	return float64(n) / time.Since(start).Seconds()
}

// openLoop starts uploads on a fixed schedule, never waiting for earlier
// ones, and returns each one's latency in ms from its intended start.
func openLoop(b *testing.B, url, tok string, imgs [][]byte, rate float64, d time.Duration, want int) []float64 {
	n := int(rate * d.Seconds())
	lat := make([]float64, n)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		time.Sleep(time.Until(due))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, err := post(url, tok, imgs[i%len(imgs)]); err != nil || code != want {
				failed.Add(1)
			}
			lat[i] = float64(time.Since(due)) / float64(time.Millisecond)
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%s: %d of %d uploads failed", url, f, n)
	}
	return lat
}

func waitReady(b *testing.B, db *pgx.Conn, owner string, n int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		var ready int
		if err := db.QueryRow(context.Background(), `SELECT count(*) FROM photos WHERE owner = $1 AND status = 'ready'`, owner).Scan(&ready); err != nil {
			b.Fatal(err)
		}
		if ready == n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d photos ready after %s", ready, n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readyLatencies waits for n photos of owner and returns their
// upload-to-ready latencies in ms, as the catalog recorded them.
func readyLatencies(b *testing.B, db *pgx.Conn, owner string, n int, timeout time.Duration) []float64 {
	waitReady(b, db, owner, n, timeout)
	rows, err := db.Query(context.Background(), `SELECT EXTRACT(EPOCH FROM ready_at - created_at) * 1000 FROM photos WHERE owner = $1`, owner)
	if err != nil {
		b.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[float64])
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func pct(v []float64, p float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

// notificationDelays reads MinIO's object-created records of owner from
// photos.objects and returns, per photo, the time from the upload (ingest's
// created-at) to the record's Kafka timestamp, in ms: MinIO's part of the
// ready path.
func notificationDelays(msgs <-chan kgo.Message, owner string, n int) []float64 {
	var out []float64
	timeout := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case m := <-msgs:
			objs, err := eventdriven.Originals(m.Value, deploy.BucketOriginals)
			if err != nil {
				continue
			}
			for _, o := range objs {
				if o.Owner == owner && o.Record.Created() {
					out = append(out, float64(m.Time.Sub(o.CreatedAt))/float64(time.Millisecond))
				}
			}
		case <-timeout:
			return out
		}
	}
	return out
}

var sumCount = regexp.MustCompile(`^(photobench_event_(?:delivery_delay|handling_duration)_seconds)_(sum|count)\{function="(\w+)",topic="([\w.]+)"\} (\S+)$`)

// scrapeStages reads the event functions' delivery-delay and handling
// histograms (sum, count) from every replica's /metrics, summed per
// function, keyed by function_topic_metric. Replicas are found in
// Prometheus's discovery files, where the runtime registers them. (A
// replica that stopped during the phase takes its counts with it, so run
// the comparison with PHOTOBENCH_RUNTIME_PINNED=on.)
func scrapeStages(b *testing.B, sdDir string) map[string][2]float64 {
	out := map[string][2]float64{}
	files, _ := filepath.Glob(filepath.Join(sdDir, "replica-*.json"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		var groups []struct {
			Targets []string `json:"targets"`
		}
		if json.Unmarshal(raw, &groups) != nil || len(groups) == 0 || len(groups[0].Targets) == 0 {
			continue
		}
		resp, err := http.Get("http://" + groups[0].Targets[0] + "/metrics")
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(body), "\n") {
			m := sumCount.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			v, _ := strconv.ParseFloat(m[5], 64)
			short := strings.TrimSuffix(strings.TrimPrefix(m[1], "photobench_event_"), "_seconds")
			key := m[3] + "_" + strings.ReplaceAll(m[4], ".", "_") + "_" + short
			e := out[key]
			if m[2] == "sum" {
				e[0] += v
			} else {
				e[1] += v
			}
			out[key] = e
		}
	}
	return out
}
