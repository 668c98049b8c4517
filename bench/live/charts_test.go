package live_test

import (
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/bench/live"
)

// session is n seconds of a made-up session: a steady load of 20 req/s, a
// vision outage from second 60 to 120 (the monolith fails, the others
// queue), the event-driven functions scaling up from zero (a cold start
// each) when it ends.
func session(n int) []live.Frame {
	start := time.Date(2026, 12, 5, 21, 0, 0, 0, time.UTC)
	frames := make([]live.Frame, n)
	var errs, uploads uint64
	for i := range frames {
		t := float64(i)
		outage := i >= 60 && i < 120
		f := live.Frame{At: start.Add(time.Duration(i) * time.Second), Elapsed: t, Vision: "healthy",
			Load: live.LoadState{Running: true, Shape: "constant", Rate: 20}}
		if outage {
			f.Vision = "outage-fail"
			errs += 20
		} else {
			uploads += 20
		}
		backlog := 0.0
		if outage {
			backlog = 20 * (t - 59)
		}
		for v, name := range live.Variants {
			vf := live.VariantFrame{Name: name, Offered: 20, Achieved: 20, UploadsOK: uploads, AckP50: 4, AckP99: 12,
				ReadyP50: 40, ReadyP99: 90, Backlog: live.Num(backlog), BacklogUnit: "jobs", CPU: 0.3, DLQ: live.NA, Reconciled: live.NA,
				CostPerMillion: 12.5, CostOption: "on demand"}
			switch v {
			case 0:
				vf.Errors = errs
				vf.Backlog, vf.BacklogUnit = live.NA, ""
				vf.ReadyP50, vf.ReadyP99 = live.NA, live.NA
				if outage {
					vf.Achieved, vf.AckP50, vf.AckP99 = 0, 2000, 5000
				}
			case 2:
				vf.BacklogUnit = "messages"
				vf.Backlog *= 3
				replicas := live.Num(1)
				cold := live.Num(0)
				if i >= 125 {
					replicas, cold = 2, 1
				}
				for _, fn := range []string{"thumbnailer", "tagger", "catalog"} {
					vf.Functions = append(vf.Functions, live.FunctionFrame{Name: fn, Replicas: replicas, Desired: replicas, Lag: live.Num(backlog), ColdStarts: cold})
				}
			}
			if outage && v > 0 {
				vf.ReadyP50, vf.ReadyP99 = live.NA, live.NA
			}
			f.Variants = append(f.Variants, vf)
		}
		frames[i] = f
	}
	return frames
}

// element is one element of a parsed SVG: its name, attributes and text.
type element struct {
	name  string
	attrs map[string]string
	text  string
}

// parseSVG parses s as XML, failing the test when it is not, and returns
// its elements in document order.
func parseSVG(t *testing.T, s string) []element {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	var out []element
	var open []int
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, s)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			e := element{name: x.Name.Local, attrs: map[string]string{}}
			for _, a := range x.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			open = append(open, len(out)-1)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 0 {
				out[open[len(open)-1]].text += string(x)
			}
		}
	}
	if len(out) == 0 || out[0].name != "svg" {
		t.Fatalf("no svg root:\n%s", s)
	}
	return out
}

func chartByKey(t *testing.T, cs []live.Chart, key string) live.Chart {
	t.Helper()
	for _, c := range cs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("no chart %q", key)
	return live.Chart{}
}

// texts are the texts of the chart's text elements.
func texts(els []element) []string {
	var out []string
	for _, e := range els {
		if e.name == "text" {
			out = append(out, e.text)
		}
	}
	return out
}

// yTicks are the y axis' tick labels (right-aligned texts).
func yTicks(els []element) []string {
	var out []string
	for _, e := range els {
		if e.name == "text" && e.attrs["text-anchor"] == "end" && e.attrs["font-size"] == "" {
			out = append(out, e.text)
		}
	}
	return out
}

