package ingest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/ingest"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
)

var secret = []byte("ingest-test-secret-0123456789abcdef")

// testLimits keep the limit cases small.
var testLimits = imaging.Limits{MaxBytes: 256 << 10, MaxPixels: 100_000}

type fixture struct {
	URL   string
	Store *s3store.Store
	Owner string
	Token string
	// Other is a token of another user.
	Other string
	// ids are the originals stored by the test, removed when it ends.
	ids []string
}

// newFixture serves ingest over real HTTP on loopback, with the stack's
// MinIO (or store, when not nil). Originals of its owners are removed when
// the test ends.
func newFixture(t *testing.T, store *s3store.Store) *fixture {
	t.Helper()
	return newFixtureWith(t, store, ingest.Options{Limits: testLimits})
}

// newFixtureWith is newFixture with the handler's options.
func newFixtureWith(t *testing.T, store *s3store.Store, opts ingest.Options) *fixture {
	t.Helper()
	var live *s3store.Store
	if store == nil {
		env := stacktest.Load(t)
		var err error
		store, err = s3store.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
		if err != nil {
			t.Fatal(err)
		}
		live = store
	}
	verifier, err := auth.NewVerifier(secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	h := ingest.NewHandler(log, store, verifier, reg, httpmetrics.NewMetrics(reg), opts)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	f := &fixture{URL: srv.URL, Store: store, Owner: randomOwner()}
	f.Token, f.Other = mint(t, f.Owner), mint(t, randomOwner())
	if live != nil {
		t.Cleanup(func() {
			for _, id := range f.ids {
				if err := live.RemoveOriginal(context.Background(), f.Owner, id); err != nil {
					t.Errorf("cleanup: %v", err)
				}
			}
		})
	}
	return f
}

// track has the original id of f.Owner removed when the test ends.
func (f *fixture) track(id string) { f.ids = append(f.ids, id) }

func randomOwner() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test-ingest-" + hex.EncodeToString(b)
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

func do(t *testing.T, method, url, token string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return roundTrip(t, req)
}

// roundTrip sends req and reads the whole answer.
func roundTrip(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
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

// upload posts data and returns the photo; it fails the test unless the
// answer is 202.
func (f *fixture) upload(t *testing.T, data []byte) photo.Photo {
	t.Helper()
	resp, body := do(t, http.MethodPost, f.URL+"/v1/photos", f.Token, data)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("upload: status %d, body %s", resp.StatusCode, body)
	}
	var p photo.Photo
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	f.track(p.ID)
	if loc := resp.Header.Get("Location"); loc != "/v1/photos/"+p.ID {
		t.Errorf("Location %q, want /v1/photos/%s", loc, p.ID)
	}
	return p
}

func TestUploadAccepted(t *testing.T) {
	f := newFixture(t, nil)
	jpeg := synth.JPEG(synth.Options{Seed: 1, Width: 120, Height: 80})
	tests := []struct {
		name   string
		data   []byte
		format photo.Format
		ctype  string
	}{
		{"jpeg", jpeg, photo.FormatJPEG, "image/jpeg"},
		{"jpeg with zero padding", append(bytes.Clone(jpeg), 0, 0, 0, 0), photo.FormatJPEG, "image/jpeg"},
		{"png", synth.PNG(synth.Options{Seed: 2, Width: 90, Height: 60}), photo.FormatPNG, "image/png"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now().UTC().Add(-time.Second)
			p := f.upload(t, tt.data)
			if !photo.ValidID(p.ID) || p.Owner != f.Owner || p.Status != photo.StatusPending || p.Format != tt.format ||
				p.Width == 0 || p.Height == 0 || p.Bytes != int64(len(tt.data)) {
				t.Errorf("photo %+v: want a pending %s of %d bytes owned by %s", p, tt.format, len(tt.data), f.Owner)
			}
			if p.CreatedAt.Before(before) || !p.UpdatedAt.Equal(p.CreatedAt) || p.ReadyAt != nil {
				t.Errorf("times: created %v updated %v ready %v", p.CreatedAt, p.UpdatedAt, p.ReadyAt)
			}

			info, err := f.Store.StatOriginal(context.Background(), f.Owner, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if info.Owner != f.Owner || !info.CreatedAt.Equal(p.CreatedAt) || info.ContentType != tt.ctype || info.Size != int64(len(tt.data)) {
				t.Errorf("stored original %+v, want owner %s, created %v, %s, %d bytes", info, f.Owner, p.CreatedAt, tt.ctype, len(tt.data))
			}
		})
	}
}

func TestUploadJSONShape(t *testing.T) {
	f := newFixture(t, nil)
	resp, body := do(t, http.MethodPost, f.URL+"/v1/photos", f.Token, synth.JPEG(synth.Options{Seed: 3, Width: 10, Height: 10}))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	var id string
	json.Unmarshal(raw["id"], &id)
	f.track(id)
	for field, want := range map[string]string{"tags": "[]", "thumbnails": "{}", "status": `"pending"`, "format": `"jpeg"`, "width": "10", "height": "10"} {
		if got := string(raw[field]); got != want {
			t.Errorf("%s = %s, want %s", field, got, want)
		}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestUploadRefused(t *testing.T) {
	f := newFixture(t, nil)
	jpeg := synth.JPEG(synth.Options{Seed: 4, Width: 200, Height: 150})
	png := synth.PNG(synth.Options{Seed: 5, Width: 200, Height: 150})
	tests := []struct {
		name   string
		token  string
		data   []byte
		status int
		code   photo.Kind
	}{
		{"no token", "", jpeg, 401, photo.Unauthorized},
		{"bad token", "not-a-jwt", jpeg, 401, photo.Unauthorized},
		{"empty", f.Token, nil, 400, photo.Invalid},
		{"text", f.Token, []byte("hello, this is not an image\n"), 415, photo.Unsupported},
		{"gif", f.Token, []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), 415, photo.Unsupported},
		{"truncated jpeg", f.Token, jpeg[:len(jpeg)/2], 400, photo.Invalid},
		{"jpeg missing last byte", f.Token, jpeg[:len(jpeg)-1], 400, photo.Invalid},
		{"truncated png", f.Token, png[:len(png)-12], 400, photo.Invalid},
		{"header only jpeg", f.Token, jpeg[:1024], 400, photo.Invalid},
		{"too large", f.Token, make([]byte, testLimits.MaxBytes+1), 413, photo.TooLarge},
		{"too many pixels", f.Token, synth.JPEG(synth.Options{Seed: 6, Width: 400, Height: 300}), 422, photo.TooManyPixels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, http.MethodPost, f.URL+"/v1/photos", tt.token, tt.data)
			wantError(t, resp, body, tt.status, tt.code)
		})
	}
}

