package monolith_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/conformance"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/monolith"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/vision"
)

// asyncOptions are quick retries, so that tests do not wait for backoffs.
func asyncOptions() *monolith.AsyncOptions {
	return &monolith.AsyncOptions{Workers: 4, RetryBackoff: 20 * time.Millisecond, RetryMaxBackoff: 200 * time.Millisecond}
}

func TestAsyncMonolithConformance(t *testing.T) {
	a := newApp(t, appOptions{async: asyncOptions()})
	conformance.Run(t, conformance.Target{
		BaseURL:  a.URL,
		Secret:   secret,
		Limits:   imaging.DefaultLimits,
		Eventual: true,
	})
}

// metric is the value of the series of family name whose labels include
// label=value ("" matches a series without labels), or 0.
func metric(t testing.TB, reg prometheus.Gatherer, name, label, value string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				match = match || l.GetName() == label && l.GetValue() == value
			}
			if !match {
				continue
			}
			switch {
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

// backlog is photobench_monolith_jobs summed over its states, from one
// scrape.
func backlog(t testing.TB, reg prometheus.Gatherer) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, f := range fams {
		if f.GetName() == "photobench_monolith_jobs" {
			for _, m := range f.GetMetric() {
				n += m.GetGauge().GetValue()
			}
		}
	}
	return n
}

// eventually polls cond until it holds, failing the test after timeout:
// a bound on a wait, not a claim about speed.
func eventually(t testing.TB, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v; last: %s", what, timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// uploadPending uploads data and expects 202 with the photo pending.
func uploadPending(t testing.TB, base, tok string, data []byte) string {
	t.Helper()
	resp, body := do(t, "POST", base+"/v1/photos", tok, data)
	var p photo.Photo
	if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusAccepted || p.Status != photo.StatusPending {
		t.Fatalf("upload answered %d %s, want 202 with the photo pending", resp.StatusCode, body)
	}
	return p.ID
}

// getPhoto reads a photo: its status code and, on 200, the photo.
func getPhoto(t testing.TB, base, tok, id string) (int, photo.Photo) {
	t.Helper()
	resp, body := do(t, "GET", base+"/v1/photos/"+id, tok, nil)
	var p photo.Photo
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatalf("GET %s: %v: %s", id, err, body)
		}
	}
	return resp.StatusCode, p
}

// allStatus polls until every photo of ids has the status.
func allStatus(t testing.TB, base, tok string, ids []string, want photo.Status, timeout time.Duration) {
	t.Helper()
	eventually(t, fmt.Sprintf("%d photos %s", len(ids), want), timeout, func() (bool, string) {
		for _, id := range ids {
			if code, p := getPhoto(t, base, tok, id); code != http.StatusOK || p.Status != want {
				return false, fmt.Sprintf("photo %s: %d %s", id, code, p.Status)
			}
		}
		return true, ""
	})
}

// connect opens a connection to dsn for the rest of the test.
func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// jobsOf reads River's jobs of the photos ids from the app's database:
// photo id -> the states of its jobs.
func jobsOf(t testing.TB, dsn string, ids []string) map[string][]string {
	t.Helper()
	ctx := context.Background()
	rows, err := connect(t, dsn).Query(ctx, `SELECT args->>'id', state::text FROM river_job WHERE args->>'id' = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string][]string{}
	var id, state string
	if _, err := pgx.ForEachRow(rows, []any{&id, &state}, func() error {
		jobs[id] = append(jobs[id], state)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return jobs
}

// exactlyOnce checks, in the app's database, that owner has exactly the
// photos ids, all ready with their two thumbnails' rows, and that each has
// exactly one job, completed.
func exactlyOnce(t testing.TB, dsn, owner string, ids []string) {
	t.Helper()
	var photos, ready, thumbs int
	err := connect(t, dsn).QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE status = 'ready'),
		(SELECT count(*) FROM thumbnails JOIN photos p ON p.id = photo_id WHERE p.owner = $1)
		FROM photos WHERE owner = $1`, owner).Scan(&photos, &ready, &thumbs)
	if err != nil {
		t.Fatal(err)
	}
	if photos != len(ids) || ready != len(ids) || thumbs != 2*len(ids) {
		t.Errorf("owner %s has %d photo rows (%d ready) and %d thumbnail rows; want %d, all ready, and %d",
			owner, photos, ready, thumbs, len(ids), 2*len(ids))
	}
	jobs := jobsOf(t, dsn, ids)
	for _, id := range ids {
		if !slices.Equal(jobs[id], []string{"completed"}) {
			t.Errorf("photo %s has jobs %v, want exactly one, completed", id, jobs[id])
		}
	}
}