func TestChartsRenderEveryChartAsSVGInEveryColumn(t *testing.T) {
	frames := session(300)
	marks := []live.Mark{{Elapsed: 60, Kind: "vision", Label: "vision outage"}}
	cols := live.Columns(frames, marks, live.LiveWindow, live.ColumnSize)
	if len(cols) != len(live.Variants) {
		t.Fatalf("%d columns, want %d", len(cols), len(live.Variants))
	}
	want := []string{live.ChartRate, live.ChartErrors, live.ChartAck, live.ChartReady, live.ChartBacklog, live.ChartReplicas, live.ChartCPU}
	for v, col := range cols {
		if len(col) != len(want) {
			t.Fatalf("column %d has %d charts, want %d", v, len(col), len(want))
		}
		for i, c := range col {
			if c.Key != want[i] {
				t.Errorf("column %d chart %d is %q, want %q", v, i, c.Key, want[i])
			}
			els := parseSVG(t, string(c.SVG))
			if w := els[0].attrs["width"]; w != strconv.Itoa(live.ColumnSize.Width) {
				t.Errorf("column %d %s: width %s, want %d", v, c.Key, w, live.ColumnSize.Width)
			}
		}
		one := live.Charts(frames, marks, v, live.LiveWindow, live.ColumnSize)
		for i := range one {
			if one[i].SVG != col[i].SVG {
				t.Errorf("Charts(%d) differs from Columns()[%d] in %s", v, v, one[i].Key)
			}
		}
	}
	if zero := live.Charts(frames, marks, 1, live.LiveWindow, live.ChartSize{}); zero[0].SVG != cols[1][0].SVG {
		t.Error("the zero ChartSize is not ColumnSize")
	}
	if live.Charts(frames, marks, len(live.Variants), live.LiveWindow, live.ColumnSize) != nil {
		t.Error("charts for a variant that does not exist")
	}
	if cs := live.Columns(nil, nil, live.LiveWindow, live.ColumnSize); len(cs[0]) != len(want) {
		t.Errorf("no frames: %d charts, want %d", len(cs[0]), len(want))
	} else {
		parseSVG(t, string(cs[0][0].SVG))
	}
}

func TestChartsDrawTheMarksInTheirWindowOnly(t *testing.T) {
	frames := session(600) // the live window: seconds 300 to 600
	marks := []live.Mark{
		{Elapsed: 100, Kind: "vision", Label: "early outage"},
		{Elapsed: 420, Kind: "kill", Label: "kill thumbnailer"},
		{Elapsed: 450, Kind: "restart", Label: "restart Kafka", Error: "refused: a bench runs"},
		{Elapsed: 599, Kind: "note", Label: "a label far longer than a column allows"},
	}
	for _, c := range live.Charts(frames, marks, 1, live.LiveWindow, live.ColumnSize) {
		els := parseSVG(t, string(c.SVG))
		all := strings.Join(texts(els), "\n")
		for _, want := range []string{"kill thumbnailer", "restart Kafka", "a label far longer …"} {
			if !strings.Contains(all, want) {
				t.Errorf("%s: mark %q not drawn; texts:\n%s", c.Key, want, all)
			}
		}
		if strings.Contains(all, "early outage") {
			t.Errorf("%s: a mark before the window drawn", c.Key)
		}
		// The failed control's rule is dashed, the others solid.
		var kill, restart int
		for _, e := range els {
			if e.name != "line" {
				continue
			}
			switch e.attrs["stroke"] {
			case "#8e24aa":
				kill++
				if e.attrs["stroke-dasharray"] != "" {
					t.Errorf("%s: a control that worked drawn dashed", c.Key)
				}
			case "#c2185b":
				restart++
				if e.attrs["stroke-dasharray"] == "" {
					t.Errorf("%s: a failed control drawn solid", c.Key)
				}
			}
		}
		if kill != 1 || restart != 1 {
			t.Errorf("%s: %d kill and %d restart rules, want 1 each", c.Key, kill, restart)
		}
	}
	// The whole session (the export) has the early one too.
	all := strings.Join(texts(parseSVG(t, string(live.Charts(frames, marks, 1, 0, live.ColumnSize)[0].SVG))), "\n")
	if !strings.Contains(all, "early outage") {
		t.Errorf("the whole session's chart lacks the early mark:\n%s", all)
	}
}

