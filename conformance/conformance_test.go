// The suite itself needs a server to run, and this package must not grow a
// fake one; these tests check the suite's helpers instead: the crafted bad
// inputs are refused by the real validation for the intended reason, the
// tokens verify (or not) as intended, and the checks accept right answers
// and catch wrong ones. They are internal tests because the helpers are
// unexported: the package's only API is Run.
package conformance

import (
	"bytes"
	"context"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/photo"
)

var testSecret = []byte("conformance-test-secret-0123")

func testSuite(t *testing.T, base string) *suite {
	t.Helper()
	return newSuite(t, Target{BaseURL: base, Secret: testSecret})
}

func TestNewSuiteDefaults(t *testing.T) {
	s := testSuite(t, "http://127.0.0.1:1")
	if s.limits != imaging.DefaultLimits || s.readyTimeout != DefaultReadyTimeout || s.client == nil {
		t.Errorf("defaults: limits %+v, ready timeout %v, client %v", s.limits, s.readyTimeout, s.client)
	}
	if s.direct.CheckRedirect == nil {
		t.Error("the direct client follows redirects")
	}
}

func TestPNGBomb(t *testing.T) {
	tests := []struct {
		name     string
		lim      imaging.Limits
		wantSide int
	}{
		{"default limits", imaging.DefaultLimits, 100_000},
		{"huge pixel limit", imaging.Limits{MaxBytes: 1 << 20, MaxPixels: 20_000_000_000}, 200_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := pngBomb(tt.lim)
			if len(data) > 100 {
				t.Errorf("bomb is %d bytes, want a tiny file", len(data))
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("png.DecodeConfig: %v", err)
			}
			if cfg.Width != tt.wantSide || cfg.Height != tt.wantSide {
				t.Errorf("header says %dx%d, want %dx%d", cfg.Width, cfg.Height, tt.wantSide, tt.wantSide)
			}
			_, err = imaging.Inspect(data, tt.lim)
			if photo.KindOf(err) != photo.TooManyPixels {
				t.Errorf("Inspect: %v, want too_many_pixels", err)
			}
		})
	}
}

func TestRefusedInputs(t *testing.T) {
	lim := imaging.Limits{MaxBytes: 64 << 10, MaxPixels: 40_000_000}
	tests := []struct {
		name string
		data []byte
		want photo.Kind
	}{
		{"text file", textFile(), photo.Unsupported},
		{"gif", tinyGIF(), photo.Unsupported},
		{"over byte limit", overByteLimit(lim), photo.TooLarge},
		{"truncated jpeg", truncatedJPEG(), photo.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := imaging.Process(context.Background(), tt.data, lim)
			if k := photo.KindOf(err); k != tt.want {
				t.Errorf("imaging.Process: %v, want kind %s", err, tt.want)
			}
		})
	}
	t.Run("gif decodes", func(t *testing.T) {
		if _, err := gif.Decode(bytes.NewReader(tinyGIF())); err != nil {
			t.Errorf("tinyGIF is not a GIF: %v", err)
		}
	})
	t.Run("truncated jpeg has its header", func(t *testing.T) {
		data := truncatedJPEG()
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width != 640 {
			t.Errorf("DecodeConfig: %+v, %v; want the whole 640x480 header", cfg, err)
		}
		if _, err := jpeg.Decode(bytes.NewReader(data)); err == nil {
			t.Error("the truncated JPEG decodes")
		}
	})
	t.Run("over byte limit is a JPEG", func(t *testing.T) {
		data := overByteLimit(lim)
		if int64(len(data)) != lim.MaxBytes+1 || !bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}) {
			t.Errorf("%d bytes starting %x, want %d starting with a JPEG header", len(data), data[:3], lim.MaxBytes+1)
		}
		if _, err := jpeg.DecodeConfig(bytes.NewReader(data)); err != nil {
			t.Errorf("its header does not parse: %v", err)
		}
	})
}

