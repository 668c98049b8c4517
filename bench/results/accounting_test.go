package results_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/photobench/photobench/bench/results"
)

// counter is a series of labels kv (name, value, ...) that grows from 0
// to each of values, one sample a second from t0.
func counter(t0 time.Time, values []float64, kv ...string) results.Series {
	s := results.Series{Labels: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Labels[kv[i]] = kv[i+1]
	}
	for i, v := range values {
		s.Points = append(s.Points, [2]float64{float64(t0.Unix() + int64(i)), v})
	}
	return s
}

func TestWorkOfAnEventDrivenRun(t *testing.T) {
	t0 := time.Unix(1000, 0)
	start := t0.Add(results.CaptureMargin)
	run := results.Run{Arch: results.EventDriven, Start: start, Drain: start.Add(10 * time.Second),
		Series: map[string][]results.Series{
			// Two runs of the load generator's uploads: 10 accepted, 1 refused.
			results.QRequests: {
				counter(t0, []float64{0, 4, 10}, "instance", "lg", "operation", "upload", "outcome", "ok"),
				counter(t0, []float64{0, 1}, "instance", "lg", "operation", "upload", "outcome", "5xx"),
				counter(t0, []float64{0, 7}, "instance", "lg", "operation", "list", "outcome", "ok"),
			},
			results.QReady: {
				counter(t0, []float64{0, 9}, "instance", "lg", "outcome", "ready"),
				counter(t0, []float64{0, 1}, "instance", "lg", "outcome", "timeout"),
			},
			// The thumbnailer in two replicas, the second born in the run;
			// the tagger handles one event twice; the catalog misses one
			// and dead-letters one.
			results.QEventsHandled: {
				counter(t0, []float64{0, 6}, "component", "thumbnailer", "instance", "a", "topic", "photos.objects", "outcome", "ok"),
				counter(t0.Add(3*time.Second), []float64{4}, "component", "thumbnailer", "instance", "b", "topic", "photos.objects", "outcome", "ok"),
				counter(t0, []float64{0, 11}, "component", "tagger", "instance", "c", "topic", "photo.thumbnailed", "outcome", "ok"),
				counter(t0, []float64{0, 10}, "component", "catalog", "instance", "d", "topic", "photos.objects", "outcome", "ok"),
				counter(t0, []float64{0, 9}, "component", "catalog", "instance", "d", "topic", "photo.thumbnailed", "outcome", "ok"),
				counter(t0, []float64{0, 9}, "component", "catalog", "instance", "d", "topic", "photo.tagged", "outcome", "ok"),
				counter(t0, []float64{0, 1}, "component", "catalog", "instance", "d", "topic", "photo.tagged", "outcome", "dead_lettered"),
			},
			results.QHTTPRequests: {
				counter(t0, []float64{0, 10}, "component", "ingest", "instance", "e"),
				counter(t0, []float64{0, 30}, "component", "query", "instance", "f"),
			},
			results.QReconciled: {counter(t0, []float64{0, 0}, "function", "reconciler", "instance", "g")},
		}}
	got := run.Work()
	want := results.Work{
		UploadsAccepted:   10,
		Handled:           map[string]int64{"thumbnailer": 10, "tagger": 11, "catalog": 29},
		Expected:          map[string]int64{"thumbnailer": 10, "tagger": 10, "catalog": 30},
		Duplicates:        map[string]int64{"thumbnailer": 0, "tagger": 1, "catalog": 0},
		Missing:           map[string]int64{"thumbnailer": 0, "tagger": 0, "catalog": 1},
		DeadLettered:      map[string]int64{"catalog": 1},
		IngestInvocations: 10,
		Lost:              1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Work:\n got %+v\nwant %+v", got, want)
	}
}

func TestWorkOfTheAsyncMonolith(t *testing.T) {
	t0 := time.Unix(1000, 0)
	start := t0.Add(results.CaptureMargin)
	run := results.Run{Arch: results.MonolithAsync, Start: start, Drain: start.Add(10 * time.Second),
		Series: map[string][]results.Series{
			results.QRequests: {counter(t0, []float64{0, 5}, "instance", "lg", "operation", "upload", "outcome", "ok")},
			results.QReady:    {counter(t0, []float64{0, 5}, "instance", "lg", "outcome", "ready")},
			results.QJobAttempts: {
				counter(t0, []float64{0, 5}, "instance", "m", "outcome", "ready"),
				counter(t0, []float64{0, 2}, "instance", "m", "outcome", "retry"),
			},
		}}
	got := run.Work()
	if got.Handled[results.MonolithAsync] != 5 || got.Expected[results.MonolithAsync] != 5 ||
		got.Duplicates[results.MonolithAsync] != 0 || got.Missing[results.MonolithAsync] != 0 {
		t.Errorf("handled %v, expected %v, duplicates %v, missing %v: want 5 jobs finished of 5", got.Handled, got.Expected, got.Duplicates, got.Missing)
	}
	if want := map[string]int64{"ready": 5, "retry": 2}; !reflect.DeepEqual(got.JobAttempts, want) {
		t.Errorf("job attempts %v, want %v", got.JobAttempts, want)
	}
	if len(got.Unmeasured) != 0 {
		t.Errorf("unmeasured %v", got.Unmeasured)
	}
}

// A series not captured is named, not read as 0 work done.
func TestWorkNamesWhatWasNotCaptured(t *testing.T) {
	got := results.Run{Arch: results.EventDriven, Start: time.Unix(1000, 0), Drain: time.Unix(1010, 0)}.Work()
	if len(got.Unmeasured) != 5 {
		t.Errorf("unmeasured %q, want the five figures of the event-driven app", got.Unmeasured)
	}
}
