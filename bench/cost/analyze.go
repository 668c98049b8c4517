package cost

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/eventdriven/deploy"
)

// Analysis is the cost model's outcome for one bench run, ready for the
// report: tables, the break-even chart and sentences, all with their units.
type Analysis struct {
	// Sheets are the price sheets as used, for the report's sources table.
	Sheets []Sheet `json:"sheets"`
	// Usage is the measured inputs by architecture (results.Monolith,
	// results.MonolithAsync, results.EventDriven): medians over the runs
	// used.
	Usage map[string]Usage `json:"usage"`
	// Tables, in order: "Cost per million photos at the measured load",
	// "Idle cost per hour", "Storage: cost per million photos stored, per
	// month", "Sensitivity: what flips each verdict", "Measured usage",
	// "Price sheets".
	Tables []Table `json:"tables"`
	// BreakEven is monthly cost (USD/month) against average load
	// (photos/s), one line per pricing option, marks at the crossovers of
	// each monolith's line with each event-driven line.
	BreakEven Chart `json:"break_even"`
	// Sentences state the trade-offs, computed from the numbers.
	Sentences []string `json:"sentences"`
	// Assumptions are every modelling assumption, stated.
	Assumptions []string `json:"assumptions"`

	lines map[string]line // the break-even chart's, by option
}

// archNames are the architectures' display names.
var archNames = map[string]string{results.Monolith: "monolith", results.MonolithAsync: "async monolith",
	results.EventDriven: "event-driven"}

// archs are the architectures in the order of the tables' columns.
var archs = results.Archs

// archOf is the architecture pricing option o prices.
func archOf(o string) string {
	if arch, ok := vmArch[o]; ok {
		return arch
	}
	return results.EventDriven
}

// singleVM is each monolith's single-VM option, the one its usage rows
// read.
var singleVM = map[string]string{results.Monolith: OptMonolith, results.MonolithAsync: OptMonolithAsync}

// analysis is Analyze's working state.
type analysis struct {
	r        *results.Results
	sheets   []Sheet
	scenario string
	book     book
	stats    map[string]map[string]stat // by arch; nil when the arch has no usable run
	noRuns   map[string]string          // by arch: why there is no usable run
	runs     map[string][]string
	failed   map[string]int       // by arch: failed runs left out
	cross    map[[2]string][]Mark // by monolith option and event-driven option
	lines    map[string]line      // the break-even chart's, by option
	xmax     float64
}

// Analyze prices the measured usage of r's runs with sheets. Per
// architecture it reads the runs of one scenario (the first that has both
// the steady and the idle phase, see Assumptions) with status ok or
// partial, takes the median over repeats and reports the spread. Missing
// data never fail the analysis: the figures that depend on them read "n/a
// (no data: ...)". The only error is unusable input (nil results).
func Analyze(r *results.Results, sheets []Sheet) (*Analysis, error) {
	if r == nil {
		return nil, errNoResults
	}
	a := &analysis{r: r, sheets: sheets, scenario: pickScenario(r), book: newBook(r, sheets),
		stats: map[string]map[string]stat{}, noRuns: map[string]string{}, runs: map[string][]string{}, failed: map[string]int{}}
	out := &Analysis{Sheets: sheets, Usage: map[string]Usage{}}
	for _, arch := range archs {
		var per []figs
		failed := 0
		for _, run := range r.Runs {
			if run.Arch != arch || run.Scenario != a.scenario {
				continue
			}
			if run.Status != results.StatusOK && run.Status != results.StatusPartial {
				failed++
				continue
			}
			f := measure(r, run)
			a.book.price(arch, f)
			per = append(per, f)
			a.runs[arch] = append(a.runs[arch], fmt.Sprintf("%s #%d (%s)", run.Scenario, run.Repeat, run.Status))
		}
		a.failed[arch] = failed
		if len(per) == 0 {
			why := fmt.Sprintf("no data: no %s run", arch)
			if a.scenario != "" {
				why = fmt.Sprintf("no data: no %s run of scenario %q", arch, a.scenario)
			}
			if failed > 0 {
				why += fmt.Sprintf(" with status ok or partial (%d failed)", failed)
			}
			a.noRuns[arch] = why
			out.Usage[arch] = Usage{Arch: arch, Missing: []string{why}}
			continue
		}
		a.stats[arch] = aggregate(per)
		out.Usage[arch] = usageOf(arch, a.runs[arch], a.stats[arch])
	}
	out.BreakEven = a.chart()
	out.lines = a.lines
	sens := a.sensitivity()
	out.Tables = []Table{a.costTable(), a.idleTable(), a.storageTable(), sens.table(), a.usageTable(), sheetTable(sheets)}
	out.Sentences = append(a.sentences(), sens.sentences()...)
	out.Assumptions = a.assumptions()
	return out, nil
}

