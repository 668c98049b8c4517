package platform

import (
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// TestInFlightGaugeEndsAtZero: requests entering and leaving the activator
// together leave photobench_runtime_in_flight_requests at 0. The gauge was
// set after the lock was released, so two ends could set their counts out
// of order and leave it at 1 while idle (the fault matrix read a runtime
// with no request as busy).
func TestInFlightGaugeEndsAtZero(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	now := time.Now()
	a := &Activator{f: &Function{cfg: FunctionConfig{Name: "echo"}}, m: m, areaFrom: now, changed: now}
	gauge := m.InFlightRequests.WithLabelValues("echo")
	for round := range 3000 {
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() { a.begin(); a.end() })
		}
		wg.Wait()
		var mm dto.Metric
		if err := gauge.Write(&mm); err != nil {
			t.Fatal(err)
		}
		if v := mm.GetGauge().GetValue(); v != 0 {
			t.Fatalf("round %d: in-flight gauge %v with no request in flight, want 0", round, v)
		}
	}
}
