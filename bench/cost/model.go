package cost

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/photobench/photobench/bench/results"
)

// Model constants.
const (
	// HoursPerMonth is the month the monthly figures are priced over (the
	// providers' 730 hours).
	HoursPerMonth = 730
	// SecondsPerMonth is HoursPerMonth in seconds (30.42 days): a load of L
	// photos/s for a month is L x SecondsPerMonth photos.
	SecondsPerMonth = HoursPerMonth * 3600
	// TargetUtilisation is the CPU share a VM is run at, at most: the
	// monolith's VM capacity is its vCPUs x TargetUtilisation.
	TargetUtilisation = 0.7
	// DefaultPartitions is the event topics' partition count when the run
	// does not record it (setting kafka_partitions): 3 topics x 4.
	DefaultPartitions = 4
	eventTopics       = 3 // photos.objects, photo.thumbnailed, photo.tagged; each with a 1-partition DLQ
	// SQSRequestsPerEvent are the SQS requests one event handled costs on
	// the AWS Lambda + SQS option: send, receive and delete, one message
	// per request (batch size 1, an upper bound).
	SQSRequestsPerEvent = 3
)

// Pricing options: the keys of the figures and their display names (the
// break-even chart's lines).
//
// OptMonolith and OptMonolithAsync price the two monoliths alike, each on
// always-on VMs from its own measured CPU per photo.
//
// OptLambda and OptAzure price the event-driven app as measured, its events
// on Kafka (MSK Serverless); OptLambdaSQS prices the same functions and
// events with the events carried by SQS standard queues instead, a
// transport the bench does not run.
const (
	OptMonolith      = "monolith"
	OptMonolithAsync = "monolith-async"
	OptLambda        = "aws"
	OptAzure         = "azure"
	OptLambdaSQS     = "aws-sqs"
)

// optionNames are the pricing options' display names.
var optionNames = map[string]string{
	OptMonolith:      "monolith (VM m6i.large)",
	OptMonolithAsync: "async monolith (VM m6i.large)",
	OptLambda:        "event-driven (AWS Lambda)",
	OptAzure:         "event-driven (Azure Functions)",
	OptLambdaSQS:     "event-driven (AWS Lambda + SQS)",
}

// options are the pricing options in display order; vmOptions the
// monoliths', eventOptions the event-driven ones.
var (
	options      = []string{OptMonolith, OptMonolithAsync, OptLambda, OptAzure, OptLambdaSQS}
	vmOptions    = []string{OptMonolith, OptMonolithAsync}
	eventOptions = []string{OptLambda, OptAzure, OptLambdaSQS}
)

// vmOption is the pricing option of each monolith architecture; vmApp its
// app's component (its process; PostgreSQL runs on the same VM).
var (
	vmOption = map[string]string{results.Monolith: OptMonolith, results.MonolithAsync: OptMonolithAsync}
	vmApp    = map[string]string{results.Monolith: "monolith", results.MonolithAsync: "monolith-async"}
)

// onVM says whether pricing option o is a monolith's VMs.
func onVM(o string) bool { return o == OptMonolith || o == OptMonolithAsync }

// functionSheet is each event-driven option's function price sheet.
var functionSheet = map[string]string{OptLambda: SheetLambda, OptAzure: SheetAzure, OptLambdaSQS: SheetLambda}

// functionLabel names each event-driven option's function platform.
var functionLabel = map[string]string{OptLambda: "AWS Lambda", OptAzure: "Azure Functions", OptLambdaSQS: "AWS Lambda"}

// optionLabel names each event-driven option in sentences ("the
// event-driven app on ...").
var optionLabel = map[string]string{OptLambda: "AWS Lambda", OptAzure: "Azure Functions", OptLambdaSQS: "AWS Lambda + SQS"}

// onSQS says whether an event-driven option carries its events on SQS
// (else on Kafka, MSK Serverless).
func onSQS(o string) bool { return o == OptLambdaSQS }

