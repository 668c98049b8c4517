package cost

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/photobench/photobench/bench/results"
)

// sentences states the trade-offs from the figures; a sentence whose
// figures are missing says so. An architecture the bench did not run at
// all (no run, not even a failed one) has no sentences: the tables say n/a.
func (a *analysis) sentences() []string {
	out := a.costSentences()
	out = append(out, a.idleSentences()...)
	out = append(out, a.capacitySentences()...)
	out = append(out, a.usageSentences()...)
	// Instance-billed platforms.
	if rs := a.get(results.EventDriven, "rs_per_photo"); rs.ok() {
		out = append(out, fmt.Sprintf("On an instance-billed platform (Cloud Run-like) the functions would be billed for %s replica-seconds per photo (measured; not priced here).", num(rs.med)))
	}
	return out
}

// tried says whether the bench ran arch: a run of the scenario the cost
// model reads, usable or failed.
func (a *analysis) tried(arch string) bool { return a.noRuns[arch] == "" || a.failed[arch] > 0 }

// atLoad names the measured load in a sentence: one figure when every
// architecture that measured it measured the same, else each one's.
func (a *analysis) atLoad() string {
	var parts, loads []string
	for _, arch := range archs {
		if l := a.get(arch, "load"); l.ok() {
			parts = append(parts, fmt.Sprintf("%s %s photos/s", archNames[arch], num(l.med)))
			loads = append(loads, num(l.med))
		}
	}
	switch {
	case len(loads) < 2:
		return "the measured load"
	case len(slices.Compact(slices.Clone(loads))) == 1:
		return "the measured " + loads[0] + " photos/s"
	}
	return "the measured load (" + strings.Join(parts, ", ") + ")"
}

// costSentences compare, for each monolith and each event-driven option,
// the cost per million photos at the measured load, and say where their
// monthly-cost lines cross; then the two monoliths with each other.
func (a *analysis) costSentences() []string {
	var out []string
	at := a.atLoad()
	for _, vo := range []string{OptMonolith, OptMonolithAsync} {
		who := archNames[archOf(vo)]
		if !a.tried(archOf(vo)) || !a.tried(results.EventDriven) {
			continue
		}
		vm, m := a.cost(vo, "per_million"), a.lineOf(vo)
		for _, o := range eventOptions {
			ed := a.cost(o, "per_million")
			if !ed.ok() || !vm.ok() {
				why := ed.why
				if ed.ok() {
					why = vm.why
				}
				out = append(out, fmt.Sprintf("The cost per million photos of the event-driven app on %s against the %s's VM is n/a (%s).", optionLabel[o], who, why))
				continue
			}
			s := fmt.Sprintf("At %s the event-driven app on %s costs $%s per million photos against $%s for the %s's VM",
				at, optionLabel[o], money(ed.med), money(vm.med), who)
			out = append(out, s+a.crossClause(o, vo, m))
		}
	}
	if s := a.asyncSentence(at); s != "" {
		out = append(out, s)
	}
	return out
}

// crossClause ends a cost sentence of event-driven option o against
// monolith option vo (line m): where their monthly-cost lines cross, which
// is cheaper on either side, or, when they do not cross, which is cheaper
// everywhere and why.
func (a *analysis) crossClause(o, vo string, m line) string {
	e := a.lineOf(o)
	cross := a.cross[[2]string{vo, o}]
	who := archNames[archOf(vo)]
	var s string
	switch {
	case !m.ok || !e.ok:
		s = "; the break-even lines are n/a (no data for one of them)."
	case len(cross) == 0:
		cheaper := "the " + who + "'s VMs cost less"
		if e.at(a.xmax/2) < m.at(a.xmax/2) {
			cheaper = "the event-driven app costs less"
		}
		s = fmt.Sprintf("; the monthly-cost lines do not cross between 0 and %s photos/s: %s at every load in that range", num(a.xmax), cheaper)
		switch {
		case e.fixed >= m.perVM:
			s += fmt.Sprintf(" (its always-on cost alone, $%s/month, is above one VM's $%s/month)", money(e.fixed), money(m.perVM))
		case e.slope*m.capacity < m.perVM:
			s += fmt.Sprintf(" (its always-on cost, $%s/month, is below one VM's $%s/month, and its usage cost grows by $%s/month per photo/s, slower than the %s's VMs at $%s/month per photo/s on average)",
				money(e.fixed), money(m.perVM), money(e.slope), who, money(m.perVM/m.capacity))
		}
		s += "."
	default:
		first := cross[0]
		s = fmt.Sprintf("; the lines cross at %s photos/s ($%s/month)", num(first.X), money(first.Y))
		if len(cross) > 1 {
			s += fmt.Sprintf(" and %d more times up to %s photos/s as the %s adds VMs", len(cross)-1, num(cross[len(cross)-1].X), who)
		}
		below, above := "the "+who, "the event-driven app"
		if e.at(first.X/2) < m.at(first.X/2) {
			below, above = above, below
		}
		s += fmt.Sprintf(": below it %s is cheaper, above it %s.", below, above)
	}
	return s
}

