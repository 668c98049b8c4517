package loadgen

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// hlogComment is written into every interval log's header.
const hlogComment = " photobench loadgen: values in microseconds; tags are <phase>/<operation>/<kind> with kind latency|service|ready"

// hlogBaseTime is the log's base time line: the timestamps are absolute, so the
// base time is 0, plus 10 µs. The library's reader adds the base time and the
// interval length in floating point and truncates to milliseconds, which often lands 1 ms short of the millisecond written (e.g. an
// end of ...387 read as ...386); the 10 µs, far below the log's millisecond
// resolution, lifts every sum safely above the written millisecond.
// OutputBaseTime cannot write it: it writes whole seconds.
const hlogBaseTime = "[BaseTime: 0.000010 (seconds since epoch)]"

// IntervalLog writes a run's raw distributions as an HdrHistogram interval log
// (format 1.3, readable by the Java and Go HdrHistogram tools and by
// ReadIntervalLog): one histogram per interval and tag, values in microseconds
// (1 µs to 1 h, 3 significant digits, as Recorder), tags
// "<phase>/<operation>/<kind>" with kind "latency", "service" or "ready".
// Warm-up phases are included under their own names.
//
// A result belongs to the interval its intended start falls in: intervals are
// [start + k*interval, start + (k+1)*interval). Results arrive roughly but not
// exactly in time order, so every interval stays in memory (sparse histograms,
// a few hundred intervals by a few tags for a bounded run) and all are written,
// in time order, by Close. Timestamps in the log are absolute.
//
// It is safe for concurrent use.
type IntervalLog struct {
	mu       sync.Mutex
	lw       *hdrhistogram.HistogramLogWriter
	start    time.Time
	interval time.Duration
	hists    map[hlogKey]*hdrhistogram.PackedHistogram
	closed   bool
}

type hlogKey struct {
	k   int64 // interval index from start; negative before start
	tag string
}

// NewIntervalLog writes the log's header to w and returns a log of intervals of
// the given length from start (truncated to the millisecond, the log's time
// resolution). interval must be a positive whole number of milliseconds. The
// error is for invalid arguments or a failed write.
func NewIntervalLog(w io.Writer, start time.Time, interval time.Duration) (*IntervalLog, error) {
	switch {
	case start.IsZero():
		return nil, errors.New("new interval log: start time is zero")
	case interval < time.Millisecond || interval%time.Millisecond != 0:
		return nil, fmt.Errorf("new interval log: interval %v is not a positive whole number of milliseconds", interval)
	}
	start = start.Truncate(time.Millisecond) // also drops the monotonic reading: intervals are wall-clock
	lw := hdrhistogram.NewHistogramLogWriter(w)
	for _, write := range []func() error{
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputComment(hlogComment) },
		func() error {
			return lw.OutputComment(" photobench loadgen: the Interval_Max column is in seconds (microseconds / 1e6)")
		},
		func() error { return lw.OutputStartTime(start.UnixMilli()) },
		func() error { return lw.OutputComment(hlogBaseTime) },
		lw.OutputLegend,
	} {
		if err := write(); err != nil {
			return nil, fmt.Errorf("new interval log: write header: %w", err)
		}
	}
	return &IntervalLog{lw: lw, start: start, interval: interval,
		hists: map[hlogKey]*hdrhistogram.PackedHistogram{}}, nil
}

// Add records the latency and service time of a sent result that was not cut
// short by the end of the run (as Recorder does); other results are ignored, as
// are results after Close.
func (l *IntervalLog) Add(r Result) {
	if r.Sent.IsZero() || r.Canceled || r.Intended.IsZero() {
		return
	}
	prefix := hlogTagPart(r.PhaseName) + "/" + hlogTagPart(string(r.Op)) + "/"
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	k := l.index(r.Intended)
	hlogRecord(l.hist(k, prefix+"latency"), r.Latency())
	hlogRecord(l.hist(k, prefix+"service"), r.Service())
}

// AddReady records the upload-to-ready latency of an upload whose photo became
// ready or failed, under the tag "<phase>/upload/ready", in the interval of the
// upload's intended start. Other outcomes are ignored, as are results after
// Close.
func (l *IntervalLog) AddReady(r ReadyResult) {
	if (r.Outcome != ReadyOK && r.Outcome != ReadyFailed) || r.Upload.Intended.IsZero() {
		return
	}
	tag := hlogTagPart(r.PhaseName) + "/" + string(OpUpload) + "/ready"
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	hlogRecord(l.hist(l.index(r.Upload.Intended), tag), r.Latency())
}

