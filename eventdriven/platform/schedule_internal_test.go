package platform

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The timer invokes the function once per schedule, one run at a time, and
// counts runs by outcome and the events each answer says it published
// again, failed runs' included.
func TestInvokeCountsRunsAndReconciledEvents(t *testing.T) {
	var calls, concurrent, overlap atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if concurrent.Add(1) > 1 {
			overlap.Add(1)
		}
		defer concurrent.Add(-1)
		if r.Method != http.MethodPost {
			t.Errorf("method %s, want POST", r.Method)
		}
		time.Sleep(1500 * time.Millisecond) // longer than the schedule: the next tick is skipped
		w.Header().Set("Content-Type", "application/json")
		if calls.Add(1) == 1 {
			w.Write([]byte(`{"checked":9,"reconciled":2}`))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"checked":3,"reconciled":1,"error":"catalog unavailable"}`))
	}))
	defer srv.Close()

	m := NewMetrics(prometheus.NewRegistry())
	cfg := FunctionConfig{Name: "reconciler", Kind: KindHTTP, Schedule: Duration{time.Second}, ActivatorTimeout: Duration{time.Second}}
	m.init(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		invoke(ctx, cfg, srv.URL, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for counter(m.ScheduledRuns.WithLabelValues("reconciler", "error")) < 1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	if ok, failed := counter(m.ScheduledRuns.WithLabelValues("reconciler", "ok")), counter(m.ScheduledRuns.WithLabelValues("reconciler", "error")); ok != 1 || failed < 1 {
		t.Errorf("runs ok %v, error %v; want 1 and at least 1", ok, failed)
	}
	if got, runs := counter(m.Reconciled.WithLabelValues("reconciler")), calls.Load(); got != float64(2+runs-1) {
		t.Errorf("reconciled %v after %d runs, want %d", got, runs, 2+runs-1)
	}
	if overlap.Load() != 0 {
		t.Error("two runs at once")
	}
}

func counter(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}
