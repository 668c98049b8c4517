package cost

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/photobench/photobench/bench/prices"
)

// The sheets and items the model prices with (Sheet.Name, Item.Item).
const (
	SheetLambda     = "aws-lambda-x86"
	SheetAzure      = "azure-functions-consumption"
	SheetVM         = "aws-ec2-m6i-large"
	SheetS3         = "aws-s3-standard"
	SheetAPIGateway = "aws-api-gateway-http"
	SheetMSK        = "aws-msk-serverless"
	SheetSQS        = "aws-sqs-standard"
	SheetRDS        = "aws-rds-postgresql"
	// SheetMSKProvisioned prices a provisioned MSK cluster (brokers and
	// their storage), the alternative to MSK Serverless.
	SheetMSKProvisioned = "aws-msk-provisioned"
	SheetNAT            = "aws-nat-gateway"
	SheetALB            = "aws-alb"
	SheetEBS            = "aws-ebs-gp3"
)

// NotVerified is a sheet's Verified when its prices were not re-read from
// the official page: they need re-reading before anyone quotes them.
const NotVerified = "not verified"

// Sheet is one price sheet: the prices of one service, where they were read
// and when. Sheets are YAML files in bench/prices.
type Sheet struct {
	Name     string `yaml:"name" json:"name"`         // e.g. "aws-lambda-x86"
	Provider string `yaml:"provider" json:"provider"` // e.g. "AWS"
	Service  string `yaml:"service" json:"service"`   // the priced product, e.g. "AWS Lambda (x86)"
	// Source is the URL of the provider's official pricing page (https).
	Source string `yaml:"source" json:"source"`
	// Region is where the prices apply, e.g. "us-east-1".
	Region string `yaml:"region" json:"region"`
	// Date is when the prices were written down (YYYY-MM-DD), from
	// whatever Note says they were taken from.
	Date string `yaml:"date" json:"date"`
	// Verified is the date (YYYY-MM-DD) the prices were last re-read on
	// Source, or NotVerified.
	Verified string `yaml:"verified" json:"verified"`
	Currency string `yaml:"currency" json:"currency"` // always USD
	Note     string `yaml:"note,omitempty" json:"note,omitempty"`
	// Specs are the priced thing's sizes, e.g. vcpu and memory_gib of a VM.
	Specs map[string]float64 `yaml:"specs,omitempty" json:"specs,omitempty"`
	Items []Item             `yaml:"items" json:"items"`
}

// Item is one price of a sheet: USD per Unit.
type Item struct {
	Item string `yaml:"item" json:"item"` // e.g. "requests"
	// Unit is what USD buys: an optional count and a unit name, e.g.
	// "1,000,000 requests", "GB-second", "hour".
	Unit string  `yaml:"unit" json:"unit"`
	USD  float64 `yaml:"usd" json:"usd"`
	Note string  `yaml:"note,omitempty" json:"note,omitempty"`
}

// PerUnit is the price of one unit: USD divided by the count in Unit (0.20
// per "1,000,000 requests" is 2e-7 per request).
func (it Item) PerUnit() float64 {
	n, _, err := parseUnit(it.Unit)
	if err != nil {
		return 0
	}
	return it.USD / n
}

// Item returns the sheet's item with the given name.
func (s Sheet) Item(name string) (Item, bool) {
	for _, it := range s.Items {
		if it.Item == name {
			return it, true
		}
	}
	return Item{}, false
}

// Sheets returns the embedded price sheets (bench/prices/*.yaml), validated,
// in file-name order.
func Sheets() ([]Sheet, error) {
	names, err := fs.Glob(prices.FS, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("price sheets: %w", err)
	}
	sort.Strings(names)
	var sheets []Sheet
	seen := map[string]string{}
	for _, name := range names {
		data, err := fs.ReadFile(prices.FS, name)
		if err != nil {
			return nil, fmt.Errorf("price sheets: %w", err)
		}
		s, err := ParseSheet(data)
		if err != nil {
			return nil, fmt.Errorf("price sheet %s: %w", name, err)
		}
		if want := strings.TrimSuffix(path.Base(name), ".yaml"); s.Name != want {
			return nil, fmt.Errorf("price sheet %s: name %q, want the file's name %q", name, s.Name, want)
		}
		if other, ok := seen[s.Name]; ok {
			return nil, fmt.Errorf("price sheet %s: name %q already used by %s", name, s.Name, other)
		}
		seen[s.Name] = name
		sheets = append(sheets, s)
	}
	if len(sheets) == 0 {
		return nil, errors.New("price sheets: none embedded")
	}
	return sheets, nil
}

