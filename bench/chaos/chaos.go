// Package chaos is photobench's fault matrix with loss accounting: under
// steady open-loop upload load on each variant of the app, it crashes one
// process at a time with SIGKILL, brings it back, and then counts from the
// client's answers and the real stores (PostgreSQL, the disk, MinIO,
// Kafka) what became of every upload the client saw accepted.
//
// Every row runs on a scratch stack of its own (fresh directory, free
// ports; Scratch), never on the stack make up runs. One row is:
//
//   - the variant's apps and the servers are up and a probe upload
//     becomes final (so that a row never inherits the previous row's
//     damage);
//   - Config.Rate uploads per second for Config.Duration (loadgen, in
//     process, upload only, four users of the row's own);
//   - at a third of the load, SIGKILL of the row's target, at a moment
//     it has work in flight when its own /metrics tells (busy.go: a
//     function's replicas, a monolith, the runtime; waiting up to 10 s
//     for one); Config.Down later it is started again (stack.Start), or,
//     for a function's replicas, the runtime starts new ones itself, at
//     once;
//   - after the load, a bounded wait (Config.Drain) until every accepted
//     photo is final;
//   - the accounting (Row): the calls in flight at the kill, accepted,
//     ready, failed with their reasons, lost, duplicated, orphaned files
//     and objects, client errors, and the two recovery times.
//
// A row passes with 0 lost and 0 duplicated. Execute runs the rows and
// Write puts the table in results/chaos.md (and chaos.json beside it);
// Run (command.go) is `photobench chaos`.
package chaos

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/photobench/photobench/bench/results"
)

// The variants, as photobench bench names them.
const (
	Monolith      = "monolith"
	MonolithAsync = "monolith-async"
	EventDriven   = "eventdriven"
)

// Variants lists the variants in the order the matrix runs them.
var Variants = []string{Monolith, MonolithAsync, EventDriven}

// apps are the stack apps each variant needs.
var apps = map[string][]string{
	Monolith:      {"vision", "monolith"},
	MonolithAsync: {"vision", "monolith-async"},
	EventDriven:   {"vision", "runtime", "front"},
}

// How a fault is dealt and undone.
const (
	// KindService: SIGKILL of a stack service's process group
	// (stack.Kill), started again by the matrix Config.Down later
	// (stack.Start).
	KindService = "service"
	// KindReplicas: SIGKILL of every replica process of an event-driven
	// function that the runtime supervises (found in /proc as the
	// runtime's children running `photobench fn NAME`); the runtime
	// starts new ones itself, so the restart is the runtime's.
	KindReplicas = "replicas"
)

// Fault is one row's target.
type Fault struct {
	Variant string
	Name    string // monolith, ingest, thumbnailer, tagger, catalog, runtime, minio, kafka, postgres
	Kind    string // KindService or KindReplicas
	// Service is the stack service killed (KindService), or the function
	// whose replicas are killed (KindReplicas).
	Service string
}

// ID is the row's name: variant/fault.
func (f Fault) ID() string { return f.Variant + "/" + f.Name }

// Matrix lists every row, in the order they run: each variant's own
// processes first, then the servers it uses.
var Matrix = []Fault{
	{Monolith, "monolith", KindService, "monolith"},
	{Monolith, "postgres", KindService, "postgres"},
	{MonolithAsync, "monolith", KindService, "monolith-async"},
	{MonolithAsync, "postgres", KindService, "postgres"},
	{EventDriven, "ingest", KindReplicas, "ingest"},
	{EventDriven, "thumbnailer", KindReplicas, "thumbnailer"},
	{EventDriven, "tagger", KindReplicas, "tagger"},
	{EventDriven, "catalog", KindReplicas, "catalog"},
	{EventDriven, "runtime", KindService, "runtime"},
	{EventDriven, "minio", KindService, "minio"},
	{EventDriven, "kafka", KindService, "kafka"},
	{EventDriven, "postgres", KindService, "postgres"},
}

// Short lists the rows of `photobench chaos --short` (make test): a
// function's replicas, a server and a monolith.
var Short = []string{"eventdriven/thumbnailer", "eventdriven/kafka", "monolith/monolith"}

