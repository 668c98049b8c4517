package outbound_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/internal/outbound"
)

func TestTransportCountsEachRequestByOp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	reg := prometheus.NewRegistry()
	c := outbound.New(reg)
	client := &http.Client{Transport: c.Transport(outbound.TargetMinIO, nil)}
	do := func(ctx context.Context, method string) {
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL+"/bucket/key", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	ctx := context.Background()
	do(ctx, http.MethodPut)
	do(ctx, http.MethodPut)
	do(ctx, http.MethodGet)
	do(ctx, "PATCH")
	do(outbound.Health(ctx), http.MethodHead)
	got := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["target"] != outbound.TargetMinIO {
				t.Errorf("target %q, want minio", labels["target"])
			}
			got[labels["op"]] = m.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"GET": 1, "HEAD": 0, "PUT": 2, "POST": 0, "DELETE": 0, "other": 1, "health": 1, "LIST": 0}
	for op, n := range want {
		if got[op] != n {
			t.Errorf("op %s: %v requests counted, want %v (all: %v)", op, got[op], n, got)
		}
	}
}

func TestANilCounterCountsNothing(t *testing.T) {
	var c *outbound.Counter
	if rt := c.Transport(outbound.TargetVision, http.DefaultTransport); rt != http.DefaultTransport {
		t.Error("a nil counter wrapped the transport")
	}
	if c.Tracer() != nil {
		t.Error("a nil counter gave a tracer")
	}
	c.Add(outbound.TargetKafka, outbound.OpProduce, 3) // must not panic
}

// S3 prices a LIST as a PUT-class request though it is an HTTP GET: the
// counter of MinIO's requests tells listings apart, and no other
// target's.
func TestMinIOListingsAreCountedAsList(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	// Requests as "METHOD path", by the op they must be counted as.
	want := map[string][]string{
		outbound.OpList: {
			"GET /originals?list-type=2&prefix=users%2F&encoding-type=url", // ListObjectsV2
			"GET /originals?prefix=users%2F&max-keys=1000",                 // ListObjects
			"GET /originals/", "GET /", "GET /originals?uploads=", "GET /originals/users/u/p?uploadId=abc",
		},
		http.MethodGet:    {"GET /originals/users/u/p", "GET /thumbnails/users/u/p/small.jpg", "GET /originals?location="},
		http.MethodHead:   {"HEAD /originals"},
		http.MethodPut:    {"PUT /originals/users/u/p"},
		http.MethodDelete: {"DELETE /originals/users/u/p"},
	}
	for op, reqs := range want {
		for _, r := range reqs {
			method, path, _ := strings.Cut(r, " ")
			if got := sendOne(t, outbound.TargetMinIO, method, srv.URL+path); got[op] != 1 || len(got) != 1 {
				t.Errorf("%s counted as %v, want one %s", r, got, op)
			}
		}
	}
	t.Run("not MinIO", func(t *testing.T) {
		if got := sendOne(t, outbound.TargetVision, http.MethodGet, srv.URL+"/"); got[http.MethodGet] != 1 || len(got) != 1 {
			t.Errorf("a GET to the vision service counted as %v, want GET", got)
		}
	})
}

// sendOne sends one request through a fresh counter's transport for
// target and returns the ops counted, those above 0.
func sendOne(t *testing.T, target, method, url string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	client := &http.Client{Transport: outbound.New(reg).Transport(target, nil)}
	req, _ := http.NewRequest(method, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v := m.GetCounter().GetValue(); l.GetName() == "op" && v > 0 {
					got[l.GetValue()] += v
				}
			}
		}
	}
	return got
}
