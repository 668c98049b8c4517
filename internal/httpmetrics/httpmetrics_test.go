package httpmetrics_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/internal/httpmetrics"
)

// server is a chi router measured by a fresh Metrics, with one route, and
// a count of the duration histogram's series.
func server(t *testing.T) (*httptest.Server, func() int) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := httpmetrics.NewMetrics(reg)
	r := chi.NewRouter()
	r.Use(m.Middleware)
	r.HandleFunc("/v1/photos/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	series := func() int {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "photobench_http_request_duration_seconds" {
				return len(mf.GetMetric())
			}
		}
		return 0
	}
	return srv, series
}

func send(t *testing.T, method, url string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// TestRandomMethodsAndPathsAddOneSeries: 100 requests with random methods
// to one route add one series (method "other"); 100 random paths add one
// (route "unmatched").
func TestRandomMethodsAndPathsAddOneSeries(t *testing.T) {
	srv, series := server(t)
	send(t, http.MethodGet, srv.URL+"/v1/photos/a")
	before := series()
	for range 100 {
		send(t, fmt.Sprintf("M%d", rand.IntN(1<<30)), srv.URL+"/v1/photos/a")
	}
	if n := series() - before; n > 1 {
		t.Errorf("100 random methods added %d series, want at most 1", n)
	}
	before = series()
	for range 100 {
		send(t, http.MethodGet, fmt.Sprintf("%s/x%d/y", srv.URL, rand.IntN(1<<30)))
	}
	if n := series() - before; n > 1 {
		t.Errorf("100 random paths added %d series, want at most 1", n)
	}
}

func TestMethod(t *testing.T) {
	for in, want := range map[string]string{
		"GET": "GET", "POST": "POST", "PUT": "PUT", "DELETE": "DELETE", "PATCH": "PATCH",
		"HEAD": "HEAD", "OPTIONS": "OPTIONS", "get": "other", "TRACE": "other", "CONNECT": "other",
		"M12345": "other", "": "other",
	} {
		if got := httpmetrics.Method(in); got != want {
			t.Errorf("Method(%q) = %q, want %q", in, got, want)
		}
	}
}