// pickScenario chooses the scenario the cost model reads: the first (in
// run order) whose runs have both the steady and the idle phase, else the
// first with the steady phase, else the first.
func pickScenario(r *results.Results) string {
	best, bestScore := "", -1
	seen := map[string]bool{}
	for _, run := range r.Runs {
		if seen[run.Scenario] {
			continue
		}
		seen[run.Scenario] = true
		score := 0
		for _, s := range r.Runs {
			if s.Scenario != run.Scenario {
				continue
			}
			sc := 0
			if _, ok := s.Phase(r.SteadyPhase); ok && r.SteadyPhase != "" {
				sc += 2
			}
			if _, ok := s.Phase(r.IdlePhase); ok && r.IdlePhase != "" {
				sc++
			}
			score = max(score, sc)
		}
		if score > bestScore {
			best, bestScore = run.Scenario, score
		}
	}
	return best
}

// get returns an architecture's figure over its runs.
func (a *analysis) get(arch, key string) stat {
	if why, ok := a.noRuns[arch]; ok {
		return stat{why: why}
	}
	if s, ok := a.stats[arch][key]; ok {
		return s
	}
	return stat{why: "no data: not measured"}
}

// cost returns an option's cost figure.
func (a *analysis) cost(option, key string) stat {
	return a.get(archOf(option), "cost/"+option+"/"+key)
}

// cell renders a figure: the median, and the spread "(min–max)" when
// repeats differ (at the precision shown); "n/a (why)" when it could not
// be measured.
func cell(s stat, format func(float64) string) string {
	if !s.ok() {
		return "n/a (" + s.why + ")"
	}
	out := format(s.med)
	if lo, hi := format(s.lo), format(s.hi); s.n > 1 && lo != hi {
		out += " (" + lo + "–" + hi + ")"
	}
	if s.n < s.of {
		out += fmt.Sprintf(" [%d of %d runs; %s]", s.n, s.of, s.why)
	}
	return out
}

// runsCell lists an architecture's runs used, and the failed ones left out.
func (a *analysis) runsCell(arch string) string {
	if len(a.runs[arch]) == 0 {
		return "n/a (" + a.noRuns[arch] + ")"
	}
	out := fmt.Sprintf("%d: %s", len(a.runs[arch]), strings.Join(a.runs[arch], ", "))
	switch n := a.failed[arch]; n {
	case 0:
	case 1:
		out += "; 1 failed run left out"
	default:
		out += fmt.Sprintf("; %d failed runs left out", n)
	}
	return out
}