// asyncSentence compares the async monolith with the monolith at load at:
// what answering before the work is done (River's job queue in the same
// PostgreSQL, its workers in the same process) costs in CPU per photo, VM
// capacity and cost per million photos. "" when either was not run.
func (a *analysis) asyncSentence(at string) string {
	if !a.tried(results.Monolith) || !a.tried(results.MonolithAsync) {
		return ""
	}
	sc, ac := a.cost(OptMonolith, "cpu_per_photo"), a.cost(OptMonolithAsync, "cpu_per_photo")
	sp, ap := a.cost(OptMonolith, "per_million"), a.cost(OptMonolithAsync, "per_million")
	for _, x := range []stat{ac, sc, ap, sp} {
		if !x.ok() {
			return "The async monolith's cost against the monolith's is n/a (" + x.why + ")."
		}
	}
	diff := "as much as"
	if r := ac.med/sc.med - 1; math.Abs(r) >= 0.005 {
		more := "more than"
		if r < 0 {
			more = "less than"
		}
		diff = fmt.Sprintf("%s%% %s", num(100*math.Abs(r)), more)
	}
	s := fmt.Sprintf("The async monolith used %s CPU-seconds per photo (its process and PostgreSQL, River's job queue included), %s the monolith's %s; at %s it costs $%s per million photos against $%s",
		num(ac.med), diff, num(sc.med), at, money(ap.med), money(sp.med))
	if acap, scap := a.cost(OptMonolithAsync, "capacity"), a.cost(OptMonolith, "capacity"); acap.ok() && scap.ok() {
		s += fmt.Sprintf(", and one VM serves it up to about %s photos/s against %s", num(acap.med), num(scap.med))
	}
	return s + "."
}

// idleSentences compare the idle cost per hour of a monolith's VM with
// the event-driven app's on AWS Lambda, and give that of Lambda + SQS, with
// what the always-on services make of it.
func (a *analysis) idleSentences() []string {
	var out []string
	vm, who := OptMonolith, "the monolith's VM"
	if !a.tried(results.Monolith) {
		vm, who = OptMonolithAsync, "the async monolith's VM"
	}
	if a.tried(results.Monolith) && a.tried(results.MonolithAsync) {
		who = "each monolith's VM"
	}
	mi, ei := a.cost(vm, "idle_hour"), a.cost(OptLambda, "idle_hour")
	if mi.ok() && ei.ok() && a.book.mskCluster.ok() && a.book.mskPartition.ok() && a.book.rds.ok() && a.book.natHourly.ok() {
		msk := a.book.mskCluster.v + a.book.partitions*a.book.mskPartition.v
		out = append(out, fmt.Sprintf("Idle, %s costs $%s/hour and the event-driven app on AWS Lambda + MSK Serverless $%s/hour, of which $%s is MSK Serverless (the cluster and %s partitions), $%s the RDS instance and $%s the NAT gateway: scaling the functions to zero removes their cost, not that of the always-on services.",
			who, money(mi.med), money(ei.med), money(msk), num(a.book.partitions), money(a.book.rds.v), money(a.book.natHourly.v)))
	} else {
		why := mi.why
		if mi.ok() {
			why = ei.why
		}
		if why == "" {
			why = "no price for MSK Serverless, RDS or the NAT gateway"
		}
		out = append(out, "The idle cost comparison is n/a ("+why+").")
	}
	if si := a.cost(OptLambdaSQS, "idle_hour"); si.ok() {
		out = append(out, fmt.Sprintf("Idle, the event-driven app on AWS Lambda + SQS costs $%s/hour, of which $%s is the RDS instance, $%s the NAT gateway and the rest what was still invoked: SQS queues are billed per request, with no hourly charge (the empty receives of idle pollers are not priced).",
			money(si.med), money(a.book.rds.v), money(a.book.natHourly.v)))
	} else {
		why := si.why
		out = append(out, "The idle cost of the event-driven app on AWS Lambda + SQS is n/a ("+why+").")
	}
	return out
}

