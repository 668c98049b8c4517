package live

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/photobench/photobench/bench/demo"
	"github.com/photobench/photobench/loadgen"
)

// The load shapes a presenter picks. The rate is the shape's base, per
// variant.
const (
	ShapeConstant = "constant" // the rate, evenly spaced
	ShapeBurst    = "burst"    // the rate for 25 s, then 5x for 5 s, repeated
	ShapeGap      = "gap"      // the rate for 30 s, then nothing for 45 s (the functions scale to zero), repeated
)

// Shapes lists the shapes in the order the page offers them.
var Shapes = []string{ShapeConstant, ShapeBurst, ShapeGap}

// BurstFactor is how much higher a burst's rate is than the base.
const BurstFactor = 5

// Pacer is shape's schedule at rate requests per second.
func Pacer(shape string, rate float64) (loadgen.Pacer, error) {
	switch shape {
	case ShapeConstant:
		return loadgen.Constant{Rate: rate}, nil
	case ShapeBurst:
		return loadgen.Cycle{{Rate: rate, Duration: 25 * time.Second}, {Rate: BurstFactor * rate, Duration: 5 * time.Second}}, nil
	case ShapeGap:
		return loadgen.Cycle{{Rate: rate, Duration: 30 * time.Second}, {Rate: 0, Duration: 45 * time.Second}}, nil
	}
	return nil, fmt.Errorf("unknown load shape %q (want %s)", shape, strings.Join(Shapes, ", "))
}

// Mix is the live load's operations, as in the demos: upload 60 %, get
// 20 %, list 20 %.
var Mix = []loadgen.Weight{{Op: loadgen.OpUpload, Weight: 60}, {Op: loadgen.OpGet, Weight: 20}, {Op: loadgen.OpList, Weight: 20}}

// scenario is one start of the load on one variant: a single phase that
// lasts at most maxLoad, paced by sw.
func scenario(c Config, sw *loadgen.Switch) *loadgen.Scenario {
	return &loadgen.Scenario{
		Name: "live", Seed: c.Seed, Users: c.Users, MaxInFlight: 64, Timeout: c.Timeout, Mix: Mix,
		Phases: []loadgen.Phase{{Name: "live", Duration: c.MaxLoad, Pacer: sw}},
		Photos: demo.Photos, Ready: demo.Follow(5 * time.Minute),
	}
}

// run is one start of the load on one variant: its schedule and its
// APIRun. It ends when the schedule is closed or runs out (MaxLoad) and
// every accepted upload is final or timed out.
type run struct {
	sw  *loadgen.Switch
	api *loadgen.APIRun
}

// bucket counts one second of a variant's answers.
type bucket struct {
	sec                                   int64
	sent, ok, uploads, errors, dropped    uint64
	readyOK, readyFailed, readyOther, all uint64
}

// ringSeconds is how many seconds of buckets a variant keeps: more than
// the longest window (CostWindow).
const ringSeconds = 128

// timed is one latency and when it was observed.
type timed struct {
	at  time.Time
	lat time.Duration
}

// variant is one architecture's live figures, fed by the load's results.
type variant struct {
	name, label, url string
	target           func(ctx context.Context, user int, id string) (*http.Request, error) // a GET of one of the run's photos

	mu      sync.Mutex
	ring    [ringSeconds]bucket
	acks    []timed // uploads answered 2xx in the last LatencyWindow
	readies []timed // uploads seen ready in the last LatencyWindow
	// Totals since the session started (or was reset).
	uploadsOK, errors, dropped uint64
	runs                       []*run
	strip                      []*card // newest first
	polls                      []pollSample
}

type pollSample struct {
	at    time.Time
	polls uint64
}

func (v *variant) bucket(t time.Time) *bucket {
	sec := t.Unix()
	b := &v.ring[sec%ringSeconds]
	if b.sec != sec {
		*b = bucket{sec: sec}
	}
	return b
}

// observe counts one answer (the load's Observe hook).
func (v *variant) observe(r loadgen.Result) {
	if r.Canceled {
		return // the session stopped: neither an answer nor an error
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if r.Dropped {
		v.dropped++
		v.bucket(r.Intended).dropped++
		return
	}
	b := v.bucket(r.Done)
	b.sent++
	if r.Class() != "ok" {
		v.errors++
		b.errors++
		return
	}
	b.ok++
	if r.Op == loadgen.OpUpload {
		v.uploadsOK++
		b.uploads++
		v.acks = append(v.acks, timed{r.Done, r.Latency()})
	}
}

// observeReady counts one followed upload's end (the ObserveReady hook)
// and updates its card.
func (v *variant) observeReady(r loadgen.ReadyResult) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r.Outcome == loadgen.ReadyOK {
		at := r.ServerReady
		if at.IsZero() {
			at = r.Observed
		}
		v.readies = append(v.readies, timed{at, r.Latency()})
	}
	for _, c := range v.strip {
		if c.ID == r.ID {
			c.final(r)
		}
	}
}