func (a *analysis) costTable() Table {
	t := Table{
		Title: "Cost per million photos at the measured load",
		Header: []string{"pricing option", "measured load (photos/s)", "cost (USD per million photos)",
			"always-on part (USD per million photos)", "usage part (USD per million photos)",
			"monthly cost at this load (USD/month)", "runs"},
		Notes: []string{
			"Measured load: uploads answered ok in the steady phase divided by its length. A photo is the unit of work: one upload plus the mix's other requests that came with it.",
			"Left out: the load generator's ready polls (GET /v1/photos/{id} until each event-driven upload is ready). They are the bench's instrumentation, not the app's workload: a real client would be notified, or poll at its own pace, and the monolith needs none. They are taken out of the API Gateway requests, query's invocations and its GB-seconds (in proportion), and reported apart in the usage table.",
			"Cost: (always-on cost over the steady window + usage cost in it) / photos x 1,000,000. Median over runs, (min–max) when repeats differ.",
			"Monolith and async monolith: VMs = max(1, ceil(load / one VM's capacity)), each billed per hour; all of their cost is always-on.",
			fmt.Sprintf("HA: VMs = max(%d, ceil(load / capacity) + %d), so the load survives the loss of one, behind an application load balancer: always-on = the VMs + the load balancer's hour; usage = its capacity units (LCU), the larger of new connections (every front-door request one) and processed bytes (the upload and its thumbnails).", HAMinVMs, HASpareVMs),
			"Event-driven: always-on = the event transport (MSK Serverless cluster and partitions, or the provisioned MSK brokers and their storage) + RDS instance + NAT gateway; usage = function requests and GB-seconds (AWS Lambda at the memory size its measured CPU needs, Azure at the size its memory needs), API Gateway requests, S3 requests, the NAT gateway's data (the vision API's calls), and on Kafka the S3-to-Kafka bridge function.",
			fmt.Sprintf("Event-driven (AWS Lambda + SQS): the AWS Lambda line with the events on SQS standard queues instead of Kafka, a transport the bench did not run: always-on = RDS instance + NAT gateway; usage = the AWS Lambda line's without the bridge (S3 notifies a queue itself) + %d SQS requests (send, receive, delete) per event handled.", SQSRequestsPerEvent),
			fmt.Sprintf("Event-driven (AWS Lambda + MSK provisioned): the AWS Lambda line with MSK Serverless replaced by %d kafka.t3.small brokers with %d GB of storage each.", MSKBrokers, MSKBrokerStorageGB),
			"Storage (GB-month) is not in these figures: it accumulates with the photos kept, and is in the storage table.",
			"Monthly cost at this load: the break-even chart's value at the measured load (730 hours).",
		},
	}
	for _, o := range options {
		arch := archOf(o)
		usage := a.cost(o, "var_per_million")
		fixed := a.cost(o, "fixed_per_million")
		if onVM(o) && !isHA(o) && a.noRuns[arch] == "" {
			usage = stat{why: "—"}
		}
		row := []string{optionNames[o], cell(a.get(arch, "load"), num), cell(a.cost(o, "per_million"), money),
			cell(fixed, money), dash(usage, money), cell(a.cost(o, "monthly"), money), a.runsCell(arch)}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// dash is cell, with "0 (billed per VM-hour)" for the monolith's usage part.
func dash(s stat, format func(float64) string) string {
	if s.why == "—" {
		return "0 (billed per VM-hour)"
	}
	return cell(s, format)
}

func (a *analysis) idleTable() Table {
	t := Table{
		Title: "Idle cost per hour",
		Header: []string{"pricing option", "idle window (s)", "always-on part (USD/hour)",
			"invoked while idle (USD/hour)", "idle cost (USD/hour)", "runs"},
		Notes: []string{
			"Idle window: the end of the profile's idle phase (nothing scheduled, longer than the scale-to-zero cooldown), from the moment every backlog was drained (no consumer lag, no async job left, no upload followed, nothing in flight); n/a when a backlog remained at the phase's end.",
			"Monolith and async monolith: the VM's hourly price (it runs whether used or not); HA: two VMs and the load balancer's hour.",
			"Event-driven: the event transport's hour (MSK Serverless cluster-hour + partitions x partition-hour, or the provisioned brokers and their storage) + RDS instance-hour + NAT gateway-hour, plus the usage measured in the idle window (the events still handled: the app draining its own work) scaled to an hour. The requests ingest and query served while idle are the load generator's late ready polls (nothing is scheduled): the bench's instrumentation, left out.",
			fmt.Sprintf("Event-driven (AWS Lambda + SQS): RDS instance-hour + NAT gateway-hour (SQS is billed per request), plus the idle window's usage with %d SQS requests per event still handled, scaled to an hour.", SQSRequestsPerEvent),
		},
	}
	for _, o := range options {
		arch := archOf(o)
		invoked := a.cost(o, "idle_var_hour")
		if onVM(o) && a.noRuns[arch] == "" && a.cost(o, "idle_hour").ok() {
			invoked = stat{why: "—"}
		}
		inv := dash(invoked, money)
		t.Rows = append(t.Rows, []string{optionNames[o], cell(a.get(arch, "idle/window"), num),
			cell(a.cost(o, "fixed_hour"), money), inv, cell(a.cost(o, "idle_hour"), money), a.runsCell(arch)})
	}
	return t
}

// Components expected in each architecture's usage: when absent, the
// usage table says n/a rather than "—".
var expected = map[string]map[string]bool{
	results.Monolith:      setOf(vmApp[results.Monolith], "postgresql"),
	results.MonolithAsync: setOf(vmApp[results.MonolithAsync], "postgresql"),
	results.EventDriven:   setOf(append(deploy.Names(deploy.TriggerHTTP, deploy.TriggerEvent), "postgresql", "kafka", "minio")...),
}

func setOf(xs ...string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// usageTable is the measured usage: every figure the cost model reads, by
// architecture, the steady phase's and then the idle phase's.
func (a *analysis) usageTable() Table {
	t := Table{Title: "Measured usage", Header: []string{"figure (unit)"}, Notes: usageNotes()}
	for _, arch := range archs {
		t.Header = append(t.Header, archNames[arch])
	}
	row := func(label, key string, format func(float64) string, per map[string]bool) {
		t.Rows = append(t.Rows, a.usageRow(label, func(string) string { return key }, format, per))
	}
	all := setOf(archs...)
	ed := setOf(results.EventDriven)
	mono := setOf(results.Monolith, results.MonolithAsync)
	// vmRow is a row of a monolith's pricing figure: key under its option.
	vmRow := func(label, key string) {
		t.Rows = append(t.Rows, a.usageRow(label, func(arch string) string { return "cost/" + singleVM[arch] + "/" + key }, num, mono))
	}
	runs := []string{"runs used"}
	for _, arch := range archs {
		runs = append(runs, a.runsCell(arch))
	}
	t.Rows = append(t.Rows, runs)
	row("cost window: the steady phase (s)", "window", num, all)
	row("photos: uploads answered ok (photos)", "photos", num, all)
	row("requests answered ok, uploads included (requests)", "requests", num, all)
	row("requests per photo (requests/photo)", "req_per_photo", num, all)
	row("front-door requests: sent by the load generator, follower polls excluded (requests)", "front", num, all)
	row("follower polls excluded (requests)", "polls", num, all)
	row("measured load (photos/s)", "load", num, all)
	for _, c := range a.components("cpu/") {
		row("CPU-seconds: "+c+" (CPU-seconds)", "cpu/"+c, num, perComponent(c))
	}
	row("CPU-seconds per photo, all components above (CPU-seconds/photo)", "cpu_per_photo", num, all)
	vmRow("CPU-seconds per photo, monolith + postgresql (CPU-seconds/photo)", "cpu_per_photo")
	vmRow(fmt.Sprintf("one VM's capacity at %.0f%% CPU (photos/s)", TargetUtilisation*100), "capacity")
	for _, c := range a.components("mem/") {
		row("peak memory: "+c+", largest process (MB)", "mem/"+c, mb, perComponent(c))
	}
	for _, c := range a.components("rs/") {
		row("replica-seconds: "+c+" (replica-seconds)", "rs/"+c, num, ed)
	}
	row("replica-seconds per photo (replica-seconds/photo)", "rs_per_photo", num, ed)
	for _, fn := range append(append([]string{}, httpFunctions...), eventFunctions...) {
		row("invocations: "+fn+" (invocations)", "inv/"+fn, num, ed)
	}
	row("invocations per photo (invocations/photo)", "inv_per_photo", num, ed)
	row("events handled: thumbnailer + tagger + catalog (events)", "events", num, ed)
	row(fmt.Sprintf("SQS requests if on SQS: %d per event handled (requests)", SQSRequestsPerEvent), "sqs_requests", num, ed)
	for _, fn := range append(append([]string{}, httpFunctions...), eventFunctions...) {
		row("busy seconds: "+fn+" (s)", "busy/"+fn, num, ed)
	}
	for _, fn := range append(append([]string{}, httpFunctions...), eventFunctions...) {
		row("billed memory size: "+fn+" (MB)", "mb/"+fn, num, ed)
	}
	row("GB-seconds (GB-s)", "gbs", num, ed)
	row("GB-seconds per photo (GB-s/photo)", "gbs_per_photo", num, ed)
	for _, fn := range append(append([]string{}, httpFunctions...), eventFunctions...) {
		row("AWS Lambda memory size, from CPU-seconds / busy seconds: "+fn+" (MB)", "lmb/"+fn, num, ed)
	}
	row("GB-seconds on AWS Lambda (GB-s)", "lgbs", num, ed)
	for _, api := range a.components("obj/") {
		row("object requests: "+api+" (requests)", "obj/"+api, num, ed)
	}
	row("object requests, PUT-class (requests)", "put", num, ed)
	row("object requests, GET-class (requests)", "get", num, ed)
	row("object requests, free: DELETE, abort (requests)", "free", num, ed)
	row("idle phase (s)", "idle/phase", num, all)
	row("idle: backlog drained, after the idle phase began (s)", "idle/drain", num, all)
	row("idle window: from the drain to the idle phase's end (s)", "idle/window", num, all)
	row("idle: invocations (invocations)", "idle/inv", num, ed)
	row("idle: events handled (events)", "idle/events", num, ed)
	row("idle: GB-seconds (GB-s)", "idle/gbs", num, ed)
	row("idle: GB-seconds on AWS Lambda (GB-s)", "idle/lgbs", num, ed)
	row("idle: front-door requests, follower polls excluded (requests)", "idle/front", num, ed)
	row("idle: follower polls excluded: requests served by ingest and query (requests)", "idle/polls", num, ed)
	row("idle: object requests, PUT-class (requests)", "idle/put", num, ed)
	row("idle: object requests, GET-class (requests)", "idle/get", num, ed)
	return t
}

// usageNotes explain the measured usage table: what each figure counts
// and leaves out.
func usageNotes() []string {
	return []string{
		"Over the steady phase unless marked idle; median over runs, (min–max) when repeats differ. — : not part of that architecture.",
		"CPU-seconds and peak memory leave out the vision service (the stand-in for an external API all three call equally) and Prometheus (the bench's instrument).",
		"Peak memory: the largest single process (replica) over the whole run, in MB of 2^20 bytes; for PostgreSQL, Kafka and MinIO their process trees.",
		"Billed memory size: a function's peak memory rounded up to a multiple of 128 MB (at least 128 MB), as Azure Functions bills it. GB-seconds = busy seconds x billed memory / 1024.",
		fmt.Sprintf("AWS Lambda memory size: Lambda's CPU share grows with the memory size (one vCPU at %s MB), so a function is sized to do its measured CPU-seconds in its measured busy seconds: %s x CPU-seconds / busy seconds (steady phase), rounded up to 1 MB, at most %s, and never below its billed memory size. GB-seconds on AWS Lambda = busy seconds x that size / 1024.", num(LambdaMBPerVCPU), num(LambdaMBPerVCPU), num(LambdaMaxMB)),
		"Invocations: HTTP requests served by ingest and query, events handled (every outcome) by thumbnailer, tagger and catalog.",
		"Follower polls: the GETs the load generator's ready follower sent for the steady phase's uploads; idle, the requests ingest and query served (nothing is scheduled then). They are the bench's instrumentation, not the app's workload (a real client would be notified, or poll at its own pace; the monolith needs none): left out of the front-door requests, of query's invocations (never below 0) and of its busy seconds, in proportion (seconds x (invocations - polls) / invocations), and so of the GB-seconds and the costs.",
		fmt.Sprintf("SQS requests: what the AWS Lambda + SQS line prices, %d per event handled (send, receive, delete; batch size 1, an upper bound); not measured: the bench carries the events on Kafka.", SQSRequestsPerEvent),
		"Object requests: MinIO's S3 requests by API; PUT-class = PUT, COPY, POST, LIST (and multipart steps), free = DELETE and abort, GET-class = all others; counted for the event-driven app only. The monoliths keep their files on their own disk with --storage disk (the default; the run's setting monolith_storage says which was used).",
		"The monoliths' columns count their own process and PostgreSQL only: Kafka and MinIO run during their runs too, unused by them with --storage disk.",
		"Follower polls of the async monolith: its uploads answer 202 pending and are followed until ready like the event-driven app's; the polls are not in its front-door requests, but its process's CPU-seconds include serving them (a process's CPU cannot be split by request).",
		"Replica-seconds: the cost proxy of instance-billed platforms (Cloud Run-like); not priced here.",
	}
}

// usageRow is the usage table's row of the figure keyOf(arch), labelled,
// one cell per architecture formatted with format; per names the
// architectures the figure is one of, the others' cells are "—".
func (a *analysis) usageRow(label string, keyOf func(arch string) string, format func(float64) string, per map[string]bool) []string {
	r := []string{label}
	for _, arch := range archs {
		s, present := a.stats[arch][keyOf(arch)]
		switch {
		case a.noRuns[arch] != "" && per[arch]:
			r = append(r, "n/a ("+a.noRuns[arch]+")")
		case a.noRuns[arch] != "":
			r = append(r, "—")
		case present:
			r = append(r, cell(s, format))
		case per[arch]:
			r = append(r, "n/a (no data: no series for it)")
		default:
			r = append(r, "—")
		}
	}
	return r
}

// perComponent says for which architectures component c is expected.
func perComponent(c string) map[string]bool {
	m := map[string]bool{}
	for arch, cs := range expected {
		m[arch] = cs[c]
	}
	return m
}

// components lists the names under a key prefix over all architectures
// (and the expected components for cpu/ and mem/), apps before the
// stack's servers, then by name.
func (a *analysis) components(prefix string) []string {
	set := map[string]bool{}
	for _, st := range a.stats {
		for k := range st {
			if name, ok := strings.CutPrefix(k, prefix); ok {
				set[name] = true
			}
		}
	}
	if prefix == "cpu/" || prefix == "mem/" {
		for _, cs := range expected {
			for c := range cs {
				set[c] = true
			}
		}
	}
	servers := map[string]bool{"postgresql": true, "kafka": true, "minio": true}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if servers[out[i]] != servers[out[j]] {
			return !servers[out[i]]
		}
		return out[i] < out[j]
	})
	return out
}

func sheetTable(sheets []Sheet) Table {
	t := Table{
		Title:  "Price sheets",
		Header: []string{"sheet", "service", "item", "price (USD per unit)", "region", "source", "written down", "verified on the source", "note"},
	}
	var unverified []string
	for _, s := range sheets {
		for _, it := range s.Items {
			t.Rows = append(t.Rows, []string{s.Name, s.Service, it.Item,
				fmt.Sprintf("USD %s per %s", strconv.FormatFloat(it.USD, 'f', -1, 64), it.Unit), s.Region, s.Source, s.Date, s.Verified, it.Note})
			if !s.IsVerified() {
				unverified = append(unverified, s.Name+" "+it.Item)
			}
		}
		if s.Note != "" {
			t.Notes = append(t.Notes, s.Name+": "+s.Note)
		}
	}
	if len(unverified) > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("Not verified: %d of %d prices were not re-read from their official page and need re-reading before anyone quotes a cost: %s.",
			len(unverified), len(t.Rows), strings.Join(unverified, ", ")))
	}
	return t
}

