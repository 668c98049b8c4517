package reconciler_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/reconciler"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/photo/storetest"
)

// fixture is a reconciler over a bucket of its own (no notifications: every
// object's event is "lost"), a fresh catalog database and a fresh topic,
// all on the stack's servers.
type fixture struct {
	r      *reconciler.Reconciler
	store  *s3store.Store
	cat    *catalog.Store
	bucket string
	out    <-chan []byte // the values published to the topic
	owner  string
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := stacktest.Load(t)
	ctx := context.Background()
	f := &fixture{bucket: "pbtest-reconciler-" + randomHex(4), owner: "test-reconciler-" + randomHex(4)}

	endpoint := strings.TrimPrefix(strings.TrimPrefix(env.S3Endpoint, "http://"), "https://")
	mc, err := miniogo.New(endpoint, &miniogo.Options{Creds: credentials.NewStaticV4(env.S3AccessKey, env.S3SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(ctx, f.bucket, miniogo.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for o := range mc.ListObjects(ctx, f.bucket, miniogo.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				mc.RemoveObject(ctx, f.bucket, o.Key, miniogo.RemoveObjectOptions{})
			}
		}
		if err := mc.RemoveBucket(ctx, f.bucket); err != nil {
			t.Errorf("remove bucket %s: %v", f.bucket, err)
		}
	})
	store, err := s3store.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.store = store.WithBuckets(f.bucket, f.bucket)

	f.cat, err = catalog.Open(ctx, storetest.FreshDatabase(t, env.PGDSN, "pbtest_reconciler_"), 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.cat.Close)

	brokers := strings.Split(env.KafkaBrokers, ",")
	topic := "reconcilertest." + randomHex(4)
	stacktest.CreateTopic(t, brokers, topic, 1)
	prod := kafka.NewProducer(brokers, kafka.ProducerOptions{})
	t.Cleanup(func() { prod.Close() })
	msgs := stacktest.TailTopic(t, env.KafkaBrokers, topic)
	out := make(chan []byte, 64)
	go func() {
		for m := range msgs {
			out <- m.Value
		}
	}()
	f.out = out
	f.r = &reconciler.Reconciler{
		Originals: f.store, Bucket: f.bucket, Catalog: f.cat, Out: prod, Topic: topic,
		MinAge: 10 * time.Second,
	}
	return f
}

// put stores an original the way ingest does and returns its id.
func (f *fixture) put(t *testing.T, createdAt time.Time) string {
	t.Helper()
	id := photo.NewID()
	if err := f.store.PutOriginal(context.Background(), f.owner, id, []byte("not decoded here"), "image/jpeg", createdAt); err != nil {
		t.Fatal(err)
	}
	return id
}

// published collects what reaches the topic within d.
func (f *fixture) published(d time.Duration) [][]byte {
	var got [][]byte
	deadline := time.After(d)
	for {
		select {
		case v := <-f.out:
			got = append(got, v)
		case <-deadline:
			return got
		}
	}
}

func TestRunPublishesOnlyTheEventsTheCatalogNeverSaw(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	created := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	seen, lost, deleted := f.put(t, created), f.put(t, created), f.put(t, created)
	if err := f.cat.ObjectCreated(ctx, seen, f.owner, 16, created, "1"); err != nil {
		t.Fatal(err)
	}
	if err := f.cat.ObjectRemoved(ctx, deleted, f.owner, "2"); err != nil { // a tombstone
		t.Fatal(err)
	}

	// Just stored: too young to call its event lost.
	f.r.Now = time.Now
	res, err := f.r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res != (reconciler.Result{}) {
		t.Errorf("young originals: %+v, want nothing checked or published", res)
	}

	// A minute later, the one original the catalog has no row for is
	// published again, once.
	f.r.Now = func() time.Time { return time.Now().Add(time.Minute) }
	res, err = f.r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (reconciler.Result{Checked: 3, Reconciled: 1}); res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	got := f.published(3 * time.Second)
	if len(got) != 1 {
		t.Fatalf("%d messages published, want 1", len(got))
	}
	objs, err := eventdriven.Originals(got[0], f.bucket)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("%d object records, want 1: %s", len(objs), got[0])
	}
	o := objs[0]
	if o.ID != lost || o.Owner != f.owner || !o.Record.Created() || o.Record.S3.Object.Size != int64(len("not decoded here")) {
		t.Errorf("record about %s/%s (created %v, size %d), want %s/%s created, size 16", o.Owner, o.ID, o.Record.Created(), o.Record.S3.Object.Size, f.owner, lost)
	}
	if !o.CreatedAt.Equal(created) {
		t.Errorf("created at %v, want the upload's %v (from ingest's metadata)", o.CreatedAt, created)
	}
	if o.Version == "" || o.Record.EventSource != reconciler.Source {
		t.Errorf("version %q, source %q: want a sequencer and %q", o.Version, o.Record.EventSource, reconciler.Source)
	}

	// Once the catalog has applied it, nothing is left to publish.
	if err := f.cat.ObjectCreated(ctx, o.ID, o.Owner, o.Record.S3.Object.Size, o.CreatedAt, o.Version); err != nil {
		t.Fatal(err)
	}
	res, err = f.r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reconciled != 0 || res.Checked != 3 {
		t.Errorf("after the catalog caught up: %+v, want 3 checked, 0 published", res)
	}
	if extra := f.published(time.Second); len(extra) != 0 {
		t.Errorf("%d more messages published", len(extra))
	}
}