// capacitySentences say, for each monolith the bench ran, how many
// photos/s one VM serves it at, from the CPU measured per photo, and
// whether its peak memory fits.
func (a *analysis) capacitySentences() []string {
	var out []string
	for _, vo := range []string{OptMonolith, OptMonolithAsync} {
		arch := archOf(vo)
		if !a.tried(arch) {
			continue
		}
		who := archNames[arch]
		capy, cpp := a.cost(vo, "capacity"), a.cost(vo, "cpu_per_photo")
		if !(capy.ok() && cpp.ok() && a.book.vcpu.ok() && a.book.vmHourly.ok()) {
			why := capy.why
			if why == "" {
				why = "no price or vCPU count for the VM"
			}
			out = append(out, "The "+who+" VM's capacity is n/a ("+why+"); its cost assumes one VM.")
			continue
		}
		s := fmt.Sprintf("One m6i.large (%s vCPU) serves the %s and its PostgreSQL up to about %s photos/s at %.0f%% CPU (%s CPU-seconds per photo measured); beyond that the model adds VMs at $%s/month each.",
			num(a.book.vcpu.v), who, num(capy.med), TargetUtilisation*100, num(cpp.med), money(a.book.vmHourly.v*HoursPerMonth))
		app, pg := a.get(arch, "mem/"+vmApp[arch]), a.get(arch, "mem/postgresql")
		if app.ok() && pg.ok() && a.book.vmMemGiB.ok() {
			used := (app.med + pg.med) / (1 << 30)
			fit := "fits in"
			if used > a.book.vmMemGiB.v {
				fit = "does NOT fit in"
			}
			s += fmt.Sprintf(" Their peak memory together, %s GiB, %s its %s GiB.", num(used), fit, num(a.book.vmMemGiB.v))
		}
		out = append(out, s)
	}
	return out
}

// usageSentences say, for each event-driven option, what its usage cost
// per photo is made of, largest share first.
func (a *analysis) usageSentences() []string {
	var out []string
	for _, o := range eventOptions {
		v := a.cost(o, "var_per_photo")
		if !v.ok() || !(v.med > 0) {
			continue
		}
		type part struct {
			name  string
			share float64
		}
		var parts []part
		for _, it := range itemsOf(o) {
			if s := a.cost(o, "item/"+it); s.ok() {
				name := it
				if strings.HasPrefix(it, "function ") {
					name = functionLabel[o] + strings.TrimPrefix(it, "function")
				}
				parts = append(parts, part{name, s.med / v.med})
			}
		}
		sort.SliceStable(parts, func(i, j int) bool { return parts[i].share > parts[j].share })
		var ps []string
		for _, p := range parts {
			ps = append(ps, fmt.Sprintf("%s %s%%", p.name, num(100*p.share)))
		}
		s := fmt.Sprintf("Per photo, the event-driven app's usage on %s costs $%s (%s)", optionLabel[o], money(v.med), strings.Join(ps, ", "))
		if f := a.cost(o, "fixed_hour"); f.ok() {
			s += fmt.Sprintf("; a steady 1 photo/s for a month adds $%s to the $%s/month always-on", money(v.med*SecondsPerMonth), money(f.med*HoursPerMonth))
		}
		out = append(out, s+".")
	}
	return out
}