// book is the prices the model uses, per unit (USD per request, per
// GB-second, per hour), each with why it is missing when it is.
type book struct {
	vmHourly, vcpu, vmMemGiB fig
	fnRequest, fnGBs         map[string]fig // by option
	gateway, s3Put, s3Get    fig
	mskCluster, mskPartition fig
	sqs                      fig // per request
	rds                      fig
	partitions               float64 // of the event topics and their DLQs
	partitionsFrom           string
}

func price(sheets []Sheet, sheet, item string) fig {
	for _, s := range sheets {
		if s.Name != sheet {
			continue
		}
		if it, ok := s.Item(item); ok && it.PerUnit() > 0 {
			return val(it.PerUnit())
		}
		return na("no price: sheet %s has no item %q", sheet, item)
	}
	return na("no price: no sheet %s", sheet)
}

func spec(sheets []Sheet, sheet, name string) fig {
	for _, s := range sheets {
		if s.Name == sheet {
			if v, ok := s.Specs[name]; ok && v > 0 {
				return val(v)
			}
			return na("no price: sheet %s has no spec %s", sheet, name)
		}
	}
	return na("no price: no sheet %s", sheet)
}

func newBook(r *results.Results, sheets []Sheet) book {
	b := book{
		vmHourly: price(sheets, SheetVM, "instance"), vcpu: spec(sheets, SheetVM, "vcpu"), vmMemGiB: spec(sheets, SheetVM, "memory_gib"),
		fnRequest: map[string]fig{}, fnGBs: map[string]fig{},
		gateway: price(sheets, SheetAPIGateway, "requests"),
		s3Put:   price(sheets, SheetS3, "put-copy-post-list"), s3Get: price(sheets, SheetS3, "get-and-others"),
		mskCluster: price(sheets, SheetMSK, "cluster-hour"), mskPartition: price(sheets, SheetMSK, "partition-hour"),
		sqs: price(sheets, SheetSQS, "requests"),
		rds: price(sheets, SheetRDS, "instance"),
	}
	for o, s := range functionSheet {
		b.fnRequest[o], b.fnGBs[o] = price(sheets, s, "requests"), price(sheets, s, "duration")
	}
	p, from := DefaultPartitions, "default (the run does not record kafka_partitions)"
	if v, err := strconv.Atoi(r.Settings["kafka_partitions"]); err == nil && v > 0 {
		p, from = v, "the run's kafka_partitions setting"
	}
	b.partitions = float64(eventTopics*p + eventTopics)
	b.partitionsFrom = fmt.Sprintf("%d topics x %d partitions + %d dead-letter topics x 1 = %d partitions (%s)",
		eventTopics, p, eventTopics, eventTopics*p+eventTopics, from)
	return b
}

// fixedHourly is an event-driven option's always-on cost (USD/hour): the
// MSK Serverless cluster and its partitions, and the RDS instance; on SQS,
// the RDS instance only (SQS is billed per request).
func (b book) fixedHourly(o string) fig {
	if onSQS(o) {
		return b.rds
	}
	if bad, ok := firstNA(b.mskCluster, b.mskPartition, b.rds); ok {
		return bad
	}
	return val(b.mskCluster.v + b.partitions*b.mskPartition.v + b.rds.v)
}

// usageItems names the event-driven usage cost items, in display order;
// sqsItem is the SQS option's extra one.
var usageItems = []string{"function requests", "function compute", "API Gateway", "S3 PUT-class", "S3 GET-class", sqsItem}

const sqsItem = "SQS requests"

// itemsOf are the usage cost items option o prices.
func itemsOf(o string) []string {
	if onSQS(o) {
		return usageItems
	}
	return usageItems[:len(usageItems)-1]
}

// sqsRequests are the SQS requests of n events handled.
func sqsRequests(n fig) fig { return scale(n, SQSRequestsPerEvent) }