// polylines are the chart's polylines of a colour, as their point counts.
func polylines(els []element, colour string) []int {
	var out []int
	for _, e := range els {
		if e.name == "polyline" && e.attrs["stroke"] == colour {
			out = append(out, len(strings.Fields(e.attrs["points"])))
		}
	}
	return out
}

func TestChartsUnknownFiguresAreGaps(t *testing.T) {
	frames := session(100)
	const blue = "#1f5fbf" // the monolith's achieved line
	for i := 40; i < 50; i++ {
		frames[i].Variants[0].Achieved = live.NA
	}
	frames[70].Variants = frames[70].Variants[:1] // a frame without the other variants
	els := parseSVG(t, string(chartByKey(t, live.Charts(frames, nil, 0, live.LiveWindow, live.ColumnSize), live.ChartRate).SVG))
	got := polylines(els, blue)
	if len(got) != 2 || got[0]+got[1] != 90 {
		t.Errorf("achieved with 10 unknown seconds: polylines of %v points, want two of 90 in all", got)
	}
	els = parseSVG(t, string(chartByKey(t, live.Charts(frames, nil, 2, live.LiveWindow, live.ColumnSize), live.ChartCPU).SVG))
	if got := polylines(els, "#d9730d"); len(got) != 2 || got[0]+got[1] != 99 {
		t.Errorf("CPU with a frame lacking the variant: polylines of %v points, want two of 99 in all", got)
	}
}

func TestChartsShareScalesWhereTheFigureIsTheSame(t *testing.T) {
	frames := session(200)
	for i := range frames {
		frames[i].Variants[0].CPU = 1.8
		frames[i].Variants[1].CPU = 0.1
		frames[i].Variants[1].Backlog = 3
	}
	cols := live.Columns(frames, nil, live.LiveWindow, live.ColumnSize)
	for _, key := range []string{live.ChartRate, live.ChartErrors, live.ChartAck, live.ChartCPU} {
		a := yTicks(parseSVG(t, string(chartByKey(t, cols[0], key).SVG)))
		for v := 1; v < len(cols); v++ {
			b := yTicks(parseSVG(t, string(chartByKey(t, cols[v], key).SVG)))
			if strings.Join(a, " ") != strings.Join(b, " ") {
				t.Errorf("%s: column 0's y ticks %v, column %d's %v: not one scale", key, a, v, b)
			}
		}
	}
	// Upload to ready: the monolith has none; the two others share.
	a := yTicks(parseSVG(t, string(chartByKey(t, cols[1], live.ChartReady).SVG)))
	b := yTicks(parseSVG(t, string(chartByKey(t, cols[2], live.ChartReady).SVG)))
	if strings.Join(a, " ") != strings.Join(b, " ") || len(a) == 0 {
		t.Errorf("ready: y ticks %v and %v, want the same", a, b)
	}
	// Backlogs are jobs in one column and messages in another: own scales.
	a = yTicks(parseSVG(t, string(chartByKey(t, cols[1], live.ChartBacklog).SVG)))
	b = yTicks(parseSVG(t, string(chartByKey(t, cols[2], live.ChartBacklog).SVG)))
	if strings.Join(a, " ") == strings.Join(b, " ") {
		t.Errorf("backlog: the same y ticks %v in both columns, want each its own", a)
	}
}

