package cost

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/loadgen"
)

// The event-driven app's functions, from its registry (deploy.Registry):
// HTTP functions are invoked per request served, event functions per event
// handled. The front is the platform's router (API Gateway), not a
// function.
var (
	httpFunctions  = deploy.Names(deploy.TriggerHTTP)
	eventFunctions = deploy.Names(deploy.TriggerEvent)
)

// Components left out of the cost on every side: the vision service stands
// in for an external API every architecture calls equally, and Prometheus is
// the bench's own measuring instrument.
var excluded = map[string]bool{"vision": true, "prometheus": true}

// belongs says whether component c is part of architecture arch's cost: a
// monolith's are its app and PostgreSQL (the stack's other servers, Kafka
// and MinIO, run during its runs too, unused with --storage disk); the
// event-driven app's are all but the monoliths'.
func belongs(arch, c string) bool {
	switch {
	case c == "" || excluded[c]:
		return false
	case vmApp[arch] != "":
		return c == vmApp[arch] || c == "postgresql"
	}
	for _, app := range vmApp {
		if c == app {
			return false
		}
	}
	return true
}

const (
	mib          = 1 << 20
	gib          = 1 << 30 // the GB of AWS storage and data prices
	memoryStepMB = 128
)

// Usage is what one architecture used in the cost window (the steady
// phase) and the idle window, as measured: the medians over its runs when
// there are repeats. A figure that could not be measured is absent from its
// map (or 0) and explained in Missing.
type Usage struct {
	Arch string `json:"arch"` // results.Monolith, results.MonolithAsync or results.EventDriven
	// Runs are the runs used ("scenario #repeat": status ok or partial).
	Runs          []string `json:"runs"`
	WindowSeconds float64  `json:"window_seconds"` // the steady phase's length (s)
	// Photos are the uploads answered ok in the steady phase; Requests all
	// requests answered ok (uploads included); FrontDoorRequests the
	// requests the load generator sent (the event-driven app's API Gateway
	// requests). FollowerPolls are the GETs the load generator's ready
	// follower sent for the phase's uploads: the bench's instrumentation,
	// not the app's workload (a real client would be notified, or poll at
	// its own pace), so they are left out of FrontDoorRequests and of
	// query's Invocations and BusySeconds, and reported here only.
	Photos            float64 `json:"photos"`
	Requests          float64 `json:"requests"`
	FrontDoorRequests float64 `json:"front_door_requests"`
	FollowerPolls     float64 `json:"follower_polls"`
	Load              float64 `json:"load_photos_per_second"` // Photos / WindowSeconds
	// CPUSeconds by component (app processes and the stack's servers; vision
	// and prometheus left out), over the steady window.
	CPUSeconds map[string]float64 `json:"cpu_seconds"`
	// PeakMemoryBytes by component: the largest single process (replica)
	// over the whole run; for the stack's servers, the server's process tree.
	PeakMemoryBytes map[string]float64 `json:"peak_memory_bytes"`
	// ReplicaSeconds by function (event-driven): the cost proxy of
	// instance-billed platforms.
	ReplicaSeconds map[string]float64 `json:"replica_seconds,omitempty"`
	// Invocations by function: HTTP requests served (ingest, query) and
	// events handled, every outcome (thumbnailer, tagger, catalog); query's
	// without the follower polls.
	Invocations map[string]float64 `json:"invocations,omitempty"`
	// BusySeconds by function: serving (HTTP) or handling (event) seconds;
	// query's reduced in proportion to the follower polls left out.
	BusySeconds map[string]float64 `json:"busy_seconds,omitempty"`
	// MemoryMB by function: the billed memory size, PeakMemoryBytes rounded
	// up to a multiple of 128 MB (MB = 2^20 bytes), at least 128.
	MemoryMB  map[string]float64 `json:"memory_mb,omitempty"`
	GBSeconds float64            `json:"gb_seconds"` // sum of BusySeconds x MemoryMB / 1024
	// LambdaMemoryMB by function: the memory size AWS Lambda is billed at,
	// the larger of MemoryMB and the size whose CPU share (memory / 1,769
	// MB of a vCPU) does the function's measured CPU-seconds in its busy
	// seconds: 1,769 x CPU-seconds / busy seconds, rounded up to 1 MB, at
	// most 10,240. LambdaGBSeconds is the sum of BusySeconds x
	// LambdaMemoryMB / 1024: the AWS Lambda options' GB-seconds.
	LambdaMemoryMB  map[string]float64 `json:"lambda_memory_mb,omitempty"`
	LambdaGBSeconds float64            `json:"lambda_gb_seconds"`
	// EventsHandled are the events the event functions (thumbnailer,
	// tagger, catalog) handled, every outcome: what the AWS Lambda + SQS
	// option carries on SQS instead of Kafka.
	EventsHandled float64 `json:"events_handled"`
	// ObjectRequests are the object-store requests the functions sent
	// (results.QObjectRequestsSent, counted where they are made), by op:
	// the HTTP method, or LIST for a listing; then by S3 price class.
	// Health checks are left out (a function on S3 sends none).
	ObjectRequests map[string]float64 `json:"object_requests,omitempty"`
	PutRequests    float64            `json:"put_requests"`  // PUT, POST, LIST
	GetRequests    float64            `json:"get_requests"`  // GET, HEAD and all others
	FreeRequests   float64            `json:"free_requests"` // DELETE (free)
	// The idle window: the end of the idle phase, from the moment every
	// backlog was drained (IdleDrainSeconds after the phase began: no
	// consumer lag, no async job left, no upload followed, nothing in
	// flight) to the phase's end (IdlePhaseSeconds after it began). It is
	// what was invoked while nothing was scheduled and nothing was left to
	// do: the idle costs are this window's usage scaled to an hour. The
	// requests ingest and query served then are follower polls
	// (IdleFollowerPolls): they are left out of the idle usage, so
	// IdleInvocations and IdleGBSeconds are the event functions' and
	// IdleFrontDoorRequests is 0. When the backlog did not drain before
	// the phase ended, the idle figures are not measured (Missing says
	// why).
	IdlePhaseSeconds      float64 `json:"idle_phase_seconds"`
	IdleDrainSeconds      float64 `json:"idle_drain_seconds"`
	IdleWindowSeconds     float64 `json:"idle_window_seconds"`
	IdleInvocations       float64 `json:"idle_invocations"`
	IdleEventsHandled     float64 `json:"idle_events_handled"`
	IdleGBSeconds         float64 `json:"idle_gb_seconds"`
	IdleLambdaGBSeconds   float64 `json:"idle_lambda_gb_seconds"`
	IdleFrontDoorRequests float64 `json:"idle_front_door_requests"`
	IdleFollowerPolls     float64 `json:"idle_follower_polls"`
	IdlePutRequests       float64 `json:"idle_put_requests"`
	IdleGetRequests       float64 `json:"idle_get_requests"`
	// Missing explains every figure that could not be measured.
	Missing []string `json:"missing,omitempty"`
}