// A vision outage makes no failed upload: every upload is accepted, the
// jobs back up (photobench_monolith_jobs), retrying; when vision is back
// the backlog drains and every photo is ready exactly once.
func TestAsyncVisionOutageMakesABacklogThatDrains(t *testing.T) {
	a := newApp(t, appOptions{async: asyncOptions(), retries: -1})
	owner := "outage"
	tok := token(t, owner)
	setProfile(t, a.Vision, vision.Profile{Outage: vision.OutageFail})

	const n = 8
	var ids []string
	for i := range n {
		ids = append(ids, uploadPending(t, a.URL, tok, synth.JPEG(synth.Options{Seed: uint64(700 + i), Width: 640, Height: 480})))
	}
	eventually(t, "every job retried during the outage", 60*time.Second, func() (bool, string) {
		r := metric(t, a.Metrics, "photobench_monolith_job_attempts_total", "outcome", "retry")
		return r >= 2*n, fmt.Sprintf("%v retries", r)
	})
	if b := backlog(t, a.Metrics); b != n {
		t.Errorf("photobench_monolith_jobs sums to %v during the outage, want %d", b, n)
	}
	for _, id := range ids {
		if code, p := getPhoto(t, a.URL, tok, id); code != http.StatusOK || p.Status != photo.StatusPending {
			t.Errorf("photo %s during the outage: %d %s, want pending", id, code, p.Status)
		}
	}
	if r := metric(t, a.Metrics, "photobench_monolith_job_attempts_total", "outcome", "ready"); r != 0 {
		t.Errorf("%v photos ready during the outage", r)
	}

	setProfile(t, a.Vision, vision.Profile{})
	allStatus(t, a.URL, tok, ids, photo.StatusReady, 60*time.Second)
	exactlyOnce(t, a.DSN, owner, ids)
	for _, c := range []struct {
		name, label, value string
		want               float64
	}{
		{"photobench_monolith_uploads_total", "outcome", "ok", n},
		{"photobench_monolith_uploads_total", "outcome", "unavailable", 0},
		{"photobench_monolith_job_attempts_total", "outcome", "ready", n},
		{"photobench_monolith_job_attempts_total", "outcome", "failed", 0},
		{"photobench_monolith_upload_to_ready_seconds", "status", "ready", n},
	} {
		if got := metric(t, a.Metrics, c.name, c.label, c.value); got != c.want {
			t.Errorf("%s{%s=%q} = %v, want %v", c.name, c.label, c.value, got, c.want)
		}
	}
	eventually(t, "the backlog gauge back to 0", 10*time.Second, func() (bool, string) {
		b := backlog(t, a.Metrics)
		return b == 0, fmt.Sprint(b)
	})
}

