package bench_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"

	"path/filepath"

	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/loadgen"
)

// One real event-driven run, accounted from what the bench captured: each
// event function handled exactly the events the accepted uploads gave it
// (the catalog one per topic it consumes), none twice and none missing;
// ingest served one request per upload (Prometheus's scrapes and the
// health checks running all along are not invocations); the object store
// got one original per upload from ingest, as the functions count their
// own requests.
//
// The run is on a scratch stack of its own, which the bench starts and
// stops: on the shared stack, the stack's own event-driven app would take
// a share of the consumer groups' partitions (and handle some of the
// run's events), and the bench could not empty the catalog and buckets
// under other tests. Here it does, as `photobench bench` does.
func TestWorkAccountingOfARealRun(t *testing.T) {
	cfg := stacktest.Scratch(t, nil)
	cfg.AppBinary = filepath.Join(stacktest.RepoRoot(t), "bin", "photobench")
	// The tiny profile without its fault: a few seconds of uploads (and
	// lists, served by another function), the warm-up included.
	p, err := bench.ParseProfile([]byte(tinyProfile))
	if err != nil {
		t.Fatal(err)
	}
	ex := &p.Experiments[0]
	ex.Faults = nil
	ex.Scenario.Phases = ex.Scenario.Phases[:2]
	var log strings.Builder
	res, err := bench.RunProfile(context.Background(), bench.Config{Profile: p, Out: t.TempDir(), Stack: cfg,
		Archs: []string{results.EventDriven}, Secret: []byte(cfg.AuthSecret), Cache: t.TempDir(), Log: &log, EmptyShared: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if len(res.Runs) != 1 || res.Runs[0].Status != results.StatusOK {
		t.Fatalf("runs %+v\n%s", res.Runs, log.String())
	}
	run := res.Runs[0]
	if len(res.Order) != 1 || !strings.Contains(res.Order[0].Fresh, "emptied before the run") || res.Order[0].Rows["catalog.photos"] != 0 ||
		len(res.Order[0].Problems) > 0 {
		t.Errorf("start state %+v: want the catalog and buckets emptied, 0 rows", res.Order)
	}
	w := run.Work()
	t.Logf("work: %+v", w)
	if len(w.Unmeasured) > 0 {
		t.Fatalf("not measured: %v", w.Unmeasured)
	}
	// The counter includes the warm-up, which the summary leaves out.
	ps, _ := run.Summary.Phase("steady")
	steady := ps.Ops[loadgen.OpUpload].OK
	if w.UploadsAccepted <= int64(steady) {
		t.Fatalf("uploads accepted %d, want more than the steady phase's %d (warm-up included)", w.UploadsAccepted, steady)
	}
	for _, fn := range []string{"thumbnailer", "tagger", "catalog"} {
		if w.Handled[fn] != w.Expected[fn] || w.Duplicates[fn] != 0 || w.Missing[fn] != 0 {
			t.Errorf("%s handled %d events, expected %d (duplicates %d, missing %d)", fn, w.Handled[fn], w.Expected[fn], w.Duplicates[fn], w.Missing[fn])
		}
	}
	if w.Expected["catalog"] != 3*w.UploadsAccepted {
		t.Errorf("catalog expected %d events, want 3 per upload (%d)", w.Expected["catalog"], 3*w.UploadsAccepted)
	}
	if w.IngestInvocations != w.UploadsAccepted {
		t.Errorf("ingest invocations %d, uploads accepted %d", w.IngestInvocations, w.UploadsAccepted)
	}
	if w.Lost != 0 || w.Failed != 0 || w.Reconciled != 0 || sumOf(w.DeadLettered) != 0 {
		t.Errorf("lost %d, failed %d, reconciled %d, dead-lettered %v: want none in a run without faults", w.Lost, w.Failed, w.Reconciled, w.DeadLettered)
	}
	from, to := run.Start.Add(-results.CaptureMargin), run.Drain.Add(results.CaptureMargin)
	puts := run.IncreasesBy(results.QObjectRequestsSent, func(l map[string]string) (string, bool) {
		return l["component"], l["op"] == http.MethodPut
	}, from, to)
	if got := int64(math.Round(puts["ingest"])); got != w.UploadsAccepted {
		t.Errorf("ingest sent %d PUTs to the object store, want one per upload (%d)", got, w.UploadsAccepted)
	}
}

func sumOf(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
