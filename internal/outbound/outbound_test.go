package outbound_test

import (
	"context"
	"net/http"
	"net/http/httptest"
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
		req, _ := http.NewRequestWithContext(ctx, method, srv.URL, nil)
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
	want := map[string]float64{"GET": 1, "HEAD": 0, "PUT": 2, "POST": 0, "DELETE": 0, "other": 1, "health": 1}
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
