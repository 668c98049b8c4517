package results

import "strings"

// The names of the captured series (Query.Name, keys of Run.Series). Raw
// counters are captured as they are (not as rates) so that totals over a
// window are exact: last sample minus first, for each series; a series that
// starts inside the window (a replica started then) counts from 0.
const (
	// The load generator (label operation, outcome / phase).
	QRequestRate = "loadgen_request_rate" // requests/s by operation and outcome, rate over 5 s
	QInFlight    = "loadgen_in_flight"    // requests in flight
	QFollowing   = "loadgen_following"    // uploads being followed until ready

	// The event-driven runtime, by function.
	QReplicas        = "replicas"           // replica processes alive
	QDesiredReplicas = "desired_replicas"   // what the scaler wants
	QLag             = "lag"                // consumer-group lag (messages)
	QReplicaSeconds  = "replica_seconds"    // counter: replica-seconds
	QColdStarts      = "cold_start_buckets" // counter: histogram buckets by function, phase, le
	QDLQ             = "dlq_writes"         // counter: dead-lettered events by component
	QReconciled      = "reconciled"         // counter: object events the reconciler published again
	QScheduledRuns   = "scheduled_runs"     // counter: timer invocations by function and outcome

	// The asynchronous monolith's job queue (River), by state or outcome.
	QJobs        = "jobs"         // jobs not finished, by state: available, retryable, scheduled, running
	QJobAttempts = "job_attempts" // counter: job attempts by outcome: ready, failed, deleted, retry

	// How each monolith was set up: 1 per storage (label storage: disk or s3).
	QMonolithInfo = "monolith_info"

	// Work done, for the cost model.
	QEventsHandled  = "events_handled"  // counter by component and outcome
	QEventSeconds   = "event_seconds"   // counter: handling seconds (histogram _sum) by component
	QHTTPRequests   = "http_requests"   // counter: requests served (histogram _count) by component
	QHTTPSeconds    = "http_seconds"    // counter: serving seconds (histogram _sum) by component
	QObjectRequests = "object_requests" // counter: MinIO S3 requests by api
	QVisionRequests = "vision_requests" // counter: vision requests by outcome

	// Resources, by component (an app, a function, or a server of the stack).
	QProcessCPU      = "process_cpu"      // counter: CPU seconds per process (component, instance)
	QProcessMemory   = "process_memory"   // resident bytes per process (component, instance)
	QComponentCPU    = "component_cpu"    // counter: CPU seconds of the stack's servers (postgresql, kafka, minio, prometheus)
	QComponentMemory = "component_memory" // resident bytes of the stack's servers

	// The vision service's fault switch (1 while in outage).
	QVisionOutage = "vision_outage"
)