// line is an option's monthly cost against load (photos/s): fixed + slope
// x load, plus, for a monolith, VMs x perVM with VMs = max(minVMs,
// ceil(load/capacity) + spare).
type line struct {
	ok              bool
	fixed, slope    float64 // USD/month, USD/month per photo/s
	perVM, capacity float64 // USD/month, photos/s; perVM 0: no VMs
	minVMs, spare   float64
}

func (l line) stepped() bool { return l.perVM > 0 }

func (l line) at(x float64) float64 {
	y := l.fixed + l.slope*x
	if l.stepped() {
		y += l.perVM * max(l.minVMs, vmsAt(x, l.capacity)+l.spare)
	}
	return y
}

// vmsAt is the VMs of capacity photos/s each a load needs, at least 1.
func vmsAt(load, capacity float64) float64 {
	return max(1, math.Ceil(load/capacity-1e-9))
}

func (a *analysis) lineOf(o string) line {
	if onVM(o) {
		c, h, v := a.cost(o, "capacity"), a.book.vmHourly, a.cost(o, "var_per_photo")
		if !c.ok() || !h.ok() || !(c.med > 0) || !v.ok() {
			return line{}
		}
		l := line{ok: true, perVM: h.v * HoursPerMonth, capacity: c.med, minVMs: 1, slope: v.med * SecondsPerMonth}
		if isHA(o) {
			if !a.book.albHourly.ok() {
				return line{}
			}
			l.minVMs, l.spare, l.fixed = HAMinVMs, HASpareVMs, a.book.albHourly.v*HoursPerMonth
		}
		return l
	}
	f, v := a.cost(o, "fixed_hour"), a.cost(o, "var_per_photo")
	if !f.ok() || !v.ok() {
		return line{}
	}
	return line{ok: true, fixed: f.med * HoursPerMonth, slope: v.med * SecondsPerMonth}
}