// A photo deleted while its job waits for vision stays deleted: the job
// finds no pending row, removes the thumbnails it wrote, and completes.
func TestAsyncDeleteDuringTheJob(t *testing.T) {
	a := newApp(t, appOptions{async: asyncOptions(), retries: -1, visionTimeout: time.Minute})
	tok := token(t, "hasty")
	setProfile(t, a.Vision, vision.Profile{Outage: vision.OutageHang})
	id := uploadPending(t, a.URL, tok, synth.JPEG(synth.Options{Seed: 801, Width: 640, Height: 480}))
	eventually(t, "the job's thumbnails written", 30*time.Second, func() (bool, string) {
		var thumbs []string
		for _, f := range a.Stored(t) {
			if strings.Contains(f, "thumbnails/") && strings.Contains(f, id+"-") {
				thumbs = append(thumbs, f)
			}
		}
		return len(thumbs) == 2, fmt.Sprint(thumbs)
	})
	if resp, body := do(t, "DELETE", a.URL+"/v1/photos/"+id, tok, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	setProfile(t, a.Vision, vision.Profile{}) // the hung request answers
	eventually(t, "the job finding the photo deleted", 30*time.Second, func() (bool, string) {
		d := metric(t, a.Metrics, "photobench_monolith_job_attempts_total", "outcome", "deleted")
		return d == 1, fmt.Sprint(d)
	})
	if code, p := getPhoto(t, a.URL, tok, id); code != http.StatusNotFound {
		t.Errorf("GET of the deleted photo: %d %s", code, p.Status)
	}
	if left := a.Stored(t); len(left) > 0 {
		t.Errorf("files left: %v", left)
	}
	if jobs := jobsOf(t, a.DSN, []string{id}); !slices.Equal(jobs[id], []string{"completed"}) {
		t.Errorf("the photo's jobs: %v, want one, completed", jobs[id])
	}
}

// refuser is a vision service that refuses every image.
type refuser struct{}

func (refuser) Analyze(context.Context, []byte) (vision.Analysis, error) {
	return vision.Analysis{}, &photo.Error{Kind: photo.Invalid, Message: "vision cannot read the image", Err: errors.New("400")}
}

// An image the job cannot derive fails its photo, once, with the reason,
// and leaves no file; the job completes rather than retrying.
func TestAsyncRefusedImageFailsThePhoto(t *testing.T) {
	a := newApp(t, appOptions{async: asyncOptions(), analyzer: refuser{}})
	tok := token(t, "refused")
	id := uploadPending(t, a.URL, tok, synth.PNG(synth.Options{Seed: 901, Width: 300, Height: 200}))
	allStatus(t, a.URL, tok, []string{id}, photo.StatusFailed, 30*time.Second)
	_, p := getPhoto(t, a.URL, tok, id)
	if p.FailureReason != "vision cannot read the image" || len(p.Thumbnails) > 0 || len(p.Tags) > 0 {
		t.Errorf("failed photo: reason %q, thumbnails %v, tags %v", p.FailureReason, p.Thumbnails, p.Tags)
	}
	// Its record says how far it got: thumbnailed, never tagged.
	if p.ThumbnailedAt == nil || p.TaggedAt != nil || p.ReadyAt == nil ||
		p.ThumbnailedAt.Before(p.CreatedAt) || p.ReadyAt.Before(*p.ThumbnailedAt) {
		t.Errorf("failed photo: created at %v, thumbnailed at %v, tagged at %v, failed at %v; want created, thumbnailed, failed, in order, never tagged",
			p.CreatedAt, p.ThumbnailedAt, p.TaggedAt, p.ReadyAt)
	}
	resp, body := do(t, "GET", a.URL+"/v1/photos/"+id+"/thumbnail?size=small", tok, nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("thumbnail of a failed photo: %d %s", resp.StatusCode, body)
	}
	if left := a.Stored(t); len(left) > 0 {
		t.Errorf("files left: %v", left)
	}
	if jobs := jobsOf(t, a.DSN, []string{id}); !slices.Equal(jobs[id], []string{"completed"}) {
		t.Errorf("the photo's jobs: %v, want one, completed", jobs[id])
	}
	for outcome, want := range map[string]float64{"failed": 1, "retry": 0, "ready": 0} {
		if got := metric(t, a.Metrics, "photobench_monolith_job_attempts_total", "outcome", outcome); got != want {
			t.Errorf("job attempts %s = %v, want %v", outcome, got, want)
		}
	}
}

// A pending photo's thumbnail is not there yet: 404, as the event-driven
// app answers.
func TestAsyncPendingPhotoHasNoThumbnail(t *testing.T) {
	a := newApp(t, appOptions{async: asyncOptions(), retries: -1})
	tok := token(t, "eager")
	setProfile(t, a.Vision, vision.Profile{Outage: vision.OutageFail})
	id := uploadPending(t, a.URL, tok, synth.JPEG(synth.Options{Seed: 811, Width: 640, Height: 480}))
	resp, body := do(t, "GET", a.URL+"/v1/photos/"+id+"/thumbnail?size=large", tok, nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "not_found") {
		t.Errorf("thumbnail of a pending photo: %d %s, want 404 not_found", resp.StatusCode, body)
	}
	setProfile(t, a.Vision, vision.Profile{})
}
