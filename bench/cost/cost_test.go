package cost_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/results"
)

// The synthetic run (testdata/synthetic.json, made by hand with round
// numbers): steady window 100 s, idle window 100 s, 4 partitions per topic
// (15 in all).
//
// Monolith: 250 uploads ok, 1000 requests ok; CPU-seconds monolith 20 +
// postgresql 5 (vision's 40 and prometheus's 9 are left out).
//
//	CPU per photo   25 / 250 = 0.1 CPU-s; capacity 2 vCPU x 0.7 / 0.1 = 14 photos/s
//	per million     0.096 USD/h x 100/3600 h / 250 x 1e6 = 10.666… USD
//	monthly         1 VM x 0.096 x 730 = 70.08 USD; idle 0.096 USD/h
//
// Event-driven: 250 uploads ok; 1000 requests sent = 1000 API Gateway
// requests. The load generator's follower sent 500 ready polls, all served
// by query: instrumentation, left out of the gateway requests and of
// query's invocations and busy seconds.
//
//	query        served 1250 in 12.5 s; 1250 - 500 polls = 750 invocations, 12.5 x 750/1250 = 7.5 s
//	invocations  ingest 250 + query 750 + thumbnailer 250 + tagger 240+10 + catalog 750 = 2250 (9 per photo)
//	memory       ingest 100 MiB (largest replica; 2 replicas make 190) -> 128 MB, query 130 -> 256,
//	             thumbnailer 300 -> 384, tagger 50 -> 128, catalog 256 -> 256
//	GB-s (Azure) (25x128 + 7.5x256 + 50x384 + 25x128 + 7.5x256) / 1024 = 29440/1024 = 28.75 (shown 28.8)
//	Lambda size  1769 x CPU-s / busy s (query's both before its polls are taken out), rounded up to 1 MB,
//	             at least the size above: ingest 1769x5/25 = 353.8 -> 354, query 1769x3/12.5 = 424.56
//	             -> 425, thumbnailer 1769x20/50 = 707.6 -> 708, tagger 1769x4/25 = 283.04 -> 284,
//	             catalog 1769x2/7.5 = 471.7 -> 472
//	GB-s (Lambda) (25x354 + 7.5x425 + 50x708 + 25x284 + 7.5x472) / 1024 = 58077.5/1024 = 56.716… (shown 56.7)
//	objects      PUT-class PUT 750 + LIST 50 = 800; GET-class GET 1000 + HEAD 250 = 1250; DELETE free
//	NAT data     250 x (small thumbnail 3,416 + 1,024) bytes / 2^30 x 0.045 USD/GB
//	bridge       250 x (0.2e-6 + 0.02 s x 128/1024 GB x 0.0000166667) USD (Azure: x 0.000016)
//	AWS usage    2250x0.2e-6 + 56.716x0.0000166667 + 1000x1e-6 + 800x0.005e-3 + 1250x0.0004e-3 + NAT + bridge
//	             = 0.0070022 USD
//	always-on    MSK 0.75 + 15x0.0015 + RDS 0.016 + NAT 0.045 = 0.8335 USD/h; over 100 s 0.023153 USD
//	per million  (0.023153 + 0.0070022) / 250 x 1e6 = 120.62 USD (fixed 92.61, usage 28.01)
//	monthly      0.8335x730 + 2.5 x 2,628,000 x 0.0070022/250 = 608.455 + 184.02 = 792.47 USD
//	Azure usage  0.00045 + 28.75x0.000016 + 0.0055 + NAT + bridge = 0.0065165 USD -> 118.68 per million
//	             (usage 26.07), monthly 779.71 USD
//	idle         nothing scheduled: query's 20 requests (1 s) are late polls, left out; invocations
//	             catalog 5; GB-s 0.5x256/1024 = 0.125 (Lambda 0.5x472/1024 = 0.2305); gateway 0; GET 10
//	             AWS (5x0.2e-6 + 0.2305x0.0000166667 + 10x0.0004e-3) x 36 = 0.0003183 USD/h -> 0.8338 USD/h
//	             Azure (5x0.2e-6 + 0.125x0.000016 + 10x0.0004e-3) x 36 = 0.000252 USD/h
//
// AWS Lambda + SQS: the AWS Lambda line, MSK Serverless and the bridge
// replaced by SQS at 0.40 USD per million requests, 3 requests per event.
//
//	events       thumbnailer 250 + tagger 240+10 + catalog 750 = 1250 -> 3750 SQS requests
//	usage        0.0070022 - bridge + 3750x0.4e-6 = 0.0084418 USD
//	always-on    RDS 0.016 + NAT 0.045 = 0.061 USD/h; over 100 s 0.0016944 USD
//	per million  (0.0016944 + 0.0084418) / 250 x 1e6 = 40.545 USD (fixed 6.778, usage 33.77)
//	monthly      0.061x730 + 2.5 x 2,628,000 x 0.0084418/250 = 44.53 + 221.85 = 266.38 USD
//	break-even   slope 2,628,000 x 0.0084418/250 = 88.74 USD/month per photo/s; it meets the
//	             monolith's first VM at (70.08 - 44.53) / 88.74 = 0.28792 photos/s, and never again
//	idle         events catalog 5 -> 15 SQS requests: (AWS's idle + 15x0.4e-6 x 36) = 0.0005343 USD/h
//	             -> 0.061 + 0.0005343 = 0.06153 USD/h
//
// AWS Lambda + MSK provisioned: always-on 2 brokers x (0.0456 + 10 GB x
// 0.10/730) + RDS + NAT = 0.15494 USD/h (113.1 USD/month), usage as AWS's.
//
// Monolith HA: 2 VMs + the load balancer's 0.0225 USD/h; LCUs per photo/s
// = max(4 requests per photo / 25, 170,488 bytes x 3600 / 2^30 / 1) =
// 0.5716, at 0.008 USD per LCU-hour: 1.2702e-6 USD per photo.
//
//	per million  (2x0.096 + 0.0225) x 100/3600 / 250 x 1e6 + 1.2702 = 25.10 USD; monthly 164.9 USD
//	break-even   156.585 USD/month at 0 + 3.338 per photo/s; MSK provisioned meets it at
//	             (156.585 - 113.10) / (73.607 - 3.338) = 0.6188, SQS at (156.585 - 44.53) /
//	             (88.74 - 3.338) = 1.3121 photos/s
const (
	natPerPhoto        = (3416.0 + 1024) / (1 << 30) * 0.045
	bridgeAWS          = 0.2e-6 + 0.02*128.0/1024*0.0000166667
	bridgeAzure        = 0.2e-6 + 0.02*128.0/1024*0.000016
	lambdaGBs          = (25*354 + 7.5*425 + 50*708 + 25*284 + 7.5*472) / 1024
	wantMonoPerMillion = 0.096 * 100 / 3600 / 250 * 1e6
	awsUsage           = 0.00045 + lambdaGBs*0.0000166667 + 0.001 + 0.004 + 0.0005 + 250*(natPerPhoto+bridgeAWS)
	azureUsage         = 0.00045 + 28.75*0.000016 + 0.001 + 0.004 + 0.0005 + 250*(natPerPhoto+bridgeAzure)
	fixedHourly        = 0.75 + 15*0.0015 + 0.016 + 0.045
	mskFixedHourly     = 2*(0.0456+10*0.10/730) + 0.016 + 0.045
	sqsUsage           = awsUsage - 250*bridgeAWS + 3*1250*0.40e-6
	sqsFixedHourly     = 0.016 + 0.045
	haFixedHourly      = 0.0225
	haPerPhoto         = 170488.0 * 3600 / (1 << 30) * 0.008 / 3600
	secondsPerMonth    = 730 * 3600
)

