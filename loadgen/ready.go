package loadgen

import "time"

// ReadyOutcome is how following an uploaded photo ended.
type ReadyOutcome string

// The outcomes of following an upload.
const (
	ReadyOK      ReadyOutcome = "ready"    // the photo reached status ready
	ReadyFailed  ReadyOutcome = "failed"   // the photo reached status failed
	ReadyTimeout ReadyOutcome = "timeout"  // still pending when the follow timeout ran out
	ReadyError   ReadyOutcome = "error"    // polling itself failed (e.g. 404 after the deadline, transport errors)
	ReadyAborted ReadyOutcome = "canceled" // the run was stopped while following
)

// ReadyResult is the outcome of following one accepted upload until its photo
// was ready or failed. Upload is the upload's hit (its Intended time is where
// upload-to-ready latency starts).
type ReadyResult struct {
	Upload    Hit
	PhaseName string
	Warmup    bool
	ID        string
	Outcome   ReadyOutcome
	Acked     time.Time // when the upload's answer arrived
	Observed  time.Time // when a poll (or the upload answer itself) first showed ready/failed; zero otherwise
	// ServerReady is the server's ready_at (set for ready and failed photos; zero if unknown).
	// The generator and the servers share a clock (loopback only), so
	// ServerReady - Upload.Intended is upload-to-ready without the polling's
	// granularity.
	ServerReady time.Time
	Polls       int // GET requests sent to follow this photo (0 when the upload answer was already final)
	PollErrors  int // polls that failed (transport errors, 5xx, 429)
}

// Latency is upload-to-ready from the upload's intended start: to the
// server's ready_at when known, else to the poll that observed it.
func (r ReadyResult) Latency() time.Duration {
	if !r.ServerReady.IsZero() {
		return r.ServerReady.Sub(r.Upload.Intended)
	}
	return r.Observed.Sub(r.Upload.Intended)
}

// ObservedLatency is upload-to-ready as the client saw it: from the upload's
// intended start to the poll that observed the final status.
func (r ReadyResult) ObservedLatency() time.Duration { return r.Observed.Sub(r.Upload.Intended) }
