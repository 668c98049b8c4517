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

	// LambdaMBPerVCPU is the memory size at which AWS Lambda grants one
	// full vCPU; below it a function gets memory/1,769 of a vCPU. A
	// function that used c CPU-seconds in b busy seconds needs at least
	// 1,769 x c/b MB to do the same work in the same time.
	LambdaMBPerVCPU = 1769
	// LambdaMaxMB is Lambda's largest memory size (6 vCPUs).
	LambdaMaxMB = 10240

	// HASpareVMs is the HA monolith's spare: the VMs the load needs plus
	// one, so either VM can fail, and at least HAMinVMs.
	HASpareVMs = 1
	HAMinVMs   = 2

	// MSKBrokers is the provisioned MSK cluster's broker count (one per
	// Availability Zone, two zones: the smallest MSK allows), each with
	// MSKBrokerStorageGB of storage.
	MSKBrokers         = 2
	MSKBrokerStorageGB = 10

	// BridgeSeconds and BridgeMB are the S3-to-Kafka bridge's assumed
	// duration and memory size per uploaded photo: on AWS, S3 event
	// notifications do not go to Kafka, so a small Lambda function
	// triggered by the notification produces the photos.objects event (the
	// bench's MinIO publishes to Kafka itself: not measured).
	BridgeSeconds = 0.02
	BridgeMB      = 128

	// VisionReplyBytes is the vision API's answer to one tagging call; the
	// call sends the small thumbnail. Both cross the NAT gateway.
	VisionReplyBytes = 1024

	// DefaultRetentionMonths is the storage retention the "per million
	// photos, storage included" verdict assumes.
	DefaultRetentionMonths = 1
)

// The bytes one photo takes in storage when the run does not record them
// (settings photo_bytes and thumbnail_bytes): the means over the quick and
// full profiles' photos (loadgen.LoadPhotos of their photos spec and seed:
// 24 synthetic JPEGs of 0.3 to 4 MP) and of their thumbnails as
// imaging.Thumbnails makes them. TestPhotoBytesEstimate makes them again.
// Synthetic photos compress far better than a camera's: a phone photo of
// 12 MP is about 3 MB, 24 times these.
const (
	EstimatedPhotoBytes          = 126293
	EstimatedSmallThumbnailBytes = 3416
	EstimatedLargeThumbnailBytes = 40779
)

// Pricing options: the keys of the figures and their display names (the
// break-even chart's lines).
//
// OptMonolith and OptMonolithAsync price the two monoliths alike, each on
// always-on VMs from its own measured CPU per photo; OptMonolithHA and
// OptMonolithAsyncHA the same with a spare VM behind a load balancer.
//
// OptLambda and OptAzure price the event-driven app as measured, its events
// on Kafka (MSK Serverless); OptLambdaMSK the same on a provisioned MSK
// cluster; OptLambdaSQS the same functions and events with the events
// carried by SQS standard queues instead, a transport the bench does not
// run.
const (
	OptMonolith        = "monolith"
	OptMonolithHA      = "monolith-ha"
	OptMonolithAsync   = "monolith-async"
	OptMonolithAsyncHA = "monolith-async-ha"
	OptLambda          = "aws"
	OptLambdaMSK       = "aws-msk"
	OptAzure           = "azure"
	OptLambdaSQS       = "aws-sqs"
)

// optionNames are the pricing options' display names.
var optionNames = map[string]string{
	OptMonolith:        "monolith (VM m6i.large)",
	OptMonolithHA:      "monolith HA (2+ VMs m6i.large + load balancer)",
	OptMonolithAsync:   "async monolith (VM m6i.large)",
	OptMonolithAsyncHA: "async monolith HA (2+ VMs m6i.large + load balancer)",
	OptLambda:          "event-driven (AWS Lambda + MSK Serverless)",
	OptLambdaMSK:       "event-driven (AWS Lambda + MSK provisioned)",
	OptAzure:           "event-driven (Azure Functions + MSK Serverless)",
	OptLambdaSQS:       "event-driven (AWS Lambda + SQS)",
}

// options are the pricing options in display order (each architecture's
// first option is its reference: the single VM, or the measured
// transport); vmOptions the monoliths', eventOptions the event-driven ones.
var (
	options      = []string{OptMonolith, OptMonolithHA, OptMonolithAsync, OptMonolithAsyncHA, OptLambda, OptLambdaMSK, OptAzure, OptLambdaSQS}
	vmOptions    = []string{OptMonolith, OptMonolithHA, OptMonolithAsync, OptMonolithAsyncHA}
	eventOptions = []string{OptLambda, OptLambdaMSK, OptAzure, OptLambdaSQS}
)