func load(t *testing.T, name string) *results.Results {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var r results.Results
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &r
}

func sheets(t *testing.T) []cost.Sheet {
	t.Helper()
	s, err := cost.Sheets()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// cellOf returns the cell of the table titled title, in the row whose
// first cell starts with row, under the column whose header starts with
// col.
func cellOf(t *testing.T, a *cost.Analysis, title, row, col string) string {
	t.Helper()
	for _, tb := range a.Tables {
		if tb.Title != title {
			continue
		}
		ci := -1
		for i, h := range tb.Header {
			if strings.HasPrefix(h, col) {
				ci = i
				break
			}
		}
		if ci < 0 {
			t.Fatalf("table %q: no column %q in %q", title, col, tb.Header)
		}
		for _, r := range tb.Rows {
			if strings.HasPrefix(r[0], row) {
				return r[ci]
			}
		}
		t.Fatalf("table %q: no row %q", title, row)
	}
	t.Fatalf("no table %q", title)
	return ""
}

// tableOf returns the analysis's table titled title.
func tableOf(t *testing.T, a *cost.Analysis, title string) cost.Table {
	t.Helper()
	for _, tb := range a.Tables {
		if tb.Title == title {
			return tb
		}
	}
	t.Fatalf("no table %q", title)
	return cost.Table{}
}

// cellWant is a cell the analysis's tables should have: its table's
// title, the starts of its row's first cell and of its column's header,
// and its text.
type cellWant struct{ title, row, col, want string }

// checkCells checks each cell in a subtest.
func checkCells(t *testing.T, a *cost.Analysis, cells []cellWant) {
	t.Helper()
	for _, c := range cells {
		t.Run(c.title+"/"+c.row+"/"+c.col, func(t *testing.T) {
			if got := cellOf(t, a, c.title, c.row, c.col); got != c.want {
				t.Errorf("cell = %q, want %q", got, c.want)
			}
		})
	}
}

const (
	costTitle  = "Cost per million photos at the measured load"
	idleTitle  = "Idle cost per hour"
	usageTitle = "Measured usage"
	mono       = "monolith (VM m6i.large)"
	monoHA     = "monolith HA (2+ VMs m6i.large + load balancer)"
	aws        = "event-driven (AWS Lambda + MSK Serverless)"
	awsMSK     = "event-driven (AWS Lambda + MSK provisioned)"
	azure      = "event-driven (Azure Functions + MSK Serverless)"
	sqs        = "event-driven (AWS Lambda + SQS)"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestAnalyzeSynthetic(t *testing.T) {
	a, err := cost.Analyze(load(t, "synthetic.json"), sheets(t))
	if err != nil {
		t.Fatal(err)
	}
	checkCells(t, a, []cellWant{
		{costTitle, mono, "measured load", "2.5"},
		{costTitle, mono, "cost (USD per million photos)", "10.67"},
		{costTitle, mono, "monthly", "70.08"},
		{costTitle, monoHA, "cost (USD per million photos)", "25.1"},
		{costTitle, monoHA, "usage part", "1.27"},
		{costTitle, monoHA, "monthly", "164.9"},
		{costTitle, aws, "cost (USD per million photos)", "120.6"},
		{costTitle, aws, "always-on part", "92.61"},
		{costTitle, aws, "usage part", "28.01"},
		{costTitle, aws, "monthly", "792.5"},
		{costTitle, awsMSK, "cost (USD per million photos)", "45.22"},
		{costTitle, awsMSK, "always-on part", "17.22"},
		{costTitle, azure, "cost (USD per million photos)", "118.7"},
		{costTitle, azure, "usage part", "26.07"},
		{costTitle, azure, "monthly", "779.7"},
		{costTitle, sqs, "measured load", "2.5"},
		{costTitle, sqs, "cost (USD per million photos)", "40.54"},
		{costTitle, sqs, "always-on part", "6.778"},
		{costTitle, sqs, "usage part", "33.77"},
		{costTitle, sqs, "monthly", "266.4"},
		{idleTitle, mono, "idle cost", "0.096"},
		{idleTitle, monoHA, "idle cost", "0.2145"},
		{idleTitle, aws, "always-on part", "0.8335"},
		{idleTitle, aws, "invoked while idle", "0.0003183"},
		{idleTitle, aws, "idle cost", "0.8338"},
		{idleTitle, awsMSK, "always-on part", "0.1549"},
		{idleTitle, azure, "invoked while idle", "0.000252"},
		{idleTitle, sqs, "always-on part", "0.061"},
		{idleTitle, sqs, "invoked while idle", "0.0005343"},
		{idleTitle, sqs, "idle cost", "0.06153"},
		{usageTitle, "AWS Lambda memory size, from CPU-seconds / busy seconds: ingest", "event-driven", "354"},
		{usageTitle, "AWS Lambda memory size, from CPU-seconds / busy seconds: query", "event-driven", "425"},
		{usageTitle, "AWS Lambda memory size, from CPU-seconds / busy seconds: thumbnailer", "event-driven", "708"},
		{usageTitle, "AWS Lambda memory size, from CPU-seconds / busy seconds: catalog", "event-driven", "472"},
		{usageTitle, "GB-seconds on AWS Lambda", "event-driven", "56.7"},
		{usageTitle, "idle: GB-seconds on AWS Lambda", "event-driven", "0.23"},
		{usageTitle, "events handled", "event-driven", "1,250"},
		{usageTitle, "events handled", "monolith", "—"},
		{usageTitle, "SQS requests if on SQS", "event-driven", "3,750"},
		{usageTitle, "idle: events handled", "event-driven", "5"},
		{usageTitle, "CPU-seconds per photo, monolith + postgresql", "monolith", "0.1"},
		{usageTitle, "one VM's capacity at 70% CPU", "monolith", "14"},
		{usageTitle, "invocations per photo", "event-driven", "9"},
		{usageTitle, "invocations: query", "event-driven", "750"},
		{usageTitle, "invocations: ingest", "event-driven", "250"},
		{usageTitle, "busy seconds: query", "event-driven", "7.5"},
		{usageTitle, "busy seconds: ingest", "event-driven", "25"},
		{usageTitle, "billed memory size: ingest", "event-driven", "128"},
		{usageTitle, "billed memory size: thumbnailer", "event-driven", "384"},
		{usageTitle, "GB-seconds (GB-s)", "event-driven", "28.8"},
		{usageTitle, "object requests, PUT-class", "event-driven", "800"},
		{usageTitle, "object requests, GET-class", "event-driven", "1,250"},
		{usageTitle, "replica-seconds per photo", "event-driven", "2.2"},
		{usageTitle, "replica-seconds per photo", "monolith", "—"},
		{usageTitle, "front-door requests", "event-driven", "1,000"},
		{usageTitle, "front-door requests", "monolith", "1,000"},
		{usageTitle, "follower polls excluded", "event-driven", "500"},
		{usageTitle, "follower polls excluded", "monolith", "0"},
		{usageTitle, "idle: invocations", "event-driven", "5"},
		{usageTitle, "idle: GB-seconds", "event-driven", "0.125"},
		{usageTitle, "idle: front-door requests", "event-driven", "0"},
		{usageTitle, "idle: follower polls excluded", "event-driven", "20"},
		{usageTitle, "idle: follower polls excluded", "monolith", "—"},
		{usageTitle, "peak memory: ingest", "event-driven", "100"},
		{usageTitle, "CPU-seconds: postgresql", "monolith", "5"},
	})
	for _, row := range tableOf(t, a, usageTitle).Rows {
		if strings.Contains(row[0], "vision") || strings.Contains(row[0], "prometheus") {
			t.Errorf("usage row %q: vision and prometheus are left out", row[0])
		}
	}

	t.Run("usage", func(t *testing.T) {
		u := a.Usage[results.EventDriven]
		if u.Photos != 250 || u.GBSeconds != 28.75 || u.FrontDoorRequests != 1000 || u.FollowerPolls != 500 || u.PutRequests != 800 || u.GetRequests != 1250 || u.FreeRequests != 10 {
			t.Errorf("event-driven usage = %+v", u)
		}
		if u.MemoryMB["query"] != 256 || u.MemoryMB["catalog"] != 256 || u.Invocations["tagger"] != 250 || u.Invocations["query"] != 750 || u.BusySeconds["query"] != 7.5 {
			t.Errorf("memory %v, invocations %v, busy seconds %v", u.MemoryMB, u.Invocations, u.BusySeconds)
		}
		if u.EventsHandled != 1250 || u.IdleEventsHandled != 5 {
			t.Errorf("events handled %v, idle %v, want 1250, 5", u.EventsHandled, u.IdleEventsHandled)
		}
		if u.LambdaMemoryMB["thumbnailer"] != 708 || u.LambdaMemoryMB["query"] != 425 || !near(u.LambdaGBSeconds, lambdaGBs) || !near(u.IdleLambdaGBSeconds, 0.5*472/1024) {
			t.Errorf("Lambda sizes %v, GB-s %v, idle %v, want thumbnailer 708, query 425, GB-s %v", u.LambdaMemoryMB, u.LambdaGBSeconds, u.IdleLambdaGBSeconds, lambdaGBs)
		}
		if u.IdleInvocations != 5 || u.IdleGBSeconds != 0.125 || u.IdleFrontDoorRequests != 0 || u.IdleFollowerPolls != 20 || u.IdleGetRequests != 10 {
			t.Errorf("idle usage = %+v", u)
		}
		m := a.Usage[results.Monolith]
		if m.CPUSeconds["monolith"] != 20 || m.CPUSeconds["postgresql"] != 5 || m.Load != 2.5 || m.FollowerPolls != 0 || len(m.Missing) != 0 {
			t.Errorf("monolith usage = %+v", m)
		}
		if _, ok := m.CPUSeconds["vision"]; ok {
			t.Errorf("vision CPU counted: %v", m.CPUSeconds)
		}
	})

	t.Run("chart", func(t *testing.T) {
		ch := a.BreakEven
		if ch.XLabel != "average load (photos/s)" || ch.YLabel != "cost (USD/month)" {
			t.Errorf("labels %q, %q", ch.XLabel, ch.YLabel)
		}
		// X to max(3 x 2.5, capacity 14, 1.5 x the crossovers) = 14, 101
		// points plus the 3 crossovers'. The MSK Serverless lines start at
		// 608.5 USD/month and climb faster: no crossover. The SQS line meets
		// the monolith's first VM at 0.28792… photos/s and the HA
		// monolith's at 1.3121…; the MSK provisioned line the HA
		// monolith's at 0.6188….
		crossX := (70.08 - sqsFixedHourly*730) / (secondsPerMonth * sqsUsage / 250)
		haAt0, haSlope := (2*0.096+haFixedHourly)*730, haPerPhoto*secondsPerMonth
		crossMSKHA := (haAt0 - mskFixedHourly*730) / (secondsPerMonth*awsUsage/250 - haSlope)
		crossSQSHA := (haAt0 - sqsFixedHourly*730) / (secondsPerMonth*sqsUsage/250 - haSlope)
		if len(ch.X) != 104 || ch.X[0] != 0 || !near(ch.X[103], 14) {
			t.Fatalf("X: %d points from %v to %v, want 104 from 0 to 14", len(ch.X), ch.X[0], ch.X[len(ch.X)-1])
		}
		if len(ch.Marks) != 3 {
			t.Fatalf("marks = %v, want three", ch.Marks)
		}
		for i, w := range []struct {
			x     float64
			label string
		}{
			{crossX, sqs + " = monolith: 0.288 photos/s, USD 70.08/month"},
			{crossMSKHA, awsMSK + " = HA monolith: 0.619 photos/s, USD 158.7/month"},
			{crossSQSHA, sqs + " = HA monolith: 1.31 photos/s, USD 161/month"},
		} {
			if m := ch.Marks[i]; !near(m.X, w.x) || m.Label != w.label {
				t.Errorf("mark %d = %+v, want x %v, %q", i, m, w.x, w.label)
			}
		}
		if math.Abs(crossX-0.28792) > 1e-5 || math.Abs(crossMSKHA-0.6188) > 1e-4 || math.Abs(crossSQSHA-1.3121) > 1e-4 {
			t.Errorf("crossovers by hand = %v, %v, %v, want 0.28792…, 0.6188…, 1.3121…", crossX, crossMSKHA, crossSQSHA)
		}
		last := len(ch.X) - 1
		want := map[string][2]float64{ // at X = 0 and X = 14
			mono:   {70.08, 70.08},
			monoHA: {(2*0.096 + haFixedHourly) * 730, (2*0.096+haFixedHourly)*730 + 14*haPerPhoto*secondsPerMonth},
			aws:    {fixedHourly * 730, fixedHourly*730 + 14*secondsPerMonth*awsUsage/250},
			awsMSK: {mskFixedHourly * 730, mskFixedHourly*730 + 14*secondsPerMonth*awsUsage/250},
			azure:  {fixedHourly * 730, fixedHourly*730 + 14*secondsPerMonth*azureUsage/250},
			sqs:    {sqsFixedHourly * 730, sqsFixedHourly*730 + 14*secondsPerMonth*sqsUsage/250},
		}
		if len(ch.Lines) != 6 {
			t.Fatalf("lines = %d, want 6", len(ch.Lines))
		}
		for _, l := range ch.Lines {
			w, ok := want[l.Name]
			if !ok {
				t.Errorf("unexpected line %q", l.Name)
				continue
			}
			if !near(l.Y[0], w[0]) || !near(l.Y[last], w[1]) {
				t.Errorf("%s: Y(0) = %v, Y(14) = %v, want %v, %v", l.Name, l.Y[0], l.Y[last], w[0], w[1])
			}
		}
	})

	t.Run("sentences", func(t *testing.T) {
		text := strings.Join(a.Sentences, "\n")
		for _, want := range []string{
			"At the measured 2.5 photos/s the event-driven app on AWS Lambda + MSK Serverless costs $120.6 per million photos against $10.67 for the monolith's VM",
			"do not cross between 0 and 14 photos/s: the monolith's VMs cost less at every load in that range (its always-on cost alone, $608.5/month, is above one VM's $70.08/month).",
			"$0.7725 is MSK Serverless (the cluster and 15 partitions), $0.016 the RDS instance and $0.045 the NAT gateway",
			"At the measured 2.5 photos/s the event-driven app on AWS Lambda + SQS costs $40.54 per million photos against $10.67 for the monolith's VM; the lines cross at 0.288 photos/s ($70.08/month): below it the event-driven app is cheaper, above it the monolith.",
			"Idle, the event-driven app on AWS Lambda + SQS costs $0.06153/hour, of which $0.016 is the RDS instance, $0.045 the NAT gateway",
			"usage on AWS Lambda + SQS costs $0.00003377 (",
			"SQS requests 17.8%",
			"adds $88.74 to the $44.53/month always-on",
			"S3-to-Kafka bridge (a Lambda function) 0.863%",
			"up to about 14 photos/s at 70% CPU",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("sentences lack %q:\n%s", want, text)
			}
		}
		if len(a.Assumptions) < 10 {
			t.Errorf("%d assumptions", len(a.Assumptions))
		}
		assumptions := strings.Join(a.Assumptions, "\n")
		for _, want := range []string{
			"The AWS Lambda + SQS line prices a different transport than the one measured: the same events, carried by Amazon SQS standard queues instead of Kafka.",
			"Rule: each function is billed at max(the size its memory needs",
			"S3-to-Kafka bridge: on AWS, S3 event notifications go to SNS, SQS, Lambda or EventBridge, not to Kafka",
			"NAT gateway: the functions run in a VPC",
			"Not verified on their source page (re-read before quoting a cost): aws-alb, aws-api-gateway-http,",
			"invocations, CPU time, busy seconds and memory are the measured ones",
			"3 SQS requests (send, receive, delete) per event handled",
			"Follower polls left out",
			"a real client would be notified, or poll at its own pace",
			"API Gateway HTTP API requests = the requests the load generator sent to the event-driven app in the steady phase (its follower's ready polls left out)",
		} {
			if !strings.Contains(assumptions, want) {
				t.Errorf("assumptions lack %q:\n%s", want, assumptions)
			}
		}
	})

	t.Run("exact per million", func(t *testing.T) {
		// The tables round to 4 digits; the chart's slope gives the usage
		// cost per photo exactly: (Y(14) - Y(0)) / 14 / seconds per month.
		want := map[string]struct{ fixed, perMillion float64 }{
			aws: {fixedHourly, 120.619951},
			sqs: {sqsFixedHourly, 40.544951},
		}
		for _, l := range a.BreakEven.Lines {
			w, ok := want[l.Name]
			if !ok {
				continue
			}
			perPhoto := (l.Y[len(l.Y)-1] - l.Y[0]) / 14 / secondsPerMonth
			got := (w.fixed*100/3600 + perPhoto*250) / 250 * 1e6
			if math.Abs(got-w.perMillion) > 1e-5 {
				t.Errorf("%s per million = %v, want %v", l.Name, got, w.perMillion)
			}
		}
		if math.Abs(wantMonoPerMillion-10.6666667) > 1e-6 {
			t.Errorf("monolith per million = %v", wantMonoPerMillion)
		}
	})
}

func TestCrossoverMark(t *testing.T) {
	// Cheap always-on services: MSK 0.01 + 15 x 0.0001 + RDS 0.001 + NAT
	// 0.001 = 0.0135 USD/h = 9.855 USD/month. The event-driven lines start
	// below the monolith's 70.08 and cross it inside the first VM's range
	// (capacity 14): AWS at (70.08 - 9.855) / (2,628,000 x awsUsage/250)
	// = 0.81819…, Azure at 60.225 / (2,628,000 x azureUsage/250) =
	// 0.87919…; AWS + SQS (RDS + NAT, 1.46 USD/month) at 68.62 /
	// (2,628,000 x sqsUsage/250) = 0.77327…. (The HA monolith's marks are
	// left out here.)
	s := sheets(t)
	for i := range s {
		for j := range s[i].Items {
			it := &s[i].Items[j]
			switch s[i].Name + "/" + it.Item {
			case cost.SheetMSK + "/cluster-hour":
				it.USD = 0.01
			case cost.SheetMSK + "/partition-hour":
				it.USD = 0.0001
			case cost.SheetRDS + "/instance", cost.SheetNAT + "/nat-hour":
				it.USD = 0.001
			}
		}
	}
	a, err := cost.Analyze(load(t, "synthetic.json"), s)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line, label string
		x           float64
	}{
		{aws, "0.818", 60.225 / (secondsPerMonth * awsUsage / 250)},
		{azure, "0.879", 60.225 / (secondsPerMonth * azureUsage / 250)},
		{sqs, "0.773", 68.62 / (secondsPerMonth * sqsUsage / 250)},
	}
	var marks []cost.Mark
	for _, m := range a.BreakEven.Marks {
		if strings.Contains(m.Label, "= monolith:") && !strings.HasPrefix(m.Label, awsMSK) { // MSK provisioned's: 0.0006, its brokers' 70.04 USD/month just under a VM
			marks = append(marks, m)
		}
	}
	if len(marks) != len(want) {
		t.Fatalf("marks = %+v, want %d with the monolith", a.BreakEven.Marks, len(want))
	}
	for i, w := range want {
		m := marks[i]
		if !near(m.X, w.x) || !near(m.Y, 70.08) || m.Label != w.line+" = monolith: "+w.label+" photos/s, USD 70.08/month" {
			t.Errorf("mark %d = %+v, want x %v, y 70.08, label for %s", i, m, w.x, w.line)
		}
		found := false
		for _, x := range a.BreakEven.X {
			found = found || x == m.X
		}
		if !found {
			t.Errorf("mark %d: its X is not a point of the chart", i)
		}
	}
	text := strings.Join(a.Sentences, "\n")
	if !strings.Contains(text, "the lines cross at 0.818 photos/s ($70.08/month): below it the event-driven app is cheaper, above it the monolith.") {
		t.Errorf("sentences:\n%s", text)
	}
}

