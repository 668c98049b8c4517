package live

import (
	"html/template"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/photobench/photobench/bench/demo"
	"github.com/photobench/photobench/bench/report"
	"github.com/photobench/photobench/bench/report/svg"
	"github.com/photobench/photobench/bench/results"
)

// LiveWindow is the stretch of the session the live page draws; the
// export draws the whole session (window 0).
const LiveWindow = 300 * time.Second

// ChartSize is the size of one chart of a column, in pixels: its width and
// the height of its plot. The zero ChartSize is ColumnSize.
type ChartSize struct{ Width, PanelHeight int }

// ColumnSize fits three columns on a wide screen, and in the export (the
// report's page is 1180 pixels wide).
var ColumnSize = ChartSize{Width: 380, PanelHeight: 120}

// The charts of a column, by Key, in the order Charts returns them: every
// column has all of them, a chart that has nothing to show for its variant
// says so, so that the columns' charts line up.
const (
	ChartRate     = "rate"     // offered and achieved requests per second
	ChartErrors   = "errors"   // errors and dropped requests per second
	ChartAck      = "ack"      // upload ack latency p50 and p99
	ChartReady    = "ready"    // upload-to-ready latency p50 and p99
	ChartBacklog  = "backlog"  // jobs or messages queued, and photos pending
	ChartReplicas = "replicas" // replicas per function, cold starts marked
	ChartCPU      = "cpu"      // CPU cores used
)

// Chart is one chart of a variant's column: inline SVG, every text in it
// escaped.
type Chart struct {
	Key   string
	Title string
	SVG   template.HTML
}

// Charts draws variant's column (an index into Variants) over the last
// window of the frames (the whole of them when window is 0), with every
// mark in that window drawn across every chart as a vertical line labelled
// with what was pressed, coloured by its kind (dashed when the control
// failed). Unknown figures are gaps. Where a figure means the same in
// every column (rates, errors, latencies, replicas, CPU), its scale is the
// same in the three columns, so a taller line is a larger figure; the
// backlog's is not (jobs and messages are not the same unit).
func Charts(frames []Frame, marks []Mark, variant int, window time.Duration, size ChartSize) []Chart {
	if variant < 0 || variant >= len(Variants) {
		return nil
	}
	return newBoard(frames, marks, window, size).column(variant)
}

// Columns draws every variant's column at once: Columns(...)[v] is
// Charts(..., v, ...).
func Columns(frames []Frame, marks []Mark, window time.Duration, size ChartSize) [][]Chart {
	b := newBoard(frames, marks, window, size)
	out := make([][]Chart, len(Variants))
	for v := range Variants {
		out[v] = b.column(v)
	}
	return out
}

// board is every column's charts, built before any is drawn so that the
// scales they share can be set.
type board struct {
	charts [][]svg.LineChart // [variant][chart], in the order of keys
}

var keys = []string{ChartRate, ChartErrors, ChartAck, ChartReady, ChartBacklog, ChartReplicas, ChartCPU}

// shared tells which charts share their scale across the columns.
var shared = map[string]bool{ChartRate: true, ChartErrors: true, ChartAck: true, ChartReady: true, ChartReplicas: true, ChartCPU: true}

// span is the stretch of frames a board draws and its x axis.
type span struct {
	frames  []Frame // all of them: a rate needs the frame before the window
	from    int     // the first frame inside the window
	lo, hi  float64 // the x range, in the axis' unit
	unit    float64 // seconds per x unit: 1, or 60 for a long window
	cols    int     // plot width in pixels: more points than two per pixel are thinned
	gap     float64 // break a line where x jumps by more than this
	xlabel  string
	marks   []svg.Rule
	variant int
}

