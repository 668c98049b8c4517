package cost_test

import (
	"bytes"
	"image"
	_ "image/jpeg" // the load generator's photos
	"math"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/loadgen"
)

// The new items of synthetic.json's analysis, by hand (see cost_test.go's
// figures): storage, the exported per-million figures and the sensitivity
// flips.
const (
	photoBytes    = 126293 + 3416 + 40779 // original + small + large thumbnail
	gbPerMillion  = photoBytes * 1e6 / (1 << 30)
	storageTitle  = "Storage: cost per million photos stored, per month"
	sensTitle     = "Sensitivity: what flips each verdict"
	monoMonthly   = 70.08
	awsPerMillion = (fixedHourly*100/3600 + awsUsage) / 250 * 1e6
)

func TestStorage(t *testing.T) {
	a, err := cost.Analyze(load(t, "synthetic.json"), sheets(t))
	if err != nil {
		t.Fatal(err)
	}
	// 170,488 bytes x 1e6 / 2^30 = 158.78 GB per million photos: EBS gp3
	// at 0.08 = 12.70, two copies 25.40; S3 at 0.023 = 3.652.
	if math.Abs(gbPerMillion*0.08-12.7023) > 1e-3 {
		t.Fatalf("hand figure %v", gbPerMillion*0.08)
	}
	checkCells(t, a, []cellWant{
		{storageTitle, mono, "stored on", "EBS gp3 (--storage disk)"},
		{storageTitle, mono, "storage (USD per million photos, per month)", "12.7"},
		{storageTitle, monoHA, "storage (USD", "25.4"},
		{storageTitle, aws, "storage (USD", "3.652"},
		{storageTitle, sqs, "stored on", "S3 Standard"},
		{storageTitle, mono, "bytes per photo", "170,488"},
		{storageTitle, mono, "GB per million", "159"},
	})
	if n := strings.Join(tableOf(t, a, storageTitle).Notes, "\n"); !strings.Contains(n, "estimated: the mean of the profiles' synthetic photos") {
		t.Errorf("notes do not say where the bytes come from:\n%s", n)
	}

	t.Run("measured bytes and --storage s3", func(t *testing.T) {
		r := load(t, "synthetic.json")
		r.Settings["photo_bytes"] = "3000000"
		r.Settings["thumbnail_bytes"] = "100000"
		r.Settings["monolith_storage"] = "s3: the bucket monolith in MinIO"
		a, err := cost.Analyze(r, sheets(t))
		if err != nil {
			t.Fatal(err)
		}
		// 3,100,000 x 1e6 / 2^30 x 0.023 = 66.40 for every option, the
		// monoliths on S3 too.
		checkCells(t, a, []cellWant{
			{storageTitle, mono, "stored on", "S3 Standard (--storage s3)"},
			{storageTitle, mono, "storage (USD", "66.4"},
			{storageTitle, monoHA, "storage (USD", "66.4"},
			{storageTitle, aws, "bytes per photo", "3,100,000"},
		})
		if n := strings.Join(tableOf(t, a, storageTitle).Notes, "\n"); !strings.Contains(n, "measured: the run's photo_bytes and thumbnail_bytes") {
			t.Errorf("notes:\n%s", n)
		}
	})
}