// Queries returns the captured queries for architecture arch, in a fixed
// order: the same list for every architecture, each selecting arch's
// series (a query of another architecture's metrics, the runtime's for a
// monolith say, captures no series). The stack's servers' and the vision
// service's series are the same for all architectures (they are shared);
// each run captures them over its own window.
func Queries(arch string) []Query {
	a := `architecture="` + arch + `"`
	// The bench's own load generator only: its scrape target carries
	// source="bench" (a photobench load or demo running meanwhile does not).
	lg := a + `,source="bench"`
	app := `architecture=~"` + arch + `|shared"`
	qs := []Query{
		{QRequestRate, `sum by (operation, outcome) (rate(photobench_loadgen_requests_total{` + lg + `}[5s]))`, "requests/s", "load generator: answers per second by operation and outcome (dropped and errors included)"},
		{QInFlight, `sum(photobench_loadgen_in_flight{` + lg + `})`, "requests", "load generator: requests in flight"},
		{QFollowing, `sum(photobench_loadgen_following{` + lg + `})`, "photos", "load generator: uploads being followed until ready"},
		{QReplicas, `sum by (function) (photobench_runtime_replicas{` + a + `})`, "replicas", "runtime: replica processes alive per function"},
		{QDesiredReplicas, `sum by (function) (photobench_runtime_desired_replicas{` + a + `})`, "replicas", "runtime: replicas the scaler wants per function"},
		{QLag, `sum by (function) (photobench_runtime_lag{` + a + `})`, "messages", "runtime: consumer-group lag per event function"},
		{QReplicaSeconds, `sum by (function) (photobench_runtime_replica_seconds_total{` + a + `})`, "replica-seconds", "runtime: replicas alive integrated over time (counter)"},
		{QColdStarts, `sum by (function, phase, le) (photobench_runtime_cold_start_seconds_bucket{` + a + `})`, "count", "runtime: cold-start histogram buckets (counter)"},
		{QDLQ, `sum by (component) (photobench_dlq_writes_total{` + a + `})`, "events", "events dead-lettered (counter)"},
		{QReconciled, `sum by (function) (photobench_reconciled_total{` + a + `})`, "events", "runtime: object events the reconciler published again, lost notifications recovered (counter)"},
		{QScheduledRuns, `sum by (function, outcome) (photobench_runtime_scheduled_runs_total{` + a + `})`, "runs", "runtime: timer invocations of scheduled functions by outcome (counter)"},
		{QMonolithInfo, `max by (storage) (photobench_monolith_info{` + a + `})`, "bool", "monolith: 1 per storage it keeps photos in (disk or s3)"},
		{QEventsHandled, `sum by (component, outcome) (photobench_events_handled_total{` + a + `})`, "events", "events handled per function and outcome (counter)"},
		{QEventSeconds, `sum by (component) (photobench_event_handling_duration_seconds_sum{` + a + `})`, "seconds", "time spent handling events per function (counter)"},
		{QHTTPRequests, `sum by (component) (photobench_http_request_duration_seconds_count{` + app + `})`, "requests", "HTTP requests served per component (counter)"},
		{QHTTPSeconds, `sum by (component) (photobench_http_request_duration_seconds_sum{` + app + `})`, "seconds", "time spent serving HTTP requests per component (counter)"},
		{QObjectRequests, `sum by (api) (minio_s3_requests_total)`, "requests", "MinIO: S3 requests by API (counter)"},
		{QVisionRequests, `sum by (code) (photobench_vision_requests_total)`, "requests", "vision service: analyze requests by HTTP status (counter)"},
		{QProcessCPU, `sum by (component, instance) (process_cpu_seconds_total{job="photobench",` + app + `})`, "seconds", "CPU seconds per app process (counter; a replica's series starts with it)"},
		{QProcessMemory, `sum by (component, instance) (process_resident_memory_bytes{job="photobench",` + app + `})`, "bytes", "resident memory per app process"},
		{QComponentCPU, `sum by (component) (photobench_component_cpu_seconds_total)`, "seconds", "CPU seconds of the stack's servers, process trees read from /proc by the bench (counter)"},
		{QComponentMemory, `sum by (component) (photobench_component_resident_memory_bytes)`, "bytes", "resident memory of the stack's servers (process trees)"},
		{QVisionOutage, `max(photobench_vision_profile_outage)`, "bool", "vision service: 1 while its outage switch is on"},
	}
	if arch == MonolithAsync { // the only one with a job queue
		qs = append(qs,
			Query{QJobs, `sum by (state) (photobench_monolith_jobs{` + a + `})`, "jobs", "async monolith: jobs of its queue not finished, by state (available, retryable, scheduled, running)"},
			Query{QJobAttempts, `sum by (outcome) (photobench_monolith_job_attempts_total{` + a + `})`, "attempts", "async monolith: job attempts by outcome (ready, failed, deleted, retry) (counter)"})
	}
	return qs
}

// Expand substitutes {{arch}} in a query template.
func Expand(tmpl, arch string) string { return strings.ReplaceAll(tmpl, "{{arch}}", arch) }