// maxSegments bounds the crossover search (VM counts) when the lines run
// parallel on average, and maxCrossovers the crossovers reported.
const (
	maxSegments   = 10000
	maxCrossovers = 20
)

// crossovers returns the loads where the event-driven line e crosses the
// monolith's step line m: inside a step where e reaches the step's level,
// or at a step's edge when e lies between the levels before and after it.
// Touching without crossing is not one. Only the first maxCrossovers are
// returned (lines parallel on average cross at every VM).
//
// m's VMs are max(spare+1, ceil(load/capacity) + spare): its fixed part,
// slope and spare VMs are taken off e, leaving a pure step line.
func crossovers(m, e line) [][2]float64 {
	K, c := m.perVM, m.capacity
	F, v := e.fixed-m.fixed-m.perVM*m.spare, e.slope-m.slope
	avg := K / c // the monolith's average slope
	// Beyond stop, the sign of e - m no longer changes.
	stop := float64(maxSegments) * c
	switch {
	case v > avg:
		stop = min(stop, max(0, (K-F)/(v-avg))+c)
	case v < avg:
		stop = min(stop, max(0, F/(avg-v))+c)
	}
	var out [][2]float64
	for n := 1; float64(n-1)*c <= stop && n <= maxSegments && len(out) < maxCrossovers; n++ {
		lo, hi, level := float64(n-1)*c, float64(n)*c, float64(n)*K
		if v != 0 {
			if x := (level - F) / v; x > lo && x < hi {
				out = append(out, [2]float64{x, e.at(x)})
			}
		}
		// At the edge hi the monolith jumps from level to level+K.
		if y := F + v*hi; y > level && y < level+K {
			out = append(out, [2]float64{hi, e.at(hi)})
		}
	}
	return out[:min(len(out), maxCrossovers)]
}

