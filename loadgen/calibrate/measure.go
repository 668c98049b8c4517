package calibrate

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/photobench/photobench/loadgen"
)

// The tools a Measurement can be of.
const (
	ToolPhotobench = "photobench"
	ToolVegeta     = "vegeta"
)

// The sustain criterion: a tool sustains a rate when its achieved rate is at
// least MinAchievedRatio of the target, fewer than MaxErrorFraction of the
// scheduled requests fail to get a 1xx-3xx answer (errors, timeouts and
// requests never sent, dropped included), and, for photobench, whose engine
// records it, the schedule lag's 99th percentile is below MaxLagP99. vegeta
// reports no schedule lag, so it is judged on achieved rate and success alone.
const (
	MinAchievedRatio = 0.99
	MaxErrorFraction = 0.01
	MaxLagP99        = 10 * time.Millisecond
)

// Criterion states the sustain criterion in words, for reports.
var Criterion = fmt.Sprintf("achieved rate >= %.0f%% of the target, fewer than %.0f%% of the scheduled requests "+
	"unanswered or failed (errors, timeouts, dropped or never sent) and, for photobench only, "+
	"schedule lag p99 < %s (vegeta reports no schedule lag, so it is judged on achieved rate and success alone); "+
	"applied to the medians over the repeats",
	MinAchievedRatio*100, MaxErrorFraction*100, MaxLagP99)

// A Measurement is one run of one tool at one target rate. Times are in
// seconds. Failed runs (Error set) have no figures and count as not sustained.
type Measurement struct {
	Tool      string  `json:"tool"`
	Stage     string  `json:"stage"` // "rates" (the list) or "search"
	Rate      float64 `json:"target_rate"`
	Repeat    int     `json:"repeat"` // from 1
	Duration  float64 `json:"duration_seconds"`
	Scheduled uint64  `json:"scheduled"` // photobench: the schedule's hits; vegeta: rate × duration
	Sent      uint64  `json:"sent"`
	OK        uint64  `json:"ok"`      // 1xx-3xx answers
	Errors    uint64  `json:"errors"`  // sent, without a 1xx-3xx answer
	Dropped   uint64  `json:"dropped"` // scheduled, never sent
	// AchievedRate is the send rate over the span from the first send to the
	// last: photobench's Stats.AchievedRate, vegeta's report "rate".
	AchievedRate float64  `json:"achieved_rate"`
	LagP99       *float64 `json:"schedule_lag_p99_seconds"` // null for vegeta: it does not report one
	LatencyP50   float64  `json:"latency_p50_seconds"`      // photobench: from the intended start; vegeta: from the send
	LatencyP99   float64  `json:"latency_p99_seconds"`
	// Service time, from the request's connection to its answer: photobench's
	// figure closest to vegeta's latency; null for vegeta.
	ServiceP50 *float64 `json:"service_p50_seconds"`
	ServiceP99 *float64 `json:"service_p99_seconds"`
	CPU        float64  `json:"cpu_seconds"`                  // the tool's process, user + system
	ServerCPU  *float64 `json:"server_cpu_seconds,omitempty"` // the target's, over the run
	Wall       float64  `json:"wall_seconds"`                 // the tool's process, start to exit
	Error      string   `json:"error,omitempty"`
	// Raw is the tool's own report: photobench's Stats line, vegeta's JSON report.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// FromStats turns the Stats line of `photobench calibrate attack` into a
// Measurement (without tool, stage, repeat, CPU and wall time).
func FromStats(st loadgen.Stats, rate float64, d time.Duration) Measurement {
	lag, s50, s99 := st.ScheduleLagP99, st.Service.P50, st.Service.P99
	return Measurement{
		Rate: rate, Duration: d.Seconds(),
		Scheduled: st.Scheduled, Sent: st.Sent, OK: st.OK,
		Errors: st.Errors + st.Canceled, Dropped: st.Dropped,
		AchievedRate: st.AchievedRate, LagP99: &lag,
		LatencyP50: st.Latency.P50, LatencyP99: st.Latency.P99,
		ServiceP50: &s50, ServiceP99: &s99,
	}
}

// Figures are what the sustain criterion looks at.
type Figures struct {
	AchievedRatio float64  // achieved rate / target rate
	ErrorFraction float64  // 1 - OK / scheduled
	LagP99        *float64 // seconds; nil when the tool does not report it
}

// AchievedRatio is the achieved rate over the target; 0 for a failed run.
func (m Measurement) AchievedRatio() float64 {
	if m.Error != "" || m.Rate <= 0 {
		return 0
	}
	return m.AchievedRate / m.Rate
}

// ErrorFraction is the share of scheduled requests without a 1xx-3xx answer;
// 1 for a failed run or one that scheduled nothing.
func (m Measurement) ErrorFraction() float64 {
	if m.Error != "" || m.Scheduled == 0 {
		return 1
	}
	return 1 - float64(min(m.OK, m.Scheduled))/float64(m.Scheduled)
}

// CPUPer1000 is the tool's CPU seconds per 1000 requests sent; NaN when it
// sent none.
func (m Measurement) CPUPer1000() float64 {
	if m.Sent == 0 {
		return math.NaN()
	}
	return m.CPU / float64(m.Sent) * 1000
}

// Figures returns the run's figures for the criterion.
func (m Measurement) Figures() Figures {
	return Figures{AchievedRatio: m.AchievedRatio(), ErrorFraction: m.ErrorFraction(), LagP99: m.LagP99}
}

// Check applies the sustain criterion; the reason names every figure that
// fails it, or says why it passes.
func Check(f Figures) (bool, string) {
	var fails []string
	if !(f.AchievedRatio >= MinAchievedRatio) {
		fails = append(fails, fmt.Sprintf("achieved %.2f%% of target < %.0f%%", f.AchievedRatio*100, MinAchievedRatio*100))
	}
	if !(f.ErrorFraction < MaxErrorFraction) {
		fails = append(fails, fmt.Sprintf("%.2f%% failed or unsent >= %.0f%%", f.ErrorFraction*100, MaxErrorFraction*100))
	}
	if f.LagP99 != nil && !(*f.LagP99 < MaxLagP99.Seconds()) {
		fails = append(fails, fmt.Sprintf("schedule lag p99 %s >= %s", seconds(*f.LagP99), MaxLagP99))
	}
	if len(fails) > 0 {
		return false, strings.Join(fails, "; ")
	}
	return true, "sustained"
}

// Spread is the median of a figure over repeats and its range.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	N      int     `json:"n"` // values it is over
}

