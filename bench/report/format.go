package report

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
)

// na is the text of a missing figure; the reason follows it.
func na(reason string) string {
	if reason == "" {
		return "n/a"
	}
	return "n/a (" + reason + ")"
}

// fmtSeconds formats a duration in seconds with three significant digits
// and a unit that keeps the number readable: 850 µs, 12.3 ms, 1.24 s, 2 min 5 s.
func fmtSeconds(s float64) string {
	switch {
	case math.IsNaN(s) || math.IsInf(s, 0):
		return "n/a"
	case s == 0:
		return "0 s"
	case s < 0:
		return "-" + fmtSeconds(-s)
	case s < 1e-3:
		return sig3(s*1e6) + " µs"
	case s < 1:
		return sig3(s*1e3) + " ms"
	case s < 100:
		return sig3(s) + " s"
	case s < 3600:
		m := math.Floor(s / 60)
		return fmt.Sprintf("%.0f min %.0f s", m, math.Round(s-60*m))
	default:
		return fmt.Sprintf("%.2f h", s/3600)
	}
}

// sig3 formats v (>= 0) with three significant digits, without exponent.
func sig3(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		d := int(math.Ceil(-math.Log10(v))) + 2
		return strconv.FormatFloat(v, 'f', min(d, 9), 64)
	}
}

// fmtNum formats a plain quantity with three significant digits, whole
// numbers without decimals.
func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case v < 0:
		return "-" + fmtNum(-v)
	case v == math.Trunc(v) && v < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return sig3(v)
}

// compactNum is fmtNum without trailing zeros, for axis ticks and labels.
func compactNum(v float64) string { return trimZeros(fmtNum(v)) }

// trimZeros drops the trailing zeros of the number a text starts with:
// "2.50 s" -> "2.5 s", "1.00" -> "1".
func trimZeros(s string) string {
	num, rest, _ := strings.Cut(s, " ")
	if strings.Contains(num, ".") {
		num = strings.TrimRight(strings.TrimRight(num, "0"), ".")
	}
	if rest != "" {
		return num + " " + rest
	}
	return num
}

// fmtCount formats a count.
func fmtCount(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

// fmtRate formats a per-second rate with its unit.
func fmtRate(unit string) func(float64) string {
	return func(v float64) string { return fmtNum(v) + " " + unit }
}

// fmtMB formats bytes as megabytes (10^6 bytes).
func fmtMB(b float64) string { return fmtNum(b/1e6) + " MB" }

// fmtCPU formats CPU-seconds.
func fmtCPU(v float64) string { return fmtNum(v) + " CPU-s" }

// fmtPct formats a fraction as a percentage.
func fmtPct(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "n/a"
	}
	p := f * 100
	if p != 0 && math.Abs(p) < 0.1 {
		return "<0.1%"
	}
	if p == math.Trunc(p) {
		return strconv.FormatFloat(p, 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 1, 64) + "%"
}

// fmtRatio formats how many times larger a is than b (a >= b > 0).
func fmtRatio(r float64) string {
	if r >= 100 {
		return strconv.FormatFloat(math.Round(r), 'f', 0, 64) + "x"
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + "x"
}

// median returns the median of v (NaN when empty).
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	return lo, hi
}

// figure is one reported number: its value in each run that has it, in
// run order. It is shown as the median over runs with a 95% bootstrap
// interval from MinRunsForInterval runs on, and with the run values below
// that (stats.go).
type figure struct {
	vals []float64
}

func (f figure) ok() bool { return len(f.vals) > 0 }

// value is the median over runs.
func (f figure) value() float64 { return median(f.vals) }

// est is the figure's estimate: median and interval.
func (f figure) est() estimate { return estimateOf(f.vals) }

// text formats the figure: the median, then its interval, or the run
// values when there are two runs.
func (f figure) text(format func(float64) string, missing string) string {
	if !f.ok() {
		return na(missing)
	}
	return f.est().text(format)
}

// rangeText writes "lo–hi unit" when both ends have the same unit.
func rangeText(lo, hi string) string {
	ln, lu, ok1 := strings.Cut(lo, " ")
	_, hu, ok2 := strings.Cut(hi, " ")
	if ok1 && ok2 && lu == hu {
		return ln + "–" + hi
	}
	return lo + "–" + hi
}

// withN adds the run count to a figure's text.
func (f figure) withN(format func(float64) string, missing string) string {
	if !f.ok() {
		return na(missing)
	}
	e := f.est()
	return e.text(format) + " (" + e.nText() + ")"
}

// sentence starts s with a capital letter and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// leadingNumber returns the first number in s (commas and currency signs
// ignored), for comparing figures given as text.
func leadingNumber(s string) (float64, bool) {
	s = strings.ReplaceAll(s, ",", "")
	start := -1
	for i, r := range s {
		if r >= '0' && r <= '9' {
			start = i
			break
		}
	}
	if start < 0 {
		return 0, false
	}
	end := start
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.') {
		end++
	}
	v, err := strconv.ParseFloat(s[start:end], 64)
	return v, err == nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// esc escapes text for HTML.
func esc(s string) string { return html.EscapeString(s) }

// finite reports whether v is a number (not NaN or infinite).
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