func newSpan(frames []Frame, marks []Mark, window time.Duration, size ChartSize) *span {
	s := &span{frames: frames, unit: 1, xlabel: "seconds into the session"}
	w := window.Seconds()
	var lo, hi float64
	switch {
	case len(frames) == 0:
		lo, hi = 0, math.Max(w, 1)
	case w > 0:
		hi = math.Max(frames[len(frames)-1].Elapsed, w)
		lo = hi - w
	default:
		lo, hi = frames[0].Elapsed, frames[len(frames)-1].Elapsed
	}
	if hi <= lo {
		hi = lo + 1
	}
	s.from = len(frames)
	for s.from > 0 && frames[s.from-1].Elapsed >= lo && (s.from == len(frames) || frames[s.from-1].Elapsed <= frames[s.from].Elapsed) {
		s.from--
	}
	if hi-lo > 900 {
		s.unit, s.xlabel = 60, "minutes into the session"
	}
	s.lo, s.hi = lo/s.unit, hi/s.unit
	s.cols = max(size.Width-46-12, 50) // less svg's margins of a narrow chart
	s.gap = math.Max(2.5, 2.5*(hi-lo)/float64(s.cols)) / s.unit
	for _, m := range marks {
		if m.Elapsed < lo || m.Elapsed > hi {
			continue
		}
		s.marks = append(s.marks, svg.Rule{X: m.Elapsed / s.unit, Label: shortLabel(m.Label), Colour: kindColour(m.Kind), Dashed: m.Error != ""})
	}
	return s
}

// shortLabel keeps a mark's label short enough for a column's chart.
func shortLabel(s string) string {
	const most = 20
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	r := []rune(s)
	return string(r[:most-1]) + "…"
}

// kindColour is a mark's colour, by its kind: apart from the
// architectures' blue, green and orange; the vision service's faults in
// the report's fault red.
func kindColour(kind string) string {
	switch kind {
	case "load":
		return "#37474f"
	case "vision":
		return "#e53935"
	case "kill":
		return "#8e24aa"
	case "restart":
		return "#c2185b"
	case "reset":
		return "#000000"
	case "scene":
		return "#6d4c41"
	}
	return "#757575"
}

// vf is frame i's figures of the span's variant, nil when the frame has
// none.
func (s *span) vf(i int) *VariantFrame {
	if i < 0 || s.variant >= len(s.frames[i].Variants) {
		return nil
	}
	return &s.frames[i].Variants[s.variant]
}

func (s *span) x(i int) float64 { return s.frames[i].Elapsed / s.unit }

// points is one figure over the window, thinned to the plot's width.
func (s *span) points(fig func(i int, f *VariantFrame) float64) []svg.Point {
	pts := make([]svg.Point, 0, len(s.frames)-s.from)
	for i := s.from; i < len(s.frames); i++ {
		y := math.NaN()
		if f := s.vf(i); f != nil {
			y = fig(i, f)
		}
		pts = append(pts, svg.Point{X: s.x(i), Y: y})
	}
	return thin(pts, s.lo, s.hi, s.cols)
}

// thin keeps, where there are more points than two per pixel column, each
// column's lowest and highest known point (in their order), and a gap
// where a column has no known point: spikes stay visible.
func thin(pts []svg.Point, lo, hi float64, cols int) []svg.Point {
	if len(pts) <= 2*cols || hi <= lo {
		return pts
	}
	scale := float64(cols) / (hi - lo)
	out := pts[:0] // in place: a column never keeps more points than it had
	for i := 0; i < len(pts); {
		b := int((pts[i].X - lo) * scale)
		first := pts[i]
		lowI, highI := -1, -1
		j := i
		for ; j < len(pts) && int((pts[j].X-lo)*scale) == b; j++ {
			if y := pts[j].Y; known(y) {
				if lowI < 0 || y < pts[lowI].Y {
					lowI = j
				}
				if highI < 0 || y > pts[highI].Y {
					highI = j
				}
			}
		}
		var low, high svg.Point
		if lowI >= 0 {
			low, high = pts[lowI], pts[highI]
		}
		switch {
		case lowI < 0:
			out = append(out, svg.Point{X: first.X, Y: math.NaN()})
		case lowI == highI:
			out = append(out, low)
		case lowI < highI:
			out = append(out, low, high)
		default:
			out = append(out, high, low)
		}
		i = j
	}
	return out
}

func anyKnown(pts []svg.Point) bool {
	for _, q := range pts {
		if known(q.Y) {
			return true
		}
	}
	return false
}

