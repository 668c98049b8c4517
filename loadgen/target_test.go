package loadgen_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/loadgen"
)

const testSecret = "loadgen-test-secret-0123456789"

// fakeAPI answers the photo API's routes and logs "user METHOD path?query".
type fakeAPI struct {
	mu  sync.Mutex
	log []string
	n   int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, _ := auth.NewVerifier([]byte(testSecret), 0)
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	user, err := v.Verify(tok)
	if err != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.log = append(f.log, fmt.Sprintf("%s %s %s", user, r.Method, r.URL.RequestURI()))
	f.n++
	id := fmt.Sprintf("id%d", f.n)
	f.mu.Unlock()
	if r.Method == http.MethodPost {
		if len(body) == 0 {
			http.Error(w, "empty", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q,"status":"ready"}`, id)
		return
	}
	w.Write([]byte(`{}`))
}

func (f *fakeAPI) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.log[len(f.log)-1]
}

func TestAPITarget(t *testing.T) {
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	photos, err := loadgen.LoadPhotos(loadgen.PhotoSpec{Count: 2, Sizes: []loadgen.PhotoSize{{Megapixels: 0.01, Weight: 1}}}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: srv.URL + "/", Secret: []byte(testSecret), Users: 2, Seed: 9, Photos: photos})
	if err != nil {
		t.Fatal(err)
	}
	client := tgt.Client(srv.Client())
	send := func(op loadgen.Op, user int) int {
		t.Helper()
		req, err := tgt.Target(context.Background(), loadgen.Hit{Op: op, User: user, Intended: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(resp.Body); resp.StatusCode == http.StatusCreated && !strings.Contains(string(b), `"id"`) {
			t.Errorf("upload body not handed on: %q", b)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	steps := []struct {
		op   loadgen.Op
		user int
		want string
	}{
		{loadgen.OpGet, 0, "load-9-0 GET /v1/photos?limit=20"}, // nothing uploaded yet: a list
		{loadgen.OpThumbnail, 0, "load-9-0 GET /v1/photos?limit=20"},
		{loadgen.OpDelete, 0, "load-9-0 GET /v1/photos?limit=20"},
		{loadgen.OpUpload, 0, "load-9-0 POST /v1/photos"}, // id4
		{loadgen.OpGet, 0, "load-9-0 GET /v1/photos/id4"},
		{loadgen.OpThumbnail, 0, "load-9-0 GET /v1/photos/id4/thumbnail?size=small"},
		{loadgen.OpGet, 1, "load-9-1 GET /v1/photos?limit=20"}, // another user's photo is not known
		{loadgen.OpSearch, 1, "load-9-1 GET /v1/photos?tag=landscape&limit=20"},
		{loadgen.OpDelete, 0, "load-9-0 DELETE /v1/photos/id4"},
		{loadgen.OpGet, 0, "load-9-0 GET /v1/photos?limit=20"}, // deleted: forgotten
	}
	for i, s := range steps {
		send(s.op, s.user)
		if got := api.last(); got != s.want {
			t.Errorf("step %d (%s): server saw %q, want %q", i, s.op, got, s.want)
		}
	}
	if n := tgt.Known(0); n != 0 {
		t.Errorf("user 0 knows %d photos after the delete, want 0", n)
	}
}

func TestAPITargetRemembersBoundedIDs(t *testing.T) {
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	photos, err := loadgen.LoadPhotos(loadgen.PhotoSpec{Count: 1, Sizes: []loadgen.PhotoSize{{Megapixels: 0.01, Weight: 1}}}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: srv.URL, Secret: []byte(testSecret), Users: 3, Photos: photos, KnownIDs: 4})
	if err != nil {
		t.Fatal(err)
	}
	s := &loadgen.Scenario{Name: "t", Seed: 1, Users: 3, MaxInFlight: 50, Timeout: 5 * time.Second,
		Mix:    []loadgen.Weight{{Op: loadgen.OpUpload, Weight: 2}, {Op: loadgen.OpGet, Weight: 1}, {Op: loadgen.OpDelete, Weight: 1}},
		Phases: []loadgen.Phase{{Name: "p", Duration: 500 * time.Millisecond, Pacer: loadgen.Constant{Rate: 200}}}}
	sum, err := loadgen.RunScenario(context.Background(), s, tgt.Target, loadgen.WithClient(tgt.Client(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if all := sum.Phases[0].All; all.OK != all.Scheduled || all.Scheduled != 100 {
		t.Fatalf("ok %d of %d scheduled, want all 100: %+v", all.OK, all.Scheduled, all)
	}
	for u := range 3 {
		if n := tgt.Known(u); n > 4 {
			t.Errorf("user %d: %d ids remembered, want at most 4", u, n)
		}
	}
}

func TestNewAPITargetErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     loadgen.APIConfig
		wantErr string
	}{
		{"bad url", loadgen.APIConfig{BaseURL: "localhost:8080", Secret: []byte(testSecret), Users: 1}, "not an http(s) URL"},
		{"no users", loadgen.APIConfig{BaseURL: "http://x", Secret: []byte(testSecret)}, "users must be positive"},
		{"short secret", loadgen.APIConfig{BaseURL: "http://x", Secret: []byte("short"), Users: 1}, "secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := loadgen.NewAPITarget(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestAPITargetOnUpload(t *testing.T) {
	readyAt := "2030-01-02T03:04:05.123456789Z"
	tests := []struct {
		name      string
		code      int
		body      string
		want      *loadgen.UploadAnswer // nil: not called
		wantReady bool                  // ReadyAt is readyAt
		wantKnown int                   // ids the target remembers after
	}{
		{"ready", 201, `{"id":"a1","status":"ready","ready_at":"` + readyAt + `"}`, &loadgen.UploadAnswer{ID: "a1", Status: "ready"}, true, 1},
		{"pending", 202, `{"id":"a2","status":"pending"}`, &loadgen.UploadAnswer{ID: "a2", Status: "pending"}, false, 1},
		{"bad ready_at", 202, `{"id":"a3","status":"pending","ready_at":"soon"}`, &loadgen.UploadAnswer{ID: "a3", Status: "pending"}, false, 1},
		{"no id", 201, `{"status":"ready"}`, nil, false, 0},
		{"refused", 503, `{"id":"a4"}`, nil, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.code)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			photos, err := loadgen.LoadPhotos(loadgen.PhotoSpec{Count: 1, Sizes: []loadgen.PhotoSize{{Megapixels: 0.01, Weight: 1}}}, 1, "")
			if err != nil {
				t.Fatal(err)
			}
			tgt, err := loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: srv.URL, Secret: []byte(testSecret), Users: 2, Photos: photos})
			if err != nil {
				t.Fatal(err)
			}
			var calls []loadgen.UploadAnswer
			var hits []loadgen.Hit
			tgt.OnUpload(func(h loadgen.Hit, a loadgen.UploadAnswer) { hits, calls = append(hits, h), append(calls, a) })
			hit := loadgen.Hit{Seq: 4, Phase: 1, Op: loadgen.OpUpload, User: 1, Intended: time.Now()}
			req, err := tgt.Target(context.Background(), hit)
			if err != nil {
				t.Fatal(err)
			}
			before := time.Now()
			resp, err := tgt.Client(nil).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(resp.Body); string(b) != tt.body {
				t.Errorf("body handed on as %q", b)
			}
			resp.Body.Close()
			if n := tgt.Known(1); n != tt.wantKnown {
				t.Errorf("%d ids remembered, want %d", n, tt.wantKnown)
			}
			if tt.want == nil {
				if len(calls) != 0 {
					t.Errorf("called with %+v", calls)
				}
				return
			}
			if len(calls) != 1 {
				t.Fatalf("%d calls, want 1", len(calls))
			}
			a := calls[0]
			if hits[0] != hit {
				t.Errorf("hit %+v, want %+v", hits[0], hit)
			}
			if a.ID != tt.want.ID || a.Status != tt.want.Status || a.Acked.Before(before) || a.Acked.After(time.Now()) {
				t.Errorf("answer %+v, want %+v acked during the request", a, *tt.want)
			}
			if got := a.ReadyAt.Format(time.RFC3339Nano); tt.wantReady != (got == readyAt) || (!tt.wantReady && !a.ReadyAt.IsZero()) {
				t.Errorf("ReadyAt = %v", a.ReadyAt)
			}
		})
	}
	t.Run("PhotoRequest", func(t *testing.T) {
		tgt, err := loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: "http://h:1/base/", Secret: []byte(testSecret), Users: 2, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		req, err := tgt.PhotoRequest(context.Background(), 1, "abc")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := auth.NewVerifier([]byte(testSecret), 0)
		tok, _ := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
		if user, err := v.Verify(tok); err != nil || user != "load-9-1" || req.Method != http.MethodGet || req.URL.String() != "http://h:1/base/v1/photos/abc" {
			t.Errorf("%s %s as %q (%v)", req.Method, req.URL, user, err)
		}
		for _, bad := range []struct {
			user int
			id   string
		}{{2, "abc"}, {-1, "abc"}, {0, ""}, {0, "a/b"}, {0, "a?b"}} {
			if _, err := tgt.PhotoRequest(context.Background(), bad.user, bad.id); err == nil {
				t.Errorf("user %d id %q: no error", bad.user, bad.id)
			}
		}
	})
}

// With ThumbnailsOfReady, thumbnail hits ask only for photos marked ready; a
// deleted photo is forgotten there too.
func TestThumbnailsOfReadyPhotosOnly(t *testing.T) {
	tgt, err := loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: "http://127.0.0.1:1", Secret: []byte(strings.Repeat("s", 32)), Users: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	tgt.ThumbnailsOfReady(true)
	path := func(op loadgen.Op, seq uint64) string {
		req, err := tgt.Target(context.Background(), loadgen.Hit{Seq: seq, Op: op, User: 0})
		if err != nil {
			t.Fatal(err)
		}
		return req.URL.Path
	}
	if got := path(loadgen.OpThumbnail, 0); got != "/v1/photos" {
		t.Errorf("no ready photo yet: thumbnail hit sent %s, want a list", got)
	}
	id := "0190b1c2-0000-7000-8000-000000000001"
	tgt.MarkReady(0, id)
	if got := path(loadgen.OpThumbnail, 3); got != "/v1/photos/"+id+"/thumbnail" {
		t.Errorf("thumbnail hit sent %s, want the ready photo's thumbnail", got)
	}
	tgt.MarkReady(0, "")
	tgt.MarkReady(5, id) // no such user: ignored
	if got := path(loadgen.OpThumbnail, 4); got != "/v1/photos/"+id+"/thumbnail" {
		t.Errorf("after bad marks: %s", got)
	}
}
