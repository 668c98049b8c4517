package front_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/eventdriven/front"
	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/photo"
)

// echo is what the fake upstreams answer: what they received.
type echo struct {
	Upstream string `json:"upstream"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	Query    string `json:"query"`
	Auth     string `json:"auth"`
	Custom   string `json:"custom"`
	Bytes    int    `json:"bytes"`
	SHA256   string `json:"sha256"`
}

// echoUpstream answers every request with 207 and an echo, and /healthz
// with health's status.
func echoUpstream(t *testing.T, name string, health int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.WriteHeader(health)
			return
		}
		body, _ := io.ReadAll(r.Body)
		sum := sha256.Sum256(body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Upstream", name)
		w.WriteHeader(207)
		json.NewEncoder(w).Encode(echo{
			Upstream: name, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Auth: r.Header.Get("Authorization"), Custom: r.Header.Get("X-Custom"),
			Bytes: len(body), SHA256: hex.EncodeToString(sum[:]),
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// deadURL is a URL on which nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	return "http://" + l.Addr().String()
}

func newFront(t *testing.T, ingestURL, queryURL string) string {
	t.Helper()
	in, err := url.Parse(ingestURL)
	if err != nil {
		t.Fatal(err)
	}
	q, err := url.Parse(queryURL)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(front.NewHandler(in, q, reg, httpmetrics.NewMetrics(reg), nil))
	t.Cleanup(srv.Close)
	return srv.URL
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
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

func wantError(t *testing.T, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	var e httpapi.ErrorBody
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("body %s: want error code %q with a message (%v)", body, code, err)
	}
}

func TestRouting(t *testing.T) {
	base := newFront(t, echoUpstream(t, "ingest", 200).URL, echoUpstream(t, "query", 200).URL)
	id := photo.NewID()
	tests := []struct {
		method, path, want string
	}{
		{http.MethodPost, "/v1/photos", "ingest"},
		{http.MethodPost, "/v1/uploads", "ingest"},
		{http.MethodDelete, "/v1/photos/" + id, "ingest"},
		{http.MethodGet, "/v1/photos", "query"},
		{http.MethodGet, "/v1/photos?tag=sky&limit=5&cursor=abc", "query"},
		{http.MethodGet, "/v1/photos/" + id, "query"},
		{http.MethodGet, "/v1/photos/" + id + "/thumbnail?size=small", "query"},
		{http.MethodGet, "/v1/photos/not-an-id", "query"}, // the upstream judges ids
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, nil)
			resp, body := do(t, req)
			if resp.StatusCode != 207 || resp.Header.Get("X-Upstream") != tt.want {
				t.Fatalf("got %d from %q, want 207 from %s: %s", resp.StatusCode, resp.Header.Get("X-Upstream"), tt.want, body)
			}
			var e echo
			json.Unmarshal(body, &e)
			path, query, _ := strings.Cut(tt.path, "?")
			if e.Method != tt.method || e.Path != path || e.Query != query {
				t.Errorf("upstream saw %s %s?%s, want %s", e.Method, e.Path, e.Query, tt.path)
			}
		})
	}

	refused := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodPut, "/v1/photos/" + id, 405, httpapi.CodeMethodNotAllowed},
		{http.MethodPatch, "/v1/photos", 405, httpapi.CodeMethodNotAllowed},
		{http.MethodGet, "/v1/uploads", 405, httpapi.CodeMethodNotAllowed},
		{http.MethodGet, "/v2/photos", 404, string(photo.NotFound)},
		{http.MethodGet, "/v1/photos/" + id + "/original", 404, string(photo.NotFound)},
	}
	for _, tt := range refused {
		t.Run("refused "+tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, nil)
			resp, body := do(t, req)
			wantError(t, resp, body, tt.status, tt.code)
			if resp.Header.Get("X-Upstream") != "" {
				t.Error("reached an upstream")
			}
		})
	}
}

func TestPassThrough(t *testing.T) {
	base := newFront(t, echoUpstream(t, "ingest", 200).URL, echoUpstream(t, "query", 200).URL)
	body := make([]byte, 3<<20)
	rand.Read(body)
	sum := sha256.Sum256(body)

	req, _ := http.NewRequest(http.MethodPost, base+"/v1/photos", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer abc.def.ghi")
	req.Header.Set("X-Custom", "kept")
	req.Header.Set("Content-Type", "image/jpeg")
	resp, b := do(t, req)
	var e echo
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%d %s: %v", resp.StatusCode, b, err)
	}
	if e.Auth != "Bearer abc.def.ghi" || e.Custom != "kept" {
		t.Errorf("headers upstream: Authorization %q, X-Custom %q", e.Auth, e.Custom)
	}
	if e.Bytes != len(body) || e.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("body upstream: %d bytes %s, want %d bytes %x", e.Bytes, e.SHA256, len(body), sum)
	}
	if resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("response Content-Type %q", resp.Header.Get("Content-Type"))
	}
}

// TestStreaming checks that neither body is buffered whole: the upstream
// reads the start of the request while the client is still sending, and
// the client reads the start of the response while the upstream is still
// writing.
func TestStreaming(t *testing.T) {
	gotFirst := make(chan struct{})
	finish := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(r.Body, buf); err != nil || string(buf) != "first" {
			http.Error(w, "bad start", 500)
			return
		}
		close(gotFirst)
		more, _ := io.ReadAll(r.Body)
		w.Write([]byte("head|"))
		http.NewResponseController(w).Flush()
		<-finish
		w.Write(append([]byte("tail|"), more...))
	}))
	t.Cleanup(up.Close)
	t.Cleanup(func() {
		select {
		case <-finish:
		default:
			close(finish)
		}
	})
	base := newFront(t, up.URL, up.URL)

	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, base+"/v1/photos", pr)
	respc := make(chan *http.Response, 1)
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			errc <- err
			return
		}
		respc <- resp
	}()
	pw.Write([]byte("first"))
	select {
	case <-gotFirst:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream did not see the start of the request body while it was being sent")
	}
	pw.Write([]byte("second"))
	pw.Close()

	var resp *http.Response
	select {
	case resp = <-respc:
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatal("no response headers while the upstream is still writing")
	}
	defer resp.Body.Close()
	head := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, head); err != nil || string(head) != "head|" {
		t.Fatalf("start of response %q, %v", head, err)
	}
	close(finish)
	tail, _ := io.ReadAll(resp.Body)
	if string(tail) != "tail|second" {
		t.Errorf("rest of response %q", tail)
	}
}

func TestUpstreamDown(t *testing.T) {
	base := newFront(t, echoUpstream(t, "ingest", 200).URL, deadURL(t))
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/photos/"+photo.NewID(), nil)
	resp, body := do(t, req)
	wantError(t, resp, body, 503, string(photo.Unavailable))
	if ra := resp.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	req, _ = http.NewRequest(http.MethodPost, base+"/v1/photos", strings.NewReader("x"))
	if resp, body := do(t, req); resp.StatusCode != 207 {
		t.Errorf("the live upstream: %d %s", resp.StatusCode, body)
	}
}

func TestHealth(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	ok := echoUpstream(t, "ok", 200).URL
	tests := []struct {
		name          string
		ingest, query string
		want          int
	}{
		{"both healthy", ok, ok, 200},
		{"ingest unhealthy", echoUpstream(t, "sick", 503).URL, ok, 503},
		{"query down", ok, deadURL(t), 503},
		{"query hangs", ok, slow.URL, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := newFront(t, tt.ingest, tt.query)
			start := time.Now()
			req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
			resp, body := do(t, req)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %v, want at most the 2 s timeout", took)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	base := newFront(t, echoUpstream(t, "ingest", 200).URL, echoUpstream(t, "query", 200).URL)
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/photos/"+photo.NewID(), nil)
	do(t, req)
	req, _ = http.NewRequest(http.MethodGet, base+"/metrics", nil)
	resp, body := do(t, req)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`photobench_http_request_duration_seconds_count{code="207",method="GET",route="/v1/photos/{id}"} 1`)) {
		t.Errorf("metrics: %d\n%s", resp.StatusCode, body)
	}
}
