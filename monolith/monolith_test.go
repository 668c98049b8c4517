package monolith_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/conformance"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/monolith"
	"github.com/photobench/photobench/monolith/disk"
	"github.com/photobench/photobench/monolith/postgres"
	"github.com/photobench/photobench/monolith/s3"
	"github.com/photobench/photobench/photo/storetest"
	"github.com/photobench/photobench/vision"
)

var secret = []byte("monolith-test-secret-0123456789")

// app is a monolith and its vision service, in-process over real HTTP on
// loopback, with a fresh database in the stack's PostgreSQL and fresh
// storage: a temporary directory, or a new bucket in the stack's MinIO.
type app struct {
	URL     string
	DSN     string
	Vision  *vision.Remote
	Metrics *prometheus.Registry
	// Stored lists what the app's storage holds (files or objects).
	Stored func(t testing.TB) []string
	// Service and Files are the app's, for tests that reach past the API.
	Service *monolith.Service
	Files   monolith.Files
	// DB is the app's path to PostgreSQL when appOptions.dbRelay is set:
	// Cut makes the database unreachable.
	DB *stacktest.Relay
}

// maxUploads is the test apps' HandlerOptions.MaxUploads.
const maxUploads = 4

// storages are the values of --storage: each test of the app's behaviour
// runs with both.
var storages = []string{monolith.StorageDisk, monolith.StorageS3}

type appOptions struct {
	storage       string // monolith.StorageDisk when empty
	visionTimeout time.Duration
	retries       int
	limits        imaging.Limits
	// async runs the monolith in asynchronous mode, with these options.
	async *monolith.AsyncOptions
	// analyzer, if set, stands in for the vision client.
	analyzer monolith.Analyzer
	// visionURL, if set, is where the vision client sends its requests
	// instead of the app's own vision service.
	visionURL string
	// bodyTimeout is HandlerOptions.BodyTimeout.
	bodyTimeout time.Duration
	// dbRelay connects the app to PostgreSQL through a relay (app.DB),
	// which a test can cut.
	dbRelay bool
}