func TestTokens(t *testing.T) {
	s := testSuite(t, "http://127.0.0.1:1")
	v, err := auth.NewVerifier(testSecret, 0)
	if err != nil {
		t.Fatal(err)
	}
	u, u2 := s.newUser(t), s.newUser(t)
	if u.id == u2.id || !auth.ValidUser(u.id) {
		t.Errorf("user ids %q and %q: want distinct valid ids", u.id, u2.id)
	}
	got, err := v.Verify(u.token)
	if err != nil || got != u.id {
		t.Fatalf("Verify(the user's token) = %q, %v; want %q", got, err, u.id)
	}
	if u.authz() != "Bearer "+u.token {
		t.Errorf("authz %q", u.authz())
	}
	bad := []struct{ name, token, wantMsg string }{
		{"other secret", s.foreignToken(t, u.id), "signature"},
		{"expired", s.expiredToken(t, u.id), "expired"},
		{"alg none", noneToken(t, u.id), "algorithm"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			// Even half an hour of leeway must not save these.
			lenient, err := auth.NewVerifier(testSecret, 30*time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			_, err = lenient.Verify(tt.token)
			if photo.KindOf(err) != photo.Unauthorized || !strings.Contains(photo.MessageOf(err), tt.wantMsg) {
				t.Errorf("Verify: %v, want unauthorized mentioning %q", err, tt.wantMsg)
			}
		})
	}
}

func TestCheckThumbSize(t *testing.T) {
	tests := []struct {
		name                string
		ow, oh, tw, th, bnd int
		wantOK              bool
	}{
		{"landscape large", 2000, 1500, 1024, 768, 1024, true},
		{"landscape small", 2000, 1500, 256, 192, 256, true},
		{"rounding off by one", 2000, 1500, 256, 193, 256, true},
		{"portrait", 300, 500, 154, 256, 256, true},
		{"fits: kept", 300, 500, 300, 500, 1024, true},
		{"fits: shrunk anyway", 300, 500, 150, 250, 1024, false},
		{"upscaled", 300, 500, 614, 1024, 1024, false},
		{"over bound", 2000, 1500, 1100, 825, 1024, false},
		{"not touching bound", 2000, 1500, 1000, 750, 1024, false},
		{"aspect lost", 2000, 1500, 1024, 1024, 1024, false},
		{"empty", 2000, 1500, 0, 0, 1024, false},
		{"thin strip", 4000, 10, 1024, 3, 1024, true},
		{"thinner than a pixel", 10000, 2, 1024, 1, 1024, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkThumbSize(tt.ow, tt.oh, tt.tw, tt.th, tt.bnd)
			if (err == nil) != tt.wantOK {
				t.Errorf("checkThumbSize(%dx%d -> %dx%d in %d) = %v, want ok %v", tt.ow, tt.oh, tt.tw, tt.th, tt.bnd, err, tt.wantOK)
			}
		})
	}
	// The suite must accept what the shared pipeline makes.
	for _, sz := range [][2]int{{2000, 1500}, {300, 500}, {640, 480}, {1200, 900}, {999, 1001}, {5000, 7}} {
		for _, size := range photo.Sizes {
			w, h := imaging.Fit(sz[0], sz[1], size.Bound())
			if err := checkThumbSize(sz[0], sz[1], w, h, size.Bound()); err != nil {
				t.Errorf("imaging.Fit's %dx%d for %dx%d in %d: %v", w, h, sz[0], sz[1], size.Bound(), err)
			}
		}
	}
}

func jsonResponse(status int, body string, hdr ...string) response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return response{method: "GET", url: "http://x/v1/photos/1", status: status, header: h, body: []byte(body)}
}