func (a *analysis) assumptions() []string {
	steady, idle := a.r.SteadyPhase, a.r.IdlePhase
	if steady == "" {
		steady = "(none named)"
	}
	if idle == "" {
		idle = "(none named)"
	}
	scenario := a.scenario
	if scenario == "" {
		scenario = "(no runs)"
	}
	return []string{
		fmt.Sprintf("Runs: the runs of scenario %q (the first with both the steady and the idle phase) with status ok or partial; with repeats, every figure is the median over runs and tables give the spread (min–max). Failed runs are left out.", scenario),
		fmt.Sprintf("Cost window: the steady phase %q; idle window: the idle phase %q from the moment every backlog was drained (consumer lag 0, no async job left, no upload followed, nothing in flight) to its end. Object requests are those the apps sent (counted where they are made, a listing as LIST), not MinIO's own counters, which lag by about 10 s. Photos are the uploads answered ok in the steady phase; a photo is the unit of work: one upload plus the mix's other requests that came with it.", steady, idle),
		"Follower polls left out: the load generator's ready follower polls GET /v1/photos/{id} until each event-driven upload is ready. Those polls are the bench's instrumentation, not the app's workload (a real client would be notified, or poll at its own pace; the monolith answers \"ready\" and needs none), so they are not priced: in the steady phase, they are taken out of the API Gateway requests, out of query's invocations (the phase's polls, never below 0) and out of its busy seconds in proportion (seconds x (invocations - polls) / invocations: a poll costs what query's average request does); in the idle window, where nothing is scheduled, every request ingest and query served is a poll and is left out, while the events still handled (the app draining its own work) stay. The polls are counted per phase of the upload they follow, so a few sent just after the steady window are taken out of it, and a few of earlier uploads sent inside it stay. The usage table reports the polls left out.",
		"Measured CPU time on the bench machine is taken as the same vCPU time on the VM (1 CPU-second here = 1 vCPU-second there).",
		fmt.Sprintf("Monolith: always-on m6i.large VMs running the app and its PostgreSQL, as on the bench machine. One VM's capacity = vCPUs x %.0f%% target utilisation / CPU-seconds per photo (monolith process + PostgreSQL over the steady window); VMs at load L = max(1, ceil(L / capacity)); monthly = VMs x hourly price x %d hours. Its cost per million photos is the VMs' cost over the steady window divided by its photos; its idle cost is the VM's hourly price.", TargetUtilisation*100, HoursPerMonth),
		"Async monolith: priced as the monolith, from its own measured CPU per photo (its process + PostgreSQL). Its job queue (River) is tables of its PostgreSQL and its workers run in its process, so the same VM carries both; nothing else is billed. Its process's CPU includes serving the load generator's ready polls (it answers 202 pending, and each upload is followed until ready), which a process's CPU cannot be split from: a small overestimate.",
		"Fairness: every architecture pays for a database. Each monolith's PostgreSQL runs on its VM (its CPU is counted in the VM's capacity); the event-driven catalog's is an RDS db.t4g.micro single-AZ instance.",
		"The vision service stands in for an external vision API that all three architectures call equally; its CPU, memory and price are left out of all.",
		"Event-driven functions priced as AWS Lambda (x86) or Azure Functions (Consumption): one invocation per HTTP request served by ingest and query and per event handled (every outcome, retries included) by thumbnailer, tagger and catalog; that is one event per invocation (batch size 1), an upper bound where the platform batches Kafka records.",
		"Function duration: the measured serving and handling seconds, summed (Lambda's per-invocation rounding to 1 ms and Azure's 100 ms minimum per execution not applied). Azure Functions memory size: each function's peak resident memory of its largest single replica over the whole run, rounded up to a multiple of 128 MB (at least 128 MB; MB = 2^20 bytes), as the Consumption plan bills observed memory; GB-seconds = seconds x MB / 1024, as the providers bill.",
		fmt.Sprintf("AWS Lambda memory size, from CPU: Lambda's CPU share grows with the memory size (memory / %s MB of a vCPU; one full vCPU at %s MB), so a function given only the memory its RSS needs would run slower than measured. Rule: each function is billed at max(the size its memory needs, as above; %s MB x its CPU-seconds / its busy seconds, both over the steady phase, rounded up to 1 MB, at most %s MB): the size at which its measured CPU-seconds per invocation run in its measured busy time per invocation. Equivalently its GB-seconds are at least its CPU-seconds x %s/1024 GB. The sizes are the steady phase's and apply to the idle window too.", num(LambdaMBPerVCPU), num(LambdaMBPerVCPU), num(LambdaMBPerVCPU), num(LambdaMaxMB), num(LambdaMBPerVCPU)),
		"The runtime (the scale-to-zero scaler) and the front are the platform's own (Lambda's service and API Gateway): their CPU is reported, not priced. API Gateway HTTP API requests = the requests the load generator sent to the event-driven app in the steady phase (its follower's ready polls left out); none in the idle window, where the only requests served are those polls.",
		"Event-driven services: Kafka as MSK Serverless (cluster-hour + partitions x partition-hour; " + a.book.partitionsFrom + "), MinIO as Amazon S3 Standard requests (PUT-class = PUT, COPY, POST, LIST; GET-class = GET and all others; DELETE and abort free), PostgreSQL as RDS. Their always-on cost is billed every hour, idle or not.",
		fmt.Sprintf("NAT gateway: the functions run in a VPC to reach MSK (or SQS) and RDS, and reach the internet vision API through one NAT gateway (its hour, always on, and its data: per photo the small thumbnail sent to the vision API and a %s-byte answer); S3 is reached through a gateway endpoint (free). The monoliths' VMs have public addresses and need none.", num(VisionReplyBytes)),
		fmt.Sprintf("S3-to-Kafka bridge: on AWS, S3 event notifications go to SNS, SQS, Lambda or EventBridge, not to Kafka (the bench's MinIO publishes to Kafka itself). The Kafka lines price a Lambda function the notification invokes, which produces the photos.objects event: one invocation per photo uploaded, %s s at %s MB each (assumed, not measured), at the line's function prices. Rejected: MSK Connect with an S3 source connector (an always-on worker, and it polls), EventBridge Pipes (no Kafka target). On SQS, S3 notifies the queue itself: no bridge.", num(BridgeSeconds), num(BridgeMB)),
		fmt.Sprintf("MSK provisioned: %d kafka.t3.small brokers (the smallest type; one per Availability Zone in two zones, the fewest MSK allows) with %d GB of storage each, billed every hour; their throughput far exceeds the measured events, so no more brokers are added with load.", MSKBrokers, MSKBrokerStorageGB),
		fmt.Sprintf("HA monolith: the load's VMs plus %d spare (at least %d), so the load survives the loss of one, behind an application load balancer (its hour, and its LCUs: the larger of new connections, every front-door request counted as one, and processed bytes, an upload and its thumbnails per photo). The second VM runs a PostgreSQL standby and a copy of the files; the failover's mechanics and the standby's replication CPU are not priced.", HASpareVMs, HAMinVMs),
		"The Azure Functions line prices only the functions with Azure's prices; API Gateway, S3, MSK Serverless, RDS, the NAT gateway and the bridge's other services keep their AWS prices, so the AWS Lambda and Azure Functions lines differ only in function pricing (Azure at the memory its functions need: its CPU does not grow with the memory size).",
		fmt.Sprintf("The AWS Lambda + SQS line prices a different transport than the one measured: the same events, carried by Amazon SQS standard queues instead of Kafka. The functions' invocations, CPU time, busy seconds and memory are the measured ones (with Kafka; the follower polls left out); it is the AWS Lambda line with MSK Serverless replaced by %d SQS requests (send, receive, delete) per event handled by thumbnailer, tagger and catalog (every outcome, retries included; one message per consumer's queue, so an event two functions consume is sent twice, without SNS; batch size 1, an upper bound), at the SQS standard price per request. It has no always-on transport cost; RDS stays. Not priced: the first 1 million SQS requests a month (free tier), the empty receives of pollers while queues are empty, and any change in latency, ordering or delivery that SQS would bring.", SQSRequestsPerEvent),
		fmt.Sprintf("Monthly cost at average load L (photos/s): event-driven = always-on hourly x %d + L x %s s/month (30.42 days) x usage cost per photo; monolith = VMs(L) x hourly x %d. The usage cost per photo is the steady phase's, assumed the same at every load.", HoursPerMonth, num(SecondsPerMonth), HoursPerMonth),
		fmt.Sprintf("Storage: the photos and thumbnails per GB-month (%s), priced apart from the per-request cost because it accumulates: the storage table gives it per million photos stored, per month, and the sensitivity table's last verdict adds %s month of it per photo. Left out: RDS and MSK Serverless storage, and the database rows.", a.book.photo.from, num(DefaultRetentionMonths)),
		"Left out on every side: data transfer (MSK data in/out included), free tiers, reserved and savings-plan discounts, taxes, and the operators' time.",
		"Replica-seconds are reported as the cost proxy of instance-billed platforms (Cloud Run-like), not priced.",
		"Prices: on-demand list prices in USD from the price sheets (bench/prices), us-east-1 where regional; each sheet gives its official source page, region, the date it was written down and the date it was verified on that page. " + a.verifiedNote(),
	}
}

