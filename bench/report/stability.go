package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// StableWithin is how far a headline ratio may move and still count as
// stable: within one report, the half-width of its 95% interval; between
// two reports (Compare), the difference of their medians, relative to
// their mean.
const StableWithin = 0.10

// stability judges a ratio within one report from its interval.
func stability(e estimate) string {
	switch {
	case !finite(e.med) || e.med == 0:
		return "not judged: no ratio"
	case !e.ci:
		return fmt.Sprintf("not judged: fewer than %d runs, no interval (see bench --compare)", MinRunsForInterval)
	}
	half := math.Max(e.med-e.lo, e.hi-e.med) / e.med
	if half <= StableWithin {
		return fmt.Sprintf("stable: its interval is within ±%.0f%%", 100*half)
	}
	return fmt.Sprintf("unstable: run-to-run spread, its interval reaches ±%.0f%% of the ratio (more than ±%.0f%%)", 100*half, 100*StableWithin)
}

// Compare reads the headline.json of two reports (run directories a and
// b, e.g. two back-to-back `make bench` runs) and writes a Markdown table of
// every ratio both have: its median in each, their difference relative to
// their mean, and whether it is stable (within StableWithin); for an
// unstable one, the reason the figures give: which side of the ratio moved,
// by how much, and whether a percentile behind it is backed by few samples.
// It returns how many ratios were unstable.
func Compare(a, b string, out *strings.Builder) (int, error) {
	da, err := readHeadline(a)
	if err != nil {
		return 0, err
	}
	db, err := readHeadline(b)
	if err != nil {
		return 0, err
	}
	figB := map[string]headlineFigure{}
	for _, f := range db.Figures {
		figB[figKey(f.Key, f.Variant, f.Option)] = f
	}
	figA := map[string]headlineFigure{}
	for _, f := range da.Figures {
		figA[figKey(f.Key, f.Variant, f.Option)] = f
	}
	ratB := map[string]headlineRatio{}
	for _, r := range db.Ratios {
		ratB[ratioKey(r)] = r
	}
	fmt.Fprintf(out, "# Comparison of two reports\n\nA: `%s` (%s, started %s)  \nB: `%s` (%s, started %s)\n\n", a, da.Profile, da.Started.Format("2006-01-02 15:04"),
		b, db.Profile, db.Started.Format("2006-01-02 15:04"))
	fmt.Fprintf(out, "A ratio is stable when its two medians differ by at most %.0f%% of their mean.\n\n", 100*StableWithin)
	fmt.Fprintf(out, "| figure | ratio | A | B | difference | verdict |\n| --- | --- | --- | --- | --- | --- |\n")
	unstable := 0
	keys := make([]string, 0, len(da.Ratios))
	byKey := map[string]headlineRatio{}
	for _, r := range da.Ratios {
		k := ratioKey(r)
		if _, ok := ratB[k]; ok && r.Median != nil && ratB[k].Median != nil {
			keys = append(keys, k)
			byKey[k] = r
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		ra, rb := byKey[k], ratB[k]
		x, y := *ra.Median, *rb.Median
		diff := 0.0
		if x != y {
			diff = math.Abs(x-y) / ((math.Abs(x) + math.Abs(y)) / 2)
		}
		verdict := "stable"
		if diff > StableWithin {
			unstable++
			verdict = "**unstable**: " + why(ra, figA, figB)
		}
		name := ra.Key
		if f, ok := figA[figKey(ra.Key, ra.Numerator, ra.NumeratorOption)]; ok {
			name = f.Name
		}
		fmt.Fprintf(out, "| %s | %s ÷ %s | %s | %s | %.1f%% | %s |\n", name, sideName(ra.Numerator, ra.NumeratorOption), sideName(ra.Denominator, ra.DenominatorOption),
			fmtTimes(x), fmtTimes(y), 100*diff, verdict)
	}
	fmt.Fprintf(out, "\n%d of %d ratios unstable.\n", unstable, len(keys))
	return unstable, nil
}

// why explains an unstable ratio: how each side's median moved from A to
// B, and the support of the percentiles behind them.
func why(r headlineRatio, figA, figB map[string]headlineFigure) string {
	var parts []string
	for _, side := range [][2]string{{r.Numerator, r.NumeratorOption}, {r.Denominator, r.DenominatorOption}} {
		k := figKey(r.Key, side[0], side[1])
		fa, okA := figA[k]
		fb, okB := figB[k]
		if !okA || !okB || fa.Median == nil || fb.Median == nil || *fa.Median == 0 {
			continue
		}
		move := (*fb.Median - *fa.Median) / *fa.Median
		p := fmt.Sprintf("the %s moved %+.0f%%", sideName(side[0], side[1]), 100*move)
		if fa.Support != "" || fb.Support != "" {
			p += " (" + cmp.Or(fa.Support, fb.Support) + ")"
		}
		if fa.N < MinRunsForInterval {
			p += fmt.Sprintf(", n=%d run", fa.N)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "the figures behind it are missing"
	}
	return strings.Join(parts, "; ")
}

func readHeadline(dir string) (headlineDoc, error) {
	var d headlineDoc
	data, err := os.ReadFile(filepath.Join(dir, HeadlineFile))
	if err != nil {
		return d, fmt.Errorf("compare: %w", err)
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("compare: %s: %w", filepath.Join(dir, HeadlineFile), err)
	}
	if d.Schema != HeadlineSchema {
		return d, fmt.Errorf("compare: %s: schema %q, want %q", filepath.Join(dir, HeadlineFile), d.Schema, HeadlineSchema)
	}
	return d, nil
}

func figKey(key, variant, option string) string { return key + "\x00" + variant + "\x00" + option }

func ratioKey(r headlineRatio) string {
	return strings.Join([]string{r.Key, r.Numerator, r.NumeratorOption, r.Denominator, r.DenominatorOption}, "\x00")
}

func sideName(variant, option string) string {
	if option != "" {
		return option
	}
	return archName(variant)
}