// vmArch is the monolith architecture each VM option prices; vmApp each
// monolith's app component (its process; PostgreSQL runs on the same VM).
var (
	vmArch = map[string]string{OptMonolith: results.Monolith, OptMonolithHA: results.Monolith,
		OptMonolithAsync: results.MonolithAsync, OptMonolithAsyncHA: results.MonolithAsync}
	vmApp = map[string]string{results.Monolith: "monolith", results.MonolithAsync: "monolith-async"}
)

// onVM says whether pricing option o is a monolith's VMs; isHA whether it
// is the HA option (a spare VM and a load balancer).
func onVM(o string) bool { return vmArch[o] != "" }
func isHA(o string) bool { return o == OptMonolithHA || o == OptMonolithAsyncHA }

// functionSheet is each event-driven option's function price sheet.
var functionSheet = map[string]string{OptLambda: SheetLambda, OptLambdaMSK: SheetLambda, OptAzure: SheetAzure, OptLambdaSQS: SheetLambda}

// functionLabel names each event-driven option's function platform.
var functionLabel = map[string]string{OptLambda: "AWS Lambda", OptLambdaMSK: "AWS Lambda", OptAzure: "Azure Functions", OptLambdaSQS: "AWS Lambda"}

// optionLabel names each event-driven option in sentences ("the
// event-driven app on ...").
var optionLabel = map[string]string{OptLambda: "AWS Lambda + MSK Serverless", OptLambdaMSK: "AWS Lambda + MSK provisioned",
	OptAzure: "Azure Functions + MSK Serverless", OptLambdaSQS: "AWS Lambda + SQS"}

// onSQS says whether an event-driven option carries its events on SQS
// (else on Kafka); onLambda whether its functions are AWS Lambda's, whose
// CPU share grows with the memory size.
func onSQS(o string) bool    { return o == OptLambdaSQS }
func onLambda(o string) bool { return functionSheet[o] == SheetLambda }

// book is the prices the model uses, per unit (USD per request, per
// GB-second, per hour, per GB, per GB-month), each with why it is missing
// when it is, and the bytes a photo stores.
type book struct {
	vmHourly, vcpu, vmMemGiB fig
	fnRequest, fnGBs         map[string]fig // by option
	gateway, s3Put, s3Get    fig
	mskCluster, mskPartition fig
	mskBroker, mskStorage    fig // provisioned: per broker-hour, per GB-month
	sqs                      fig // per request
	rds                      fig
	natHourly, natGB         fig
	albHourly, albLCU        fig
	lcuConns, lcuGB          fig     // one LCU: new connections/s, GB processed/hour
	s3Storage, ebsStorage    fig     // per GB-month
	partitions               float64 // of the event topics and their DLQs
	partitionsFrom           string
	photo                    photoBytes
	monolithOnS3             bool // the run's monoliths kept their files in S3 (--storage s3)
}

// photoBytes are the bytes one photo stores: its original and its
// thumbnails, and where the figures come from.
type photoBytes struct {
	original, small, large float64
	from                   string
}

func (p photoBytes) total() float64 { return p.original + p.small + p.large }

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
		mskBroker: price(sheets, SheetMSKProvisioned, "broker-hour"), mskStorage: price(sheets, SheetMSKProvisioned, "storage"),
		sqs:       price(sheets, SheetSQS, "requests"),
		rds:       price(sheets, SheetRDS, "instance"),
		natHourly: price(sheets, SheetNAT, "nat-hour"), natGB: price(sheets, SheetNAT, "data-processed"),
		albHourly: price(sheets, SheetALB, "alb-hour"), albLCU: price(sheets, SheetALB, "lcu-hour"),
		lcuConns: spec(sheets, SheetALB, "lcu_new_connections_per_second"), lcuGB: spec(sheets, SheetALB, "lcu_processed_gb_per_hour"),
		s3Storage: price(sheets, SheetS3, "storage"), ebsStorage: price(sheets, SheetEBS, "storage"),
		photo: photoBytesOf(r.Settings),
	}
	b.monolithOnS3 = strings.HasPrefix(r.Settings["monolith_storage"], "s3")
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