// fig is one figure of one run: a value, or why there is none.
type fig struct {
	v   float64
	why string // "" when v is a measurement
}

func val(v float64) fig              { return fig{v: v} }
func na(format string, a ...any) fig { return fig{why: fmt.Sprintf(format, a...)} }
func (f fig) ok() bool               { return f.why == "" }

// firstNA returns the first of fs that has no value.
func firstNA(fs ...fig) (fig, bool) {
	for _, f := range fs {
		if !f.ok() {
			return f, true
		}
	}
	return fig{}, false
}

// figs are one run's figures by key: the usage ("photos", "cpu/monolith",
// ...) and, added later, the costs ("cost/aws/per_million", ...).
type figs map[string]fig

// measure reads one run's usage figures. Keys:
//
//	window photos requests front polls load
//	cpu/<component> mem/<component> rs/<function> inv/<function>
//	busy/<function> mb/<function> lmb/<function> gbs lgbs events
//	obj/<op> put get free
//	idle/phase idle/drain idle/window idle/inv idle/events idle/gbs
//	idle/lgbs idle/front idle/polls idle/put idle/get
//
// The load generator's follower polls (polls, idle/polls) are left out of
// every other figure: see excludePolls.
//
// A figure that cannot be measured is present with its reason; a per
// component figure is absent when its series is.
func measure(r *results.Results, run results.Run) figs {
	f := figs{}
	phaseNA := func(name, what string) fig {
		if name == "" {
			return na("no data: the profile names no %s phase", what)
		}
		return na("no data: the run has no phase %q", name)
	}
	w, haveW := run.Phase(r.SteadyPhase)
	if !haveW || r.SteadyPhase == "" {
		bad := phaseNA(r.SteadyPhase, "steady")
		keys := []string{"window", "photos", "requests", "front", "polls", "load"}
		if run.Arch == results.EventDriven {
			keys = append(keys, "gbs", "events", "put", "get", "free")
		}
		for _, k := range keys {
			f[k] = bad
		}
	} else {
		secs := w.End.Sub(w.Start).Seconds()
		f["window"] = val(secs)
		if ps, ok := run.Summary.Phase(r.SteadyPhase); ok {
			photos := float64(ps.Ops[loadgen.OpUpload].OK)
			f["photos"] = val(photos)
			f["requests"] = val(float64(ps.All.OK))
			// The front door's requests are those the load generator sent;
			// its follower's polls are instrumentation, counted apart.
			f["front"] = val(float64(ps.All.Sent))
			polls := 0.0 // no follower summary: nothing was followed
			if ps.Ready != nil {
				polls = float64(ps.Ready.Polls)
			}
			f["polls"] = val(polls)
			if secs > 0 {
				f["load"] = val(photos / secs)
			} else {
				f["load"] = na("no data: the %s phase has no length", r.SteadyPhase)
			}
		} else {
			bad := na("no data: no load-generator summary of phase %q", r.SteadyPhase)
			f["photos"], f["requests"], f["front"], f["polls"], f["load"] = bad, bad, bad, bad, bad
		}
		measureWindow(f, run, w.Start, w.End)
	}

	// Memory: the largest single process over the whole run, since a
	// function's memory size (and a VM's) is chosen for its peak.
	for _, q := range []string{results.QProcessMemory, results.QComponentMemory} {
		for _, s := range run.Series[q] {
			c := s.Labels["component"]
			if !belongs(run.Arch, c) {
				continue
			}
			peak := 0.0
			for _, p := range s.Points {
				peak = max(peak, p[1])
			}
			if old, ok := f["mem/"+c]; !ok || peak > old.v {
				f["mem/"+c] = val(peak)
			}
		}
	}
	iw, haveIW := run.Phase(r.IdlePhase)
	haveIW = haveIW && r.IdlePhase != ""
	if haveIW {
		f["idle/phase"] = val(iw.End.Sub(iw.Start).Seconds())
		drained, why := drainedAt(run, iw)
		if why.ok() {
			f["idle/drain"] = val(drained.Sub(iw.Start).Seconds())
			iw.Start = drained
			f["idle/window"] = val(iw.End.Sub(iw.Start).Seconds())
		} else {
			f["idle/drain"], f["idle/window"] = why, why
			haveIW = false
		}
	} else {
		bad := phaseNA(r.IdlePhase, "idle")
		f["idle/phase"], f["idle/drain"], f["idle/window"] = bad, bad, bad
	}
	if run.Arch == results.EventDriven {
		measureFunctions(f, run, w, haveW && r.SteadyPhase != "", iw, haveIW)
	}
	return f
}