// grant asks for a presigned upload and checks the answer's shape.
func (f *fixture) grant(t *testing.T, maxBytes int64) ingest.Upload {
	t.Helper()
	resp, b := do(t, http.MethodPost, f.URL+"/v1/uploads", f.Token, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var u ingest.Upload
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	f.track(u.ID)
	if !photo.ValidID(u.ID) || u.Method != http.MethodPost || u.Fields["key"] != "users/"+f.Owner+"/"+u.ID || u.Fields["policy"] == "" || u.MaxBytes != maxBytes {
		t.Fatalf("upload %+v, want a POST form for users/%s/<id> of at most %d bytes", u, f.Owner, maxBytes)
	}
	if d := time.Until(u.ExpiresAt); d < 14*time.Minute || d > 15*time.Minute {
		t.Errorf("expires_at %v is %v away, want about 15m", u.ExpiresAt, d)
	}
	return u
}

// send uploads data with the grant's form, as a client would.
func send(t *testing.T, u ingest.Upload, data []byte) (int, string) {
	t.Helper()
	req, err := s3store.PostForm(context.Background(), u.UploadURL, u.Fields, data)
	if err != nil {
		t.Fatal(err)
	}
	resp, b := roundTrip(t, req)
	return resp.StatusCode, string(b)
}

func TestPresignedUpload(t *testing.T) {
	f := newFixture(t, nil)
	u := f.grant(t, testLimits.MaxBytes)
	data := synth.JPEG(synth.Options{Seed: 7, Width: 30, Height: 20})
	if code, body := send(t, u, data); code/100 != 2 {
		t.Fatalf("POST form: %d %s", code, body)
	}
	info, err := f.Store.StatOriginal(context.Background(), f.Owner, u.ID)
	if err != nil || info.Size != int64(len(data)) {
		t.Errorf("after the upload: %+v, %v", info, err)
	}
	resp, b := do(t, http.MethodPost, f.URL+"/v1/uploads", "", nil)
	wantError(t, resp, b, 401, photo.Unauthorized)
}

// A presigned upload is held to the API's own byte limit by MinIO: one
// byte over is refused and nothing is stored.
func TestPresignedUploadOverTheLimit(t *testing.T) {
	f := newFixtureWith(t, nil, ingest.Options{})
	limit := imaging.DefaultLimits.MaxBytes
	u := f.grant(t, limit)
	code, body := send(t, u, bytes.Repeat([]byte{0xFF}, int(limit)+1))
	if code != http.StatusBadRequest || !strings.Contains(body, "EntityTooLarge") {
		t.Errorf("POST form of %d bytes: %d %s, want 400 EntityTooLarge", limit+1, code, body)
	}
	if _, err := f.Store.StatOriginal(context.Background(), f.Owner, u.ID); photo.KindOf(err) != photo.NotFound {
		t.Errorf("after the refused upload: %v, want NotFound", err)
	}
}

// Uploads beyond MaxUploads wait up to MaxWait for a slot, then get 503
// with Retry-After, their bodies unread; a freed slot admits again.
// TestSlowBodyHoldsNoSlot: with one upload slot, a client that stops half
// way through its body does not keep an ordinary upload out: the slot is
// taken once a body has been read.
func TestSlowBodyHoldsNoSlot(t *testing.T) {
	f := newFixtureWith(t, nil, ingest.Options{Limits: testLimits, MaxUploads: 1, MaxWait: 100 * time.Millisecond})
	jpeg := synth.JPEG(synth.Options{Seed: 10, Width: 40, Height: 30})

	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.CloseWithError(io.ErrUnexpectedEOF) }) // before the server closes
	req, err := http.NewRequest(http.MethodPost, f.URL+"/v1/photos", pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.Token)
	slow := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			close(slow)
			return
		}
		slow <- resp
	}()
	if _, err := pw.Write(jpeg[:len(jpeg)/2]); err != nil {
		t.Fatal(err)
	}
	// Written means the server is reading it: the handler runs.
	for range 3 {
		f.upload(t, jpeg)
	}

	// The slow upload completes and is accepted too.
	pw.Write(jpeg[len(jpeg)/2:])
	pw.Close()
	resp := <-slow
	if resp == nil {
		t.FailNow()
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("slow upload: %d %s", resp.StatusCode, body)
	}
	var p photo.Photo
	json.Unmarshal(body, &p)
	f.track(p.ID)
}