// Select returns the rows of Matrix whose variant is in variants and
// whose fault name is in faults (nil or empty: all), and, when ids is not
// empty, only those rows (variant/fault); an unknown name is an error.
func Select(variants, faults, ids []string) ([]Fault, error) {
	var problems []string
	for _, v := range variants {
		if !slices.Contains(Variants, v) {
			problems = append(problems, fmt.Sprintf("unknown variant %q (want %s)", v, strings.Join(Variants, ", ")))
		}
	}
	names := map[string]bool{}
	for _, f := range Matrix {
		names[f.Name] = true
	}
	for _, f := range faults {
		if !names[f] {
			problems = append(problems, fmt.Sprintf("unknown fault %q", f))
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(Matrix, func(f Fault) bool { return f.ID() == id }) {
			problems = append(problems, fmt.Sprintf("unknown row %q", id))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("chaos: %s", strings.Join(problems, "; "))
	}
	var out []Fault
	for _, f := range Matrix {
		if (len(variants) == 0 || slices.Contains(variants, f.Variant)) &&
			(len(faults) == 0 || slices.Contains(faults, f.Name)) &&
			(len(ids) == 0 || slices.Contains(ids, f.ID())) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("chaos: no row matches (variants %v, faults %v)", variants, faults)
	}
	return out, nil
}

// Row is what one row measured.
type Row struct {
	Variant string `json:"variant"`
	Fault   string `json:"fault"`
	Kind    string `json:"kind"`
	// Error is why the row could not run (the stack did not come back,
	// nothing to kill); its counts are then incomplete.
	Error string `json:"error,omitempty"`
	// Killed are the pids the fault killed.
	Killed []int `json:"killed"`
	// KilledAt and RestartedAt are seconds from the start of the load;
	// RestartedAt is when the restarted process was ready (for replicas:
	// the kill, since the runtime starts new ones at once).
	KilledAt    float64 `json:"killed_at_seconds"`
	RestartedAt float64 `json:"restarted_at_seconds"`
	// InFlightAtKill is how many calls the target was running when the
	// SIGKILL was sent, as its own /metrics said just before: handler
	// calls of an event function's replicas (messages inside the
	// delivery policy), the requests ingest's activator proxies, HTTP
	// requests of a monolith, requests in the runtime's activators. The
	// kill waits up to busyWait after the planned time for a reading
	// above 0; 0 means that wait ran out (idle); -1 that the target has
	// no such gauge (the servers) or it could not be read.
	InFlightAtKill int `json:"in_flight_at_kill"`
	// UploadsAtKill are the client's side of it: uploads sent before the
	// SIGKILL and answered (or failed) after it; UploadsCut those of them
	// not accepted.
	UploadsAtKill int `json:"uploads_at_kill"`
	UploadsCut    int `json:"uploads_cut"`

	// Sent are the uploads the load generator started.
	Sent int `json:"sent"`
	// Accepted are the uploads answered 2xx with a photo id.
	Accepted int `json:"accepted"`
	// ClientErrors are the uploads not accepted, by status code or, with
	// no answer, by class (transport, timeout, dropped).
	ClientErrors map[string]int `json:"client_errors"`

	// Of the accepted: final ready, final failed (by reason), lost
	// (accepted but not final by the end of the drain wait, no row, or a
	// final photo whose original or thumbnail is missing).
	Ready         int            `json:"ready"`
	Failed        int            `json:"failed"`
	FailedReasons map[string]int `json:"failed_reasons"`
	Lost          int            `json:"lost"`
	LostWhy       map[string]int `json:"lost_why"`
	LostIDs       []string       `json:"lost_ids,omitempty"`

	// Duplicated counts what must be unique and is not: rows of the
	// row's users beyond every upload that could have written one
	// (DuplicateRows), and ready photos whose stored thumbnail differs
	// from the one made again from the stored original
	// (DifferentThumbnails).
	Duplicated          int `json:"duplicated"`
	DuplicateRows       int `json:"duplicate_rows"`
	DifferentThumbnails int `json:"different_thumbnails"`
	// UnackedRows are rows of the row's users with an id the client never
	// saw accepted: written though the answer was an error or never came.
	// They are expected after a crash mid-request (the client would try
	// again) and count as duplicates only beyond the unanswered uploads.
	UnackedRows int `json:"unacked_rows"`
	// ResentEvents counts, for the event-driven variant, domain events
	// published again for a photo (more than one photo.thumbnailed or
	// photo.tagged per photo id on its topic): at-least-once delivery
	// after a crash, harmless while the catalog's upserts are idempotent,
	// so shown, not a failure.
	ResentEvents int `json:"resent_events"`
	// Orphans are the files (monoliths: on disk) or objects (event-driven:
	// the originals and thumbnails buckets) of the row's users whose photo
	// has no row after the drain; OrphanPhotos the distinct photos they
	// belong to; OrphanAccepted those photos the client saw accepted
	// (counted lost too). Orphans of uploads the client saw fail are
	// garbage, not a failure.
	Orphans        int `json:"orphans"`
	OrphanPhotos   int `json:"orphan_photos"`
	OrphanAccepted int `json:"orphan_accepted"`

	// RecoverAccept is how long after RestartedAt uploads were accepted
	// again for good: the answer to the first upload started after the
	// last one that failed (0 when none failed; -1 when uploads still
	// failed at the end of the load).
	RecoverAccept float64 `json:"recover_accept_seconds"`
	// RecoverDrain is how long after RestartedAt every photo accepted
	// before it was final, as the stores were polled (every 500 ms); -1
	// when some never were.
	RecoverDrain float64 `json:"recover_drain_seconds"`
	// Elapsed is the row's whole time: probe, load, drain and checks.
	Elapsed float64 `json:"elapsed_seconds"`
}

// Pass reports whether the row ran and lost and duplicated nothing.
func (r Row) Pass() bool { return r.Error == "" && r.Lost == 0 && r.Duplicated == 0 }

// Report is a whole matrix run: what Write puts in chaos.md and
// chaos.json.
type Report struct {
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Machine is the machine and the commit, as photobench bench records
	// them.
	Machine  results.Machine `json:"machine"`
	Settings Settings        `json:"settings"`
	Rows     []Row           `json:"rows"`
}

// Pass reports whether every row passed.
func (r *Report) Pass() bool {
	for _, row := range r.Rows {
		if !row.Pass() {
			return false
		}
	}
	return len(r.Rows) > 0
}

// Settings are the knobs of a run, kept with its results.
type Settings struct {
	Rate        float64 `json:"rate_per_second"`
	Duration    float64 `json:"duration_seconds"`
	FaultAt     float64 `json:"fault_at_seconds"`
	Down        float64 `json:"down_seconds"`
	Drain       float64 `json:"drain_seconds"`
	Users       int     `json:"users"`
	Timeout     float64 `json:"request_timeout_seconds"`
	Photos      string  `json:"photos"`
	Partitions  int     `json:"kafka_partitions"`
	NotifyQueue bool    `json:"minio_notify_queue"`
	// BusyWait bounds the wait after the planned kill for work in flight.
	BusyWait float64 `json:"busy_wait_seconds"`
	// TaggerVision is the vision service's profile during the tagger's
	// row (more work per event, so that a replica is busy when killed).
	TaggerVision string `json:"tagger_row_vision_profile"`
	Short        bool   `json:"short"`
}
