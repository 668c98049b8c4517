package results

import (
	"strings"
	"time"
)

// CaptureMargin widens the captured window on both sides of a run: the
// series of a run cover [Start-CaptureMargin, Drain+CaptureMargin], so
// that the sample at the window's start is a baseline taken before the
// first request, and the last events handled after the last photo was
// seen final are in.
const CaptureMargin = 5 * time.Second

// The names of the captured series (Query.Name, keys of Run.Series).
//
// Counters are captured raw (not as rates) and per process: every counter
// query keeps the labels that tell processes apart (instance, host:port of
// the scrape target: each app, function replica and load generator has its
// own, a replica on its random port), so that Run.Increases can sum each
// series' own increase. Summing the processes first would read a replica's
// exit as a counter reset of the sum (a drop from 78 to 77 counted as +77).
// Inside one process, series (routes, topics) start with the process or
// after it and end with it, so a query may add those up; it never adds up
// two processes. Gauges are summed: a sum of gauges at one time is
// meaningful.
const (
	// The load generator (label operation, outcome / phase).
	QRequestRate = "loadgen_request_rate" // requests/s by operation and outcome, rate over 5 s
	QInFlight    = "loadgen_in_flight"    // requests in flight
	QFollowing   = "loadgen_following"    // uploads being followed until ready
	QRequests    = "loadgen_requests"     // counter: requests by operation and outcome, warm-up included
	QReady       = "loadgen_ready"        // counter: followed uploads by final outcome (ready, failed, timeout, error, canceled)

	// The event-driven runtime, by function.
	QReplicas        = "replicas"           // replica processes alive
	QDesiredReplicas = "desired_replicas"   // what the scaler wants
	QLag             = "lag"                // consumer-group lag (messages)
	QReplicaSeconds  = "replica_seconds"    // counter: replica-seconds
	QColdStarts      = "cold_start_buckets" // counter: histogram buckets by function, phase, le
	QDLQ             = "dlq_writes"         // counter: dead-lettered events by component and topic
	QReconciled      = "reconciled"         // counter: object events the reconciler published again
	QScheduledRuns   = "scheduled_runs"     // counter: timer invocations by function and outcome

	// The asynchronous monolith's job queue (River), by state or outcome.
	QJobs        = "jobs"         // jobs not finished, by state: available, retryable, scheduled, running
	QJobAttempts = "job_attempts" // counter: job attempts by outcome: ready, failed, deleted, retry

	// How each monolith was set up: 1 per storage (label storage: disk or s3).
	QMonolithInfo = "monolith_info"

	// Work done, for the cost model and the work accounting.
	QEventsHandled = "events_handled" // counter by component, topic and outcome
	QEventSeconds  = "event_seconds"  // counter: handling seconds (histogram _sum) by component and topic
	// QHTTPRequests and QHTTPSeconds leave out Prometheus's scrapes and
	// health checks (ProbeRoutes): requests served for work only.
	QHTTPRequests = "http_requests" // counter: requests served (histogram _count) by component
	QHTTPSeconds  = "http_seconds"  // counter: serving seconds (histogram _sum) by component
	// QObjectRequestsSent are the object-store requests as the apps sent
	// them (package internal/outbound), by component and op: the HTTP
	// method, LIST for a listing, health for a health check. The cost
	// model reads these. QObjectRequests is MinIO's own count, kept for
	// reference only: MinIO refreshes it about every 10 s, so a window
	// reads requests of the seconds before it.
	QObjectRequestsSent = "object_requests_sent" // counter: object-store requests sent, by component and op
	QObjectRequests     = "object_requests"      // counter: MinIO's own count of S3 requests by api (reference only)
	QVisionRequests     = "vision_requests"      // counter: vision requests by outcome

	// Resources, by component (an app, a function, or a server of the stack).
	QProcessCPU      = "process_cpu"      // counter: CPU seconds per process (component, instance)
	QProcessMemory   = "process_memory"   // resident bytes per process (component, instance)
	QComponentCPU    = "component_cpu"    // counter: CPU seconds of the stack's servers (postgresql, kafka, minio, prometheus)
	QComponentMemory = "component_memory" // resident bytes of the stack's servers

	// The vision service's fault switch (1 while in outage).
	QVisionOutage = "vision_outage"
)

// ProbeRoutes are the routes (httpmetrics' route label, chi patterns)
// every photobench server mounts for the platform rather than for work:
// Prometheus's scrapes (/metrics) and health checks (/healthz: the stack's
// and the front's probes, and the runtime's activator forwarding them to a
// replica). The HTTP work queries leave them out.
var ProbeRoutes = []string{"/metrics", "/healthz"}

// Queries returns the captured queries for architecture arch, in a fixed
// order: the same list for every architecture, each selecting arch's
// series (a query of another architecture's metrics, the runtime's for a
// monolith say, captures no series). The stack's servers' and the vision
// service's series are the same for all architectures (they are shared);
// each run captures them over its own window.
func Queries(arch string) []Query { return QueriesFor(arch, "") }

