package query_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/query"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
)

var secret = []byte("query-test-secret-0123456789abcdef")

// fakeCatalog is an in-memory Catalog, for testing the HTTP mapping only;
// the real catalog is exercised by the lead's conformance run.
type fakeCatalog struct {
	mu      sync.Mutex
	photos  map[string]photo.Photo // by owner/id
	page    photo.Page
	query   photo.ListQuery
	getErr  error
	pingErr error
}

func (c *fakeCatalog) Get(ctx context.Context, owner, id string) (photo.Photo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.getErr != nil {
		return photo.Photo{}, c.getErr
	}
	p, ok := c.photos[owner+"/"+id]
	if !ok {
		return photo.Photo{}, photo.Errorf(photo.NotFound, "no such photo")
	}
	return p, nil
}

func (c *fakeCatalog) List(ctx context.Context, q photo.ListQuery) (photo.Page, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.query = q
	return c.page, nil
}

func (c *fakeCatalog) Ping(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pingErr
}

func (c *fakeCatalog) put(p photo.Photo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.photos[p.Owner+"/"+p.ID] = p
}

type fixture struct {
	URL   string
	Cat   *fakeCatalog
	Store *s3store.Store
	Owner string
	Token string
	Other string // a token of another user
	ids   []string
}

func newFixture(t *testing.T, opts query.Options) *fixture {
	t.Helper()
	env := stacktest.Load(t)
	store, err := s3store.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	cat := &fakeCatalog{photos: map[string]photo.Photo{}}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	srv := httptest.NewServer(query.NewHandler(log, cat, store, verifier, reg, httpmetrics.NewMetrics(reg), opts))
	t.Cleanup(srv.Close)
	f := &fixture{URL: srv.URL, Cat: cat, Store: store, Owner: randomOwner()}
	f.Token, f.Other = mint(t, f.Owner), mint(t, randomOwner())
	t.Cleanup(func() {
		ctx := context.Background()
		for _, id := range f.ids {
			if err := store.RemoveOriginal(ctx, f.Owner, id); err != nil {
				t.Errorf("cleanup: %v", err)
			}
			if err := store.RemoveThumbnails(ctx, f.Owner, id); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return f
}

// newID returns a photo id whose objects are removed when the test ends.
func (f *fixture) newID() string {
	id := photo.NewID()
	f.ids = append(f.ids, id)
	return id
}

func randomOwner() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test-query-" + hex.EncodeToString(b)
}

func mint(t *testing.T, user string) string {
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

func do(t *testing.T, client *http.Client, method, url, token string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
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

func wantError(t *testing.T, resp *http.Response, body []byte, status int, code photo.Kind) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	var e httpapi.ErrorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != string(code) || e.Error.Message == "" {
		t.Errorf("body %s: want error code %q with a message (%v)", body, code, err)
	}
}

func readyPhoto(owner, id string) photo.Photo {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	return photo.Photo{
		ID: id, Owner: owner, Status: photo.StatusReady, Format: photo.FormatJPEG,
		Width: 64, Height: 48, Bytes: 1234, Tags: []string{"sky"}, Colors: []string{"#0000ff"}, Hash: "abcd",
		Thumbnails: map[photo.Size]photo.Thumbnail{photo.SizeSmall: {Width: 64, Height: 48, Bytes: 10}, photo.SizeLarge: {Width: 64, Height: 48, Bytes: 10}},
		CreatedAt:  now, UpdatedAt: now, ReadyAt: &now,
	}
}

func TestGet(t *testing.T) {
	f := newFixture(t, query.Options{})
	ctx := context.Background()

	inCatalog := readyPhoto(f.Owner, f.newID())
	f.Cat.put(inCatalog)
	bare := photo.Photo{ID: f.newID(), Owner: f.Owner, Status: photo.StatusPending}
	f.Cat.put(bare)

	// Uploaded through ingest, not in the catalog yet.
	uploaded := f.newID()
	created := time.Now().UTC().Add(-time.Hour).Truncate(time.Microsecond)
	jpeg := synth.JPEG(synth.Options{Seed: 1, Width: 32, Height: 24})
	if err := f.Store.PutOriginal(ctx, f.Owner, uploaded, jpeg, "image/jpeg", created); err != nil {
		t.Fatal(err)
	}
	// Uploaded through a presigned URL: no metadata, no Content-Type.
	presigned := f.newID()
	form, err := f.Store.PresignPost(ctx, f.Owner, presigned, 1<<20, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC().Add(-2 * time.Second)
	req, err := s3store.PostForm(ctx, form.URL.String(), form.Fields, jpeg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("presigned POST: %s", resp.Status)
	}

	t.Run("from the catalog", func(t *testing.T) {
		resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/v1/photos/"+inCatalog.ID, f.Token, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var p photo.Photo
		json.Unmarshal(body, &p)
		if p.ID != inCatalog.ID || p.Status != photo.StatusReady || p.Hash != "abcd" || len(p.Thumbnails) != 2 || !p.CreatedAt.Equal(inCatalog.CreatedAt) {
			t.Errorf("photo %+v, want %+v", p, inCatalog)
		}
	})
	t.Run("nil tags and thumbnails are empty", func(t *testing.T) {
		_, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/v1/photos/"+bare.ID, f.Token, nil)
		if !bytes.Contains(body, []byte(`"tags":[]`)) || !bytes.Contains(body, []byte(`"thumbnails":{}`)) {
			t.Errorf("body %s: want tags [] and thumbnails {}", body)
		}
	})
	t.Run("pending from the store", func(t *testing.T) {
		resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/v1/photos/"+uploaded, f.Token, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var p photo.Photo
		json.Unmarshal(body, &p)
		if p.ID != uploaded || p.Owner != f.Owner || p.Status != photo.StatusPending || p.Format != photo.FormatJPEG ||
			p.Bytes != int64(len(jpeg)) || !p.CreatedAt.Equal(created) || !p.UpdatedAt.Equal(created) {
			t.Errorf("photo %+v: want pending jpeg of %d bytes created %v", p, len(jpeg), created)
		}
		if !bytes.Contains(body, []byte(`"tags":[]`)) || !bytes.Contains(body, []byte(`"thumbnails":{}`)) {
			t.Errorf("body %s: want tags [] and thumbnails {}", body)
		}
	})
	t.Run("pending presigned upload", func(t *testing.T) {
		resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/v1/photos/"+presigned, f.Token, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var p photo.Photo
		json.Unmarshal(body, &p)
		if p.Status != photo.StatusPending || p.Bytes != int64(len(jpeg)) || p.CreatedAt.Before(before) || p.CreatedAt.After(time.Now().Add(2*time.Second)) {
			t.Errorf("photo %+v: want pending, %d bytes, created about now", p, len(jpeg))
		}
	})

	errorCases := []struct {
		name, id, token string
		status          int
		code            photo.Kind
	}{
		{"unknown", photo.NewID(), f.Token, 404, photo.NotFound},
		{"another user's catalogued photo", inCatalog.ID, f.Other, 404, photo.NotFound},
		{"another user's pending photo", uploaded, f.Other, 404, photo.NotFound},
		{"malformed id", "not-an-id", f.Token, 400, photo.Invalid},
		{"no token", inCatalog.ID, "", 401, photo.Unauthorized},
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/v1/photos/"+tt.id, tt.token, nil)
			wantError(t, resp, body, tt.status, tt.code)
		})
	}
	t.Run("catalog unavailable", func(t *testing.T) {
		f.Cat.mu.Lock()
		f.Cat.getErr = &photo.Error{Kind: photo.Unavailable, Message: "catalog unavailable", RetryAfter: 2 * time.Second, Err: errors.New("dial: refused")}
		f.Cat.mu.Unlock()
		defer func() { f.Cat.mu.Lock(); f.Cat.getErr = nil; f.Cat.mu.Unlock() }()
		resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/v1/photos/"+inCatalog.ID, f.Token, nil)
		wantError(t, resp, body, 503, photo.Unavailable)
		if ra := resp.Header.Get("Retry-After"); ra != "2" {
			t.Errorf("Retry-After %q, want 2", ra)
		}
	})
}

func TestThumbnail(t *testing.T) {
	for _, redirect := range []bool{false, true} {
		name := map[bool]string{false: "bytes", true: "redirect"}[redirect]
		t.Run(name, func(t *testing.T) {
			testThumbnail(t, redirect)
		})
	}
}

func testThumbnail(t *testing.T, redirect bool) {
	f := newFixture(t, query.Options{ThumbnailRedirect: redirect, PresignExpiry: time.Minute})
	ctx := context.Background()
	ready := readyPhoto(f.Owner, f.newID())
	f.Cat.put(ready)
	thumbs := map[photo.Size][]byte{
		photo.SizeSmall: synth.JPEG(synth.Options{Seed: 2, Width: 16, Height: 12}),
		photo.SizeLarge: synth.JPEG(synth.Options{Seed: 3, Width: 64, Height: 48}),
	}
	for size, b := range thumbs {
		if err := f.Store.PutThumbnail(ctx, f.Owner, ready.ID, size, b); err != nil {
			t.Fatal(err)
		}
	}
	pending := photo.Photo{ID: f.newID(), Owner: f.Owner, Status: photo.StatusPending}
	f.Cat.put(pending)
	noObjects := readyPhoto(f.Owner, f.newID())
	f.Cat.put(noObjects)

	base := f.URL + "/v1/photos/"
	// MinIO refuses a presigned request that also carries an Authorization
	// header (400 InvalidRequest, "request has multiple authentication
	// types"), and Go's client keeps
	// that header on redirects to the same host name, ports aside: on
	// loopback a client must drop it itself.
	follow := &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
		req.Header.Del("Authorization")
		return nil
	}}
	for _, size := range photo.Sizes {
		t.Run(string(size), func(t *testing.T) {
			resp, body := do(t, follow, http.MethodGet, base+ready.ID+"/thumbnail?size="+string(size), f.Token, nil)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(body, thumbs[size]) {
				t.Errorf("got %d %s, %d bytes; want 200 image/jpeg, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body), len(thumbs[size]))
			}
		})
	}
	if redirect {
		t.Run("answers a redirect", func(t *testing.T) {
			noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, _ := do(t, noFollow, http.MethodGet, base+ready.ID+"/thumbnail?size=small", f.Token, nil)
			loc, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusTemporaryRedirect || err != nil || !strings.HasSuffix(loc.Path, "/users/"+f.Owner+"/"+ready.ID+"/small.jpg") || loc.Query().Get("X-Amz-Signature") == "" {
				t.Errorf("got %d, Location %q; want 307 to a presigned URL of the small thumbnail", resp.StatusCode, resp.Header.Get("Location"))
			}
		})

	}

	errorCases := []struct {
		name, path, token string
		status            int
		code              photo.Kind
	}{
		{"bad size", ready.ID + "/thumbnail?size=medium", f.Token, 400, photo.Invalid},
		{"no size", ready.ID + "/thumbnail", f.Token, 400, photo.Invalid},
		{"malformed id", "nope/thumbnail?size=small", f.Token, 400, photo.Invalid},
		{"unknown photo", photo.NewID() + "/thumbnail?size=small", f.Token, 404, photo.NotFound},
		{"another user's photo", ready.ID + "/thumbnail?size=small", f.Other, 404, photo.NotFound},
		{"not ready", pending.ID + "/thumbnail?size=small", f.Token, 404, photo.NotFound},
		{"no token", ready.ID + "/thumbnail?size=small", "", 401, photo.Unauthorized},
	}
	if !redirect {
		errorCases = append(errorCases, struct {
			name, path, token string
			status            int
			code              photo.Kind
		}{"catalogued but not stored", noObjects.ID + "/thumbnail?size=large", f.Token, 404, photo.NotFound})
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, http.DefaultClient, http.MethodGet, base+tt.path, tt.token, nil)
			wantError(t, resp, body, tt.status, tt.code)
		})
	}
}