// ParseSheet decodes one YAML price sheet (unknown fields are errors) and
// validates it.
func ParseSheet(data []byte) (Sheet, error) {
	var s Sheet
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return Sheet{}, fmt.Errorf("parse: %w", err)
	}
	if err := s.Validate(); err != nil {
		return Sheet{}, err
	}
	return s, nil
}

// IsVerified says whether the sheet's prices were re-read from Source on
// a known date.
func (s Sheet) IsVerified() bool { return s.Verified != NotVerified && s.Verified != "" }

// Validate reports every problem of the sheet at once: a name, provider,
// region, source (an https URL), date (YYYY-MM-DD), verified (a date or
// NotVerified) and currency USD, at least one item, and for every item a
// unique name, a parseable unit and a price > 0.
func (s Sheet) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, f := range []struct{ name, v string }{{"name", s.Name}, {"provider", s.Provider}, {"region", s.Region},
		{"source", s.Source}, {"date", s.Date}, {"verified", s.Verified}} {
		if strings.TrimSpace(f.v) == "" {
			bad("%s is missing", f.name)
		}
	}
	if s.Source != "" {
		if u, err := url.Parse(s.Source); err != nil || u.Scheme != "https" || u.Host == "" || strings.ContainsAny(s.Source, " ()") {
			bad("source %q is not the https URL of a pricing page", s.Source)
		}
	}
	if s.Date != "" {
		if _, err := time.Parse(time.DateOnly, s.Date); err != nil {
			bad("date %q is not YYYY-MM-DD", s.Date)
		}
	}
	if s.Verified != "" && s.Verified != NotVerified {
		if _, err := time.Parse(time.DateOnly, s.Verified); err != nil {
			bad("verified %q is neither YYYY-MM-DD nor %q", s.Verified, NotVerified)
		}
	}
	if s.Currency != "USD" {
		bad("currency %q, want USD", s.Currency)
	}
	if len(s.Items) == 0 {
		bad("no items")
	}
	for k, v := range s.Specs {
		if v <= 0 {
			bad("spec %s = %v, want > 0", k, v)
		}
	}
	seen := map[string]bool{}
	for i, it := range s.Items {
		switch {
		case strings.TrimSpace(it.Item) == "":
			bad("items[%d]: item name is missing", i)
		case seen[it.Item]:
			bad("items[%d]: item %q listed twice", i, it.Item)
		}
		seen[it.Item] = true
		if _, _, err := parseUnit(it.Unit); err != nil {
			bad("items[%d] %s: %w", i, it.Item, err)
		}
		if !(it.USD > 0) {
			bad("items[%d] %s: price %v, want > 0", i, it.Item, it.USD)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("validate %q: %w", s.Name, errors.Join(errs...))
	}
	return nil
}

// parseUnit splits "1,000 requests" into 1000 and "requests"; a unit with
// no leading count ("GB-second") counts 1.
func parseUnit(u string) (float64, string, error) {
	u = strings.TrimSpace(u)
	if u == "" {
		return 0, "", errors.New("unit is missing")
	}
	head, rest, found := strings.Cut(u, " ")
	n, err := strconv.ParseFloat(strings.ReplaceAll(head, ",", ""), 64)
	if err != nil { // no count: the whole unit is a name
		return 1, u, nil
	}
	rest = strings.TrimSpace(rest)
	if !found || rest == "" {
		return 0, "", fmt.Errorf("unit %q: a count without a unit name", u)
	}
	if !(n > 0) {
		return 0, "", fmt.Errorf("unit %q: count must be > 0", u)
	}
	return n, rest, nil
}