// money formats a USD amount: 4 significant digits, thousands separated.
func money(v float64) string { return sig(v, 4) }

// num formats a quantity: whole numbers as they are, others to 3
// significant digits; thousands separated.
func num(v float64) string {
	if math.Abs(v-math.Round(v)) < 1e-9 && math.Abs(v) < 1e15 {
		return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	}
	return sig(v, 3)
}

// mb formats bytes as MB (2^20 bytes).
func mb(v float64) string { return num(v / mib) }

// sig formats v to n significant digits as a plain decimal (no exponent).
func sig(v float64, n int) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	d := int(math.Floor(math.Log10(math.Abs(v)))) + 1
	s := strconv.FormatFloat(v, 'f', max(0, n-d), 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return group(s)
}

// group separates the thousands of a decimal's integer part with commas.
func group(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := sign + b.String()
	if hasFrac {
		out += "." + frac
	}
	return out
}

// verifiedNote says how many sheets were verified on their source page.
func (a *analysis) verifiedNote() string {
	var not []string
	for _, s := range a.sheets {
		if !s.IsVerified() {
			not = append(not, s.Name)
		}
	}
	if len(not) == 0 {
		return "Every sheet was verified on its source page."
	}
	return fmt.Sprintf("Not verified on their source page (re-read before quoting a cost): %s.", strings.Join(not, ", "))
}
