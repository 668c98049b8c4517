package loadgen_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen"
)

// hlogStart is deliberately not on a whole second.
var hlogStart = time.UnixMilli(1_750_000_000_123)

// hlogResult is an answered request of op in phase intended at at, connected
// wait after it and done latency after it.
func hlogResult(phase string, op loadgen.Op, at time.Time, wait, latency time.Duration) loadgen.Result {
	return loadgen.Result{
		Hit:       loadgen.Hit{Op: op, Intended: at},
		PhaseName: phase,
		Sent:      at,
		Conn:      at.Add(wait),
		Done:      at.Add(latency),
		Status:    200,
	}
}

func hlogRoundTrip(t *testing.T, start time.Time, interval time.Duration, feed func(l *loadgen.IntervalLog)) ([]loadgen.Interval, string) {
	t.Helper()
	var buf bytes.Buffer
	l, err := loadgen.NewIntervalLog(&buf, start, interval)
	if err != nil {
		t.Fatalf("new interval log: %v", err)
	}
	feed(l)
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	text := buf.String()
	ivs, err := loadgen.ReadIntervalLog(strings.NewReader(text))
	if err != nil {
		t.Fatalf("read: %v\n%s", err, text)
	}
	return ivs, text
}

func TestIntervalLogRoundTrip(t *testing.T) {
	const interval = 100 * time.Millisecond
	// Interval k holds 100*(k+1) gets with latencies 1..n ms (service half of
	// it) and 10 uploads of 200 ms; fed shuffled, with results the log ignores.
	var rs []loadgen.Result
	for k := range 3 {
		from := hlogStart.Add(time.Duration(k) * interval)
		n := 100 * (k + 1)
		for i := 1; i <= n; i++ {
			lat := time.Duration(i) * time.Millisecond
			at := from.Add(time.Duration(i-1) * interval / time.Duration(n))
			rs = append(rs, hlogResult("main", loadgen.OpGet, at, lat/2, lat))
		}
		for i := range 10 {
			rs = append(rs, hlogResult("main", loadgen.OpUpload, from.Add(time.Duration(i)*time.Millisecond), 50*time.Millisecond, 200*time.Millisecond))
		}
		dropped := loadgen.Result{Hit: loadgen.Hit{Op: loadgen.OpGet, Intended: from}, PhaseName: "main", Dropped: true}
		canceled := hlogResult("main", loadgen.OpGet, from, 0, time.Second)
		canceled.Canceled = true
		build := loadgen.Result{Hit: loadgen.Hit{Op: loadgen.OpGet, Intended: from}, PhaseName: "main", Done: from, Err: errors.New("no photo")}
		rs = append(rs, dropped, canceled, build)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })

	ivs, text := hlogRoundTrip(t, hlogStart, interval, func(l *loadgen.IntervalLog) {
		for _, r := range rs {
			l.Add(r)
		}
	})
	for _, want := range []string{"#[Histogram log format version 1.3]", "#[StartTime: 1750000000 ",
		"tags are <phase>/<operation>/<kind> with kind latency|service|ready"} {
		if !strings.Contains(text, want) {
			t.Errorf("header lacks %q:\n%s", want, text)
		}
	}

	type key struct {
		k   int
		tag string
	}
	wantTags := []string{"main/get/latency", "main/get/service", "main/upload/latency", "main/upload/service"}
	var want []key
	for k := range 3 {
		for _, tag := range wantTags {
			want = append(want, key{k, tag})
		}
	}
	if len(ivs) != len(want) {
		t.Fatalf("read %d intervals, want %d:\n%s", len(ivs), len(want), text)
	}
	for i, w := range want {
		iv := ivs[i]
		t.Run(fmt.Sprintf("%d %s", w.k, w.tag), func(t *testing.T) {
			from := hlogStart.Add(time.Duration(w.k) * interval)
			if iv.Tag != w.tag || !iv.Start.Equal(from) || !iv.End.Equal(from.Add(interval)) {
				t.Fatalf("interval %q [%v, %v), want %q [%v, %v)", iv.Tag, iv.Start.UnixMilli(), iv.End.UnixMilli(),
					w.tag, from.UnixMilli(), from.Add(interval).UnixMilli())
			}
			if iv.Phase() != "main" || iv.Kind() != w.tag[strings.LastIndex(w.tag, "/")+1:] {
				t.Errorf("phase %q kind %q from tag %q", iv.Phase(), iv.Kind(), iv.Tag)
			}
			n := int64(100 * (w.k + 1))
			var count, p50, p100 int64 // p50 and max in µs
			switch iv.Op() {
			case loadgen.OpGet:
				count, p50, p100 = n, n*1000/2, n*1000
				if iv.Kind() == "service" {
					p50, p100 = p50/2, p100/2
				}
			case loadgen.OpUpload:
				count, p50, p100 = 10, 200_000, 200_000
				if iv.Kind() == "service" {
					p50, p100 = 150_000, 150_000
				}
			default:
				t.Fatalf("op %q", iv.Op())
			}
			h := iv.Hist
			if h.TotalCount() != count {
				t.Errorf("count %d, want %d", h.TotalCount(), count)
			}
			for _, q := range []struct {
				name      string
				got, want int64
			}{{"p50", h.ValueAtQuantile(50), p50}, {"max", h.Max(), p100}} {
				if math.Abs(float64(q.got-q.want)) > float64(q.want)*1e-3 {
					t.Errorf("%s = %d µs, want %d ± 0.1%%", q.name, q.got, q.want)
				}
			}
		})
	}
}