func TestDelete(t *testing.T) {
	f := newFixture(t, nil)
	p := f.upload(t, synth.JPEG(synth.Options{Seed: 8, Width: 20, Height: 20}))
	url := f.URL + "/v1/photos/" + p.ID

	t.Run("another user's photo", func(t *testing.T) {
		resp, body := do(t, http.MethodDelete, url, f.Other, nil)
		wantError(t, resp, body, 404, photo.NotFound)
		if _, err := f.Store.StatOriginal(context.Background(), f.Owner, p.ID); err != nil {
			t.Errorf("the original is gone after another user's delete: %v", err)
		}
	})
	t.Run("malformed id", func(t *testing.T) {
		resp, body := do(t, http.MethodDelete, f.URL+"/v1/photos/nope", f.Token, nil)
		wantError(t, resp, body, 400, photo.Invalid)
	})
	t.Run("no token", func(t *testing.T) {
		resp, body := do(t, http.MethodDelete, url, "", nil)
		wantError(t, resp, body, 401, photo.Unauthorized)
	})
	t.Run("own photo", func(t *testing.T) {
		resp, body := do(t, http.MethodDelete, url, f.Token, nil)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		_, err := f.Store.StatOriginal(context.Background(), f.Owner, p.ID)
		if photo.KindOf(err) != photo.NotFound {
			t.Errorf("original after delete: %v", err)
		}
	})
	t.Run("again", func(t *testing.T) {
		resp, body := do(t, http.MethodDelete, url, f.Token, nil)
		wantError(t, resp, body, 404, photo.NotFound)
	})
}

func TestHealthAndMetrics(t *testing.T) {
	f := newFixture(t, nil)
	if resp, body := do(t, http.MethodGet, f.URL+"/healthz", "", nil); resp.StatusCode != 200 {
		t.Errorf("healthz: %d %s", resp.StatusCode, body)
	}
	resp, body := do(t, http.MethodGet, f.URL+"/metrics", "", nil)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`photobench_http_request_duration_seconds_count{code="200",method="GET",route="/healthz"} 1`)) {
		t.Errorf("metrics: %d\n%s", resp.StatusCode, body)
	}
	resp, body = do(t, http.MethodGet, f.URL+"/nowhere", "", nil)
	wantError(t, resp, body, 404, photo.NotFound)
}

func TestStoreDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dead, err := s3store.New("http://"+addr, "x", "y", nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, dead)
	tests := []struct {
		name, method, path string
		body               []byte
	}{
		{"upload", http.MethodPost, "/v1/photos", synth.JPEG(synth.Options{Seed: 9, Width: 20, Height: 20})},
		{"delete", http.MethodDelete, "/v1/photos/" + photo.NewID(), nil},
		{"healthz", http.MethodGet, "/healthz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, f.URL+tt.path, f.Token, tt.body)
			wantError(t, resp, body, 503, photo.Unavailable)
			if ra := resp.Header.Get("Retry-After"); ra != "1" {
				t.Errorf("Retry-After %q, want 1", ra)
			}
		})
	}
}