// price adds one run's cost figures ("cost/<option>/...") to f.
func (b book) price(arch string, f figs) {
	photos, window, load := f["photos"], f["window"], f["load"]
	perPhotoBase, hasBase := firstNA(photos, window, load)
	if !hasBase && photos.v <= 0 {
		perPhotoBase, hasBase = na("no data: no upload answered ok in the cost window"), true
	}
	if !hasBase {
		usageRatios(f, photos.v)
	}

	if o, ok := vmOption[arch]; ok {
		b.priceVM(o, arch, f, perPhotoBase, hasBase)
		return
	}
	invocations(f, perPhotoBase, hasBase)
	if x, ok := f["events"]; ok {
		f["sqs_requests"] = sqsRequests(x)
	}
	for _, o := range eventOptions {
		b.priceOption(o, f, perPhotoBase, hasBase)
	}
}

// usageRatios adds the derived usage ratios per photo for the usage table:
// requests, GB-seconds, CPU-seconds and replica-seconds.
func usageRatios(f figs, photos float64) {
	ratio := func(key, of string) {
		if x, ok := f[of]; ok && x.ok() {
			f[key] = val(x.v / photos)
		} else if ok {
			f[key] = x
		}
	}
	ratio("req_per_photo", "requests")
	ratio("gbs_per_photo", "gbs")
	var cpu, rs float64
	var haveCPU, haveRS bool
	for k, x := range f {
		if !x.ok() {
			continue
		}
		if strings.HasPrefix(k, "cpu/") {
			cpu, haveCPU = cpu+x.v, true
		}
		if strings.HasPrefix(k, "rs/") {
			rs, haveRS = rs+x.v, true
		}
	}
	if haveCPU {
		f["cpu_per_photo"] = val(cpu / photos)
	} else {
		f["cpu_per_photo"] = na("no data: series %s and %s absent", results.QProcessCPU, results.QComponentCPU)
	}
	if haveRS {
		f["rs_per_photo"] = val(rs / photos)
	}
}

// invocations adds the functions' invocations in all ("inv") and per
// photo, or why they are missing: base, when hasBase, is why the per-photo
// figures are.
func invocations(f figs, base fig, hasBase bool) {
	inv := 0.0
	var invNA fig
	for _, fn := range append(append([]string{}, httpFunctions...), eventFunctions...) {
		x, ok := f["inv/"+fn]
		switch {
		case !ok && hasBase:
			invNA = base
		case !ok:
			invNA = na("no data: no invocations measured for %s", fn)
		case !x.ok():
			invNA = x
		default:
			inv += x.v
		}
	}
	if invNA.why == "" {
		f["inv"] = val(inv)
		if !hasBase {
			f["inv_per_photo"] = val(inv / f["photos"].v)
		}
	} else {
		f["inv"], f["inv_per_photo"] = invNA, invNA
	}
}

// priceOption adds the cost figures of event-driven option o: always-on,
// usage by item, per photo, per million photos, per month and idle; base,
// when hasBase, is why the per-photo figures are missing.
func (b book) priceOption(o string, f figs, base fig, hasBase bool) {
	p := "cost/" + o + "/"
	fixed := b.fixedHourly(o)
	f[p+"fixed_hour"] = fixed
	items := map[string]fig{
		"function requests": mul(f["inv"], b.fnRequest[o]),
		"function compute":  mul(f["gbs"], b.fnGBs[o]),
		"API Gateway":       mul(f["front"], b.gateway),
		"S3 PUT-class":      mul(f["put"], b.s3Put),
		"S3 GET-class":      mul(f["get"], b.s3Get),
		sqsItem:             mul(sqsRequests(f["events"]), b.sqs),
	}
	variable := val(0)
	for _, it := range itemsOf(o) {
		variable = add(variable, items[it])
	}
	if hasBase {
		for _, k := range []string{"per_million", "fixed_per_million", "var_per_million", "var_per_photo", "monthly"} {
			f[p+k] = base
		}
	} else {
		photos, w := f["photos"].v, f["window"].v/3600
		f[p+"var_per_photo"] = scale(variable, 1/photos)
		for _, it := range itemsOf(o) {
			f[p+"item/"+it] = scale(items[it], 1/photos)
		}
		f[p+"fixed_per_million"] = scale(fixed, w/photos*1e6)
		f[p+"var_per_million"] = scale(variable, 1/photos*1e6)
		f[p+"per_million"] = add(f[p+"fixed_per_million"], f[p+"var_per_million"])
		f[p+"monthly"] = add(scale(fixed, HoursPerMonth), scale(f[p+"var_per_photo"], f["load"].v*SecondsPerMonth))
	}
	f[p+"idle_var_hour"] = b.idleVarHour(o, f)
	f[p+"idle_hour"] = add(fixed, f[p+"idle_var_hour"])
}