// photoBytesOf reads the bytes a photo stores from the run's settings
// photo_bytes (the mean original uploaded) and thumbnail_bytes (the mean of
// both thumbnails together), when it recorded them, else the estimates.
func photoBytesOf(settings map[string]string) photoBytes {
	p := photoBytes{original: EstimatedPhotoBytes, small: EstimatedSmallThumbnailBytes, large: EstimatedLargeThumbnailBytes,
		from: "estimated: the mean of the profiles' synthetic photos and of their thumbnails (the run does not record photo_bytes)"}
	orig, err1 := strconv.ParseFloat(settings["photo_bytes"], 64)
	if err1 != nil || !(orig > 0) {
		return p
	}
	p.original, p.from = orig, "measured: the run's photo_bytes (the mean upload); thumbnails estimated"
	if th, err := strconv.ParseFloat(settings["thumbnail_bytes"], 64); err == nil && th > 0 {
		// The split between the sizes only matters for the NAT gateway
		// (the small one goes to the vision API): keep the estimate's.
		share := float64(EstimatedSmallThumbnailBytes) / (EstimatedSmallThumbnailBytes + EstimatedLargeThumbnailBytes)
		p.small, p.large = th*share, th*(1-share)
		p.from = "measured: the run's photo_bytes and thumbnail_bytes (means per photo)"
	}
	return p
}

// transportHourly is an event-driven option's always-on event transport
// (USD/hour): the MSK Serverless cluster and its partitions, or the
// provisioned brokers and their storage; on SQS, none.
func (b book) transportHourly(o string) fig {
	switch {
	case onSQS(o):
		return val(0)
	case o == OptLambdaMSK:
		if bad, ok := firstNA(b.mskBroker, b.mskStorage); ok {
			return bad
		}
		return val(MSKBrokers * (b.mskBroker.v + MSKBrokerStorageGB*b.mskStorage.v/HoursPerMonth))
	}
	if bad, ok := firstNA(b.mskCluster, b.mskPartition); ok {
		return bad
	}
	return val(b.mskCluster.v + b.partitions*b.mskPartition.v)
}

// fixedHourly is an event-driven option's always-on cost (USD/hour): its
// event transport, the RDS instance and the NAT gateway.
func (b book) fixedHourly(o string) fig {
	return add(add(b.transportHourly(o), b.rds), b.natHourly)
}

// bridgePerPhoto is the S3-to-Kafka bridge's cost per photo uploaded on
// option o (one invocation of BridgeSeconds at BridgeMB); none on SQS,
// where S3 sends its notifications to a queue itself.
func (b book) bridgePerPhoto(o string) fig {
	if onSQS(o) {
		return val(0)
	}
	return add(b.fnRequest[o], scale(b.fnGBs[o], BridgeSeconds*BridgeMB/1024))
}

// natPerPhoto is the NAT gateway's data cost per photo: the small
// thumbnail sent to the vision API and its answer.
func (b book) natPerPhoto() fig {
	return scale(b.natGB, (b.photo.small+VisionReplyBytes)/gib)
}

// storagePerGBMonth is what option o pays per GB stored per month and
// where: S3 for the event-driven app and for a monolith run with
// --storage s3, else the VM's EBS gp3 volume, one copy per VM of the HA
// option's pair.
func (b book) storagePerGBMonth(o string) (fig, string) {
	switch {
	case !onVM(o):
		return b.s3Storage, "S3 Standard"
	case b.monolithOnS3:
		return b.s3Storage, "S3 Standard (--storage s3)"
	case isHA(o):
		return scale(b.ebsStorage, 2), "EBS gp3, a copy on each of 2 VMs"
	}
	return b.ebsStorage, "EBS gp3 (--storage disk)"
}

// usageItems names the event-driven usage cost items, in display order;
// bridgeItem is the Kafka options' own, sqsItem the SQS option's.
var usageItems = []string{"function requests", "function compute", "API Gateway", "S3 PUT-class", "S3 GET-class", natItem, bridgeItem, sqsItem}

const (
	sqsItem    = "SQS requests"
	bridgeItem = "S3-to-Kafka bridge (a Lambda function)"
	natItem    = "NAT gateway data"
)