func TestList(t *testing.T) {
	f := newFixture(t, query.Options{})
	cursor := photo.Cursor{CreatedAt: time.Now().UTC().Truncate(time.Microsecond), ID: photo.NewID()}.String()
	p1, p2 := readyPhoto(f.Owner, photo.NewID()), photo.Photo{ID: photo.NewID(), Owner: f.Owner, Status: photo.StatusPending}
	f.Cat.page = photo.Page{Photos: []photo.Photo{p1, p2}, NextCursor: cursor}

	t.Run("page", func(t *testing.T) {
		resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/v1/photos?tag=sky&limit=5&cursor="+cursor, f.Token, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		want := photo.ListQuery{Owner: f.Owner, Tag: "sky", Limit: 5, Cursor: cursor}
		if f.Cat.query != want {
			t.Errorf("catalog asked %+v, want %+v", f.Cat.query, want)
		}
		var page photo.Page
		json.Unmarshal(body, &page)
		if len(page.Photos) != 2 || page.Photos[0].ID != p1.ID || page.NextCursor != cursor {
			t.Errorf("page %+v", page)
		}
		if bytes.Contains(body, []byte("null")) {
			t.Errorf("body has a null: %s", body)
		}
	})
	t.Run("defaults and last page", func(t *testing.T) {
		f.Cat.page = photo.Page{}
		resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/v1/photos", f.Token, nil)
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"photos":[]}` {
			t.Errorf("got %d %s, want 200 {\"photos\":[]}", resp.StatusCode, body)
		}
		if want := (photo.ListQuery{Owner: f.Owner, Limit: photo.DefaultListLimit}); f.Cat.query != want {
			t.Errorf("catalog asked %+v, want %+v", f.Cat.query, want)
		}
	})
	for _, tt := range []struct{ name, query string }{
		{"limit zero", "limit=0"},
		{"limit too big", "limit=101"},
		{"limit not a number", "limit=ten"},
		{"malformed cursor", "cursor=%21%21"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/v1/photos?"+tt.query, f.Token, nil)
			wantError(t, resp, body, 400, photo.Invalid)
		})
	}
	t.Run("no token", func(t *testing.T) {
		resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/v1/photos", "", nil)
		wantError(t, resp, body, 401, photo.Unauthorized)
	})
}

func TestHealthAndMetrics(t *testing.T) {
	f := newFixture(t, query.Options{})
	if resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/healthz", "", nil); resp.StatusCode != 200 {
		t.Errorf("healthz: %d %s", resp.StatusCode, body)
	}
	f.Cat.mu.Lock()
	f.Cat.pingErr = errors.New("connection refused")
	f.Cat.mu.Unlock()
	resp, body := do(t, http.DefaultClient, http.MethodGet, f.URL+"/healthz", "", nil)
	wantError(t, resp, body, 503, photo.Unavailable)

	resp, body = do(t, http.DefaultClient, http.MethodGet, f.URL+"/metrics", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`photobench_http_request_duration_seconds_count{code="503",method="GET",route="/healthz"} 1`)) {
		t.Errorf("metrics: %d\n%s", resp.StatusCode, body)
	}
	resp, body = do(t, http.DefaultClient, http.MethodPost, f.URL+"/v1/photos", f.Token, []byte("x"))
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /v1/photos on query: %d %s, want 405", resp.StatusCode, body)
	}
}
