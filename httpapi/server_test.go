package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
)

// ports answers as a test tells it to: the HTTP layer's own behaviour
// (statuses, headers, which routes a half mounts) is what is under test.
type ports struct {
	status   photo.Status
	deletion photo.Deletion
	rend     photo.Rendition
	gotOwner string
}

func (p *ports) Upload(_ context.Context, owner string, _ []byte) (photo.Photo, error) {
	p.gotOwner = owner
	return photo.Photo{ID: photo.NewID(), Owner: owner, Status: p.status}, nil
}

func (p *ports) Get(_ context.Context, owner, id string) (photo.Photo, error) {
	if owner != "ann" {
		return photo.Photo{}, photo.Errorf(photo.NotFound, "photo not found")
	}
	return photo.Photo{ID: id, Owner: owner, Status: photo.StatusReady}, nil
}

func (p *ports) List(context.Context, photo.ListQuery) (photo.Page, error) { return photo.Page{}, nil }

func (p *ports) Thumbnail(context.Context, string, string, photo.Size) (photo.Rendition, error) {
	return p.rend, nil
}

func (p *ports) Delete(context.Context, string, string) (photo.Deletion, error) {
	return p.deletion, nil
}

func newServer(t *testing.T, p httpapi.Photos) (*httptest.Server, string) {
	t.Helper()
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(httpapi.NewServer(httpapi.Config{
		Verifier: mustVerifier(t),
		Metrics:  httpmetrics.NewMetrics(reg),
		Gatherer: reg,
	}, p))
	t.Cleanup(srv.Close)
	tok, err := mustIssuer(t).Mint("ann", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return srv, tok
}

func do(t *testing.T, srv *httptest.Server, tok, method, path string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestServerStatusesFollowThePorts(t *testing.T) {
	jpeg := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	id := photo.NewID()
	tests := []struct {
		name         string
		p            ports
		method, path string
		body         string
		want         int
		header       [2]string
	}{
		{name: "upload done in the request", p: ports{status: photo.StatusReady}, method: "POST", path: "/v1/photos", body: string(jpeg), want: 201},
		{name: "upload going on in the background", p: ports{status: photo.StatusPending}, method: "POST", path: "/v1/photos", body: string(jpeg), want: 202},
		{name: "delete done", p: ports{deletion: photo.Deleted}, method: "DELETE", path: "/v1/photos/" + id, want: 204},
		{name: "delete going on", p: ports{deletion: photo.DeletionPending}, method: "DELETE", path: "/v1/photos/" + id, want: 202},
		{name: "thumbnail bytes", p: ports{rend: photo.Rendition{Bytes: []byte("jpeg")}}, method: "GET", path: "/v1/photos/" + id + "/thumbnail?size=small", want: 200, header: [2]string{"Content-Type", "image/jpeg"}},
		{name: "thumbnail elsewhere", p: ports{rend: photo.Rendition{URL: "http://127.0.0.1:1/t"}}, method: "GET", path: "/v1/photos/" + id + "/thumbnail?size=small", want: 307, header: [2]string{"Location", "http://127.0.0.1:1/t"}},
		{name: "malformed id", method: "GET", path: "/v1/photos/not-an-id", want: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			srv, tok := newServer(t, httpapi.Photos{Uploader: &p, Reader: &p, Deleter: &p})
			resp := do(t, srv, tok, tt.method, tt.path, strings.NewReader(tt.body))
			if resp.StatusCode != tt.want {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("%s %s = %d, want %d (%s)", tt.method, tt.path, resp.StatusCode, tt.want, b)
			}
			if tt.header[0] != "" && resp.Header.Get(tt.header[0]) != tt.header[1] {
				t.Errorf("%s = %q, want %q", tt.header[0], resp.Header.Get(tt.header[0]), tt.header[1])
			}
			if tt.method == "POST" && p.gotOwner != "ann" {
				t.Errorf("the uploader got owner %q, want the token's user ann", p.gotOwner)
			}
		})
	}
}

// A server with one half of the ports answers the other half's routes as
// unknown, in the JSON error body: ingest has no reads, query no writes.
func TestServerMountsOnlyTheGivenPorts(t *testing.T) {
	var p ports
	id := photo.NewID()
	reads, tok := newServer(t, httpapi.Photos{Reader: &p})
	writes, _ := newServer(t, httpapi.Photos{Uploader: &p, Deleter: &p})
	tests := []struct {
		name         string
		srv          *httptest.Server
		method, path string
		want         int
	}{
		{"read half refuses uploads", reads, "POST", "/v1/photos", 405},
		{"read half refuses deletes", reads, "DELETE", "/v1/photos/" + id, 405},
		{"read half serves gets", reads, "GET", "/v1/photos/" + id, 200},
		{"write half has no get", writes, "GET", "/v1/photos/" + id, 405},
		{"write half has no list", writes, "GET", "/v1/photos", 405},
		{"write half has no thumbnails", writes, "GET", "/v1/photos/" + id + "/thumbnail", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, tt.srv, tok, tt.method, tt.path, http.NoBody)
			if resp.StatusCode != tt.want {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, resp.StatusCode, tt.want)
			}
			if tt.want == 200 {
				return
			}
			var body httpapi.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Code == "" {
				t.Errorf("error body: %+v, %v", body, err)
			}
		})
	}
}

func TestStatusMap(t *testing.T) {
	want := map[photo.Kind]int{
		photo.Invalid: 400, photo.Unauthorized: 401, photo.NotFound: 404, photo.TooLarge: 413,
		photo.Unsupported: 415, photo.TooManyPixels: 422, photo.Unavailable: 503, photo.Internal: 500, "": 500,
	}
	for k, code := range want {
		if got := httpapi.Status(k); got != code {
			t.Errorf("Status(%q) = %d, want %d", k, got, code)
		}
	}
}

// /healthz answers 503 naming the first dependency that does not answer.
func TestHealthNamesTheDependencyDown(t *testing.T) {
	reg := prometheus.NewRegistry()
	up := func(context.Context) error { return nil }
	down := func(context.Context) error { return errors.New("dial tcp: connection refused") }
	for _, tt := range []struct {
		name   string
		checks []httpapi.Check
		want   int
		msg    string
	}{
		{"all up", []httpapi.Check{{Name: "catalog", Ping: up}, {Name: "object store", Ping: up}}, 200, ""},
		{"second down", []httpapi.Check{{Name: "catalog", Ping: up}, {Name: "object store", Ping: down}}, 503, "object store unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(httpapi.NewServer(httpapi.Config{Verifier: mustVerifier(t), Metrics: httpmetrics.NewMetrics(prometheus.NewRegistry()), Gatherer: reg, Health: tt.checks}, httpapi.Photos{}))
			defer srv.Close()
			resp, err := http.Get(srv.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 200 {
				return
			}
			var body httpapi.ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Error.Code != "unavailable" || body.Error.Message != tt.msg {
				t.Errorf("body %+v (%v), want unavailable %q", body, err, tt.msg)
			}
			if resp.Header.Get("Retry-After") == "" {
				t.Error("no Retry-After")
			}
		})
	}
}