func newApp(t testing.TB, o appOptions) *app {
	t.Helper()
	env := stacktest.Load(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}

	remote, err := vision.NewRemote(vision.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	vsrv := httptest.NewServer(vision.NewServer(log, remote, vision.NewMetrics(prometheus.NewRegistry())))
	t.Cleanup(vsrv.Close)

	dsn := storetest.FreshDatabase(t, env.PGDSN, "pbtest_monolith_")
	appDSN := dsn
	var relay *stacktest.Relay
	if o.dbRelay {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		relay = stacktest.NewRelay(t, u.Host, 0)
		u.Host = relay.Addr
		appDSN = u.String()
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, appDSN, postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	files, stored := newFiles(t, env, o.storage)
	if o.limits.MaxBytes == 0 {
		o.limits = imaging.DefaultLimits
	}
	if o.visionTimeout == 0 {
		o.visionTimeout = 5 * time.Second
	}
	visionURL := cmp.Or(o.visionURL, vsrv.URL)
	var vc monolith.Analyzer = vision.NewClient(visionURL, vision.ClientOptions{Timeout: o.visionTimeout, Retries: o.retries, Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if o.analyzer != nil {
		vc = o.analyzer
	}
	reg := prometheus.NewRegistry()
	m := monolith.NewMetrics(reg)
	svc := monolith.NewService(log, db, files, vc, m, monolith.Options{Limits: o.limits, SyncWrites: true})
	verifier, err := auth.NewVerifier(secret, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	hopts := monolith.HandlerOptions{MaxUploads: maxUploads, Limits: o.limits, BodyTimeout: o.bodyTimeout}
	if o.async != nil {
		async, err := monolith.NewAsync(ctx, svc, monolith.NewJobMetrics(reg), *o.async)
		if err != nil {
			t.Fatal(err)
		}
		if err := async.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := async.Stop(ctx); err != nil {
				t.Errorf("stop workers: %v", err)
			}
		})
		hopts.Uploader = async
	}
	h := monolith.NewHandler(log, svc, verifier, reg, httpmetrics.NewMetrics(reg), m, hopts)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &app{URL: srv.URL, DSN: dsn, Vision: remote, Metrics: reg, Stored: stored, Service: svc, Files: files, DB: relay}
}

// newFiles opens fresh storage of the kind named, and a lister of what it
// holds.
func newFiles(t testing.TB, env stacktest.Env, storage string) (monolith.Files, func(testing.TB) []string) {
	t.Helper()
	switch storage {
	case "", monolith.StorageDisk:
		dir := t.TempDir()
		st, err := disk.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		return st, func(t testing.TB) []string { return files(t, dir) }
	case monolith.StorageS3:
		bucket := stacktest.FreshBucket(t, env, "pbtest-monolith-")
		st, err := s3.Open(context.Background(), env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, bucket, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st, func(t testing.TB) []string { return stacktest.Objects(t, env, bucket) }
	}
	t.Fatalf("unknown storage %q", storage)
	return nil, nil
}

func TestMonolithConformance(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) {
			a := newApp(t, appOptions{storage: storage})
			conformance.Run(t, conformance.Target{
				BaseURL: a.URL,
				Secret:  secret,
				Limits:  imaging.DefaultLimits,
			})
		})
	}
}

func token(t testing.TB, user string) string {
	t.Helper()
	iss, err := auth.NewIssuer(secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := iss.Mint(user, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func do(t testing.TB, method, u, tok string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// files lists the regular files under dir.
func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func setProfile(t testing.TB, r *vision.Remote, p vision.Profile) {
	t.Helper()
	if err := r.SetProfile(p); err != nil {
		t.Fatal(err)
	}
}

// The coupling the workshops show: with the vision service down, uploads
// fail with 503 and Retry-After, and leave no file (or object) and no row
// behind.
func TestUploadFailsCleanlyWhenVisionFails(t *testing.T) {
	for _, storage := range storages {
		t.Run(storage, func(t *testing.T) { testUploadFailsCleanly(t, storage) })
	}
}

func testUploadFailsCleanly(t *testing.T, storage string) {
	tests := []struct {
		name    string
		profile vision.Profile
		opts    appOptions
	}{
		{"outage fail", vision.Profile{Outage: vision.OutageFail, RetryAfterSeconds: 3}, appOptions{retries: 1}},
		{"outage hang past the timeout", vision.Profile{Outage: vision.OutageHang}, appOptions{retries: -1, visionTimeout: 300 * time.Millisecond}},
		{"every request errors", vision.Profile{ErrorRate: 1}, appOptions{retries: 2}},
		{"slower than the timeout", vision.Profile{Latency: vision.Latency{Distribution: vision.LatencyFixed, FixedMS: 1000}}, appOptions{retries: -1, visionTimeout: 200 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.storage = storage
			a := newApp(t, tt.opts)
			tok := token(t, "coupled")
			img := synth.JPEG(synth.Options{Seed: 7, Width: 800, Height: 600})

			setProfile(t, a.Vision, tt.profile)
			resp, body := do(t, "POST", a.URL+"/v1/photos", tok, img)
			setProfile(t, a.Vision, vision.Profile{}) // release hung requests
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("upload answered %d %s, want 503", resp.StatusCode, body)
			}
			if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
				t.Errorf("Retry-After = %q, want a positive number of seconds", ra)
			}
			var e struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != "unavailable" {
				t.Errorf("error body %s: want code unavailable", body)
			}
			if left := a.Stored(t); len(left) > 0 {
				t.Errorf("files left behind: %v", left)
			}
			_, list := do(t, "GET", a.URL+"/v1/photos", tok, nil)
			if !strings.Contains(string(list), `"photos":[]`) {
				t.Errorf("rows left behind: %s", list)
			}

			// With vision back, the same upload succeeds.
			resp, body = do(t, "POST", a.URL+"/v1/photos", tok, img)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("upload after recovery answered %d %s", resp.StatusCode, body)
			}
		})
	}
}

// A delete removes the photo's files, also when the client names the photo
// by its id in upper case (which names the same row): the files are named
// from the canonical id, not from the raw string.
func TestDeleteRemovesFiles(t *testing.T) {
	for _, storage := range storages {
		for _, form := range []struct {
			name string
			of   func(string) string
		}{{"lower-case id", strings.ToLower}, {"upper-case id", strings.ToUpper}} {
			t.Run(storage+"/"+form.name, func(t *testing.T) { testDeleteRemovesFiles(t, storage, form.of) })
		}
	}
}

func testDeleteRemovesFiles(t *testing.T, storage string, idForm func(string) string) {
	a := newApp(t, appOptions{storage: storage})
	tok := token(t, "deleter")
	resp, body := do(t, "POST", a.URL+"/v1/photos", tok, synth.PNG(synth.Options{Seed: 3, Width: 400, Height: 300}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	var p struct{ ID string }
	json.Unmarshal(body, &p)
	if stored := a.Stored(t); len(stored) != 3 {
		t.Fatalf("%v stored after upload, want 3 (original, two thumbnails)", stored)
	}
	id := idForm(p.ID)
	resp, body = do(t, "GET", a.URL+"/v1/photos/"+id+"/thumbnail?size=small", tok, nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("thumbnail by id %s: %d %s", id, resp.StatusCode, body)
	}
	resp, body = do(t, "DELETE", a.URL+"/v1/photos/"+id, tok, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete %s: %d %s", id, resp.StatusCode, body)
	}
	if left := a.Stored(t); len(left) > 0 {
		t.Errorf("left after delete of %s: %v", id, left)
	}
}

func TestMetricsCountStagesAndOutcomes(t *testing.T) {
	a := newApp(t, appOptions{})
	tok := token(t, "measured")
	do(t, "POST", a.URL+"/v1/photos", tok, synth.JPEG(synth.Options{Seed: 9, Width: 640, Height: 480}))
	do(t, "POST", a.URL+"/v1/photos", tok, []byte("not an image"))
	_, body := do(t, "GET", a.URL+"/metrics", tok, nil)
	for _, want := range []string{
		`photobench_monolith_uploads_total{outcome="ok"} 1`,
		`photobench_monolith_uploads_total{outcome="rejected"} 1`,
		`photobench_monolith_stage_duration_seconds_count{stage="vision"} 1`,
		`photobench_monolith_stage_duration_seconds_count{stage="database"} 1`,
		`photobench_http_request_duration_seconds_count{code="201",method="POST",route="/v1/photos"} 1`,
		`photobench_http_request_duration_seconds_count{code="415",method="POST",route="/v1/photos"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