// accepted puts an accepted upload at the head of the strip.
func (v *variant) accepted(h loadgen.Hit, a loadgen.UploadAnswer) {
	v.mu.Lock()
	defer v.mu.Unlock()
	c := &card{PhotoCard: PhotoCard{ID: a.ID, Status: a.Status, Accepted: a.Acked}, user: h.User}
	if c.Status == "" {
		c.Status = "pending"
	}
	v.strip = slices.Insert(v.strip, 0, c)
	if len(v.strip) > StripLength {
		v.strip = v.strip[:StripLength]
	}
}

// reset forgets every figure (the reset control).
func (v *variant) reset() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ring = [ringSeconds]bucket{}
	v.acks, v.readies, v.strip, v.polls = nil, nil, nil, nil
	v.uploadsOK, v.errors, v.dropped = 0, 0, 0
}

// window sums the buckets of the d/time.Second whole seconds before
// now's (the current second is not over yet).
func (v *variant) window(now time.Time, d time.Duration) bucket {
	var sum bucket
	last := now.Unix() - 1
	for sec := last - int64(d/time.Second) + 1; sec <= last; sec++ {
		b := v.ring[((sec%ringSeconds)+ringSeconds)%ringSeconds]
		if b.sec != sec {
			continue
		}
		sum.sent += b.sent
		sum.ok += b.ok
		sum.uploads += b.uploads
		sum.errors += b.errors
		sum.dropped += b.dropped
	}
	return sum
}

// figures fills f with the load's figures at now.
func (v *variant) figures(now time.Time, f *VariantFrame) {
	v.mu.Lock()
	defer v.mu.Unlock()
	offered := 0.0
	pending := 0
	var polls uint64
	for _, r := range v.runs {
		if o := r.sw.Origin(); !o.IsZero() {
			el := now.Sub(o)
			offered += float64(r.sw.Count(el) - r.sw.Count(max(0, el-RateWindow)))
		}
		pending += r.api.Following()
		polls += r.api.Polls()
	}
	w := v.window(now, RateWindow)
	f.Offered = Num(offered / RateWindow.Seconds())
	f.Achieved = Num(float64(w.ok) / RateWindow.Seconds())
	f.UploadsOK, f.Errors, f.Dropped = v.uploadsOK, v.errors, v.dropped
	f.Pending = pending
	cut := now.Add(-LatencyWindow)
	v.acks = prune(v.acks, cut)
	v.readies = prune(v.readies, cut)
	f.AckN, f.ReadyN = len(v.acks), len(v.readies)
	f.AckP50, f.AckP99 = percentiles(v.acks)
	f.ReadyP50, f.ReadyP99 = percentiles(v.readies)
	for _, c := range v.strip {
		f.Photos = append(f.Photos, c.card(v.label))
	}
	v.polls = append(v.polls, pollSample{now, polls})
	for len(v.polls) > 0 && now.Sub(v.polls[0].at) > CostWindow+2*time.Second {
		v.polls = v.polls[1:]
	}
}

// counts returns the load's counts over (now-d, now], for the cost model.
func (v *variant) counts(now time.Time, d time.Duration) (uploads, ok, sent, polls uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	w := v.window(now, d)
	if n := len(v.polls); n > 0 {
		first := v.polls[0]
		for _, p := range v.polls {
			if !p.at.Before(now.Add(-d)) {
				first = p
				break
			}
		}
		if v.polls[n-1].polls >= first.polls {
			polls = v.polls[n-1].polls - first.polls
		}
	}
	return w.uploads, w.ok, w.sent + w.dropped, polls
}

// prune keeps the entries after cut (they arrive nearly, not exactly, in
// order: several runs and the servers' ready_at).
func prune(ts []timed, cut time.Time) []timed {
	keep := ts[:0]
	for _, t := range ts {
		if t.at.After(cut) {
			keep = append(keep, t)
		}
	}
	return keep
}

// percentiles returns the median and the 99th percentile (nearest rank)
// of ts in milliseconds; NA when there are none.
func percentiles(ts []timed) (p50, p99 Num) {
	if len(ts) == 0 {
		return NA, NA
	}
	ms := make([]float64, len(ts))
	for i, t := range ts {
		ms[i] = float64(t.lat) / float64(time.Millisecond)
	}
	sort.Float64s(ms)
	rank := func(q float64) Num {
		i := int(q*float64(len(ms))+0.999999) - 1
		return Num(ms[min(max(i, 0), len(ms)-1)])
	}
	return rank(0.5), rank(0.99)
}
