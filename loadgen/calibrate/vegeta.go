package calibrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// VegetaReport is the part of `vegeta report -type json` the calibration
// uses. Durations are in nanoseconds, as vegeta writes them.
type VegetaReport struct {
	Latencies struct {
		Total int64 `json:"total"`
		Mean  int64 `json:"mean"`
		P50   int64 `json:"50th"`
		P90   int64 `json:"90th"`
		P95   int64 `json:"95th"`
		P99   int64 `json:"99th"`
		Max   int64 `json:"max"`
		Min   int64 `json:"min"`
	} `json:"latencies"`
	Earliest    time.Time      `json:"earliest"`
	Latest      time.Time      `json:"latest"`
	End         time.Time      `json:"end"`
	Duration    int64          `json:"duration"` // first to last request sent
	Wait        int64          `json:"wait"`     // last request sent to its answer
	Requests    uint64         `json:"requests"`
	Rate        float64        `json:"rate"`       // requests / duration
	Throughput  float64        `json:"throughput"` // successes / (duration + wait)
	Success     float64        `json:"success"`    // share of 2xx and 3xx answers
	StatusCodes map[string]int `json:"status_codes"`
	Errors      []string       `json:"errors"`
}

// ParseVegetaReport decodes vegeta's JSON report (one object; unknown fields
// such as bytes_in are ignored) and checks that it is one.
func ParseVegetaReport(data []byte) (VegetaReport, error) {
	var r VegetaReport
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return VegetaReport{}, fmt.Errorf("parse vegeta report: %w", err)
	}
	if r.StatusCodes == nil {
		return VegetaReport{}, errors.New("parse vegeta report: no status_codes: not a vegeta JSON report")
	}
	if r.Success < 0 || r.Success > 1 || math.IsNaN(r.Rate) || r.Duration < 0 {
		return VegetaReport{}, errors.New("parse vegeta report: figures out of range")
	}
	return r, nil
}

// OK is the number of 2xx and 3xx answers (vegeta's successes).
func (r VegetaReport) OK() uint64 {
	var n uint64
	for code, c := range r.StatusCodes {
		if v, err := strconv.Atoi(code); err == nil && v >= 200 && v < 400 && c > 0 {
			n += uint64(c)
		}
	}
	return n
}

// Measurement turns the report of a run at rate over d into a Measurement
// (without stage, repeat, CPU and wall time). Scheduled is rate × d, what
// vegeta's constant pacer starts over d; requests it never started count as
// dropped. The achieved rate is (requests - 1) / duration, the definition
// photobench's Stats use, rather than vegeta's requests / duration, which
// overstates a short run's rate by one request's share. vegeta measures
// latency from each request's actual start, not its intended one, and
// reports no schedule lag.
func (r VegetaReport) Measurement(rate float64, d time.Duration) Measurement {
	sched := uint64(math.Ceil(rate*d.Seconds() - 1e-9))
	ok := r.OK()
	m := Measurement{
		Tool: ToolVegeta, Rate: rate, Duration: d.Seconds(),
		Scheduled: sched, Sent: r.Requests, OK: ok, Errors: r.Requests - min(ok, r.Requests),
		LatencyP50: float64(r.Latencies.P50) / 1e9, LatencyP99: float64(r.Latencies.P99) / 1e9,
	}
	if r.Requests < sched {
		m.Dropped = sched - r.Requests
	}
	if r.Requests > 1 && r.Duration > 0 {
		m.AchievedRate = float64(r.Requests-1) / (float64(r.Duration) / 1e9)
	}
	return m
}