// TestPhotoBytesEstimate makes the profiles' photos and thumbnails again
// and checks the storage estimate against them: the mean bytes of the
// quick and full profiles' 24 photos (seed 20261125) and of their
// thumbnails.
func TestPhotoBytesEstimate(t *testing.T) {
	if testing.Short() {
		t.Skip("makes 24 photos and their thumbnails")
	}
	spec := loadgen.PhotoSpec{Count: 24, Sizes: []loadgen.PhotoSize{{Megapixels: 0.3, Weight: 3}, {Megapixels: 1, Weight: 4},
		{Megapixels: 2, Weight: 2}, {Megapixels: 4, Weight: 1}}}
	set, err := loadgen.LoadPhotos(spec, 20261125, "")
	if err != nil {
		t.Fatal(err)
	}
	var small, large float64
	for i := range set.Len() {
		img, _, err := image.Decode(bytes.NewReader(set.Pick(uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		th, err := imaging.Thumbnails(img, 1)
		if err != nil {
			t.Fatal(err)
		}
		small += float64(len(th[0].JPEG))
		large += float64(len(th[1].JPEG))
	}
	n := float64(set.Len())
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"original", float64(set.Bytes()) / n, cost.EstimatedPhotoBytes},
		{"small thumbnail", small / n, cost.EstimatedSmallThumbnailBytes},
		{"large thumbnail", large / n, cost.EstimatedLargeThumbnailBytes},
	} {
		if math.Abs(c.got/c.want-1) > 0.01 {
			t.Errorf("%s: %v bytes per photo made now, the estimate says %v", c.name, c.got, c.want)
		}
	}
}

func TestPerMillionAt(t *testing.T) {
	a, err := cost.Analyze(load(t, "synthetic.json"), sheets(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cost.OptionsOf(results.EventDriven), " "); got != "aws aws-msk azure aws-sqs" {
		t.Errorf("OptionsOf(eventdriven) = %q", got)
	}
	if got := strings.Join(cost.OptionsOf(results.Monolith), " "); got != "monolith monolith-ha" {
		t.Errorf("OptionsOf(monolith) = %q", got)
	}
	if cost.OptionsOf("nonesuch") != nil || cost.OptionName(cost.OptLambdaSQS) != sqs {
		t.Errorf("OptionsOf(nonesuch) = %v, OptionName = %q", cost.OptionsOf("nonesuch"), cost.OptionName(cost.OptLambdaSQS))
	}
	tests := []struct {
		name   string
		option string
		load   float64
		want   float64
	}{
		// At the measured load, what the cost table says.
		{"aws at the measured load", cost.OptLambda, 2.5, awsPerMillion},
		{"monolith at the measured load", cost.OptMonolith, 2.5, wantMonoPerMillion},
		// At 20 photos/s the monolith takes 2 VMs (capacity 14), the HA 3.
		{"monolith at 20", cost.OptMonolith, 20, 2 * monoMonthly / (20 * secondsPerMonth) * 1e6},
		{"HA monolith at 20", cost.OptMonolithHA, 20, ((3*0.096+haFixedHourly)*730 + 20*haPerPhoto*secondsPerMonth) / (20 * secondsPerMonth) * 1e6},
		{"sqs at 10", cost.OptLambdaSQS, 10, (sqsFixedHourly*730 + 10*secondsPerMonth*sqsUsage/250) / (10 * secondsPerMonth) * 1e6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := a.PerMillionAt(tt.option, tt.load)
			if !ok || math.Abs(got-tt.want) > 1e-6*tt.want {
				t.Errorf("PerMillionAt(%s, %v) = %v, %v; want %v", tt.option, tt.load, got, ok, tt.want)
			}
		})
	}
	for _, bad := range []struct {
		option string
		load   float64
	}{{cost.OptMonolithAsync, 2.5}, {"nonesuch", 1}, {cost.OptLambda, 0}, {cost.OptLambda, -1}} {
		if v, ok := a.PerMillionAt(bad.option, bad.load); ok {
			t.Errorf("PerMillionAt(%s, %v) = %v, ok; want not ok (not run, unknown or no load)", bad.option, bad.load, v)
		}
	}
}

// sensCell is the sensitivity table's cell under column col in the row of
// the verdict starting with verdict and the input starting with input.
func sensCell(t *testing.T, a *cost.Analysis, verdict, input, col string) []string {
	t.Helper()
	tb := tableOf(t, a, sensTitle)
	ci := -1
	for i, h := range tb.Header {
		if strings.HasPrefix(h, col) {
			ci = i
		}
	}
	var out []string
	for _, r := range tb.Rows {
		if strings.HasPrefix(r[0], verdict) && strings.HasPrefix(r[1], input) {
			out = append(out, r[ci])
		}
	}
	if len(out) == 0 || ci < 0 {
		t.Fatalf("no cell %q / %q / %q in %v", verdict, input, col, tb.Rows)
	}
	return out
}

func TestSensitivity(t *testing.T) {
	a, err := cost.Analyze(load(t, "synthetic.json"), sheets(t))
	if err != nil {
		t.Fatal(err)
	}
	const (
		atLoad = "cheapest at the measured 2.5 photos/s, per month: monolith (VM m6i.large) (70.08 USD/month)"
		idle   = "cheapest idle, per hour: monolith (VM m6i.large) (0.096 USD/hour)"
		stored = "cheapest per million photos at 2.5 photos/s, with 1 month of storage: monolith (VM m6i.large) (23.37 USD per million photos)"
	)
	// By hand. Load: with events on SQS, the SQS line (44.53 USD/month +
	// 88.74 per photo/s) meets the monolith's 70.08 at 0.28792 photos/s,
	// below the measured 2.5: -88.5%. On MSK Serverless or provisioned, no
	// flip up to 250 photos/s (both start above one VM and climb faster
	// than VMs are added).
	crossSQS := (monoMonthly - sqsFixedHourly*730) / (secondsPerMonth * sqsUsage / 250)
	if got := sensCell(t, a, atLoad, "load (photos/s), events on SQS", "flips at"); len(got) != 1 || got[0] != "0.288" {
		t.Errorf("load flip on SQS = %q, want 0.288 (%v by hand)", got, crossSQS)
	}
	if got := sensCell(t, a, atLoad, "load (photos/s), events on SQS", "change"); got[0] != "-88.5%" {
		t.Errorf("load change on SQS = %q, want -88.5%% (%v)", got, crossSQS/2.5-1)
	}
	if got := sensCell(t, a, atLoad, "load (photos/s), events on MSK Serverless", "flips at"); got[0] != "no flip between 0 and 250" {
		t.Errorf("load flip on MSK Serverless = %q", got)
	}
	// VM price: the monolith stays cheapest until its VM costs the MSK
	// Serverless line's 792.47 USD/month: x11.31.
	vmFlip := (fixedHourly*730 + 2.5*secondsPerMonth*awsUsage/250) / monoMonthly
	if got := sensCell(t, a, atLoad, "VM price", "flips at"); got[0] != "x11.3 (USD 1.086/hour)" {
		t.Errorf("VM price flip = %q, want x%v", got, vmFlip)
	}
	// Idle: the monolith's 0.096 against MSK Serverless's 0.8338 USD/hour:
	// x8.686; neither other transport is cheaper idle (SQS 0.06153 is!).
	if got := sensCell(t, a, idle, "event transport", "flips at"); !strings.Contains(got[0], "SQS: flips") || !strings.Contains(got[0], "MSK provisioned: no flip (its line 0.1553 USD/hour)") {
		t.Errorf("idle transport = %q", got)
	}
	if got := sensCell(t, a, idle, "event transport", "cheapest after"); got[0] != "with SQS: event-driven (AWS Lambda + SQS) (0.06153 USD/hour)" {
		t.Errorf("idle transport after = %q", got)
	}
	// Storage retention: per million photos, the monolith 10.667 + R x
	// 12.702 (EBS), MSK Serverless 120.62 + R x 3.652 (S3): equal at R =
	// 109.95 / 9.050 = 12.15 months.
	ebs, s3 := gbPerMillion*0.08, gbPerMillion*0.023
	retention := (awsPerMillion - wantMonoPerMillion) / (ebs - s3)
	if math.Abs(retention-12.149) > 1e-3 {
		t.Fatalf("retention by hand = %v", retention)
	}
	if got := sensCell(t, a, stored, "storage retention", "flips at"); got[0] != "12.1 months" {
		t.Errorf("retention flip = %q, want %v months", got, retention)
	}
	// Lambda memory: even free compute leaves MSK Serverless above the VM.
	if got := sensCell(t, a, atLoad, "AWS Lambda memory", "flips at"); got[0] != "no flip from x0.01 to x100" {
		t.Errorf("memory flip = %q", got)
	}
	text := strings.Join(a.Sentences, "\n")
	if want := "Sensitivity to load, events on SQS: at 0.288 photos/s the monolith (VM m6i.large) line crosses the event-driven (AWS Lambda + SQS) line"; !strings.Contains(text, want) {
		t.Errorf("sentences lack %q:\n%s", want, text)
	}
}

// TestSensitivityMemory makes the event-driven app's always-on services
// cheap (0.001 USD/hour each, partitions next to nothing): the MSK
// Serverless line starts at 2.19 USD/month, under the VM's 70.08, and
// climbs at 73.607 per photo/s: the load flips at (70.08 - 2.19) / 73.607
// = 0.9223 photos/s.
func TestSensitivityMemory(t *testing.T) {
	s := sheets(t)
	for i := range s {
		for j := range s[i].Items {
			it := &s[i].Items[j]
			switch s[i].Name + "/" + it.Item {
			case cost.SheetMSK + "/cluster-hour", cost.SheetRDS + "/instance", cost.SheetNAT + "/nat-hour":
				it.USD = 0.001
			case cost.SheetMSK + "/partition-hour":
				it.USD = 0.00000001
			}
		}
	}
	a, err := cost.Analyze(load(t, "synthetic.json"), s)
	if err != nil {
		t.Fatal(err)
	}
	fixed := (0.003 + 15*0.00000001) * 730
	cross := (monoMonthly - fixed) / (secondsPerMonth * awsUsage / 250)
	got := sensCell(t, a, "cheapest at the measured 2.5 photos/s", "load (photos/s), events on MSK Serverless", "flips at")
	if len(got) != 1 || got[0] != "0.922" || math.Abs(cross-0.9223) > 1e-4 {
		t.Errorf("load flip = %q, want 0.922 (%v by hand)", got, cross)
	}
}
