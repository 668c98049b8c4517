package live

import (
	"fmt"
	"html/template"
	"runtime"
	"strings"
	"time"
)

// subscribe returns a channel that gets a signal after every frame, until
// unsubscribe. A page that has not taken the last signal yet misses the
// next one rather than holding the session up.
func (s *Session) subscribe() chan struct{} {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	return ch
}

func (s *Session) unsubscribe(ch chan struct{}) {
	s.mu.Lock()
	delete(s.subs, ch)
	s.mu.Unlock()
}

// broadcast signals every page that a new frame is there.
func (s *Session) broadcast() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Snapshot is the session so far, for Export.
func (s *Session) Snapshot() Snapshot {
	frames, marks := s.Frames(), s.Marks()
	c := s.cfg
	settings := map[string]string{
		"load":                     fmt.Sprintf("upload 60 %%, get 20 %%, list 20 %%; %d users; phone-sized photos (0.3 and 1 MP); a start stops by itself after %s", c.Users, c.MaxLoad),
		"windows":                  fmt.Sprintf("rates over %s, percentiles over %s, CPU and cost over %s", RateWindow, LatencyWindow, CostWindow),
		"vision baseline":          "log-normal latency, median 60 ms, p99 250 ms (the demos' remote API)",
		"monolith":                 c.MonolithURL,
		"async monolith":           c.MonolithAsyncURL,
		"event-driven app (front)": c.EventDrivenURL,
		"prometheus":               c.PrometheusURL,
	}
	settings["machine"] = fmt.Sprintf("%d cores, %s/%s, %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if c.HaveStack {
		settings["minio notify queue"] = map[bool]string{true: "on (events staged on disk, sent every 0-3 s)", false: "off (events sent at once; the reconciler publishes lost ones again, once a minute)"}[c.Stack.MinIONotifyQueue]
		settings["event-driven runtime"] = map[bool]string{true: "pinned: one replica of every function", false: "scale to zero (eventdriven/deploy/functions.yaml)"}[c.Stack.RuntimePinned]
		settings["kafka partitions"] = fmt.Sprint(c.Stack.KafkaPartitions)
		settings["monolith storage"] = map[bool]string{true: c.Stack.MonolithStorage, false: "disk"}[c.Stack.MonolithStorage != ""]
	}
	end := time.Now()
	if n := len(frames); n > 0 {
		end = frames[n-1].At
	}
	return Snapshot{Title: "photobench live session", Started: s.start, Ended: end, Frames: frames, Marks: marks, Settings: settings,
		Notes: []string{
			"All three apps ran at the same time on one machine and one stack, under the same load: what one does takes CPU from the others. The bench (make bench) runs them one at a time.",
			"A p99 over fewer than 100 samples is the largest of them.",
			"Counts run from the start of the session or its last reset.",
		}}
}

// funcs are the page template's helpers.
var funcs = template.FuncMap{
	"num": func(n Num, digits int) string {
		if !n.Known() {
			return "–"
		}
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.*f", digits, float64(n)), ".0"), ".00")
	},
	"known": func(n Num) bool { return n.Known() },
	"ms": func(n Num) string {
		switch {
		case !n.Known():
			return "–"
		case n >= 10000:
			return fmt.Sprintf("%.1f s", float64(n)/1000)
		case n >= 100:
			return fmt.Sprintf("%.0f ms", float64(n))
		}
		return fmt.Sprintf("%.1f ms", float64(n))
	},
	"since": func(from time.Time, to *time.Time) string {
		if to == nil {
			return "–"
		}
		return "+" + to.Sub(from).Round(time.Millisecond).String()
	},
	"clock": func(t time.Time) string { return t.Format("15:04:05") },
	"elapsed": func(sec float64) string {
		d := time.Duration(sec) * time.Second
		return fmt.Sprintf("%d:%02d", int(d.Minutes()), int(d.Seconds())%60)
	},
	"pct": func(n int) bool { return n >= 100 },
}
