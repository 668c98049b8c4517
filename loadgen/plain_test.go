package loadgen_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen"
)

func TestPlainTarget(t *testing.T) {
	tests := []struct {
		name string
		url  string
	}{
		{"root", "http://127.0.0.1:8080/"},
		{"path and query", "http://127.0.0.1:8080/a/b?x=1&y=2"},
		{"https", "https://example.test/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, err := loadgen.PlainTarget(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			type key struct{}
			ctx := context.WithValue(context.Background(), key{}, "mine")
			ops := []loadgen.Op{loadgen.OpUpload, loadgen.OpDelete, loadgen.OpGet}
			var headers []http.Header
			for i, op := range ops {
				req, err := target(ctx, loadgen.Hit{Seq: uint64(i), Op: op, User: i})
				if err != nil {
					t.Fatal(err)
				}
				if req.Method != http.MethodGet {
					t.Errorf("%s: method %s, want GET", op, req.Method)
				}
				if got := req.URL.String(); got != tt.url {
					t.Errorf("%s: URL %s, want %s", op, got, tt.url)
				}
				if req.Body != nil && req.Body != http.NoBody {
					t.Errorf("%s: request has a body", op)
				}
				if req.Context().Value(key{}) != "mine" {
					t.Errorf("%s: request does not carry the hit's context", op)
				}
				if len(req.Header) != 0 {
					t.Errorf("%s: header %v, want none", op, req.Header)
				}
				headers = append(headers, req.Header)
			}
			headers[0].Set("X-Test", "1")
			if headers[1].Get("X-Test") != "" {
				t.Error("requests share one header map")
			}
		})
	}
}

func TestPlainTargetBadURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
	}{
		{"empty", ""},
		{"no scheme", "127.0.0.1:8080/"},
		{"ftp", "ftp://127.0.0.1/"},
		{"no host", "http:///path"},
		{"unparsable", "http://[::1/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadgen.PlainTarget(tt.url)
			if err == nil {
				t.Fatalf("PlainTarget(%q) succeeded", tt.url)
			}
			if !strings.Contains(err.Error(), "is not an http(s) URL") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q, want one line saying the URL is not http(s)", err)
			}
		})
	}
}

// TestPlainTargetAttack sends a short constant schedule through Attack: every
// hit arrives as a GET of the one URL.
func TestPlainTargetAttack(t *testing.T) {
	var gets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/ping" {
			gets.Add(1)
		}
	}))
	defer srv.Close()
	target, err := loadgen.PlainTarget(srv.URL + "/ping")
	if err != nil {
		t.Fatal(err)
	}
	sc := &loadgen.Scenario{Users: 1, MaxInFlight: 10, Timeout: 5 * time.Second,
		Mix:    []loadgen.Weight{{Op: loadgen.OpGet, Weight: 1}},
		Phases: []loadgen.Phase{{Name: "plain", Duration: 500 * time.Millisecond, Pacer: loadgen.Constant{Rate: 40}}}}
	sum, err := loadgen.RunScenario(context.Background(), sc, target)
	if err != nil {
		t.Fatal(err)
	}
	st := sum.Phases[0].All
	if st.Scheduled != 20 || st.OK != 20 || gets.Load() != 20 {
		t.Errorf("scheduled %d, ok %d, server saw %d GETs; want 20 each", st.Scheduled, st.OK, gets.Load())
	}
}