func TestChartsErrorsPerSecondFromTheCounts(t *testing.T) {
	frames := session(200)
	// The reset control at second 150 starts the counts again.
	for i := 150; i < len(frames); i++ {
		frames[i].Variants[0].Errors = uint64(i-150) * 2
	}
	els := parseSVG(t, string(chartByKey(t, live.Charts(frames, nil, 0, live.LiveWindow, live.ColumnSize), live.ChartErrors).SVG))
	ticks := yTicks(els)
	if len(ticks) == 0 || ticks[len(ticks)-1] != "20" {
		t.Errorf("errors: y ticks %v, want up to 20 (the outage's 20 a second)", ticks)
	}
	for _, tick := range ticks {
		if strings.HasPrefix(tick, "-") {
			t.Errorf("errors: negative tick %s (a count started again read as a fall)", tick)
		}
	}
}

func TestChartsMarkColdStarts(t *testing.T) {
	frames := session(200)
	cols := live.Columns(frames, nil, live.LiveWindow, live.ColumnSize)
	circles := func(c live.Chart) int {
		n := 0
		for _, e := range parseSVG(t, string(c.SVG)) {
			if e.name == "circle" && e.attrs["r"] == "5" {
				n++
			}
		}
		return n
	}
	if n := circles(chartByKey(t, cols[2], live.ChartReplicas)); n != 3 {
		t.Errorf("event-driven replicas: %d cold starts marked, want 3 (one per function)", n)
	}
	c := chartByKey(t, cols[0], live.ChartReplicas)
	if n := circles(c); n != 0 || !strings.Contains(string(c.SVG), "one process, always on") {
		t.Errorf("monolith replicas: %d cold starts, or no word that it has no replicas:\n%s", n, c.SVG)
	}
}

func TestChartsThinLongSessionsKeepingSpikes(t *testing.T) {
	frames := session(live.MaxFrames)
	frames[5000].Variants[0].CPU = 7
	c := chartByKey(t, live.Charts(frames, nil, 0, 0, live.ColumnSize), live.ChartCPU)
	els := parseSVG(t, string(c.SVG))
	n := 0
	for _, p := range polylines(els, "#1f5fbf") {
		n += p
	}
	if n == 0 || n > 2*live.ColumnSize.Width {
		t.Errorf("CPU over %d frames drawn with %d points, want at most two per pixel", len(frames), n)
	}
	if ticks := yTicks(els); len(ticks) == 0 || ticks[len(ticks)-1] != "8" {
		t.Errorf("CPU ticks %v: the one-second spike to 7 cores was thinned away", ticks)
	}
	if !strings.Contains(strings.Join(texts(els), " "), "minutes into the session") {
		t.Error("a two-hour axis not in minutes")
	}
}

func TestChartsEscapeLabels(t *testing.T) {
	marks := []live.Mark{{Elapsed: 10, Kind: "note", Label: `<script>x</script>`}}
	for _, c := range live.Charts(session(30), marks, 0, live.LiveWindow, live.ColumnSize) {
		if strings.Contains(string(c.SVG), "<script") {
			t.Fatalf("%s: label not escaped", c.Key)
		}
		if all := strings.Join(texts(parseSVG(t, string(c.SVG))), ""); !strings.Contains(all, "<script>x</script>") {
			t.Errorf("%s: the label's text is not kept", c.Key)
		}
	}
}

func BenchmarkColumns(b *testing.B) {
	for _, bc := range []struct {
		name   string
		frames int
		window time.Duration
	}{
		{"300frames-live", 300, live.LiveWindow},
		{"7200frames-live", live.MaxFrames, live.LiveWindow},
		{"7200frames-whole", live.MaxFrames, 0},
	} {
		frames := session(bc.frames)
		var marks []live.Mark
		for s := 30.0; s < float64(bc.frames); s += 97 {
			marks = append(marks, live.Mark{Elapsed: s, Kind: "vision", Label: "vision slow"})
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				live.Columns(frames, marks, bc.window, live.ColumnSize)
			}
		})
	}
}