// Close writes every interval, in time order and by tag within an interval, and
// returns the first write error. It does not close the writer. Later calls
// return nil and write nothing.
func (l *IntervalLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	keys := make([]hlogKey, 0, len(l.hists))
	for k := range l.hists {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b hlogKey) int {
		return cmp.Or(cmp.Compare(a.k, b.k), strings.Compare(a.tag, b.tag))
	})
	hists := l.hists
	l.hists = nil
	for _, key := range keys {
		h := hists[key]
		from := l.start.Add(time.Duration(key.k) * l.interval)
		h.SetTag(key.tag)
		h.SetStartTimeMs(from.UnixMilli())
		h.SetEndTimeMs(from.Add(l.interval).UnixMilli())
		if err := l.lw.OutputIntervalPackedHistogram(h); err != nil {
			return fmt.Errorf("close interval log: write %s at %s: %w", key.tag, from.UTC().Format(time.RFC3339Nano), err)
		}
	}
	return nil
}

// index returns the number of the interval t falls in, rounding down.
func (l *IntervalLog) index(t time.Time) int64 {
	d := t.Sub(l.start)
	k := int64(d / l.interval)
	if d < 0 && d%l.interval != 0 {
		k--
	}
	return k
}

func (l *IntervalLog) hist(k int64, tag string) *hdrhistogram.PackedHistogram {
	key := hlogKey{k: k, tag: tag}
	h := l.hists[key]
	if h == nil {
		h = hdrhistogram.NewPacked(histMin, histMax, histDigits)
		l.hists[key] = h
	}
	return h
}

// hlogRecord records d in microseconds, clamped to the histogram's range.
func hlogRecord(h *hdrhistogram.PackedHistogram, d time.Duration) {
	_ = h.RecordValue(min(max(d.Microseconds(), 0), histMax)) // in range by construction
}

// hlogTagPart makes s usable in a log tag, which cannot hold commas, spaces or
// line breaks: each of those becomes "_".
func hlogTagPart(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ',', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, s)
}

// Interval is one histogram of an interval log: the values (in microseconds
// for photobench's logs) recorded under Tag for results intended to start in
// [Start, End).
type Interval struct {
	Tag        string
	Start, End time.Time
	Hist       *hdrhistogram.Histogram
}

// Phase is the phase part of a photobench tag "<phase>/<operation>/<kind>":
// everything before the last two slashes ("" for a tag without them).
func (iv Interval) Phase() string {
	phase, _, _ := iv.splitTag()
	return phase
}

// Op is the operation part of a photobench tag "<phase>/<operation>/<kind>".
func (iv Interval) Op() Op {
	_, op, _ := iv.splitTag()
	return Op(op)
}

// Kind is the kind part of a photobench tag "<phase>/<operation>/<kind>":
// "latency", "service" or "ready".
func (iv Interval) Kind() string {
	_, _, kind := iv.splitTag()
	return kind
}

// splitTag splits from the right, so that a phase name may contain slashes.
func (iv Interval) splitTag() (phase, op, kind string) {
	rest, kind, ok := hlogCutLast(iv.Tag, "/")
	if !ok {
		return "", "", iv.Tag
	}
	phase, op, ok = hlogCutLast(rest, "/")
	if !ok {
		return "", rest, kind
	}
	return phase, op, kind
}

func hlogCutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

// ReadIntervalLog reads every interval histogram of an HdrHistogram interval
// log, in file order, with the library's reader. Start and End are absolute
// (the log's base time applied) at millisecond resolution.
func ReadIntervalLog(r io.Reader) ([]Interval, error) {
	lr := hdrhistogram.NewHistogramLogReader(r)
	var out []Interval
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			return nil, fmt.Errorf("read interval log: interval %d: %w", len(out)+1, err)
		}
		if h == nil {
			return out, nil
		}
		out = append(out, Interval{Tag: h.Tag(), Start: time.UnixMilli(h.StartTimeMs()),
			End: time.UnixMilli(h.EndTimeMs()), Hist: h})
	}
}