func TestCheckError(t *testing.T) {
	tests := []struct {
		name   string
		r      response
		status int
		code   photo.Kind
		wantOK bool
	}{
		{"right", jsonResponse(404, `{"error":{"code":"not_found","message":"no such photo"}}`), 404, photo.NotFound, true},
		{"json with charset", jsonResponse(400, `{"error":{"code":"invalid","message":"bad"}}`, "Content-Type", "application/json; charset=utf-8"), 400, photo.Invalid, true},
		{"wrong status", jsonResponse(500, `{"error":{"code":"not_found","message":"x"}}`), 404, photo.NotFound, false},
		{"wrong code", jsonResponse(404, `{"error":{"code":"invalid","message":"x"}}`), 404, photo.NotFound, false},
		{"no message", jsonResponse(404, `{"error":{"code":"not_found","message":""}}`), 404, photo.NotFound, false},
		{"no error member", jsonResponse(404, `{"code":"not_found","message":"x"}`), 404, photo.NotFound, false},
		{"text body", jsonResponse(404, "404 page not found\n", "Content-Type", "text/plain"), 404, photo.NotFound, false},
		{"503 with Retry-After", jsonResponse(503, `{"error":{"code":"unavailable","message":"x"}}`, "Retry-After", "2"), 503, photo.Unavailable, true},
		{"503 without Retry-After", jsonResponse(503, `{"error":{"code":"unavailable","message":"x"}}`), 503, photo.Unavailable, false},
		{"503 with Retry-After 0", jsonResponse(503, `{"error":{"code":"unavailable","message":"x"}}`, "Retry-After", "0"), 503, photo.Unavailable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkError(tt.r, tt.status, tt.code)
			if (err == nil) != tt.wantOK {
				t.Errorf("checkError = %v, want ok %v", err, tt.wantOK)
			}
			if err != nil && !strings.Contains(err.Error(), "GET http://x/v1/photos/1: ") {
				t.Errorf("message %q does not name the request", err)
			}
		})
	}
}

func TestParsePage(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantCursor bool
		wantOK     bool
	}{
		{"last page", `{"photos":[{"id":"a"}]}`, false, true},
		{"more", `{"photos":[{"id":"a"}],"next_cursor":"abc"}`, true, true},
		{"empty", `{"photos":[]}`, false, true},
		{"null photos", `{"photos":null}`, false, false},
		{"no photos", `{}`, false, false},
		{"empty cursor", `{"photos":[],"next_cursor":""}`, false, false},
		{"null cursor", `{"photos":[],"next_cursor":null}`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePage(jsonResponse(200, tt.body))
			if (err == nil) != tt.wantOK {
				t.Fatalf("parsePage = %v, want ok %v", err, tt.wantOK)
			}
			if err == nil && p.hasCursor != tt.wantCursor {
				t.Errorf("hasCursor %v, want %v", p.hasCursor, tt.wantCursor)
			}
		})
	}
}

func TestPickTag(t *testing.T) {
	ph := func(id string, tags ...string) photo.Photo { return photo.Photo{ID: id, Tags: tags} }
	tag, ids := pickTag([]photo.Photo{ph("3", "color", "square"), ph("2", "color", "monochrome"), ph("1", "color", "square")})
	if tag != "monochrome" || len(ids) != 1 || ids[0] != "2" {
		t.Errorf("pickTag = %q %v, want monochrome [2]", tag, ids)
	}
	tag, ids = pickTag([]photo.Photo{ph("2", "a", "b", "c"), ph("1", "a", "c")})
	if tag != "b" || len(ids) != 1 {
		t.Errorf("pickTag = %q %v, want b [2]", tag, ids)
	}
	if tag, _ := pickTag([]photo.Photo{ph("2", "a"), ph("1", "a")}); tag != "" {
		t.Errorf("pickTag of identical tags = %q, want none", tag)
	}
}

func TestCheckLocation(t *testing.T) {
	s := testSuite(t, "http://127.0.0.1:8080")
	id := photo.NewID()
	tests := []struct {
		loc    string
		wantOK bool
	}{
		{"/v1/photos/" + id, true},
		{"http://127.0.0.1:8080/v1/photos/" + id, true},
		{"/v1/photos/" + photo.NewID(), false},
		{"http://elsewhere.example/v1/photos/" + id, false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.loc, func(t *testing.T) {
			r := jsonResponse(201, `{}`, "Location", tt.loc)
			if err := s.checkLocation(r, id); (err == nil) != tt.wantOK {
				t.Errorf("checkLocation(%q) = %v, want ok %v", tt.loc, err, tt.wantOK)
			}
		})
	}
}