// measureWindow adds the CPU-seconds, replica-seconds and object requests
// of the steady window.
func measureWindow(f figs, run results.Run, from, to time.Time) {
	for _, q := range []string{results.QProcessCPU, results.QComponentCPU} {
		for c, v := range run.Increases(q, "component", from, to) {
			if belongs(run.Arch, c) {
				f["cpu/"+c] = val(v)
			}
		}
	}
	if run.Arch != results.EventDriven {
		return // the monolith keeps its files on its disk: no object requests
	}
	for fn, v := range run.Increases(results.QReplicaSeconds, "function", from, to) {
		if fn != "" {
			f["rs/"+fn] = val(v)
		}
	}
	if len(run.Series[results.QObjectRequestsSent]) == 0 {
		bad := na("no data: series %s absent", results.QObjectRequestsSent)
		f["put"], f["get"], f["free"] = bad, bad, bad
		return
	}
	put, get, free := objectClasses(objectRequests(run, from, to), f)
	f["put"], f["get"], f["free"] = val(put), val(get), val(free)
}

// objectRequests are the object-store requests run's architecture sent
// between from and to, by op (results.QObjectRequestsSent: counted by the
// functions as they send them, not by MinIO, whose counters lag by up to
// about 10 s). Health checks are left out: a function on S3 has no
// object store to probe.
func objectRequests(run results.Run, from, to time.Time) map[string]float64 {
	return run.IncreasesBy(results.QObjectRequestsSent, func(l map[string]string) (string, bool) {
		return l["op"], belongs(run.Arch, l["component"]) && l["op"] != outbound.OpHealth
	}, from, to)
}

