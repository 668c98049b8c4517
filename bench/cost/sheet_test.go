package cost_test

import (
	"math"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench/cost"
)

func TestSheets(t *testing.T) {
	sheets, err := cost.Sheets()
	if err != nil {
		t.Fatalf("Sheets: %v", err)
	}
	byName := map[string]cost.Sheet{}
	for _, s := range sheets {
		byName[s.Name] = s
		t.Run("valid/"+s.Name, func(t *testing.T) {
			if s.Source == "" || s.Date == "" || s.Provider == "" || s.Currency != "USD" || s.Region == "" || s.Verified == "" {
				t.Errorf("sheet %s: source %q, date %q, provider %q, currency %q, region %q, verified %q", s.Name, s.Source, s.Date, s.Provider, s.Currency, s.Region, s.Verified)
			}
			// No date of verification is invented: none was re-read from
			// its page (no network when they were written).
			if s.IsVerified() {
				t.Errorf("sheet %s: verified %q; the sheets were not re-read from their pages", s.Name, s.Verified)
			}
			for _, it := range s.Items {
				if it.Unit == "" || !(it.USD > 0) || !(it.PerUnit() > 0) {
					t.Errorf("item %s: unit %q, usd %v, per unit %v", it.Item, it.Unit, it.USD, it.PerUnit())
				}
			}
		})
	}
	tests := []struct {
		name        string
		sheet, item string
		perUnit     float64 // USD per request, GB-second or hour
	}{
		{"lambda requests: $0.20 per million", cost.SheetLambda, "requests", 0.20 / 1e6},
		{"lambda compute: per GB-second", cost.SheetLambda, "duration", 0.0000166667},
		{"azure executions: $0.20 per million", cost.SheetAzure, "requests", 0.20 / 1e6},
		{"azure compute: per GB-second", cost.SheetAzure, "duration", 0.000016},
		{"m6i.large: per hour", cost.SheetVM, "instance", 0.096},
		{"s3 PUT-class: $0.005 per 1,000", cost.SheetS3, "put-copy-post-list", 0.005 / 1000},
		{"s3 GET-class: $0.0004 per 1,000", cost.SheetS3, "get-and-others", 0.0004 / 1000},
		{"HTTP API: $1.00 per million", cost.SheetAPIGateway, "requests", 1.0 / 1e6},
		{"MSK Serverless cluster-hour", cost.SheetMSK, "cluster-hour", 0.75},
		{"MSK Serverless partition-hour", cost.SheetMSK, "partition-hour", 0.0015},
		{"RDS db.t4g.micro", cost.SheetRDS, "instance", 0.016},
		{"SQS standard: $0.40 per million requests", cost.SheetSQS, "requests", 0.40 / 1e6},
		{"S3 Standard storage per GB-month", cost.SheetS3, "storage", 0.023},
		{"EBS gp3 per GB-month", cost.SheetEBS, "storage", 0.08},
		{"NAT gateway per hour", cost.SheetNAT, "nat-hour", 0.045},
		{"NAT gateway per GB processed", cost.SheetNAT, "data-processed", 0.045},
		{"ALB per hour", cost.SheetALB, "alb-hour", 0.0225},
		{"ALB per LCU-hour", cost.SheetALB, "lcu-hour", 0.008},
		{"MSK kafka.t3.small broker-hour", cost.SheetMSKProvisioned, "broker-hour", 0.0456},
		{"MSK broker storage per GB-month", cost.SheetMSKProvisioned, "storage", 0.10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := byName[tt.sheet]
			if !ok {
				t.Fatalf("no sheet %s", tt.sheet)
			}
			it, ok := s.Item(tt.item)
			if !ok {
				t.Fatalf("sheet %s: no item %s", tt.sheet, tt.item)
			}
			if got := it.PerUnit(); math.Abs(got-tt.perUnit) > 1e-12*tt.perUnit {
				t.Errorf("PerUnit = %v, want %v", got, tt.perUnit)
			}
		})
	}
	if n := byName[cost.SheetSQS].Note; !strings.Contains(n, "as published for us-east-1 (verify before relying)") || !strings.Contains(n, "first 1 million requests") {
		t.Errorf("SQS sheet note = %q, want the honesty note and the free tier it ignores", n)
	}
	if vm := byName[cost.SheetVM]; vm.Specs["vcpu"] != 2 || vm.Specs["memory_gib"] != 8 {
		t.Errorf("m6i.large specs = %v, want vcpu 2, memory_gib 8", vm.Specs)
	}
}

func TestParseSheetRejects(t *testing.T) {
	const good = `name: x
provider: AWS
source: https://example.com/pricing
region: us-east-1
date: "2026-11-25"
verified: not verified
currency: USD
items:
  - {item: requests, unit: "1,000,000 requests", usd: 0.2}
`
	if _, err := cost.ParseSheet([]byte(good)); err != nil {
		t.Fatalf("good sheet: %v", err)
	}
	tests := []struct {
		name    string
		old     string // replaced in good
		new     string
		wantErr string
	}{
		{"no source", "source: https://example.com/pricing\n", "", "source is missing"},
		{"source not a URL", "source: https://example.com/pricing", "source: the pricing page", "not the https URL"},
		{"source with a title", "source: https://example.com/pricing", "source: https://example.com/pricing (Pricing)", "not the https URL"},
		{"source over http", "source: https://", "source: http://", "not the https URL"},
		{"no region", "region: us-east-1\n", "", "region is missing"},
		{"no verified", "verified: not verified\n", "", "verified is missing"},
		{"verified neither a date nor not verified", "verified: not verified", "verified: yes", "neither YYYY-MM-DD"},
		{"verified a bad date", "verified: not verified", "verified: 2026-13-01", "neither YYYY-MM-DD"},
		{"no date", "date: \"2026-11-25\"\n", "", "date is missing"},
		{"bad date", "2026-11-25", "25/11/2026", "not YYYY-MM-DD"},
		{"not USD", "currency: USD", "currency: EUR", "currency"},
		{"zero price", "usd: 0.2", "usd: 0", "want > 0"},
		{"negative price", "usd: 0.2", "usd: -1", "want > 0"},
		{"no unit", `unit: "1,000,000 requests", `, "", "unit is missing"},
		{"count without unit name", `unit: "1,000,000 requests"`, `unit: "1000"`, "without a unit name"},
		{"unknown field", "currency: USD\n", "currency: USD\nverified_by: x\n", "verified_by"},
		{"no items", "items:\n  - {item: requests, unit: \"1,000,000 requests\", usd: 0.2}\n", "items: []\n", "no items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := strings.Replace(good, tt.old, tt.new, 1)
			if src == good {
				t.Fatalf("test case does not change the sheet")
			}
			_, err := cost.ParseSheet([]byte(src))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseSheet error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