// A thumbnail redirect (to a presigned URL on another port, as MinIO's
// would be) is followed without the Authorization header, which the
// storage would reject next to its own signature.
func TestThumbnailRedirectDropsAuthorization(t *testing.T) {
	var storageAuth atomic.Value
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		storageAuth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write([]byte("jpeg bytes"))
	}))
	defer storage.Close()
	var apiAuth atomic.Value
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiAuth.Store(r.Header.Get("Authorization"))
		http.Redirect(w, r, storage.URL+"/thumbnails/x?X-Amz-Signature=abc", http.StatusTemporaryRedirect)
	}))
	defer api.Close()

	s := testSuite(t, api.URL)
	u := s.newUser(t)
	r := s.fetchThumbnail(t, u, photo.NewID(), "small")
	if r.status != 200 || string(r.body) != "jpeg bytes" {
		t.Fatalf("got %v, want the storage's bytes", r)
	}
	if apiAuth.Load() != u.authz() {
		t.Errorf("the API saw Authorization %q, want the user's", apiAuth.Load())
	}
	if got := storageAuth.Load(); got != "" {
		t.Errorf("the storage saw Authorization %q, want none", got)
	}
}

func TestResponseString(t *testing.T) {
	r := response{method: "POST", url: "http://x/v1/photos", status: 500, header: http.Header{"Content-Type": {"image/jpeg"}}, body: make([]byte, 1234)}
	if got := r.String(); !strings.Contains(got, "POST http://x/v1/photos: 500") || !strings.Contains(got, "1234 bytes of image/jpeg") {
		t.Errorf("String() = %q", got)
	}
	r = jsonResponse(400, `{"error":{"code":"invalid","message":"`+strings.Repeat("x", 2000)+`"}}`)
	if got := r.String(); len(got) > 800 || !strings.Contains(got, "400 Bad Request") {
		t.Errorf("String() = %q (%d bytes): want a clipped body and the status", got, len(got))
	}
}

func TestCheckTimeline(t *testing.T) {
	created := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time {
		t := created.Add(d)
		return &t
	}
	const ms = time.Millisecond
	photoOf := func(status photo.Status, thumbnailed, tagged, ready *time.Time, updated time.Time) photo.Photo {
		return photo.Photo{ID: "p", Status: status, CreatedAt: created, UpdatedAt: updated,
			ThumbnailedAt: thumbnailed, TaggedAt: tagged, ReadyAt: ready}
	}
	tests := []struct {
		name string
		p    photo.Photo
		ok   bool
	}{
		{"ready in order", photoOf(photo.StatusReady, at(10*ms), at(20*ms), at(30*ms), *at(30 * ms)), true},
		{"ready, tagged before thumbnailed", photoOf(photo.StatusReady, at(20*ms), at(10*ms), at(30*ms), *at(30 * ms)), true},
		{"ready, all at once", photoOf(photo.StatusReady, at(0), at(0), at(0), created), true},
		// A store keeps microseconds, an answer may carry nanoseconds.
		{"ready, sub-millisecond skew", photoOf(photo.StatusReady, at(-300*time.Microsecond), at(0), at(0), created), true},
		{"pending, accepted", photoOf(photo.StatusPending, nil, nil, nil, created), true},
		{"pending, thumbnailed", photoOf(photo.StatusPending, at(10*ms), nil, nil, *at(10 * ms)), true},
		{"failed after its thumbnails", photoOf(photo.StatusFailed, at(10*ms), nil, at(20*ms), *at(20 * ms)), true},
		{"ready without thumbnailed_at", photoOf(photo.StatusReady, nil, at(20*ms), at(30*ms), *at(30 * ms)), false},
		{"ready without tagged_at", photoOf(photo.StatusReady, at(10*ms), nil, at(30*ms), *at(30 * ms)), false},
		{"ready without ready_at", photoOf(photo.StatusReady, at(10*ms), at(20*ms), nil, *at(30 * ms)), false},
		{"thumbnailed before created", photoOf(photo.StatusReady, at(-10*ms), at(20*ms), at(30*ms), *at(30 * ms)), false},
		{"tagged after ready", photoOf(photo.StatusReady, at(10*ms), at(40*ms), at(30*ms), *at(30 * ms)), false},
		{"pending with a ready_at", photoOf(photo.StatusPending, at(10*ms), nil, at(20*ms), *at(20 * ms)), false},
		{"pending, stage after its last update", photoOf(photo.StatusPending, at(10*ms), nil, nil, *at(5 * ms)), false},
		{"failed, stage after it failed", photoOf(photo.StatusFailed, at(30*ms), nil, at(20*ms), *at(20 * ms)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTimeline(tt.p)
			if (err == nil) != tt.ok {
				t.Errorf("checkTimeline = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
