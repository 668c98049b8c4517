package live_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/photobench/photobench/bench/live"
	"github.com/photobench/photobench/internal/browser"
	"github.com/photobench/photobench/internal/stacktest"
)

// The memory bounds of a running session, measured by TestSoak over 60
// minutes (README, "Workshop"): the session's Go heap after a collection,
// and the page's JavaScript heap in Chromium after a collection.
const (
	soakGoHeapBound = 256 << 20
	soakJSHeapBound = 64 << 20
)

// TestSoak runs a session with the page open in Chromium and the load on
// for $PHOTOBENCH_LIVE_SOAK (say 60m), on a stack of its own, switching
// vision between healthy and slow every 5 minutes, and logs both heaps
// every 5 minutes: how the README's memory figures are measured. It fails
// when a heap passes its bound. Not part of make test (skipped unless the
// variable is set).
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("PHOTOBENCH_LIVE_SOAK"))
	if err != nil {
		t.Skip("PHOTOBENCH_LIVE_SOAK (a duration, e.g. 60m) runs the soak test")
	}
	sc := stacktest.UpScratch(t, nil)
	env := stacktest.EnvOf(sc)
	ctx := browser.New(t)
	s, base := startSession(t, sc, env, 1)
	if err := browser.Open(ctx, base+"/", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.StartLoad(live.ShapeConstant, live.DefaultRate); err != nil {
		t.Fatal(err)
	}
	type sample struct {
		at                     time.Duration
		goHeap, jsHeap, frames uint64
		nodes                  int64
	}
	measure := func(at time.Duration) sample {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_, err := chromedp.Call(ctx, heapprofiler.CollectGarbage, cdp.Empty{})
		var heap cdpruntime.GetHeapUsageResult
		if err == nil {
			heap, err = chromedp.Call(ctx, cdpruntime.GetHeapUsage, cdp.Empty{})
		}
		var nodes int64
		if err == nil {
			nodes, err = chromedp.Run(ctx, chromedp.Evaluate[int64](`document.getElementsByTagName("*").length`))
		}
		used := heap.UsedSize
		if err != nil {
			t.Fatalf("browser heap: %v", err)
		}
		return sample{at: at, goHeap: ms.HeapAlloc, jsHeap: uint64(used), frames: uint64(len(s.Frames())), nodes: nodes}
	}
	start := time.Now()
	var samples []sample
	vis := []string{live.VisionSlow, live.VisionHealthy}
	for i := 0; ; i++ {
		el := time.Since(start)
		if i == 0 || el >= time.Duration(i)*5*time.Minute || el >= d {
			samples = append(samples, measure(el.Round(time.Second)))
		}
		if el >= d {
			break
		}
		if err := s.SetVision(context.Background(), vis[i%2]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(min(5*time.Minute, d-el))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-8s %12s %12s %8s %10s\n", "at", "Go heap MiB", "JS heap MiB", "frames", "DOM nodes")
	for _, x := range samples {
		fmt.Fprintf(&b, "%-8s %12.1f %12.1f %8d %10d\n", x.at, float64(x.goHeap)/(1<<20), float64(x.jsHeap)/(1<<20), x.frames, x.nodes)
	}
	t.Logf("session memory over %s (heaps after a collection):\n%s", d, b.String())
	last := samples[len(samples)-1]
	if last.goHeap > soakGoHeapBound || last.jsHeap > soakJSHeapBound {
		t.Errorf("a heap passed its bound (Go %d MiB, JS %d MiB)", soakGoHeapBound>>20, soakJSHeapBound>>20)
	}
	if f := s.Latest(); !f.Load.Running {
		t.Errorf("the load stopped before the soak's end: %+v", s.Marks())
	}
}
