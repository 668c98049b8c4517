package stack_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/segmentio/kafka-go"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/s3event"
	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stacktest"
)

func randomSuffix(t *testing.T) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestPostgresCreateDatabaseAndRoundTripRow(t *testing.T) {
	env := stacktest.Load(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	admin, err := pgx.Connect(ctx, env.PGDSN)
	if err != nil {
		t.Fatalf("connect %s: %v", env.PGDSN, err)
	}
	defer admin.Close(context.Background())

	db := "pbtest_" + randomSuffix(t)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		c, err := pgx.Connect(ctx, env.PGDSN)
		if err == nil {
			_, err = c.Exec(ctx, "DROP DATABASE "+db+" WITH (FORCE)")
			c.Close(ctx)
		}
		if err != nil {
			t.Errorf("drop database %s: %v", db, err)
		}
	})

	cfg, err := pgx.ParseConfig(env.PGDSN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = db
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect to new database: %v", err)
	}
	defer conn.Close(context.Background())

	if _, err := conn.Exec(ctx, `CREATE TABLE photo (id text PRIMARY KEY, width int NOT NULL, tags text[] NOT NULL, created timestamptz NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	if _, err := conn.Exec(ctx, `INSERT INTO photo VALUES ($1, $2, $3, $4)`, "p1", 640, []string{"blue", "landscape"}, created); err != nil {
		t.Fatal(err)
	}
	var (
		width int
		tags  []string
		got   time.Time
	)
	if err := conn.QueryRow(ctx, `SELECT width, tags, created FROM photo WHERE id = $1`, "p1").Scan(&width, &tags, &got); err != nil {
		t.Fatal(err)
	}
	if width != 640 || strings.Join(tags, ",") != "blue,landscape" || !got.Equal(created) {
		t.Fatalf("round trip gave width=%d tags=%v created=%v", width, tags, got)
	}
}

func TestKafkaProduceConsumeInGroupAndCommit(t *testing.T) {
	env := stacktest.Load(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	topic := "test.kafka." + randomSuffix(t)
	client := &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers), Timeout: 10 * time.Second}
	resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 4, ReplicationFactor: 1}}})
	if err != nil || resp.Errors[topic] != nil {
		t.Fatalf("create topic: %v %v", err, resp)
	}
	t.Cleanup(func() {
		if _, err := client.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}}); err != nil {
			t.Errorf("delete topic: %v", err)
		}
	})

	const n = 20
	w := &kafka.Writer{Addr: kafka.TCP(env.KafkaBrokers), Topic: topic, Balancer: &kafka.Hash{}, BatchTimeout: 10 * time.Millisecond, RequiredAcks: kafka.RequireAll}
	defer w.Close()
	var msgs []kafka.Message
	for i := range n {
		msgs = append(msgs, kafka.Message{Key: []byte(fmt.Sprintf("photo-%d", i)), Value: []byte(fmt.Sprintf("event %d", i))})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}

	group := "test-group-" + randomSuffix(t)
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: []string{env.KafkaBrokers}, GroupID: group, Topic: topic,
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond,
	})
	defer r.Close()
	seen := map[string]bool{}
	lastOffset := map[int]int64{}
	for len(seen) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("fetch after %d of %d messages: %v", len(seen), n, err)
		}
		if seen[string(m.Value)] {
			t.Fatalf("message %q delivered twice", m.Value)
		}
		seen[string(m.Value)] = true
		lastOffset[m.Partition] = m.Offset
		if err := r.CommitMessages(ctx, m); err != nil {
			t.Fatalf("commit: %v", err)
		}
	}

	var parts []int
	for p := range 4 {
		parts = append(parts, p)
	}
	off, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		t.Fatalf("offset fetch: %v", err)
	}
	var total int64
	for _, p := range off.Topics[topic] {
		if p.Error != nil {
			t.Fatalf("partition %d: %v", p.Partition, p.Error)
		}
		if last, ok := lastOffset[p.Partition]; ok {
			if p.CommittedOffset != last+1 {
				t.Errorf("partition %d: committed offset %d, want %d (last consumed + 1)", p.Partition, p.CommittedOffset, last+1)
			}
			total += p.CommittedOffset
		}
	}
	if total != n {
		t.Errorf("committed offsets add up to %d, want %d", total, n)
	}
}

func TestMinIOPublishesObjectEventsToKafka(t *testing.T) {
	env := stacktest.Load(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	events := stacktest.TailTopic(t, env.KafkaBrokers, deploy.TopicObjects)
	u, err := url.Parse(env.S3Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := miniogo.New(u.Host, &miniogo.Options{Creds: credentials.NewStaticV4(env.S3AccessKey, env.S3SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	// A space and a plus sign: MinIO URL-encodes keys in its records.
	key := "users/test-" + randomSuffix(t) + "/my photo+1.jpg"
	body := []byte("not really a jpeg")
	put := time.Now()
	if _, err := mc.PutObject(ctx, deploy.BucketOriginals, key, bytes.NewReader(body), int64(len(body)), miniogo.PutObjectOptions{ContentType: "image/jpeg"}); err != nil {
		t.Fatalf("put: %v", err)
	}
	rec := waitForEvent(t, ctx, events, key, "s3:ObjectCreated:")
	t.Logf("ObjectCreated arrived %v after the PUT", time.Since(put))
	if rec.S3.Bucket.Name != deploy.BucketOriginals || rec.S3.Object.Size != int64(len(body)) || rec.S3.Object.Sequencer == "" {
		t.Errorf("record: bucket %q size %d sequencer %q", rec.S3.Bucket.Name, rec.S3.Object.Size, rec.S3.Object.Sequencer)
	}

	if err := mc.RemoveObject(ctx, deploy.BucketOriginals, key, miniogo.RemoveObjectOptions{}); err != nil {
		t.Fatalf("remove: %v", err)
	}
	del := waitForEvent(t, ctx, events, key, "s3:ObjectRemoved:")
	if !s3event.Later(del.S3.Object.Sequencer, rec.S3.Object.Sequencer) {
		t.Errorf("removal sequencer %s does not order after creation %s", del.S3.Object.Sequencer, rec.S3.Object.Sequencer)
	}
}

// waitForEvent reads notifications until one for key with the event name
// prefix arrives, ignoring others (other tests share the topic).
func waitForEvent(t *testing.T, ctx context.Context, events <-chan kafka.Message, key, prefix string) s3event.Record {
	t.Helper()
	for {
		select {
		case m := <-events:
			msg, err := s3event.Parse(m.Value)
			if err != nil {
				t.Fatalf("unparseable notification: %v\n%s", err, m.Value)
			}
			for _, r := range msg.Records {
				if r.S3.Object.Key == key && strings.HasPrefix(r.EventName, prefix) {
					return r
				}
			}
		case <-ctx.Done():
			t.Fatalf("no %s* notification for %q on %s", prefix, key, deploy.TopicObjects)
		}
	}
}

func TestPrometheusScrapesRegisteredTargets(t *testing.T) {
	env := stacktest.Load(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "# TYPE photobench_test_value gauge\nphotobench_test_value 42")
	})}
	go srv.Serve(ln)
	defer srv.Close()

	component := "test-" + randomSuffix(t)
	unregister, err := promsd.Register(env.SDDir, promsd.Target{Name: component, Addr: ln.Addr().String(), Labels: map[string]string{"component": component}})
	if err != nil {
		t.Fatal(err)
	}
	defer unregister()

	query := fmt.Sprintf(`up{job="photobench",component=%q}`, component)
	waitFor(t, ctx, "Prometheus to scrape the registered target", func() (bool, error) {
		res, err := promQuery(ctx, env.PrometheusURL, query)
		return len(res) == 1 && res[0].Value[1] == "1", err
	})
	res, err := promQuery(ctx, env.PrometheusURL, fmt.Sprintf(`photobench_test_value{component=%q}`, component))
	if err != nil || len(res) != 1 || res[0].Value[1] != "42" || res[0].Metric["instance"] != ln.Addr().String() {
		t.Fatalf("scraped value: %+v, %v", res, err)
	}

	if err := unregister(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the target to leave Prometheus after unregistering", func() (bool, error) {
		active, err := activeTargets(ctx, env.PrometheusURL)
		return !active[ln.Addr().String()], err
	})
}

func TestPrometheusScrapesItselfAndMinIO(t *testing.T) {
	env := stacktest.Load(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, job := range []string{"prometheus", "minio"} {
		t.Run(job, func(t *testing.T) {
			waitFor(t, ctx, job+" to be up", func() (bool, error) {
				res, err := promQuery(ctx, env.PrometheusURL, fmt.Sprintf(`up{job=%q}`, job))
				return len(res) == 1 && res[0].Value[1] == "1", err
			})
		})
	}
}

type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func promQuery(ctx context.Context, base, q string) ([]promSample, error) {
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Result []promSample `json:"result"`
		} `json:"data"`
	}
	if err := getJSON(ctx, base+"/api/v1/query?query="+url.QueryEscape(q), &body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("query %s: status %s", q, body.Status)
	}
	return body.Data.Result, nil
}

func activeTargets(ctx context.Context, base string) (map[string]bool, error) {
	var body struct {
		Data struct {
			ActiveTargets []struct {
				Labels map[string]string `json:"labels"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := getJSON(ctx, base+"/api/v1/targets?state=active", &body); err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, t := range body.Data.ActiveTargets {
		m[t.Labels["instance"]] = true
	}
	return m, nil
}

func getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// waitFor polls cond every 200 ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s (last error: %v)", what, lastErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