func TestIntervalLogReady(t *testing.T) {
	const interval = time.Second
	upload := func(k int) loadgen.Hit {
		return loadgen.Hit{Op: loadgen.OpUpload, Intended: hlogStart.Add(time.Duration(k)*interval + 400*time.Millisecond)}
	}
	ivs, _ := hlogRoundTrip(t, hlogStart, interval, func(l *loadgen.IntervalLog) {
		// ready_at 2 s after the intended start (past the interval's end),
		// failed observed 3 s after it; timeouts and errors are left out.
		l.AddReady(loadgen.ReadyResult{Upload: upload(1), PhaseName: "warm up", Warmup: true, Outcome: loadgen.ReadyOK,
			ServerReady: upload(1).Intended.Add(2 * time.Second), Observed: upload(1).Intended.Add(5 * time.Second)})
		l.AddReady(loadgen.ReadyResult{Upload: upload(0), PhaseName: "main", Outcome: loadgen.ReadyOK,
			ServerReady: upload(0).Intended.Add(2 * time.Second)})
		l.AddReady(loadgen.ReadyResult{Upload: upload(0), PhaseName: "main", Outcome: loadgen.ReadyFailed,
			Observed: upload(0).Intended.Add(3 * time.Second)})
		l.AddReady(loadgen.ReadyResult{Upload: upload(0), PhaseName: "main", Outcome: loadgen.ReadyTimeout})
		l.AddReady(loadgen.ReadyResult{Upload: upload(0), PhaseName: "main", Outcome: loadgen.ReadyError})
		l.AddReady(loadgen.ReadyResult{Upload: upload(0), PhaseName: "main", Outcome: loadgen.ReadyAborted})
	})
	tests := []struct {
		name            string
		k               int
		tag, phase      string
		count, min, max int64
	}{
		{name: "main", k: 0, tag: "main/upload/ready", phase: "main", count: 2, min: 2_000_000, max: 3_000_000},
		{name: "warm-up, space in its name", k: 1, tag: "warm_up/upload/ready", phase: "warm_up", count: 1, min: 2_000_000, max: 2_000_000},
	}
	if len(ivs) != len(tests) {
		t.Fatalf("read %d intervals, want %d", len(ivs), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iv := ivs[i]
			from := hlogStart.Add(time.Duration(tt.k) * interval)
			if iv.Tag != tt.tag || !iv.Start.Equal(from) || !iv.End.Equal(from.Add(interval)) {
				t.Fatalf("interval %q [%v, %v), want %q starting %v", iv.Tag, iv.Start, iv.End, tt.tag, from)
			}
			if iv.Phase() != tt.phase || iv.Op() != loadgen.OpUpload || iv.Kind() != "ready" {
				t.Errorf("tag parts %q %q %q", iv.Phase(), iv.Op(), iv.Kind())
			}
			h := iv.Hist
			if h.TotalCount() != tt.count || !h.ValuesAreEquivalent(h.Min(), tt.min) || !h.ValuesAreEquivalent(h.Max(), tt.max) {
				t.Errorf("count %d min %d max %d, want %d, %d, %d", h.TotalCount(), h.Min(), h.Max(), tt.count, tt.min, tt.max)
			}
		})
	}
}

func TestIntervalLogEmpty(t *testing.T) {
	ivs, text := hlogRoundTrip(t, hlogStart, time.Second, func(*loadgen.IntervalLog) {})
	if len(ivs) != 0 {
		t.Errorf("read %d intervals from an empty log", len(ivs))
	}
	if !strings.Contains(text, "#[StartTime: ") || !strings.Contains(text, "#[BaseTime: ") {
		t.Errorf("header incomplete:\n%s", text)
	}
}

