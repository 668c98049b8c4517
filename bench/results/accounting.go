package results

import (
	"math"
	"sort"
	"strings"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/loadgen"
)

// Work is the work accounting of one run: what the load generator had
// accepted, what each part of the app handled for it, and the difference,
// counted over the whole captured run (warm-up included, from
// Start-CaptureMargin to Drain+CaptureMargin), each series' own increase.
// It answers "did every photo get handled once?": in a run without faults
// Duplicates, Missing, Lost and DeadLettered are all 0.
type Work struct {
	// UploadsAccepted are the uploads the load generator sent that were
	// answered 2xx (its requests counter, operation upload, outcome ok);
	// DeletesAccepted the same of deletes.
	UploadsAccepted int64 `json:"uploads_accepted"`
	DeletesAccepted int64 `json:"deletes_accepted"`
	// Handled is what each worker finished, every outcome: for the
	// event-driven app, events handled per event function (each counted
	// once, when committed; ok or dead-lettered); for the asynchronous
	// monolith, its jobs finished (attempts that ended ready, failed or
	// deleted; retries are in JobAttempts); the synchronous monolith does
	// its work inside the request and has none.
	Handled map[string]int64 `json:"handled"`
	// Expected is what each worker had to handle: per event function, one
	// event per upload accepted on each topic it consumes, and on the
	// object topic one more per delete accepted (the original's removal);
	// the catalog, consuming three topics, has three per upload. For the
	// asynchronous monolith, one job per upload accepted.
	Expected map[string]int64 `json:"expected"`
	// Duplicates are handled beyond expected (redeliveries, events
	// published again); Missing are expected but not handled. Both are
	// per worker and never below 0.
	Duplicates map[string]int64 `json:"duplicates"`
	Missing    map[string]int64 `json:"missing"`
	// IngestInvocations are the requests the event-driven ingest function
	// served (POST and DELETE /v1/photos, POST /v1/uploads), scrapes and
	// health checks left out: equal to UploadsAccepted when the run has
	// neither deletes nor refused uploads. 0 for the monoliths.
	IngestInvocations int64 `json:"ingest_invocations"`
	// Lost are followed uploads that never became final: the follower
	// timed out, failed to poll, or was stopped (outcomes timeout, error,
	// canceled). Failed are those whose photo ended failed.
	Lost   int64 `json:"lost"`
	Failed int64 `json:"failed"`
	// DeadLettered are the events each event function gave up on and wrote
	// to its dead-letter topic (part of Handled).
	DeadLettered map[string]int64 `json:"dead_lettered"`
	// Reconciled are the object events the reconciler published again
	// (lost notifications recovered; each is handled again by the object
	// topic's consumers).
	Reconciled int64 `json:"reconciled"`
	// JobAttempts are the asynchronous monolith's job attempts by outcome
	// (ready, failed, deleted, retry).
	JobAttempts map[string]int64 `json:"job_attempts,omitempty"`
	// Unmeasured names the figures whose series were not captured (their
	// values above are 0).
	Unmeasured []string `json:"unmeasured,omitempty"`
}

// Outcomes: the load generator's of a request answered 2xx, and
// eventdriven/kafka's (OutcomeDeadLettered) of an event it gave up on.
const (
	outcomeOK           = "ok"
	outcomeDeadLettered = "dead_lettered"
)

// Job attempt outcomes that finish a job (the async monolith's metrics);
// the other, retry, is followed by another attempt.
var jobDone = map[string]bool{"ready": true, "failed": true, "deleted": true}

// Work counts the run's work accounting over its whole captured window.
func (r Run) Work() Work {
	from, to := r.Start.Add(-CaptureMargin), r.Drain.Add(CaptureMargin)
	w := Work{Handled: map[string]int64{}, Expected: map[string]int64{}, Duplicates: map[string]int64{},
		Missing: map[string]int64{}, DeadLettered: map[string]int64{}}
	count := func(v float64) int64 { return int64(math.Round(v)) }
	captured := func(q, what string) bool {
		if _, ok := r.Series[q]; !ok {
			w.Unmeasured = append(w.Unmeasured, what+" (series "+q+" not captured)")
			return false
		}
		return true
	}

	if captured(QRequests, "uploads and deletes accepted") {
		ok := r.IncreasesBy(QRequests, func(l map[string]string) (string, bool) {
			return l["operation"], l["outcome"] == outcomeOK
		}, from, to)
		w.UploadsAccepted, w.DeletesAccepted = count(ok[string(loadgen.OpUpload)]), count(ok[string(loadgen.OpDelete)])
	}
	if captured(QReady, "followed uploads lost or failed") {
		for outcome, n := range r.Increases(QReady, "outcome", from, to) {
			switch loadgen.ReadyOutcome(outcome) {
			case loadgen.ReadyOK:
			case loadgen.ReadyFailed:
				w.Failed += count(n)
			default:
				w.Lost += count(n)
			}
		}
	}

	switch r.Arch {
	case EventDriven:
		if captured(QEventsHandled, "events handled") {
			for key, n := range r.IncreasesBy(QEventsHandled, func(l map[string]string) (string, bool) {
				return l["component"] + "\x00" + l["outcome"], true
			}, from, to) {
				fn, outcome, _ := strings.Cut(key, "\x00")
				w.Handled[fn] += count(n)
				if outcome == outcomeDeadLettered {
					w.DeadLettered[fn] += count(n)
				}
			}
		}
		for fn, n := range expectedEvents(w.UploadsAccepted, w.DeletesAccepted) {
			w.Expected[fn] = n
		}
		if captured(QHTTPRequests, "ingest invocations") {
			w.IngestInvocations = count(r.Increases(QHTTPRequests, "component", from, to)[ingestFunction])
		}
		if captured(QReconciled, "events reconciled") {
			w.Reconciled = count(r.Increases(QReconciled, "", from, to)[""])
		}
	case MonolithAsync:
		if captured(QJobAttempts, "jobs finished") {
			w.JobAttempts = map[string]int64{}
			for outcome, n := range r.Increases(QJobAttempts, "outcome", from, to) {
				w.JobAttempts[outcome] = count(n)
				if jobDone[outcome] {
					w.Handled[MonolithAsync] += count(n)
				}
			}
		}
		w.Expected[MonolithAsync] = w.UploadsAccepted
	}
	for k, want := range w.Expected {
		got := w.Handled[k]
		w.Duplicates[k], w.Missing[k] = max(0, got-want), max(0, want-got)
	}
	sort.Strings(w.Unmeasured)
	return w
}

// ingestFunction is the event-driven function that accepts uploads.
const ingestFunction = "ingest"

// expectedEvents is how many events each event function of the registry
// has to handle for the uploads and deletes accepted: on each topic it
// consumes, one per upload (deploy.Function.Out: a function's output is
// one event per upload; MinIO's object topic gets one per original
// written), and on the object topic one more per delete (the original
// removed).
func expectedEvents(uploads, deletes int64) map[string]int64 {
	perTopic := map[string]int64{deploy.TopicObjects: uploads + deletes}
	for _, f := range deploy.Registry {
		if f.Out != "" {
			perTopic[f.Out] += uploads
		}
	}
	out := map[string]int64{}
	for _, f := range deploy.Registry {
		if f.Trigger != deploy.TriggerEvent {
			continue
		}
		out[f.Name] = 0
		for _, t := range f.In {
			out[f.Name] += perTopic[t]
		}
	}
	return out
}
