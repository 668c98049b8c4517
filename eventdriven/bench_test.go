package eventdriven_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
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
	"github.com/photobench/photobench/internal/procstat"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
)

// BenchmarkSideBySide runs the three variants of the running stack (make
// up: the event-driven functions scaled by the runtime, as they are meant
// to run; the vision service at zero added latency) on the same synthetic
// photos (2 MP JPEGs), one after the other, and reports for each (prefix
// mono_, async_, ed_):
//
//   - photos/s: sustained uploads per second at saturation (8 clients, 120
//     photos), until the last photo is ready (the sync monolith's 201 is
//     ready);
//   - cpu_s/photo: CPU-seconds per photo over that saturation window, of
//     the variant's processes and the servers it uses, read from /proc
//     (process trees, reaped children included): the monoliths with
//     PostgreSQL, the event-driven app (runtime and every replica, front)
//     with PostgreSQL, Kafka and MinIO; the vision service for all;
//   - at half the event-driven saturation rate, open loop for 20 s: ack
//     p50/p99 and upload-to-ready p50/p99 in ms, ready measured from the
//     upload's intended start to the ready_at its server wrote (same
//     clock); the sync monolith's ready is its ack;
//   - the same at half of the variant's own saturation rate (own_ prefix).
//
// Where the event-driven time goes at the common rate: MinIO's
// notification delay (notify_p50_ms), each function's mean delivery delay
// and handling time.
//
// It is bounded (a fixed count and duration) and talks to loopback only.
//
//	make up
//	go test -run '^$' -bench SideBySide -benchtime 1x -count 3 -timeout 60m ./eventdriven/
func BenchmarkSideBySide(b *testing.B) {
	env := stacktest.Load(b)
	env.Apps(b)
	if env.MonolithAsyncURL == "" {
		b.Fatal("the stack does not run the asynchronous monolith (PHOTOBENCH_MONOLITH_ASYNC_URL): make up")
	}
	imgs := make([][]byte, 8)
	for i := range imgs {
		imgs[i] = synth.JPEG(synth.Options{Seed: uint64(900 + i), Width: 1600, Height: 1200})
	}
	iss, err := auth.NewIssuer([]byte(env.AuthSecret))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	catalogDB, err := pgx.Connect(ctx, env.CatalogDSN)
	if err != nil {
		b.Fatal(err)
	}
	defer catalogDB.Close(ctx)
	asyncDB, err := pgx.Connect(ctx, databaseDSN(b, env.PGDSN, "monolith_async"))
	if err != nil {
		b.Fatal(err)
	}
	defer asyncDB.Close(ctx)
	pids := stackPIDs(b, env.StackDir)
	servers := []string{"postgres", "vision"}
	vs := []variant{
		{name: "mono", url: env.MonolithURL, status: http.StatusCreated, procs: append([]string{"monolith"}, servers...)},
		{name: "async", url: env.MonolithAsyncURL, status: http.StatusAccepted, db: asyncDB, procs: append([]string{"monolith-async"}, servers...)},
		{name: "ed", url: env.EventDrivenURL, status: http.StatusAccepted, db: catalogDB, procs: append([]string{"runtime", "front", "kafka", "minio"}, servers...)},
	}
	owner := func(tag string) (string, string) {
		u := user("bench-" + tag)
		tok, err := iss.Mint(u, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		return u, tok
	}

	for range b.N {
		const n = 120
		sat := map[string]float64{}
		for _, v := range vs {
			u, tok := owner(v.name + "-sat")
			cpu0, start := treeCPU(b, pids, v.procs), time.Now()
			saturate(b, v.url, tok, imgs, n, v.status)
			if v.db != nil {
				waitReady(b, v.db, u, n, 5*time.Minute)
			}
			sat[v.name] = float64(n) / time.Since(start).Seconds()
			b.ReportMetric(sat[v.name], v.name+"_photos/s")
			b.ReportMetric((treeCPU(b, pids, v.procs)-cpu0)/n, v.name+"_cpu_s/photo")
		}

		rate := sat["ed"] / 2
		b.ReportMetric(rate, "half_rate/s")
		for _, v := range vs {
			u, tok := owner(v.name + "-half")
			var objects <-chan kgo.Message
			var before map[string][2]float64
			if v.name == "ed" {
				objects = stacktest.TailTopic(b, env.KafkaBrokers, deploy.TopicObjects)
				before = scrapeStages(b, env.SDDir)
			}
			ack, ready := v.halfRate(b, u, tok, imgs, rate)
			report(b, v.name, ack, ready)
			if v.name == "ed" {
				after := scrapeStages(b, env.SDDir)
				notify := notificationDelays(objects, u, len(ack))
				b.ReportMetric(pct(notify, 50), "notify_p50_ms")
				b.ReportMetric(pct(notify, 99), "notify_p99_ms")
				for k, x := range after {
					if c := x[1] - before[k][1]; c > 0 {
						b.ReportMetric((x[0]-before[k][0])/c*1000, k+"_mean_ms")
					}
				}
			}
		}
		for _, v := range vs {
			u, tok := owner(v.name + "-own")
			ack, ready := v.halfRate(b, u, tok, imgs, sat[v.name]/2)
			report(b, "own_"+v.name, ack, ready)
		}
	}
}

// variant is one of the three apps the benchmark drives: where it is, what
// its upload answers, where its ready photos are recorded (nil: the answer
// is ready) and which of the stack's processes do its work.
type variant struct {
	name, url string
	status    int
	db        *pgx.Conn
	procs     []string
}

// halfRate runs 20 s of open-loop uploads at rate and returns each
// upload's ack latency and its upload-to-ready latency, in ms.
func (v variant) halfRate(b *testing.B, owner, tok string, imgs [][]byte, rate float64) (ack, ready []float64) {
	ups := openLoop(b, v.url, tok, imgs, rate, 20*time.Second, v.status)
	for _, u := range ups {
		ack = append(ack, u.ms)
	}
	if v.db == nil {
		return ack, ack
	}
	return ack, readySince(b, v.db, owner, ups, 5*time.Minute)
}

func report(b *testing.B, prefix string, ack, ready []float64) {
	b.ReportMetric(pct(ack, 50), prefix+"_ack_p50_ms")
	b.ReportMetric(pct(ack, 99), prefix+"_ack_p99_ms")
	b.ReportMetric(pct(ready, 50), prefix+"_ready_p50_ms")
	b.ReportMetric(pct(ready, 99), prefix+"_ready_p99_ms")
}

// databaseDSN is dsn with its database replaced by name.
func databaseDSN(b *testing.B, dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// stackPIDs reads the pids of the services the stack in dir runs.
func stackPIDs(b *testing.B, dir string) map[string]int {
	cfg, err := stack.LoadConfig(func(k string) string {
		if k == "PHOTOBENCH_STACK_DIR" {
			return dir
		}
		return os.Getenv(k)
	}, dir)
	if err != nil {
		b.Fatal(err)
	}
	return stack.PIDs(cfg)
}

// treeCPU is the CPU-seconds the named services' process trees used so
// far.
func treeCPU(b *testing.B, pids map[string]int, names []string) float64 {
	procs := procstat.Scan("/proc")
	var total float64
	for _, n := range names {
		u, ok := procstat.Tree(procs, pids[n])
		if !ok {
			b.Fatalf("%s (pid %d) is not running", n, pids[n])
		}
		total += u.CPUSeconds
	}
	return total
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
				if _, code, err := postID(url, tok, imgs[i%int64(len(imgs))]); err != nil || code != want {
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

// upload is one open-loop upload: the photo's id, when it was due, and
// its ack latency from then, in ms.
type upload struct {
	id  string
	due time.Time
	ms  float64
}

// openLoop starts uploads on a fixed schedule, never waiting for earlier
// ones, and returns them.
func openLoop(b *testing.B, url, tok string, imgs [][]byte, rate float64, d time.Duration, want int) []upload {
	n := int(rate * d.Seconds())
	ups := make([]upload, n)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		time.Sleep(time.Until(due))
		wg.Go(func() {
			id, code, err := postID(url, tok, imgs[i%len(imgs)])
			if err != nil || code != want {
				failed.Add(1)
			}
			ups[i] = upload{id: id, due: due, ms: float64(time.Since(due)) / float64(time.Millisecond)}
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%s: %d of %d uploads failed", url, f, n)
	}
	return ups
}

// postID uploads one photo and returns its id from the answer.
func postID(url, tok string, img []byte) (string, int, error) {
	req, _ := http.NewRequest("POST", url+"/v1/photos", bytes.NewReader(img))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var p struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&p)
	return p.ID, resp.StatusCode, nil
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

// readySince waits until the uploads of owner are ready and returns each
// one's upload-to-ready latency in ms: from when the upload was due to the
// ready_at its server recorded (the same machine's clock).
func readySince(b *testing.B, db *pgx.Conn, owner string, ups []upload, timeout time.Duration) []float64 {
	waitReady(b, db, owner, len(ups), timeout)
	rows, err := db.Query(context.Background(), `SELECT id::text, ready_at FROM photos WHERE owner = $1`, owner)
	if err != nil {
		b.Fatal(err)
	}
	readyAt := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			b.Fatal(err)
		}
		readyAt[id] = at
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	out := make([]float64, 0, len(ups))
	for _, u := range ups {
		at, ok := readyAt[u.id]
		if !ok {
			b.Fatalf("photo %s of %s has no ready_at", u.id, owner)
		}
		out = append(out, float64(at.Sub(u.due))/float64(time.Millisecond))
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
