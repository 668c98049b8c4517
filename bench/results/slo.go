package results

import (
	"fmt"
	"math"
	"time"

	"github.com/photobench/photobench/loadgen"
)

// SLO is what a phase of load must keep for its rate to count as
// sustained. It has three parts, because an asynchronous app can answer
// fast while its work piles up behind the answer:
//   - the answers: p99 of every operation's latency (from the intended
//     start, so queueing in the generator counts) under AckP99, and errors
//     plus dropped requests under MaxErrors of those scheduled;
//   - the photos: p99 upload-to-ready under ReadyP99, where the phase's
//     uploads were followed (for the sync monolith ready is the answer);
//   - the backlog (consumer lag summed over functions, or the job queue)
//     not growing over the phase's second half (Growth).
type SLO struct {
	AckP99    float64 `json:"ack_p99_seconds"`
	ReadyP99  float64 `json:"ready_p99_seconds"`
	MaxErrors float64 `json:"max_error_share"`
}

// DefaultMaxErrors is the error share a phase must stay under when the
// profile sets none: 1% of the requests scheduled.
const DefaultMaxErrors = 0.01

// Verdict is one run's phase judged against an SLO.
type Verdict struct {
	// Measured is false when the phase answered nothing (or is absent):
	// the run cannot be judged, and Held is false.
	Measured bool    `json:"measured"`
	Held     bool    `json:"held"`
	AckP99   float64 `json:"ack_p99_seconds"`
	AckN     int64   `json:"ack_n"`
	// ReadyP99 and ReadyN are 0 when the phase's uploads were not followed.
	ReadyP99   float64 `json:"ready_p99_seconds"`
	ReadyN     int64   `json:"ready_n"`
	ErrorShare float64 `json:"error_share"`
	// Growth is the backlog's increase over the phase's second half, from
	// a least-squares line through its samples (messages or jobs); GrowthLimit
	// the most it may grow: 5, or the phase's uploads of 2 seconds when more.
	Growth      float64 `json:"backlog_growth"`
	GrowthLimit float64 `json:"backlog_growth_limit"`
	// Why lists each part that failed, e.g. "p99 ready 6.2 s ≥ 5 s".
	Why []string `json:"why,omitempty"`
}

// BacklogQuery is the captured series that is architecture arch's backlog:
// the async monolith's job queue, the event-driven functions' consumer lag;
// "" for the sync monolith, whose work ends with its answer.
func BacklogQuery(arch string) string {
	switch arch {
	case MonolithAsync:
		return QJobs
	case EventDriven:
		return QLag
	}
	return ""
}

// CheckSLO judges run's phase against slo. A phase whose p99 is backed by
// fewer than 1,000 samples is still judged on it (it is then close to the
// largest value, which errs towards failing); the verdict carries the
// counts so that a reader sees the support.
func (r Run) CheckSLO(phase string, slo SLO) Verdict {
	var v Verdict
	ps, ok := r.Summary.Phase(phase)
	if !ok || ps.All.Scheduled == 0 || ps.All.Latency.Count == 0 {
		return v
	}
	v.Measured = true
	v.AckP99, v.AckN = ps.All.Latency.P99, ps.All.Latency.Count
	v.ErrorShare = float64(ps.All.Errors+ps.All.Dropped) / float64(ps.All.Scheduled)
	limit := slo.MaxErrors
	if limit <= 0 {
		limit = DefaultMaxErrors
	}
	if slo.AckP99 > 0 && v.AckP99 >= slo.AckP99 {
		v.Why = append(v.Why, fmt.Sprintf("p99 ack %s ≥ %s", fmtSec(v.AckP99), fmtSec(slo.AckP99)))
	}
	if v.ErrorShare >= limit {
		v.Why = append(v.Why, fmt.Sprintf("errors %.1f%% ≥ %.1f%%", 100*v.ErrorShare, 100*limit))
	}
	if rd := ps.Ready; rd != nil && rd.Latency.Count > 0 {
		v.ReadyP99, v.ReadyN = rd.Latency.P99, rd.Latency.Count
		if slo.ReadyP99 > 0 && v.ReadyP99 >= slo.ReadyP99 {
			v.Why = append(v.Why, fmt.Sprintf("p99 ready %s ≥ %s", fmtSec(v.ReadyP99), fmtSec(slo.ReadyP99)))
		}
		if lost := rd.Timeouts + rd.Errors; lost > 0 {
			v.Why = append(v.Why, fmt.Sprintf("%d uploads not ready within the follow timeout", lost))
		}
	}
	if q := BacklogQuery(r.Arch); q != "" {
		if w, ok := r.Phase(phase); ok {
			v.Growth = r.backlogGrowth(q, w)
			uploads := ps.Ops[loadgen.OpUpload].TargetRate
			v.GrowthLimit = math.Max(5, 2*uploads)
			if v.Growth > v.GrowthLimit {
				v.Why = append(v.Why, fmt.Sprintf("backlog grew by %.0f over the phase's second half (limit %.0f)", v.Growth, v.GrowthLimit))
			}
		}
	}
	v.Held = len(v.Why) == 0
	return v
}

// backlogGrowth fits a least-squares line through the backlog (the sum of
// the query's series at each sample time) over w's second half and returns
// its rise over that half; 0 with fewer than 3 samples.
func (r Run) backlogGrowth(q string, w Window) float64 {
	from := w.Start.Add(w.End.Sub(w.Start) / 2)
	f, t := float64(from.UnixMilli())/1e3, float64(w.End.UnixMilli())/1e3
	sum := map[float64]float64{}
	for _, s := range r.Series[q] {
		for _, p := range s.Points {
			if p[0] >= f && p[0] <= t {
				sum[p[0]] += p[1]
			}
		}
	}
	if len(sum) < 3 {
		return 0
	}
	var n, sx, sy, sxx, sxy float64
	for x, y := range sum {
		x -= f
		n++
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	slope := (n*sxy - sx*sy) / den
	return slope * (t - f)
}

func fmtSec(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}