func TestCrossovers(t *testing.T) {
	tests := []struct {
		name                          string
		perVM, capacity, fixed, slope float64
		want                          [][2]float64
	}{
		{"inside the first VM's range", 100, 10, 50, 100, [][2]float64{{0.5, 100}}},
		{"at a step's edge: the line passes between the levels", 100, 10, 150, 1, [][2]float64{{10, 160}}},
		{"several, as VMs are added", 100, 10, 50, 8, [][2]float64{{6.25, 100}, {10, 130}, {18.75, 200}, {20, 210}}},
		{"never: always above", 100, 10, 500, 50, nil},
		{"never: always below", 100, 10, 10, 1, nil},
		{"touching corners is not crossing", 100, 10, 0, 10, nil},
		{"parallel on average: at most the first 20", 100, 10, 50, 10, [][2]float64{{5, 100}, {10, 150}, {15, 200}, {20, 250}, {25, 300},
			{30, 350}, {35, 400}, {40, 450}, {45, 500}, {50, 550}, {55, 600}, {60, 650}, {65, 700}, {70, 750}, {75, 800}, {80, 850},
			{85, 900}, {90, 950}, {95, 1000}, {100, 1050}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cost.Crossovers(tt.perVM, tt.capacity, tt.fixed, tt.slope)
			if len(got) != len(tt.want) {
				t.Fatalf("crossovers = %v, want %v", got, tt.want)
			}
			for i := range got {
				if !near(got[i][0], tt.want[i][0]) || !near(got[i][1], tt.want[i][1]) {
					t.Errorf("crossovers = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestRepeats(t *testing.T) {
	// Three repeats per architecture with 200, 250 and 400 photos (same
	// usage otherwise, 500 follower polls left out of each, as in
	// synthetic.json), a sweep step (another scenario, no idle phase: not
	// read) and a failed monolith run (left out).
	//   monolith per million  2666.67 / photos -> 13.33, 10.67, 6.667
	//   capacity              1.4 / (25 / photos) -> 11.2, 14, 22.4
	//   AWS per million       (0.0231528 + 0.0068953 + photos x 4.2775e-7) x 1e6 / photos -> 150.7, 120.6, 75.55
	//                         (the NAT gateway's data and the bridge are per photo)
	//   AWS + SQS per million (0.0016944 + 0.0083953 + photos x 1.8608e-7) x 1e6 / photos -> 50.63, 40.54, 25.41
	a, err := cost.Analyze(load(t, "repeats.json"), sheets(t))
	if err != nil {
		t.Fatal(err)
	}
	checkCells(t, a, []cellWant{
		{costTitle, mono, "cost (USD per million photos)", "10.67 (6.667–13.33)"},
		{costTitle, mono, "runs", "3: steady #1 (ok), steady #2 (ok), steady #3 (ok); 1 failed run left out"},
		{costTitle, aws, "runs", "3: steady #1 (ok), steady #2 (ok), steady #3 (ok)"},
		{costTitle, aws, "cost (USD per million photos)", "120.6 (75.55–150.7)"},
		{costTitle, sqs, "cost (USD per million photos)", "40.54 (25.41–50.63)"},
		{usageTitle, "follower polls excluded", "event-driven", "500"},
		{costTitle, mono, "measured load", "2.5 (2–4)"},
		{idleTitle, mono, "idle cost", "0.096"}, // the same in every run: no spread shown
		{usageTitle, "one VM's capacity", "monolith", "14 (11.2–22.4)"},
		{usageTitle, "photos: uploads answered ok", "event-driven", "250 (200–400)"},
	})
	if u := a.Usage[results.Monolith]; u.Photos != 250 || len(u.Runs) != 3 {
		t.Errorf("monolith usage: photos %v over %v, want the median 250 over 3 runs", u.Photos, u.Runs)
	}
}

func TestMissingData(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		mutate func(r *results.Results)
		sheets func([]cost.Sheet) []cost.Sheet
		cells  [][4]string // title, row, column, a substring of the cell
	}{
		{
			name: "failed monolith, event-driven series absent", file: "missing.json",
			cells: [][4]string{
				{costTitle, mono, "cost (USD per million photos)", `n/a (no data: no monolith run of scenario "quick" with status ok or partial (1 failed))`},
				{costTitle, aws, "cost (USD per million photos)", "n/a (no data: series http_requests, http_seconds, events_handled, event_seconds, process_memory absent)"},
				{costTitle, aws, "measured load", "2.5"},
				{idleTitle, aws, "always-on part", "0.8335"},
				{idleTitle, sqs, "always-on part", "0.061"},
				{costTitle, sqs, "cost (USD per million photos)", "n/a (no data: series http_requests"},
				{usageTitle, "events handled", "event-driven", "n/a (no data: series events_handled absent)"},
				{usageTitle, "invocations: ingest", "event-driven", "n/a (no data: series http_requests"},
				{usageTitle, "replica-seconds per photo", "event-driven", "2.2"},
				{usageTitle, "CPU-seconds: ingest", "event-driven", "n/a (no data: no series for it)"},
			},
		},
		{
			name: "no idle phase", file: "synthetic.json",
			mutate: func(r *results.Results) { r.IdlePhase = "" },
			cells: [][4]string{
				{idleTitle, aws, "idle cost", "n/a (no data: the profile names no idle phase)"},
				{idleTitle, sqs, "idle cost", "n/a (no data: the profile names no idle phase)"},
				{usageTitle, "idle: events handled", "event-driven", "n/a (no data: the profile names no idle phase)"},
				{costTitle, sqs, "cost (USD per million photos)", "40.54"},
				{idleTitle, mono, "idle cost", "0.096"},
				{costTitle, aws, "cost (USD per million photos)", "120.6"},
				{usageTitle, "idle: follower polls excluded", "event-driven", "n/a (no data: the profile names no idle phase)"},
			},
		},
		{
			name: "the steady phase missing from the runs", file: "synthetic.json",
			mutate: func(r *results.Results) { r.SteadyPhase = "nonesuch" },
			cells: [][4]string{
				{costTitle, mono, "cost (USD per million photos)", `n/a (no data: the run has no phase "nonesuch")`},
				{costTitle, aws, "monthly", `n/a (no data: the run has no phase "nonesuch")`},
			},
		},
		{
			name: "no monolith CPU series", file: "synthetic.json",
			mutate: func(r *results.Results) {
				delete(r.Runs[0].Series, results.QProcessCPU)
				delete(r.Runs[1].Series, results.QObjectRequestsSent)
			},
			cells: [][4]string{
				{usageTitle, "one VM's capacity", "monolith", "n/a (no data: no process_cpu series for the monolith)"},
				{costTitle, mono, "cost (USD per million photos)", "10.67"},
				{costTitle, aws, "cost (USD per million photos)", "n/a (no data: series object_requests_sent absent)"},
			},
		},
		{
			name: "no uploads answered ok", file: "synthetic.json",
			mutate: func(r *results.Results) {
				for i := range r.Runs {
					r.Runs[i].Summary.Phases = nil
				}
			},
			cells: [][4]string{
				{costTitle, mono, "cost (USD per million photos)", `n/a (no data: no load-generator summary of phase "steady")`},
				// The polls cannot be told apart from query's own requests.
				{usageTitle, "invocations: query", "event-driven", `n/a (no data: no load-generator summary of phase "steady")`},
				{usageTitle, "GB-seconds (GB-s)", "event-driven", `n/a (no data: no load-generator summary of phase "steady")`},
				{usageTitle, "invocations: ingest", "event-driven", "250"},
			},
		},
		{
			name: "no runs at all", file: "synthetic.json",
			mutate: func(r *results.Results) { r.Runs = nil; r.Settings = nil },
			cells: [][4]string{
				{costTitle, aws, "cost (USD per million photos)", "n/a (no data: no eventdriven run)"},
				{usageTitle, "GB-seconds (GB-s)", "event-driven", "n/a (no data: no eventdriven run)"},
			},
		},
		{
			name: "no price sheets", file: "synthetic.json",
			sheets: func([]cost.Sheet) []cost.Sheet { return nil },
			cells: [][4]string{
				{costTitle, mono, "cost (USD per million photos)", "n/a (no price: no sheet aws-ec2-m6i-large)"},
				{idleTitle, aws, "always-on part", "n/a (no price: no sheet aws-msk-serverless)"},
				{idleTitle, sqs, "always-on part", "n/a (no price: no sheet aws-rds-postgresql)"},
				{usageTitle, "GB-seconds (GB-s)", "event-driven", "28.8"},
			},
		},
		{
			name: "no SQS sheet", file: "synthetic.json",
			sheets: func(s []cost.Sheet) []cost.Sheet {
				var out []cost.Sheet
				for _, x := range s {
					if x.Name != cost.SheetSQS {
						out = append(out, x)
					}
				}
				return out
			},
			cells: [][4]string{
				{costTitle, sqs, "cost (USD per million photos)", "n/a (no price: no sheet aws-sqs-standard)"},
				{costTitle, sqs, "always-on part", "6.778"},
				{idleTitle, sqs, "idle cost", "n/a (no price: no sheet aws-sqs-standard)"},
				{costTitle, aws, "cost (USD per million photos)", "120.6"},
				{usageTitle, "SQS requests if on SQS", "event-driven", "3,750"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, tt.file)
			if tt.mutate != nil {
				tt.mutate(r)
			}
			s := sheets(t)
			if tt.sheets != nil {
				s = tt.sheets(s)
			}
			a, err := cost.Analyze(r, s)
			if err != nil {
				t.Fatalf("Analyze: %v", err)
			}
			for _, c := range tt.cells {
				if got := cellOf(t, a, c[0], c[1], c[2]); !strings.Contains(got, c[3]) {
					t.Errorf("%s / %s / %s = %q, want it to contain %q", c[0], c[1], c[2], got, c[3])
				}
			}
			if len(a.Sentences) == 0 || len(a.Assumptions) == 0 || len(a.BreakEven.X) == 0 {
				t.Errorf("sentences %d, assumptions %d, chart points %d", len(a.Sentences), len(a.Assumptions), len(a.BreakEven.X))
			}
			for _, l := range a.BreakEven.Lines {
				if len(l.Y) != len(a.BreakEven.X) {
					t.Errorf("line %s: %d values for %d points", l.Name, len(l.Y), len(a.BreakEven.X))
				}
			}
		})
	}
	t.Run("nil results", func(t *testing.T) {
		if _, err := cost.Analyze(nil, nil); err == nil {
			t.Error("Analyze(nil) succeeded")
		}
	})
}

func TestObjectClass(t *testing.T) {
	tests := []struct{ op, want string }{
		{"PUT", "put"}, {"POST", "put"}, {"LIST", "put"},
		{"GET", "get"}, {"HEAD", "get"}, {"other", "get"}, {"DELETE", "free"},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			if got := cost.ObjectClass(tt.op); got != tt.want {
				t.Errorf("ObjectClass(%q) = %q, want %q", tt.op, got, tt.want)
			}
		})
	}
}

// The three architectures (testdata/three.json): synthetic.json's runs and
// an async monolith's, priced like the monolith from its own usage. Its
// steady window: 250 uploads ok, 400 follower polls (not priced: its VM is);
// CPU-seconds monolith-async 30 + postgresql 10 (kafka's 7 and minio's 2,
// unused by it, vision's and prometheus's are left out).
//
//	CPU per photo   40 / 250 = 0.16 CPU-s (60% more than the monolith's 0.1);
//	                capacity 2 vCPU x 0.7 / 0.16 = 8.75 photos/s
//	per million     1 VM, as the monolith: 10.67 USD; monthly 70.08 USD; idle 0.096 USD/h
//	break-even      the SQS line meets its first VM where it meets the
//	                monolith's, at 0.70065… photos/s (inside both first VMs'
//	                ranges), and never again (83.35 USD/month per photo/s
//	                against 70.08/8.75 = 8.009 on average); the Kafka lines
//	                start above one VM and climb faster: no crossover
//	memory          monolith-async 200 MiB + postgresql 300 MiB = 0.488 GiB
const (
	asyncMono   = "async monolith (VM m6i.large)"
	asyncMonoHA = "async monolith HA (2+ VMs m6i.large + load balancer)"
)

func TestAnalyzeThreeArchitectures(t *testing.T) {
	a, err := cost.Analyze(load(t, "three.json"), sheets(t))
	if err != nil {
		t.Fatal(err)
	}
	checkCells(t, a, []cellWant{
		{costTitle, asyncMono, "measured load", "2.5"},
		{costTitle, asyncMono, "cost (USD per million photos)", "10.67"},
		{costTitle, asyncMono, "always-on part", "10.67"},
		{costTitle, asyncMono, "usage part", "0 (billed per VM-hour)"},
		{costTitle, asyncMono, "monthly", "70.08"},
		{costTitle, asyncMono, "runs", "1: quick #1 (ok)"},
		{costTitle, mono, "cost (USD per million photos)", "10.67"},
		{costTitle, aws, "cost (USD per million photos)", "120.6"},
		{idleTitle, asyncMono, "idle cost", "0.096"},
		{idleTitle, asyncMono, "invoked while idle", "0 (billed per VM-hour)"},
		{usageTitle, "CPU-seconds per photo, monolith + postgresql", "async monolith", "0.16"},
		{usageTitle, "CPU-seconds per photo, monolith + postgresql", "monolith", "0.1"},
		{usageTitle, "CPU-seconds per photo, monolith + postgresql", "event-driven", "—"},
		{usageTitle, "one VM's capacity at 70% CPU", "async monolith", "8.75"},
		{usageTitle, "one VM's capacity at 70% CPU", "monolith", "14"},
		{usageTitle, "CPU-seconds: monolith-async", "async monolith", "30"},
		{usageTitle, "CPU-seconds: monolith-async", "monolith", "—"},
		{usageTitle, "CPU-seconds: monolith-async", "event-driven", "—"},
		{usageTitle, "CPU-seconds: monolith (", "async monolith", "—"},
		{usageTitle, "CPU-seconds: postgresql", "async monolith", "10"},
		{usageTitle, "CPU-seconds: kafka", "async monolith", "—"},
		{usageTitle, "CPU-seconds: kafka", "event-driven", "10"},
		{usageTitle, "peak memory: monolith-async", "async monolith", "200"},
		{usageTitle, "follower polls excluded", "async monolith", "400"},
		{usageTitle, "events handled", "async monolith", "—"},
		{usageTitle, "photos: uploads answered ok", "async monolith", "250"},
	})
	if got := strings.Join(tableOf(t, a, usageTitle).Header, " | "); got != "figure (unit) | monolith | async monolith | event-driven" {
		t.Errorf("usage table header %q", got)
	}
	var rows []string
	for _, r := range a.Tables[0].Rows {
		rows = append(rows, r[0])
	}
	if got := strings.Join(rows, " | "); got != strings.Join([]string{mono, monoHA, asyncMono, asyncMonoHA, aws, awsMSK, azure, sqs}, " | ") {
		t.Errorf("cost table rows %q", got)
	}

	t.Run("usage", func(t *testing.T) {
		u := a.Usage[results.MonolithAsync]
		if u.Arch != results.MonolithAsync || u.Photos != 250 || u.FollowerPolls != 400 || len(u.Missing) != 0 {
			t.Errorf("async monolith usage = %+v", u)
		}
		if len(u.CPUSeconds) != 2 || u.CPUSeconds["monolith-async"] != 30 || u.CPUSeconds["postgresql"] != 10 {
			t.Errorf("async monolith CPU-seconds %v, want its process 30 and postgresql 10 only", u.CPUSeconds)
		}
		if c := a.Usage[results.EventDriven].CPUSeconds; c["monolith-async"] != 0 || c["kafka"] != 10 {
			t.Errorf("event-driven CPU-seconds %v", c)
		}
	})

	t.Run("chart", func(t *testing.T) {
		ch := a.BreakEven
		if len(ch.Lines) != 8 {
			t.Fatalf("lines = %d, want 8", len(ch.Lines))
		}
		last := len(ch.X) - 1
		for _, l := range ch.Lines {
			if l.Name == asyncMono && (!near(l.Y[0], 70.08) || !near(l.Y[last], 2*70.08)) {
				t.Errorf("%s: Y(0) = %v, Y(14) = %v, want 70.08 and 2 VMs' 140.16", l.Name, l.Y[0], l.Y[last])
			}
		}
		crossX := (70.08 - sqsFixedHourly*730) / (secondsPerMonth * sqsUsage / 250)
		var marks []cost.Mark
		for _, m := range ch.Marks {
			if !strings.Contains(m.Label, "HA") {
				marks = append(marks, m)
			}
		}
		if len(marks) != 2 {
			t.Fatalf("marks = %+v, want the SQS line's with each single-VM monolith", ch.Marks)
		}
		for i, who := range []string{"monolith", "async monolith"} {
			if m := marks[i]; !near(m.X, crossX) || m.Label != sqs+" = "+who+": 0.288 photos/s, USD 70.08/month" {
				t.Errorf("mark %d = %+v, want the SQS line = %s at %v", i, m, who, crossX)
			}
		}
	})

	t.Run("sentences", func(t *testing.T) {
		text := strings.Join(a.Sentences, "\n")
		for _, want := range []string{
			"At the measured 2.5 photos/s the event-driven app on AWS Lambda + MSK Serverless costs $120.6 per million photos against $10.67 for the monolith's VM",
			"At the measured 2.5 photos/s the event-driven app on AWS Lambda + MSK Serverless costs $120.6 per million photos against $10.67 for the async monolith's VM; the monthly-cost lines do not cross between 0 and 14 photos/s: the async monolith's VMs cost less at every load in that range",
			"against $10.67 for the async monolith's VM; the lines cross at 0.288 photos/s ($70.08/month): below it the event-driven app is cheaper, above it the async monolith.",
			"The async monolith used 0.16 CPU-seconds per photo (its process and PostgreSQL, River's job queue included), 60% more than the monolith's 0.1; at the measured 2.5 photos/s it costs $10.67 per million photos against $10.67, and one VM serves it up to about 8.75 photos/s against 14.",
			"Idle, each monolith's VM costs $0.096/hour",
			"serves the monolith and its PostgreSQL up to about 14 photos/s",
			"serves the async monolith and its PostgreSQL up to about 8.75 photos/s at 70% CPU (0.16 CPU-seconds per photo measured)",
			"Their peak memory together, 0.488 GiB, fits in its 8 GiB.",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("sentences lack %q:\n%s", want, text)
			}
		}
		if assumptions := strings.Join(a.Assumptions, "\n"); !strings.Contains(assumptions, "Async monolith: priced as the monolith") {
			t.Errorf("assumptions lack the async monolith's:\n%s", assumptions)
		}
	})

	// Results without the async monolith (an earlier bench, or --arch
	// leaving it out): its row says why it has no figures, and no sentence
	// speaks of it.
	t.Run("not run", func(t *testing.T) {
		a, err := cost.Analyze(load(t, "synthetic.json"), sheets(t))
		if err != nil {
			t.Fatal(err)
		}
		if got := cellOf(t, a, costTitle, asyncMono, "cost (USD per million photos)"); got != "n/a (no data: no monolith-async run of scenario \"quick\")" {
			t.Errorf("cell = %q", got)
		}
		for _, s := range a.Sentences {
			if strings.Contains(s, "async") || strings.Contains(s, "each monolith") {
				t.Errorf("sentence about the async monolith, which did not run: %s", s)
			}
		}
	})
}