func known(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// num is a figure as a float, NaN when unknown.
func num(n Num) float64 {
	if !n.Known() {
		return math.NaN()
	}
	return float64(n)
}

// perSecond is the rise of a count from frame i-1 to frame i per second
// (a count that fell was started again: the reset control), NaN where
// either frame lacks it.
func (s *span) perSecond(i int, count func(f *VariantFrame) float64) float64 {
	prev, cur := s.vf(i-1), s.vf(i)
	if prev == nil || cur == nil {
		return math.NaN()
	}
	dt := s.frames[i].Elapsed - s.frames[i-1].Elapsed
	if dt <= 0 {
		return math.NaN()
	}
	return rise(count(prev), count(cur)) / dt
}

// rise is how much a count rose from a to b: b itself when it fell (it
// started again).
func rise(a, b float64) float64 {
	if b < a {
		return b
	}
	return b - a
}

func newBoard(frames []Frame, marks []Mark, window time.Duration, size ChartSize) *board {
	if size == (ChartSize{}) {
		size = ColumnSize
	}
	s := newSpan(frames, marks, window, size)
	b := &board{charts: make([][]svg.LineChart, len(Variants))}
	for v := range Variants {
		s.variant = v
		b.charts[v] = s.column(size)
	}
	b.shareScales()
	return b
}

// shareScales sets the top (and, on a log axis, the bottom) of every
// shared chart's panel to the extremes over every column.
func (b *board) shareScales() {
	for k, key := range keys {
		if !shared[key] {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, col := range b.charts {
			c := col[k]
			for _, p := range c.Panels {
				for _, l := range p.Lines {
					for _, q := range l.Points {
						if known(q.Y) && (!p.LogY || q.Y > 0) {
							lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
						}
					}
				}
			}
		}
		if !known(lo) || !(hi > 0) {
			continue
		}
		for _, col := range b.charts {
			for p := range col[k].Panels {
				col[k].Panels[p].YMax = hi
				if col[k].Panels[p].LogY {
					col[k].Panels[p].YMin = lo
				}
			}
		}
	}
}

func (b *board) column(v int) []Chart {
	out := make([]Chart, len(keys))
	for k, c := range b.charts[v] {
		out[k] = Chart{Key: keys[k], Title: c.Title, SVG: template.HTML(c.Render())}
	}
	return out
}

// column is the span's variant's charts, their scales not yet shared.
func (s *span) column(size ChartSize) []svg.LineChart {
	label := demoLabels[s.variant]
	dark, light := report.ArchColour(label, false), report.ArchColour(label, true)
	chart := func(title string, p svg.Panel) svg.LineChart {
		for i := range p.Lines {
			p.Lines[i].Gap = s.gap
		}
		return svg.LineChart{Title: title, XLabel: s.xlabel, XMin: s.lo, XMax: s.hi, Rules: s.marks, Panels: []svg.Panel{p},
			Width: float64(size.Width), PanelHeight: float64(size.PanelHeight)}
	}
	line := func(name, colour, dash string, width float64, fig func(i int, f *VariantFrame) float64) svg.Line {
		return svg.Line{Name: name, Colour: colour, Dash: dash, Width: width, Points: s.points(fig)}
	}
	readyEmpty := "no upload ready yet"
	if label == results.Monolith {
		readyEmpty = "ready when answered: see ack"
	}
	unit := "jobs or messages"
	for i := len(s.frames) - 1; i >= s.from; i-- {
		if f := s.vf(i); f != nil && f.BacklogUnit != "" {
			unit = f.BacklogUnit
			break
		}
	}
	backlog := []svg.Line{
		line("backlog ("+unit+")", dark, svg.DashSolid, 2, func(_ int, f *VariantFrame) float64 { return num(f.Backlog) }),
		line("pending photos", light, svg.DashDashed, 1.6, func(_ int, f *VariantFrame) float64 { return float64(f.Pending) }),
	}
	backlogLabel := unit + ", photos"
	if !anyKnown(backlog[0].Points) { // the sync monolith queues nothing
		backlog, backlogLabel = backlog[1:], "photos"
	}
	return []svg.LineChart{
		chart("Requests per second", svg.Panel{YLabel: "req/s", Empty: "no load figures yet", Lines: []svg.Line{
			line("offered", light, svg.DashDashed, 1.6, func(_ int, f *VariantFrame) float64 { return num(f.Offered) }),
			line("achieved (2xx)", dark, svg.DashSolid, 2, func(_ int, f *VariantFrame) float64 { return num(f.Achieved) }),
		}}),
		chart("Errors and dropped per second", svg.Panel{YLabel: "req/s", Empty: "no counts yet", Lines: []svg.Line{
			line("errors", dark, svg.DashSolid, 1.8, func(i int, _ *VariantFrame) float64 {
				return s.perSecond(i, func(f *VariantFrame) float64 { return float64(f.Errors) })
			}),
			line("dropped", dark, svg.DashDotted, 1.8, func(i int, _ *VariantFrame) float64 {
				return s.perSecond(i, func(f *VariantFrame) float64 { return float64(f.Dropped) })
			}),
		}}),
		chart("Upload ack latency", svg.Panel{YLabel: "latency", LogY: true, YTick: msTick, Empty: "no upload answered yet", Lines: []svg.Line{
			line("p50", light, svg.DashSolid, 1.6, func(_ int, f *VariantFrame) float64 { return num(f.AckP50) }),
			line("p99", dark, svg.DashSolid, 2, func(_ int, f *VariantFrame) float64 { return num(f.AckP99) }),
		}}),
		chart("Upload to ready latency", svg.Panel{YLabel: "latency", LogY: true, YTick: msTick, Empty: readyEmpty, Lines: []svg.Line{
			line("p50", light, svg.DashSolid, 1.6, func(_ int, f *VariantFrame) float64 { return num(f.ReadyP50) }),
			line("p99", dark, svg.DashSolid, 2, func(_ int, f *VariantFrame) float64 { return num(f.ReadyP99) }),
		}}),
		chart("Backlog and pending", svg.Panel{YLabel: backlogLabel, Empty: "no figures yet", Lines: backlog}),
		s.replicas(chart),
		chart("CPU", svg.Panel{YLabel: "cores", Empty: "CPU not measured", Lines: []svg.Line{
			line("cores used", dark, svg.DashSolid, 2, func(_ int, f *VariantFrame) float64 { return num(f.CPU) }),
		}}),
	}
}

// replicas is the replicas chart of the span's variant: a line per
// function (dashed: the replicas the scaler wanted), and a circle where
// its cold starts rose.
func (s *span) replicas(chart func(string, svg.Panel) svg.LineChart) svg.LineChart {
	var names []string
	seen := map[string]bool{}
	for i := s.from; i < len(s.frames); i++ {
		if f := s.vf(i); f != nil {
			for _, fn := range f.Functions {
				if !seen[fn.Name] {
					seen[fn.Name] = true
					names = append(names, fn.Name)
				}
			}
		}
	}
	p := svg.Panel{YLabel: "replicas", Empty: "one process, always on"}
	for _, name := range names {
		fig := func(field func(FunctionFrame) Num) func(int, *VariantFrame) float64 {
			return func(_ int, f *VariantFrame) float64 {
				if fn, ok := function(f, name); ok {
					return num(field(fn))
				}
				return math.NaN()
			}
		}
		colour := report.FunctionColour(name)
		p.Lines = append(p.Lines,
			svg.Line{Name: name, Colour: colour, Width: 2, Points: s.points(fig(func(fn FunctionFrame) Num { return fn.Replicas }))},
			svg.Line{Colour: colour, Dash: svg.DashDashed, Width: 1.2, Points: s.points(fig(func(fn FunctionFrame) Num { return fn.Desired }))})
		for i := max(s.from, 1); i < len(s.frames); i++ {
			prev, cur := s.vf(i-1), s.vf(i)
			if prev == nil || cur == nil {
				continue
			}
			a, okA := function(prev, name)
			c, okC := function(cur, name)
			if !okA || !okC || !a.ColdStarts.Known() || !c.ColdStarts.Known() || rise(float64(a.ColdStarts), float64(c.ColdStarts)) <= 0 {
				continue
			}
			y := 0.0
			if c.Replicas.Known() {
				y = float64(c.Replicas)
			}
			p.Marks = append(p.Marks, svg.Mark{X: s.x(i), Y: y})
		}
	}
	return chart("Replicas (- - wanted, ○ cold start)", p)
}

// function is f's function name.
func function(f *VariantFrame, name string) (FunctionFrame, bool) {
	for _, fn := range f.Functions {
		if fn.Name == name {
			return fn, true
		}
	}
	return FunctionFrame{}, false
}

// demoLabels are the variants' architecture labels.
var demoLabels = func() []string {
	out := make([]string, len(Variants))
	for i, name := range Variants {
		out[i] = demo.Label(name)
	}
	return out
}()

// msTick writes a latency tick given in milliseconds.
func msTick(v float64) string {
	if v >= 1000 {
		return strconv.FormatFloat(v/1000, 'g', 4, 64) + " s"
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " ms"
}