// chart builds the break-even chart and the crossovers of each monolith's
// line with each event-driven line.
func (a *analysis) chart() Chart {
	ch := Chart{
		Title:  "Break-even: monthly cost against average load",
		XLabel: "average load (photos/s)",
		YLabel: "cost (USD/month)",
	}
	a.cross = map[[2]string][]Mark{}
	lines := map[string]line{}
	for _, o := range options {
		lines[o] = a.lineOf(o)
	}
	a.lines = lines
	xmax := 0.0
	for _, arch := range archs {
		if l := a.get(arch, "load"); l.ok() {
			xmax = max(xmax, 3*l.med)
		}
	}
	for _, vo := range vmOptions {
		if m := lines[vo]; m.ok {
			xmax = max(xmax, m.capacity)
		}
	}
	var extra []float64
	for _, vo := range vmOptions {
		m := lines[vo]
		for _, o := range eventOptions {
			e := lines[o]
			if !m.ok || !e.ok {
				continue
			}
			k := [2]string{vo, o}
			for _, p := range crossovers(m, e) {
				a.cross[k] = append(a.cross[k], Mark{X: p[0], Y: p[1],
					Label: fmt.Sprintf("%s = %s: %s photos/s, USD %s/month", optionNames[o], vmLabel(vo), num(p[0]), money(p[1]))})
				xmax = max(xmax, 1.5*p[0])
				extra = append(extra, p[0])
			}
			ch.Marks = append(ch.Marks, a.cross[k]...)
		}
	}
	if !(xmax > 0) {
		xmax = 10 // nothing measured: an arbitrary range for empty lines
	}
	a.xmax = xmax
	const points = 100
	for i := 0; i <= points; i++ {
		ch.X = append(ch.X, xmax*float64(i)/points)
	}
	ch.X[points] = xmax
	ch.X = append(ch.X, extra...)
	sort.Float64s(ch.X)
	ch.X = dedup(ch.X)
	for _, o := range options {
		l := lines[o]
		if !l.ok {
			continue
		}
		ln := Line{Name: optionNames[o]}
		for _, x := range ch.X {
			ln.Y = append(ln.Y, l.at(x))
		}
		ch.Lines = append(ch.Lines, ln)
	}
	return ch
}