// QueriesFor is Queries for the apps of one set (their scrape label
// app_set, promsd.AppSetLabel): a bench's own apps, not another set of the
// same architecture running beside them (the stack's own, in tests).
// An empty set selects every set.
func QueriesFor(arch, set string) []Query {
	sel := ""
	if set != "" {
		sel = `,app_set="` + set + `"`
	}
	a := `architecture="` + arch + `"` + sel
	// The bench's own load generator only: its scrape target carries
	// source="bench" (a photobench load or demo running meanwhile does not).
	lg := `architecture="` + arch + `",source="bench"`
	app := `architecture=~"` + arch + `|shared"` + sel
	work := app + `,route!~"` + strings.Join(ProbeRoutes, "|") + `"`
	vis := strings.TrimPrefix(sel, ",")
	qs := []Query{
		{QRequestRate, `sum by (operation, outcome) (rate(photobench_loadgen_requests_total{` + lg + `}[5s]))`, "requests/s", "load generator: answers per second by operation and outcome (dropped and errors included)"},
		{QInFlight, `sum(photobench_loadgen_in_flight{` + lg + `})`, "requests", "load generator: requests in flight"},
		{QFollowing, `sum(photobench_loadgen_following{` + lg + `})`, "photos", "load generator: uploads being followed until ready"},
		{QRequests, `sum by (instance, operation, outcome) (photobench_loadgen_requests_total{` + lg + `})`, "requests", "load generator: requests by operation and outcome, every phase (counter, per process)"},
		{QReady, `sum by (instance, outcome) (photobench_loadgen_ready_total{` + lg + `})`, "photos", "load generator: followed uploads by final outcome: ready, failed, timeout, error, canceled (counter, per process)"},
		{QReplicas, `sum by (function) (photobench_runtime_replicas{` + a + `})`, "replicas", "runtime: replica processes alive per function"},
		{QDesiredReplicas, `sum by (function) (photobench_runtime_desired_replicas{` + a + `})`, "replicas", "runtime: replicas the scaler wants per function"},
		{QLag, `sum by (function) (photobench_runtime_lag{` + a + `})`, "messages", "runtime: consumer-group lag per event function"},
		{QReplicaSeconds, `sum by (instance, function) (photobench_runtime_replica_seconds_total{` + a + `})`, "replica-seconds", "runtime: replicas alive integrated over time (counter, per process)"},
		{QColdStarts, `sum by (instance, function, phase, le) (photobench_runtime_cold_start_seconds_bucket{` + a + `})`, "count", "runtime: cold-start histogram buckets (counter, per process)"},
		{QDLQ, `sum by (component, instance, topic) (photobench_dlq_writes_total{` + a + `})`, "events", "events dead-lettered by function and topic (counter, per process)"},
		{QReconciled, `sum by (instance, function) (photobench_reconciled_total{` + a + `})`, "events", "runtime: object events the reconciler published again, lost notifications recovered (counter, per process)"},
		{QScheduledRuns, `sum by (instance, function, outcome) (photobench_runtime_scheduled_runs_total{` + a + `})`, "runs", "runtime: timer invocations of scheduled functions by outcome (counter, per process)"},
		{QMonolithInfo, `max by (storage) (photobench_monolith_info{` + a + `})`, "bool", "monolith: 1 per storage it keeps photos in (disk or s3)"},
		{QEventsHandled, `sum by (component, instance, topic, outcome) (photobench_events_handled_total{` + a + `})`, "events", "events handled per function, topic and outcome (counter, per process)"},
		{QEventSeconds, `sum by (component, instance, topic) (photobench_event_handling_duration_seconds_sum{` + a + `})`, "seconds", "time spent handling events per function and topic (counter, per process)"},
		{QHTTPRequests, `sum by (component, instance) (photobench_http_request_duration_seconds_count{` + work + `})`, "requests", "HTTP requests served per component, scrapes and health checks (" + strings.Join(ProbeRoutes, ", ") + ") left out (counter, per process)"},
		{QHTTPSeconds, `sum by (component, instance) (photobench_http_request_duration_seconds_sum{` + work + `})`, "seconds", "time spent serving HTTP requests per component, scrapes and health checks left out (counter, per process)"},
		{QObjectRequestsSent, `sum by (component, instance, op) (photobench_requests_sent_total{target="minio",` + app + `})`, "requests", "object-store requests the apps sent to MinIO, by op: HTTP method, LIST, health (counter, per process)"},
		{QObjectRequests, `sum by (instance, api) (minio_s3_requests_total)`, "requests", "MinIO: S3 requests by API as MinIO counts them, refreshed about every 10 s; for reference, not the cost (counter)"},
		{QVisionRequests, `sum by (instance, code) (photobench_vision_requests_total{` + vis + `})`, "requests", "vision service: analyze requests by HTTP status (counter, per process)"},
		{QProcessCPU, `sum by (component, instance) (process_cpu_seconds_total{job="photobench",` + app + `})`, "seconds", "CPU seconds per app process (counter; a replica's series starts with it)"},
		{QProcessMemory, `sum by (component, instance) (process_resident_memory_bytes{job="photobench",` + app + `})`, "bytes", "resident memory per app process"},
		{QComponentCPU, `sum by (component, instance) (photobench_component_cpu_seconds_total)`, "seconds", "CPU seconds of the stack's servers, process trees read from /proc by the bench (counter)"},
		{QComponentMemory, `sum by (component) (photobench_component_resident_memory_bytes)`, "bytes", "resident memory of the stack's servers (process trees)"},
		{QVisionOutage, `max(photobench_vision_profile_outage{` + vis + `})`, "bool", "vision service: 1 while its outage switch is on"},
	}
	if arch == MonolithAsync { // the only one with a job queue
		qs = append(qs,
			Query{QJobs, `sum by (state) (photobench_monolith_jobs{` + a + `})`, "jobs", "async monolith: jobs of its queue not finished, by state (available, retryable, scheduled, running)"},
			Query{QJobAttempts, `sum by (instance, outcome) (photobench_monolith_job_attempts_total{` + a + `})`, "attempts", "async monolith: job attempts by outcome (ready, failed, deleted, retry) (counter, per process)"})
	}
	return qs
}

// Expand substitutes {{arch}} in a query template.
func Expand(tmpl, arch string) string { return strings.ReplaceAll(tmpl, "{{arch}}", arch) }