// objectClasses sums object requests by S3 price class; with f, it also
// records each op's count.
func objectClasses(byOp map[string]float64, f figs) (put, get, free float64) {
	for _, op := range slices.Sorted(maps.Keys(byOp)) { // one order: the same bits every time
		n := byOp[op]
		if f != nil {
			f["obj/"+op] = val(n)
		}
		switch objectClass(op) {
		case "put":
			put += n
		case "free":
			free += n
		default:
			get += n
		}
	}
	return put, get, free
}

// objectClass classifies an object-store request by its op (package
// internal/outbound: the HTTP method, or LIST for a listing) by Amazon
// S3's request prices: "put" for PUT, POST and LIST (COPY and the
// multipart steps are PUTs and POSTs), "free" for DELETE, "get" for GET,
// HEAD and all others.
func objectClass(op string) string {
	switch op {
	case http.MethodPut, http.MethodPost, outbound.OpList:
		return "put"
	case http.MethodDelete:
		return "free"
	default:
		return "get"
	}
}

// drainedAt is when every backlog of run was drained in the idle phase
// iw, for good: the first sample from which, to the phase's end, the
// consumer lag of every function (event-driven), the async monolith's
// unfinished jobs, the uploads the load generator follows and its
// requests in flight all read 0 (iw.Start if they did from its start).
// Without one of those series, or when a backlog remains at the phase's
// end, it says why instead.
func drainedAt(run results.Run, iw results.Window) (time.Time, fig) {
	backlogs := []string{results.QFollowing, results.QInFlight}
	switch run.Arch {
	case results.EventDriven:
		backlogs = append(backlogs, results.QLag)
	case results.MonolithAsync:
		backlogs = append(backlogs, results.QJobs)
	}
	from, to := float64(iw.Start.UnixMilli())/1e3, float64(iw.End.UnixMilli())/1e3
	drained := iw.Start
	for _, q := range backlogs {
		ss := run.Series[q]
		if len(ss) == 0 {
			return time.Time{}, na("not measured: series %s absent, so the end of the backlog is unknown", q)
		}
		for _, s := range ss {
			last := -1 // the last sample up to the phase's end that is not 0
			end := -1  // the last sample up to the phase's end
			for i, p := range s.Points {
				if p[0] > to {
					break
				}
				end = i
				if p[1] != 0 {
					last = i
				}
			}
			switch {
			case end < 0 || s.Points[end][0] < from:
				return time.Time{}, na("not measured: series %s has no sample in the idle phase", q)
			case last == end:
				return time.Time{}, na("not measured: the backlog (%s %s) was not drained when the idle phase ended", q, labelText(s.Labels))
			case last >= 0 && s.Points[last+1][0] > from:
				if t := time.UnixMilli(int64(math.Round(s.Points[last+1][0] * 1e3))).UTC(); t.After(drained) {
					drained = t
				}
			}
		}
	}
	if !drained.Before(iw.End) {
		return time.Time{}, na("not measured: the backlog was drained only when the idle phase ended")
	}
	return drained, val(0)
}