func TestHandler(t *testing.T) {
	f := newFixture(t)
	f.r.Now = func() time.Time { return time.Now().Add(time.Minute) }
	f.put(t, time.Now())
	srv := httptest.NewServer(reconciler.Handler(f.r))
	defer srv.Close()

	resp, err := http.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	var res reconciler.Result
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || res != (reconciler.Result{Checked: 1, Reconciled: 1}) {
		t.Errorf("POST: %d %+v (%v), want 200 with 1 checked, 1 published", resp.StatusCode, res, err)
	}

	resp, err = http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET: %d %s, want 405 with a JSON body", resp.StatusCode, resp.Header.Get("Content-Type"))
	}

	// The catalog gone: 503 with the error, and the next run tries again.
	f.cat.Close()
	resp, err = http.Post(srv.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	var failed struct {
		Error string `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&failed)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || failed.Error == "" {
		t.Errorf("catalog closed: %d %q, want 503 with an error", resp.StatusCode, failed.Error)
	}
}

// A photo pending longer than the pending timeout (its tag event was
// dead-lettered, say) ends failed with the reason, and its original is
// removed; younger pending photos and finished ones are left alone.
func TestPendingTimeoutFailsStuckPhotos(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	prod := kafka.NewProducer(strings.Split(stacktest.Load(t).KafkaBrokers, ","), kafka.ProducerOptions{})
	t.Cleanup(func() { prod.Close() })
	f.r.Failed, f.r.FailedTopic, f.r.PendingTimeout = prod, f.r.Topic, 30*time.Minute

	old, young := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond), time.Now().UTC().Truncate(time.Millisecond)
	stuck, recent, ready := f.put(t, old), f.put(t, young), f.put(t, old)
	thumbs := map[photo.Size]photo.Thumbnail{photo.SizeSmall: {Width: 1, Height: 1, Bytes: 1}}
	for _, p := range []struct {
		id      string
		created time.Time
		tagged  bool
	}{{stuck, old, false}, {recent, young, false}, {ready, old, true}} {
		if err := f.cat.ObjectCreated(ctx, p.id, f.owner, 16, p.created, "1"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.cat.Thumbnailed(ctx, eventdriven.Thumbnailed{ID: p.id, Owner: f.owner, Format: photo.FormatJPEG, Width: 1, Height: 1, Thumbnails: thumbs, CreatedAt: p.created}, time.Time{}); err != nil {
			t.Fatal(err)
		}
		if p.tagged {
			if _, err := f.cat.Tagged(ctx, eventdriven.Tagged{ID: p.id, Owner: f.owner, CreatedAt: p.created}, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}

	res, err := f.r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (reconciler.Result{TimedOut: 1}); res != want {
		t.Errorf("result %+v, want %+v", res, want)
	}
	got := f.published(3 * time.Second)
	if len(got) != 1 {
		t.Fatalf("%d messages published, want 1 photo.failed", len(got))
	}
	var ev eventdriven.Failed
	if err := json.Unmarshal(got[0], &ev); err != nil {
		t.Fatal(err)
	}
	const reason = "timed out in pending after 30m0s; last stage reached: thumbnailed"
	if ev.ID != stuck || ev.Owner != f.owner || ev.Reason != reason {
		t.Errorf("published %+v, want photo %s of %s failed with %q", ev, stuck, f.owner, reason)
	}
	if _, err := f.store.StatOriginal(ctx, f.owner, stuck); photo.KindOf(err) != photo.NotFound {
		t.Errorf("the timed-out photo's original: %v, want it removed", err)
	}
	for _, id := range []string{recent, ready} {
		if _, err := f.store.StatOriginal(ctx, f.owner, id); err != nil {
			t.Errorf("original of %s: %v, want it kept", id, err)
		}
	}

	// The catalog applies the event as it applies the thumbnailer's.
	if _, err := f.cat.Failed(ctx, ev); err != nil {
		t.Fatal(err)
	}
	p, err := f.cat.Get(ctx, f.owner, stuck)
	if err != nil || p.Status != photo.StatusFailed || p.FailureReason != reason {
		t.Errorf("after the event: %+v %v, want failed with the reason", p, err)
	}
	if res, err := f.r.Run(ctx); err != nil || res.TimedOut != 0 {
		t.Errorf("next pass: %+v %v, want nothing timed out", res, err)
	}
}