func dedup(xs []float64) []float64 {
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}

// vmLabel names a monolith option in labels: "monolith", "HA monolith",
// "async monolith", "HA async monolith".
func vmLabel(o string) string {
	if isHA(o) {
		return "HA " + archNames[archOf(o)]
	}
	return archNames[archOf(o)]
}

// PerMillionAt is pricing option's cost per million photos at a sustained
// load of photosPerSecond, from the break-even chart's line: its monthly
// cost at that load / the photos of a month x 1,000,000. ok is false when
// the option has no line (missing data or prices: the tables say why) or
// the load is not > 0. Options are OptionsOf's.
func (a *Analysis) PerMillionAt(option string, photosPerSecond float64) (usd float64, ok bool) {
	l, found := a.lines[option]
	if !found || !l.ok || !(photosPerSecond > 0) || math.IsInf(photosPerSecond, 0) {
		return 0, false
	}
	return perMillion(l, photosPerSecond), true
}

// perMillion is line l's cost per million photos at load x.
func perMillion(l line, x float64) float64 { return l.at(x) / (x * SecondsPerMonth) * 1e6 }

// OptionsOf returns the pricing options of an architecture
// (results.Monolith, results.MonolithAsync, results.EventDriven), in
// display order, its reference first: the single VM, or the event
// transport the bench ran (MSK Serverless). Nil for an unknown one.
func OptionsOf(arch string) []string {
	var out []string
	for _, o := range options {
		if archOf(o) == arch && archNames[arch] != "" {
			out = append(out, o)
		}
	}
	return out
}

// OptionName is a pricing option's display name, as in the tables and the
// break-even chart ("" for an unknown one).
func OptionName(option string) string { return optionNames[option] }