// The library's reader adds base time and interval length in floating point
// and truncates to milliseconds; boundaries must still come back exactly.
func TestIntervalLogBoundaries(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, interval := range []time.Duration{time.Millisecond, 7 * time.Millisecond, 100 * time.Millisecond,
		333 * time.Millisecond, time.Second, 1700 * time.Millisecond, 10 * time.Second} {
		t.Run(interval.String(), func(t *testing.T) {
			for range 10 {
				start := time.UnixMilli(1_700_000_000_000 + rng.Int64N(200_000_000_000))
				var want []time.Time
				for range 7 {
					k := rng.IntN(1000) - 1 // -1: intended before start
					want = append(want, start.Add(time.Duration(k)*interval))
				}
				slices.SortFunc(want, time.Time.Compare)
				want = slices.CompactFunc(want, time.Time.Equal)
				ivs, text := hlogRoundTrip(t, start, interval, func(l *loadgen.IntervalLog) {
					for _, from := range want {
						up := loadgen.Hit{Op: loadgen.OpUpload, Intended: from.Add(interval - time.Microsecond)}
						l.AddReady(loadgen.ReadyResult{Upload: up, PhaseName: "p", Outcome: loadgen.ReadyOK, Observed: up.Intended.Add(time.Second)})
					}
				})
				if len(ivs) != len(want) {
					t.Fatalf("read %d intervals, want %d:\n%s", len(ivs), len(want), text)
				}
				for i, iv := range ivs {
					if !iv.Start.Equal(want[i]) || !iv.End.Equal(want[i].Add(interval)) {
						t.Errorf("start %d: interval [%d, %d), want [%d, %d)", start.UnixMilli(),
							iv.Start.UnixMilli(), iv.End.UnixMilli(), want[i].UnixMilli(), want[i].Add(interval).UnixMilli())
					}
				}
			}
		})
	}
}

func TestNewIntervalLogInvalid(t *testing.T) {
	tests := []struct {
		name     string
		start    time.Time
		interval time.Duration
	}{
		{name: "zero start", interval: time.Second},
		{name: "zero interval", start: hlogStart},
		{name: "negative interval", start: hlogStart, interval: -time.Second},
		{name: "sub-millisecond interval", start: hlogStart, interval: 500 * time.Microsecond},
		{name: "fractional milliseconds", start: hlogStart, interval: 1500 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := loadgen.NewIntervalLog(&bytes.Buffer{}, tt.start, tt.interval); err == nil {
				t.Error("no error")
			}
		})
	}
}

// hlogFailingWriter accepts n bytes, then fails.
type hlogFailingWriter struct{ n int }

var errHlogWrite = errors.New("disk full")

func (w *hlogFailingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errHlogWrite
	}
	w.n -= len(p)
	return len(p), nil
}

func TestIntervalLogWriteErrors(t *testing.T) {
	t.Run("header", func(t *testing.T) {
		_, err := loadgen.NewIntervalLog(&hlogFailingWriter{n: 10}, hlogStart, time.Second)
		if !errors.Is(err, errHlogWrite) {
			t.Errorf("error %v, want %v", err, errHlogWrite)
		}
	})
	t.Run("intervals", func(t *testing.T) {
		var header bytes.Buffer
		if _, err := loadgen.NewIntervalLog(&header, hlogStart, time.Second); err != nil {
			t.Fatal(err)
		}
		l, err := loadgen.NewIntervalLog(&hlogFailingWriter{n: header.Len()}, hlogStart, time.Second)
		if err != nil {
			t.Fatalf("header: %v", err)
		}
		l.Add(hlogResult("main", loadgen.OpGet, hlogStart, 0, time.Millisecond))
		if err := l.Close(); !errors.Is(err, errHlogWrite) {
			t.Errorf("close: %v, want %v", err, errHlogWrite)
		}
		if err := l.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
	})
}

func TestIntervalLogConcurrent(t *testing.T) {
	const goroutines, each = 8, 200
	ivs, _ := hlogRoundTrip(t, hlogStart, time.Second, func(l *loadgen.IntervalLog) {
		var wg sync.WaitGroup
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					l.Add(hlogResult("main", loadgen.OpGet, hlogStart.Add(time.Duration(i%2)*time.Second), 0, time.Millisecond))
				}
			}()
		}
		wg.Wait()
	})
	var total int64
	for _, iv := range ivs {
		total += iv.Hist.TotalCount()
	}
	if len(ivs) != 4 || total != 2*goroutines*each {
		t.Errorf("%d intervals holding %d values, want 4 holding %d", len(ivs), total, 2*goroutines*each)
	}
}

func TestReadIntervalLogMalformed(t *testing.T) {
	_, err := loadgen.ReadIntervalLog(strings.NewReader("#[BaseTime: 0 (seconds since epoch)]\nTag=x,1.000,1.000,0.001,HISTnotbase64\n"))
	if err == nil {
		t.Error("no error for a corrupt histogram")
	}
}