// SpreadOf returns the median, minimum and maximum of xs, NaNs left out; N is
// 0 (and the figures 0) when nothing is left.
func SpreadOf(xs []float64) Spread {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Spread{}
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Spread{Median: med, Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// Summary is one tool at one rate over its repeats.
type Summary struct {
	Tool          string  `json:"tool"`
	Rate          float64 `json:"target_rate"`
	Runs          int     `json:"runs"`
	Failed        int     `json:"failed_runs"`
	AchievedRate  Spread  `json:"achieved_rate"`
	AchievedRatio Spread  `json:"achieved_ratio"`
	ErrorFraction Spread  `json:"error_fraction"`
	LagP99        *Spread `json:"schedule_lag_p99_seconds"` // null for vegeta
	LatencyP50    Spread  `json:"latency_p50_seconds"`
	LatencyP99    Spread  `json:"latency_p99_seconds"`
	ServiceP50    *Spread `json:"service_p50_seconds"` // null for vegeta
	ServiceP99    *Spread `json:"service_p99_seconds"`
	CPUPer1000    Spread  `json:"cpu_seconds_per_1000_requests"`
	ServerCPU1000 *Spread `json:"server_cpu_seconds_per_1000_requests,omitempty"`
	Sustained     bool    `json:"sustained"`
	Reason        string  `json:"reason"`
}

// Summarize takes the medians of one tool's repeats at one rate and applies
// the criterion to them. A failed run counts as achieving nothing.
func Summarize(tool string, rate float64, ms []Measurement) Summary {
	s := Summary{Tool: tool, Rate: rate, Runs: len(ms)}
	var achieved, ratio, errs, lag, p50, p99, s50, s99, cpu, srv []float64
	for _, m := range ms {
		ratio = append(ratio, m.AchievedRatio())
		errs = append(errs, m.ErrorFraction())
		if m.Error != "" {
			s.Failed++
			achieved = append(achieved, 0)
			continue
		}
		achieved = append(achieved, m.AchievedRate)
		if m.LagP99 != nil {
			lag = append(lag, *m.LagP99)
		}
		p50 = append(p50, m.LatencyP50)
		p99 = append(p99, m.LatencyP99)
		if m.ServiceP50 != nil && m.ServiceP99 != nil {
			s50, s99 = append(s50, *m.ServiceP50), append(s99, *m.ServiceP99)
		}
		cpu = append(cpu, m.CPUPer1000())
		if m.ServerCPU != nil && m.Sent > 0 {
			srv = append(srv, *m.ServerCPU/float64(m.Sent)*1000)
		}
	}
	s.AchievedRate, s.AchievedRatio, s.ErrorFraction = SpreadOf(achieved), SpreadOf(ratio), SpreadOf(errs)
	s.LatencyP50, s.LatencyP99, s.CPUPer1000 = SpreadOf(p50), SpreadOf(p99), SpreadOf(cpu)
	f := Figures{AchievedRatio: s.AchievedRatio.Median, ErrorFraction: s.ErrorFraction.Median}
	if len(lag) > 0 {
		sp := SpreadOf(lag)
		s.LagP99 = &sp
		f.LagP99 = &sp.Median
	}
	if len(srv) > 0 {
		sp := SpreadOf(srv)
		s.ServerCPU1000 = &sp
	}
	if len(s50) > 0 {
		a, b := SpreadOf(s50), SpreadOf(s99)
		s.ServiceP50, s.ServiceP99 = &a, &b
	}
	if len(ms) == 0 {
		s.Reason = "not measured"
		return s
	}
	s.Sustained, s.Reason = Check(f)
	return s
}

// seconds formats a time in seconds as a rounded duration: 1.23ms.
func seconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func joinProblems(p []string) string { return strings.Join(p, "; ") }