// itemsOf are the usage cost items option o prices.
func itemsOf(o string) []string {
	var out []string
	for _, it := range usageItems {
		if (it == sqsItem && !onSQS(o)) || (it == bridgeItem && onSQS(o)) {
			continue
		}
		out = append(out, it)
	}
	return out
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

	if arch != results.EventDriven {
		for _, o := range vmOptions {
			if vmArch[o] == arch {
				b.priceVM(o, arch, f, perPhotoBase, hasBase)
			}
		}
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

// gbsKey is the GB-seconds figure option o's functions are billed for:
// on AWS Lambda at the sizes its CPU needs ("lgbs"), elsewhere at the
// sizes their memory needs ("gbs").
func gbsKey(o string) string {
	if onLambda(o) {
		return "lgbs"
	}
	return "gbs"
}

// priceOption adds the cost figures of event-driven option o: always-on,
// usage by item, per photo, per million photos, per month and idle; base,
// when hasBase, is why the per-photo figures are missing.
func (b book) priceOption(o string, f figs, base fig, hasBase bool) {
	p := "cost/" + o + "/"
	fixed := b.fixedHourly(o)
	f[p+"fixed_hour"] = fixed
	f[p+"transport_hour"] = b.transportHourly(o)
	items := map[string]fig{
		"function requests": mul(f["inv"], b.fnRequest[o]),
		"function compute":  mul(f[gbsKey(o)], b.fnGBs[o]),
		"API Gateway":       mul(f["front"], b.gateway),
		"S3 PUT-class":      mul(f["put"], b.s3Put),
		"S3 GET-class":      mul(f["get"], b.s3Get),
		natItem:             mul(f["photos"], b.natPerPhoto()),
		bridgeItem:          mul(f["photos"], b.bridgePerPhoto(o)),
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
	f[p+"idle_compute_hour"] = perIdleHour(mul(f["idle/"+gbsKey(o)], b.fnGBs[o]), f["idle/window"])
}

// idleVarHour is what option o pays per hour idle beyond its always-on
// part: whatever was invoked in the idle window.
func (b book) idleVarHour(o string, f figs) fig {
	idle := val(0)
	idleItems := []fig{
		mul(f["idle/inv"], b.fnRequest[o]), mul(f["idle/"+gbsKey(o)], b.fnGBs[o]), mul(f["idle/front"], b.gateway),
		mul(f["idle/put"], b.s3Put), mul(f["idle/get"], b.s3Get),
	}
	if onSQS(o) {
		idleItems = append(idleItems, mul(sqsRequests(f["idle/events"]), b.sqs))
	}
	for _, x := range idleItems {
		idle = add(idle, x)
	}
	return perIdleHour(idle, f["idle/window"])
}

// perIdleHour scales a cost over the idle window iw (s) to an hour.
func perIdleHour(idle, iw fig) fig {
	switch {
	case !iw.ok():
		return iw
	case iw.v <= 0:
		return na("no data: the idle phase has no length")
	default:
		return scale(idle, 3600/iw.v)
	}
}

// lcuPerPhoto is the load balancer's capacity units (LCU-hours per hour)
// one photo/s takes: the larger of its new connections (every request a
// new connection, an upper bound) and its processed bytes (the upload in
// and its thumbnails out); requestsPerPhoto are the front door's.
func (b book) lcuPerPhoto(requestsPerPhoto float64) fig {
	if bad, ok := firstNA(b.lcuConns, b.lcuGB); ok {
		return bad
	}
	return val(max(requestsPerPhoto/b.lcuConns.v, b.photo.total()*3600/gib/b.lcuGB.v))
}

// priceVM adds the cost figures of monolith option o (architecture arch):
// its VMs' capacity from the CPU per photo of its process and PostgreSQL,
// how many VMs the measured load takes (one more, at least 2, and a load
// balancer on the HA option), per million photos, per month and idle;
// base, when hasBase, is why the per-photo figures are missing.
func (b book) priceVM(o, arch string, f figs, base fig, hasBase bool) {
	p := "cost/" + o + "/"
	minVMs, spare, lb := 1.0, 0.0, val(0)
	lbVar := val(0) // USD per photo
	if isHA(o) {
		minVMs, spare, lb = HAMinVMs, HASpareVMs, b.albHourly
		if fr, ph := f["front"], f["photos"]; !hasBase && fr.ok() {
			lbVar = scale(mul(b.lcuPerPhoto(fr.v/ph.v), b.albLCU), 1.0/3600)
		} else {
			lbVar = base
			if !hasBase {
				lbVar = fr
			}
		}
	}
	f[p+"lb_hour"] = lb
	f[p+"idle_hour"] = add(scale(b.vmHourly, minVMs), lb)
	f[p+"fixed_hour"] = f[p+"idle_hour"]
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
		for _, k := range []string{"per_million", "fixed_per_million", "var_per_million", "monthly", "vms", "var_per_photo"} {
			f[p+k] = base
		}
		return
	}
	vms := 1.0 // capacity unknown: one VM, as at any load it can serve
	if capacity.ok() {
		vms = math.Ceil(f["load"].v/capacity.v - 1e-9)
	}
	vms = max(minVMs, vms+spare)
	f[p+"vms"] = val(vms)
	f[p+"var_per_photo"] = lbVar
	hourly := add(scale(b.vmHourly, vms), lb)
	f[p+"fixed_per_million"] = scale(hourly, f["window"].v/3600/f["photos"].v*1e6)
	f[p+"var_per_million"] = scale(lbVar, 1e6)
	f[p+"per_million"] = add(f[p+"fixed_per_million"], f[p+"var_per_million"])
	f[p+"monthly"] = add(scale(hourly, HoursPerMonth), scale(lbVar, f["load"].v*SecondsPerMonth))
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