// labelText is a series' labels as name=value, sorted.
func labelText(l map[string]string) string {
	var kv []string
	for k, v := range l {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// pollFunction is the function that serves the follower's polls (GET
// /v1/photos/{id}).
const pollFunction = "query"

// excludePolls takes n follower polls out of function fn's invocations
// (never below 0) and its busy seconds in proportion: seconds x
// (invocations - polls) / invocations, a poll taken to cost what fn's
// average request does.
func excludePolls(inv, busy map[string]float64, fn string, n float64) {
	total := inv[fn]
	if total <= 0 {
		return
	}
	kept := max(0, total-n)
	busy[fn] *= kept / total
	inv[fn] = kept
}

// measureFunctions adds the event-driven functions' invocations, busy
// seconds, memory sizes and GB-seconds, and the events handled, in the
// steady window and the idle window, the load generator's follower polls
// left out: in the steady window the phase's polls are taken out of
// query's; in the idle window, where nothing is scheduled, every request
// ingest and query served is a poll, and only the event functions' work
// (the app draining its own) remains.
func measureFunctions(f figs, run results.Run, w results.Window, haveW bool, iw results.Window, haveIW bool) {
	m := newFunctionMeter(run)
	var absent []string
	for _, q := range []string{results.QHTTPRequests, results.QHTTPSeconds, results.QEventsHandled, results.QEventSeconds, results.QProcessMemory} {
		if len(run.Series[q]) == 0 {
			absent = append(absent, q)
		}
	}
	m.billedSizes(f)
	if len(absent) > 0 {
		bad := na("no data: series %s absent", strings.Join(absent, ", "))
		f["gbs"], f["idle/inv"], f["idle/gbs"], f["lgbs"], f["idle/lgbs"] = bad, bad, bad, bad, bad
		for fn := range m.kinds {
			f["inv/"+fn], f["busy/"+fn], f["lmb/"+fn] = bad, bad, bad
		}
	} else if haveW {
		m.measureSteady(f, w)
	} else {
		f["lgbs"] = f["gbs"] // why there is no steady window
	}

	// Events handled by the event functions, every outcome (the SQS
	// option's messages).
	noEvents := len(run.Series[results.QEventsHandled]) == 0
	switch {
	case noEvents:
		bad := na("no data: series %s absent", results.QEventsHandled)
		f["events"], f["idle/events"] = bad, bad
	case haveW:
		f["events"] = val(m.events(w.Start, w.End))
	}

	if !haveIW {
		for _, k := range []string{"idle/inv", "idle/events", "idle/gbs", "idle/lgbs", "idle/front", "idle/polls", "idle/put", "idle/get"} {
			f[k] = f["idle/window"]
		}
		return
	}
	m.measureIdle(f, iw, len(absent) == 0, !noEvents)
	if len(absent) == 0 {
		m.idleLambda(f, iw)
	}
}

// funcSeries names the series of a function's invocations and of its busy
// seconds.
type funcSeries struct{ count, secs string }

// functionMeter reads the event-driven functions' usage from one run's
// series.
type functionMeter struct {
	run   results.Run
	kinds map[string]funcSeries // by function
	mb    map[string]float64    // billed memory size by function, MB
	lmb   map[string]float64    // AWS Lambda's memory size by function, MB (set by measureSteady)
}

// newFunctionMeter is a meter of run's functions: the HTTP ones counted
// by their requests, the event ones by the events they handled.
func newFunctionMeter(run results.Run) *functionMeter {
	m := &functionMeter{run: run, kinds: map[string]funcSeries{}, mb: map[string]float64{}, lmb: map[string]float64{}}
	for _, fn := range httpFunctions {
		m.kinds[fn] = funcSeries{results.QHTTPRequests, results.QHTTPSeconds}
	}
	for _, fn := range eventFunctions {
		m.kinds[fn] = funcSeries{results.QEventsHandled, results.QEventSeconds}
	}
	return m
}

// billedSizes sets each function's billed memory size ("mb/"), from the
// whole run's peak (f's "mem/") rounded up to the billing step.
func (m *functionMeter) billedSizes(f figs) {
	for fn := range m.kinds {
		if len(m.run.Series[results.QProcessMemory]) == 0 {
			f["mb/"+fn] = na("no data: series %s absent", results.QProcessMemory)
			continue
		}
		// A function with no replica in the run has no memory series: it
		// was never invoked, and the minimum size prices its nothing.
		peak := f["mem/"+fn].v
		m.mb[fn] = max(memoryStepMB, math.Ceil(peak/mib/memoryStepMB)*memoryStepMB)
		f["mb/"+fn] = val(m.mb[fn])
	}
}

// window returns the invocations and busy seconds of each function between
// from and to.
func (m *functionMeter) window(from, to time.Time) (inv, busy map[string]float64) {
	inv, busy = map[string]float64{}, map[string]float64{}
	cache := map[string]map[string]float64{}
	get := func(q string) map[string]float64 {
		if cache[q] == nil {
			cache[q] = m.run.Increases(q, "component", from, to)
		}
		return cache[q]
	}
	for fn, s := range m.kinds {
		inv[fn], busy[fn] = get(s.count)[fn], get(s.secs)[fn]
	}
	return inv, busy
}

// gbs is the GB-seconds of the busy seconds by function, at their billed
// sizes.
func (m *functionMeter) gbs(busy map[string]float64) float64 { return gbSeconds(busy, m.mb) }

// gbSeconds is the GB-seconds of busy seconds by function at memory
// sizes mb (MB) by function.
func gbSeconds(busy, mb map[string]float64) float64 {
	total := 0.0
	for _, fn := range slices.Sorted(maps.Keys(busy)) {
		total += busy[fn] * mb[fn] / 1024
	}
	return total
}

// lambdaSizes sets each function's AWS Lambda memory size ("lmb/"): the
// larger of its billed size from memory ("mb/") and the size whose CPU
// share lets its CPU-seconds in the window (f's "cpu/") run in its busy
// seconds there (busy), LambdaMBPerVCPU x CPU-seconds / busy seconds,
// rounded up to 1 MB and at most LambdaMaxMB. A function without CPU
// series or busy seconds keeps its size from memory.
func (m *functionMeter) lambdaSizes(f figs, busy map[string]float64) {
	for fn := range m.kinds {
		size := m.mb[fn]
		if cpu, ok := f["cpu/"+fn]; ok && cpu.ok() && busy[fn] > 0 {
			size = max(size, min(LambdaMaxMB, math.Ceil(LambdaMBPerVCPU*cpu.v/busy[fn]-1e-9)))
		}
		m.lmb[fn] = size
		f["lmb/"+fn] = val(size)
	}
}

// idleLambda sets the idle window's GB-seconds at AWS Lambda's sizes
// ("idle/lgbs"): the event functions' busy seconds there, as measureIdle
// counts them (ingest and query then serve only follower polls).
func (m *functionMeter) idleLambda(f figs, iw results.Window) {
	if _, ok := f["idle/gbs"]; !ok || len(m.lmb) == 0 {
		f["idle/lgbs"] = f["lgbs"]
		return
	}
	_, busy := m.window(iw.Start, iw.End)
	for _, fn := range httpFunctions {
		delete(busy, fn)
	}
	f["idle/lgbs"] = val(gbSeconds(busy, m.lmb))
}

// events is the number of events the event functions handled between from
// and to, every outcome.
func (m *functionMeter) events(from, to time.Time) float64 {
	byFn := m.run.Increases(results.QEventsHandled, "component", from, to)
	n := 0.0
	for _, fn := range eventFunctions {
		n += byFn[fn]
	}
	return n
}

// measureSteady sets each function's invocations and busy seconds in the
// steady window w, and their GB-seconds, the follower's polls (f's
// "polls") taken out of the polled function's.
func (m *functionMeter) measureSteady(f figs, w results.Window) {
	inv, busy := m.window(w.Start, w.End)
	m.lambdaSizes(f, busy) // before the polls are taken out: CPU-seconds include them
	polls := f["polls"]
	if polls.ok() {
		excludePolls(inv, busy, pollFunction, polls.v)
	}
	for fn := range m.kinds {
		f["inv/"+fn], f["busy/"+fn] = val(inv[fn]), val(busy[fn])
	}
	f["gbs"], f["lgbs"] = val(m.gbs(busy)), val(gbSeconds(busy, m.lmb))
	if !polls.ok() { // the polls cannot be told apart from query's work
		f["inv/"+pollFunction], f["busy/"+pollFunction], f["gbs"], f["lgbs"] = polls, polls, polls, polls
	}
}

// measureIdle sets the idle window's figures: the event functions'
// invocations and GB-seconds (when haveUsage: their series are all
// present), the events handled (when haveEvents), the front door's
// requests and the follower's polls, and the object store's requests.
func (m *functionMeter) measureIdle(f figs, iw results.Window, haveUsage, haveEvents bool) {
	inv, busy := m.window(iw.Start, iw.End)
	if haveEvents {
		f["idle/events"] = val(m.events(iw.Start, iw.End))
	}
	// Nothing is scheduled while idle: the requests ingest and query serve
	// then are the follower's late polls, left out of the idle usage (and
	// the front door's requests are none); the events still handled are the
	// app's own work draining, and stay.
	polls := 0.0
	for _, fn := range httpFunctions {
		polls += inv[fn]
		delete(inv, fn)
		delete(busy, fn)
	}
	if haveUsage {
		f["idle/inv"], f["idle/gbs"] = val(sum(inv)), val(m.gbs(busy))
	}
	if len(m.run.Series[results.QHTTPRequests]) == 0 {
		bad := na("no data: series %s absent", results.QHTTPRequests)
		f["idle/front"], f["idle/polls"] = bad, bad
	} else {
		f["idle/front"], f["idle/polls"] = val(0), val(polls)
	}
	if len(m.run.Series[results.QObjectRequestsSent]) == 0 {
		bad := na("no data: series %s absent", results.QObjectRequestsSent)
		f["idle/put"], f["idle/get"] = bad, bad
	} else {
		put, get, _ := objectClasses(objectRequests(m.run, iw.Start, iw.End), nil)
		f["idle/put"], f["idle/get"] = val(put), val(get)
	}
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, k := range slices.Sorted(maps.Keys(m)) { // one order: the same bits every time
		t += m[k]
	}
	return t
}

// stat is one figure over an architecture's runs: the median and the
// spread of the runs that measured it, or why none did.
type stat struct {
	med, lo, hi float64
	n, of       int // runs with a value, runs in all
	why         string
}

func (s stat) ok() bool { return s.n > 0 }

// aggregate takes, key by key, the median and spread over runs.
func aggregate(runs []figs) map[string]stat {
	keys := map[string]bool{}
	for _, f := range runs {
		for k := range f {
			keys[k] = true
		}
	}
	out := map[string]stat{}
	for k := range keys {
		var vs []float64
		st := stat{of: len(runs)}
		for _, f := range runs {
			x, ok := f[k]
			switch {
			case ok && x.ok():
				vs = append(vs, x.v)
			case ok && st.why == "":
				st.why = x.why
			case !ok && st.why == "":
				st.why = "no data: no series for it in this run"
			}
		}
		if len(vs) > 0 {
			st.n = len(vs)
			st.med, st.lo, st.hi = median(vs), minOf(vs), maxOf(vs)
		}
		out[k] = st
	}
	return out
}

func median(vs []float64) float64 {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minOf(vs []float64) float64 {
	m := vs[0]
	for _, v := range vs {
		m = min(m, v)
	}
	return m
}

func maxOf(vs []float64) float64 {
	m := vs[0]
	for _, v := range vs {
		m = max(m, v)
	}
	return m
}

// usageOf builds an architecture's Usage from its figures' medians.
func usageOf(arch string, runs []string, st map[string]stat) Usage {
	u := Usage{Arch: arch, Runs: runs}
	med := func(k string) float64 { return st[k].med }
	u.WindowSeconds, u.Photos, u.Requests, u.FrontDoorRequests, u.Load = med("window"), med("photos"), med("requests"), med("front"), med("load")
	u.FollowerPolls, u.IdleFollowerPolls = med("polls"), med("idle/polls")
	u.GBSeconds, u.PutRequests, u.GetRequests, u.FreeRequests = med("gbs"), med("put"), med("get"), med("free")
	u.LambdaGBSeconds, u.IdleLambdaGBSeconds = med("lgbs"), med("idle/lgbs")
	u.EventsHandled, u.IdleEventsHandled = med("events"), med("idle/events")
	u.IdleWindowSeconds, u.IdleInvocations, u.IdleGBSeconds = med("idle/window"), med("idle/inv"), med("idle/gbs")
	u.IdlePhaseSeconds, u.IdleDrainSeconds = med("idle/phase"), med("idle/drain")
	u.IdleFrontDoorRequests, u.IdlePutRequests, u.IdleGetRequests = med("idle/front"), med("idle/put"), med("idle/get")
	maps := map[string]*map[string]float64{"cpu/": &u.CPUSeconds, "mem/": &u.PeakMemoryBytes, "rs/": &u.ReplicaSeconds,
		"inv/": &u.Invocations, "busy/": &u.BusySeconds, "mb/": &u.MemoryMB, "lmb/": &u.LambdaMemoryMB, "obj/": &u.ObjectRequests}
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]bool{}
	for _, k := range keys {
		s := st[k]
		if !s.ok() {
			if !seen[s.why] && !strings.HasPrefix(k, "cost/") {
				seen[s.why] = true
				u.Missing = append(u.Missing, s.why)
			}
			continue
		}
		for prefix, m := range maps {
			if name, ok := strings.CutPrefix(k, prefix); ok {
				if *m == nil {
					*m = map[string]float64{}
				}
				(*m)[name] = s.med
			}
		}
	}
	return u
}