// idleVarHour is what option o pays per hour idle beyond its always-on
// part: whatever was invoked in the idle window.
func (b book) idleVarHour(o string, f figs) fig {
	idle := val(0)
	idleItems := []fig{
		mul(f["idle/inv"], b.fnRequest[o]), mul(f["idle/gbs"], b.fnGBs[o]), mul(f["idle/front"], b.gateway),
		mul(f["idle/put"], b.s3Put), mul(f["idle/get"], b.s3Get),
	}
	if onSQS(o) {
		idleItems = append(idleItems, mul(sqsRequests(f["idle/events"]), b.sqs))
	}
	for _, x := range idleItems {
		idle = add(idle, x)
	}
	iw := f["idle/window"]
	switch {
	case !iw.ok():
		return iw
	case iw.v <= 0:
		return na("no data: the idle phase has no length")
	default:
		return scale(idle, 3600/iw.v)
	}
}

// priceVM adds the cost figures of monolith option o (architecture arch):
// its VMs' capacity from the CPU per photo of its process and PostgreSQL,
// how many VMs the measured load takes, per million photos, per month and
// idle; base, when hasBase, is why the per-photo figures are missing.
func (b book) priceVM(o, arch string, f figs, base fig, hasBase bool) {
	p := "cost/" + o + "/"
	f[p+"idle_hour"] = b.vmHourly
	f[p+"fixed_hour"] = b.vmHourly
	app, okApp := f["cpu/"+vmApp[arch]]
	pg, okPG := f["cpu/postgresql"]
	var cpp fig
	switch {
	case hasBase:
		cpp = base
	case !okApp:
		cpp = na("no data: no %s series for the %s", results.QProcessCPU, archNames[arch])
	case !okPG:
		cpp = na("no data: no %s series for postgresql", results.QComponentCPU)
	case app.v+pg.v <= 0:
		cpp = na("no data: no CPU time measured for the %s", archNames[arch])
	default:
		cpp = val((app.v + pg.v) / f["photos"].v)
	}
	f[p+"cpu_per_photo"] = cpp
	capacity := cpp
	if cpp.ok() {
		if b.vcpu.ok() {
			capacity = val(b.vcpu.v * TargetUtilisation / cpp.v)
		} else {
			capacity = b.vcpu
		}
	}
	f[p+"capacity"] = capacity
	if hasBase {
		for _, k := range []string{"per_million", "monthly", "vms"} {
			f[p+k] = base
		}
		return
	}
	vms := 1.0 // capacity unknown: one VM, as at any load it can serve
	if capacity.ok() {
		vms = max(1, math.Ceil(f["load"].v/capacity.v))
	}
	f[p+"vms"] = val(vms)
	f[p+"per_million"] = scale(b.vmHourly, vms*f["window"].v/3600/f["photos"].v*1e6)
	f[p+"monthly"] = scale(b.vmHourly, vms*HoursPerMonth)
}

func mul(a, b fig) fig {
	if bad, ok := firstNA(a, b); ok {
		return bad
	}
	return val(a.v * b.v)
}

func add(a, b fig) fig {
	if bad, ok := firstNA(a, b); ok {
		return bad
	}
	return val(a.v + b.v)
}

func scale(a fig, k float64) fig {
	if !a.ok() {
		return a
	}
	return val(a.v * k)
}

// errNoResults is Analyze's error for nil results.
var errNoResults = errors.New("analyze cost: no results")
