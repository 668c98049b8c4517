// Package svg draws the report's charts as plain SVG: line charts of one or
// more panels over a shared x axis (linear or log, with shaded phases and
// faults, marks, rules and legends) and grouped bar charts. No scripts, no
// external fonts, no ids (the HTML report inlines several charts in one
// document), every text escaped. What the series mean, and their colours,
// are the caller's.
package svg

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The chart's own colours: faults, phase shading, grid, axes, text.
const (
	colFault  = "#e53935"
	colPhaseA = "#f1f1f1"
	colPhaseB = "#fafafa"
	colGrid   = "#e2e2e2"
	colAxis   = "#555555"
	colText   = "#222222"
)

// Neutral is the axes' grey, for reference lines (a limit, an SLO).
const Neutral = colAxis

// Dash patterns of a Line.
const (
	DashSolid   = ""
	DashDashed  = "7 4"
	DashDotted  = "2 3"
	DashDotDash = "9 3 2 3"
	DashLong    = "14 4"
)

// defaultNum formats a number where the caller gave no formatter: a log
// axis without a tick function, a bar chart without ValueFmt.
func defaultNum(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func esc(s string) string { return html.EscapeString(s) }

// Point is one point of a line; a NaN y breaks the line.
type Point struct{ X, Y float64 }

// Line is one series of a Line chart.
type Line struct {
	Name   string
	Colour string
	Dash   string
	Width  float64
	Points []Point
	Dots   bool    // mark every point
	Gap    float64 // break the line where x jumps by more than this (0: never)
}

// Panel is one plot area with its own y axis.
type Panel struct {
	YLabel string // with unit
	YTick  func(float64) string
	LogY   bool
	YMax   float64 // fixed top (0: from the data)
	YMin   float64 // fixed bottom of a log axis (0: from the data)
	Lines  []Line
	Marks  []Mark
	Empty  string // shown when the panel has no data
}

// Mark is a labelled point.
type Mark struct {
	X, Y  float64
	Label string
}

// Shade is a shaded stretch of x: a phase or a fault.
type Shade struct {
	From, To float64
	Label    string
	Fault    bool
}

// Rule is a vertical line across every panel at X, labelled at the top:
// a moment something happened.
type Rule struct {
	X      float64
	Label  string
	Colour string
	Dashed bool
}

// LineChart is one or more panels stacked over a shared x axis.
type LineChart struct {
	Title  string
	XLabel string
	XTick  func(float64) string
	LogX   bool
	XMin   float64 // used when xMax > xMin
	XMax   float64
	Shades []Shade
	Rules  []Rule // drawn when inside the x range
	Panels []Panel
	// Width and PanelHeight size the chart (0: the report's 880 and 190
	// pixels); a chart narrower than 600 pixels keeps narrower margins.
	Width, PanelHeight float64
}

const (
	chartW  = 880
	marginL = 78
	marginR = 24
	panelH  = 190
	panelGp = 36
	titleH  = 30
	shadeH  = 16 // room for phase labels above the first panel
)

// size is a chart's geometry: its width, the margins left and right of
// the plot, and a panel's height.
type size struct{ w, ml, mr, ph float64 }

// report is the report's size (every bar chart's).
var report = size{chartW, marginL, marginR, panelH}

func (c LineChart) size() size {
	s := report
	if c.Width > 0 {
		s.w = c.Width
		if c.Width < 600 {
			s.ml, s.mr = 46, 12
		}
	}
	if c.PanelHeight > 0 {
		s.ph = c.PanelHeight
	}
	return s
}

func fmtCoord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// appendCoord appends fmtCoord(v), without strconv's general formatting
// where v is a pixel (positive, not near a half tenth, where rounding v
// times ten is exact rounding of v): the live view draws every second.
func appendCoord(b []byte, v float64) []byte {
	n := v * 10
	if !math.Signbit(v) && v < 1e6 && math.Abs(n-math.Floor(n)-0.5) > 1e-6 {
		r := int64(math.Round(n))
		b = strconv.AppendInt(b, r/10, 10)
		return append(b, '.', byte('0'+r%10))
	}
	return strconv.AppendFloat(b, v, 'f', 1, 64)
}

type svgWriter struct {
	b strings.Builder
}

func (w *svgWriter) p(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

func (w *svgWriter) text(x, y float64, anchor, extra, s string) {
	w.p(`<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`+"\n", fmtCoord(x), fmtCoord(y), anchor, extra, esc(s))
}

func svgOpen(w *svgWriter, s size, height float64, title string) {
	w.p(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" font-family="sans-serif" font-size="11" fill="%s">`+"\n",
		s.w, height, s.w, height, colText)
	w.p("<title>%s</title>\n", esc(title))
	w.p(`<rect x="0" y="0" width="%.0f" height="%.0f" fill="#ffffff"/>`+"\n", s.w, height)
	w.p(`<text x="%.0f" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", s.ml, esc(title))
}

// axis maps data values to pixels, linearly or logarithmically.
type axis struct {
	lo, hi   float64 // data range (logs already taken when log)
	log      bool
	p0, p1   float64 // pixel range
	ticks    []float64
	tickText func(float64) string
}

func (a axis) px(v float64) float64 {
	if a.log {
		if v <= 0 {
			return a.p0
		}
		v = math.Log10(v)
	}
	if a.hi == a.lo {
		return (a.p0 + a.p1) / 2
	}
	f := (v - a.lo) / (a.hi - a.lo)
	f = math.Max(-0.02, math.Min(1.02, f))
	return a.p0 + f*(a.p1-a.p0)
}

// niceStep returns a step of 1, 2, 2.5 or 5 times a power of ten near span/n.
func niceStep(span float64, n int) float64 {
	if span <= 0 || math.IsNaN(span) || math.IsInf(span, 0) {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// linearAxis covers [lo, hi] with nice ticks.
func linearAxis(lo, hi float64, p0, p1 float64, n int, format func(float64) string) axis {
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		lo, hi = 0, 1
	}
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep(hi-lo, n)
	lo = math.Floor(lo/step+1e-9) * step
	hi = math.Ceil(hi/step-1e-9) * step
	dec := stepDecimals(step)
	if format == nil {
		format = func(v float64) string { return strconv.FormatFloat(v, 'f', dec, 64) }
	}
	a := axis{lo: lo, hi: hi, p0: p0, p1: p1, tickText: format}
	for i := 0; lo+float64(i)*step <= hi+step/1e6; i++ {
		t, _ := strconv.ParseFloat(strconv.FormatFloat(lo+float64(i)*step, 'f', dec+2, 64), 64)
		a.ticks = append(a.ticks, t)
	}
	return a
}

// stepDecimals is how many decimals the multiples of step need.
func stepDecimals(step float64) int {
	for d := 0; d < 10; d++ {
		m := step * math.Pow(10, float64(d))
		if math.Abs(m-math.Round(m)) < 1e-6*m {
			return d
		}
	}
	return 10
}

// logAxis covers [lo, hi] (both > 0) with ticks at powers of ten, and at
// 2 and 5 times them when the range is under three decades.
func logAxis(lo, hi float64, p0, p1 float64, format func(float64) string) axis {
	if !(lo > 0) || math.IsInf(lo, 0) {
		lo = 1e-3
	}
	if !(hi > lo) || math.IsInf(hi, 0) {
		hi = lo * 10
	}
	e0, e1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if e1 == e0 {
		e1++
	}
	a := axis{lo: e0, hi: e1, log: true, p0: p0, p1: p1, tickText: format}
	mults := []float64{1}
	if e1-e0 < 3 {
		mults = []float64{1, 2, 5}
	}
	for e := e0; e <= e1; e++ {
		for _, m := range mults {
			v := m * math.Pow(10, e)
			if math.Log10(v) <= e1+1e-9 {
				a.ticks = append(a.ticks, v)
			}
		}
	}
	return a
}

// legendItem is one entry of a legend.
type legendItem struct {
	name, colour, dash string
	bar                bool
}

// legendLayout places the items in rows and returns their positions and
// the height they take.
func legendLayout(items []legendItem, s size) (pos [][2]float64, height float64) {
	x, y := s.ml, 0.0
	for _, it := range items {
		w := 34 + 6.2*float64(len([]rune(it.name))) + 18
		if x+w > s.w-s.mr && x > s.ml {
			x, y = s.ml, y+18
		}
		pos = append(pos, [2]float64{x, y})
		x += w
	}
	if len(items) == 0 {
		return nil, 0
	}
	return pos, y + 18
}

func drawLegend(w *svgWriter, items []legendItem, s size, top float64) {
	pos, _ := legendLayout(items, s)
	for i, it := range items {
		x, y := pos[i][0], top+pos[i][1]
		if it.bar {
			w.p(`<rect x="%s" y="%s" width="22" height="10" fill="%s"/>`+"\n", fmtCoord(x), fmtCoord(y-9), it.colour)
		} else {
			w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="2.5"%s/>`+"\n",
				fmtCoord(x), fmtCoord(y-4), fmtCoord(x+26), fmtCoord(y-4), it.colour, dashAttr(it.dash))
		}
		w.text(x+32, y, "start", "", it.name)
	}
}

func dashAttr(d string) string {
	if d == "" {
		return ""
	}
	return fmt.Sprintf(` stroke-dasharray="%s"`, d)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Render draws the chart as an SVG document.
func (c LineChart) Render() []byte {
	s := c.size()
	xlo, xhi := c.xRange()
	legend := c.legend()
	_, legH := legendLayout(legend, s)
	top := float64(titleH)
	if len(c.Shades) > 0 {
		top += shadeH
	}
	n := max(len(c.Panels), 1)
	plotBottom := top + float64(n)*s.ph + float64(n-1)*panelGp
	height := plotBottom + 44 + legH + 8
	xa := c.xAxis(xlo, xhi, s)

	w := &svgWriter{}
	w.b.Grow(c.sizeHint())
	svgOpen(w, s, height, c.Title)
	c.drawShades(w, xa, top, plotBottom)
	for i, p := range c.Panels {
		pTop := top + float64(i)*(s.ph+panelGp)
		c.drawPanel(w, p, xa, s, pTop)
	}
	if len(c.Panels) == 0 {
		w.text(s.w/2, top+s.ph/2, "middle", ` fill="#777777"`, "no data")
	}
	c.drawRules(w, xa, s, top, plotBottom)
	// x axis
	for _, t := range xa.ticks {
		x := xa.px(t)
		w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", fmtCoord(x), fmtCoord(plotBottom), fmtCoord(x), fmtCoord(plotBottom+4), colAxis)
		w.text(x, plotBottom+16, "middle", "", xa.tickText(t))
	}
	w.text((s.ml+s.w-s.mr)/2, plotBottom+32, "middle", "", c.XLabel)
	drawLegend(w, legend, s, plotBottom+52)
	w.p("</svg>\n")
	return []byte(w.b.String())
}

// sizeHint is about the bytes the chart's SVG takes: its frame, and a
// dozen per point.
func (c LineChart) sizeHint() int {
	n := 4096
	for _, p := range c.Panels {
		for _, l := range p.Lines {
			n += 12 * len(l.Points)
		}
	}
	return n
}

// xRange is the chart's x range: the fixed one when XMax > XMin, else
// that of every point, mark and shade (positive x only on a log axis).
func (c LineChart) xRange() (xlo, xhi float64) {
	xlo, xhi = math.Inf(1), math.Inf(-1)
	if c.XMax > c.XMin {
		return c.XMin, c.XMax
	}
	for _, p := range c.Panels {
		for _, l := range p.Lines {
			for _, q := range l.Points {
				if finite(q.X) && (!c.LogX || q.X > 0) {
					xlo, xhi = math.Min(xlo, q.X), math.Max(xhi, q.X)
				}
			}
		}
		for _, m := range p.Marks {
			xlo, xhi = math.Min(xlo, m.X), math.Max(xhi, m.X)
		}
	}
	for _, s := range c.Shades {
		xlo, xhi = math.Min(xlo, s.From), math.Max(xhi, s.To)
	}
	return xlo, xhi
}

// legend lists every named line once (by name, colour and dash), in the
// panels' order, then the faults.
func (c LineChart) legend() []legendItem {
	var legend []legendItem
	seen := map[string]bool{}
	for _, p := range c.Panels {
		for _, l := range p.Lines {
			k := l.Name + "\x00" + l.Colour + "\x00" + l.Dash
			if l.Name != "" && !seen[k] {
				seen[k] = true
				legend = append(legend, legendItem{name: l.Name, colour: l.Colour, dash: l.Dash})
			}
		}
	}
	if names := faultNames(c.Shades); len(names) > 0 {
		legend = append(legend, legendItem{name: "fault: " + strings.Join(names, ", "), colour: colFault, bar: true})
	}
	return legend
}

// xAxis is the shared x axis over [xlo, xhi]; a linear one keeps exactly
// that window when it is fixed or shaded, rather than rounding it out.
func (c LineChart) xAxis(xlo, xhi float64, s size) axis {
	xt := c.XTick
	if xt == nil && c.LogX {
		xt = defaultNum
	}
	if c.LogX {
		return logAxis(xlo, xhi, s.ml, s.w-s.mr, xt)
	}
	xa := linearAxis(xlo, xhi, s.ml, s.w-s.mr, max(3, int(s.w/88)), xt)
	if c.XMax > c.XMin || len(c.Shades) > 0 { // keep the exact window
		xa.lo, xa.hi = xlo, xhi
		var ticks []float64
		for _, t := range xa.ticks {
			if t >= xlo-1e-9 && t <= xhi+1e-9 {
				ticks = append(ticks, t)
			}
		}
		xa.ticks = ticks
	}
	return xa
}

// drawShades draws the shades over every panel, from top to plotBottom:
// phases in alternating greys labelled above the first panel, faults
// tinted and labelled inside.
func (c LineChart) drawShades(w *svgWriter, xa axis, top, plotBottom float64) {
	for i, s := range c.Shades {
		x0, x1 := xa.px(s.From), xa.px(s.To)
		if x1 <= x0 {
			continue
		}
		if s.Fault {
			w.p(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.16"/>`+"\n",
				fmtCoord(x0), fmtCoord(top), fmtCoord(x1-x0), fmtCoord(plotBottom-top), colFault)
			w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"/>`+"\n", fmtCoord(x0), fmtCoord(top), fmtCoord(x0), fmtCoord(plotBottom), colFault)
			w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"/>`+"\n", fmtCoord(x1), fmtCoord(top), fmtCoord(x1), fmtCoord(plotBottom), colFault)
			if s.Label != "" && fitsLabel(s.Label, x1-x0) {
				w.text((x0+x1)/2, top+24, "middle", fmt.Sprintf(` font-size="10" fill="%s" stroke="#ffffff" stroke-width="3" paint-order="stroke"`, colFault), s.Label)
			}
			continue
		}
		fill := colPhaseA
		if i%2 == 1 {
			fill = colPhaseB
		}
		w.p(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", fmtCoord(x0), fmtCoord(top), fmtCoord(x1-x0), fmtCoord(plotBottom-top), fill)
		w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#c8c8c8" stroke-width="1"/>`+"\n", fmtCoord(x0), fmtCoord(top-shadeH+2), fmtCoord(x0), fmtCoord(plotBottom))
		if fitsLabel(s.Label, x1-x0) {
			w.text((x0+x1)/2, top-4, "middle", ` font-size="10" fill="#555555"`, s.Label)
		}
	}
}

// drawRules draws the rules inside the x range across every panel, from
// top to plotBottom, each labelled at the top of the plot in the first of
// three rows where its label overlaps no other (unlabelled when none has
// room: the line is still drawn).
func (c LineChart) drawRules(w *svgWriter, xa axis, s size, top, plotBottom float64) {
	lo, hi := math.Min(xa.p0, xa.p1), math.Max(xa.p0, xa.p1)
	var taken [3]float64 // per label row, the right end of its last label
	for i := range taken {
		taken[i] = math.Inf(-1)
	}
	for _, r := range sortedRules(c.Rules) {
		x := xa.px(r.X)
		if !finite(r.X) || x < lo || x > hi {
			continue
		}
		w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1.3"%s/>`+"\n",
			fmtCoord(x), fmtCoord(top), fmtCoord(x), fmtCoord(plotBottom), r.Colour, dashAttr(ruleDash(r.Dashed)))
		if r.Label == "" {
			continue
		}
		width := 5.6*float64(utf8.RuneCountInString(r.Label)) + 4
		a, anchor, tx := x+3, "start", x+3
		if a+width > s.w-s.mr {
			a, anchor, tx = x-3-width, "end", x-3
		}
		for row := range taken {
			if taken[row] < a {
				taken[row] = a + width
				w.text(tx, top+26+float64(row)*12, anchor, fmt.Sprintf(` font-size="10" fill="%s" stroke="#ffffff" stroke-width="3" paint-order="stroke"`, r.Colour), r.Label)
				break
			}
		}
	}
}

func ruleDash(dashed bool) string {
	if dashed {
		return "4 3"
	}
	return DashSolid
}

// sortedRules is rs by x, keeping the order of rules at the same x.
func sortedRules(rs []Rule) []Rule {
	out := append([]Rule(nil), rs...)
	slices.SortStableFunc(out, func(a, b Rule) int { return cmp.Compare(a.X, b.X) })
	return out
}

// faultNames lists the labelled faults' names, in order.
func faultNames(ss []Shade) []string {
	var out []string
	for _, s := range ss {
		if s.Fault && s.Label != "" {
			out = append(out, s.Label)
		}
	}
	return out
}

func fitsLabel(s string, width float64) bool { return 5.6*float64(len([]rune(s)))+4 <= width }

// drawPanel draws one panel from top: its y axis and grid, its lines and
// its marks, or its Empty message when it has no point to plot.
func (c LineChart) drawPanel(w *svgWriter, p Panel, xa axis, s size, top float64) {
	bottom := top + s.ph
	ya, points := c.yAxis(p, top, bottom)
	// grid and y ticks
	for _, t := range ya.ticks {
		y := ya.px(t)
		w.p(`<line x1="%.0f" y1="%s" x2="%.0f" y2="%s" stroke="%s" stroke-width="1"/>`+"\n", s.ml, fmtCoord(y), s.w-s.mr, fmtCoord(y), colGrid)
		w.text(s.ml-6, y+4, "end", "", ya.tickText(t))
	}
	w.p(`<line x1="%.0f" y1="%s" x2="%.0f" y2="%s" stroke="%s"/>`+"\n", s.ml, fmtCoord(top), s.ml, fmtCoord(bottom), colAxis)
	w.p(`<line x1="%.0f" y1="%s" x2="%.0f" y2="%s" stroke="%s"/>`+"\n", s.ml, fmtCoord(bottom), s.w-s.mr, fmtCoord(bottom), colAxis)
	ylab := p.YLabel
	if p.LogY {
		ylab += " (log scale)"
	}
	w.p(`<text x="%.0f" y="%s" font-size="11" font-weight="bold">%s</text>`+"\n", s.ml+6, fmtCoord(top+12), esc(ylab))
	if points == 0 {
		msg := p.Empty
		if msg == "" {
			msg = "no data"
		}
		w.text((s.ml+s.w-s.mr)/2, top+s.ph/2, "middle", ` fill="#777777"`, msg)
		return
	}
	for _, l := range p.Lines {
		c.drawLine(w, l, p.LogY, xa, ya)
	}
	for _, m := range p.Marks {
		x, y := xa.px(m.X), ya.px(m.Y)
		w.p(`<circle cx="%s" cy="%s" r="5" fill="none" stroke="#000000" stroke-width="1.6"/>`+"\n", fmtCoord(x), fmtCoord(y))
		w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000" stroke-dasharray="2 3"/>`+"\n", fmtCoord(x), fmtCoord(y), fmtCoord(x), fmtCoord(bottom))
		anchor := "start"
		dx := 8.0
		if x > s.w-min(240, s.w/2) {
			anchor, dx = "end", -8
		}
		w.text(x+dx, y-8, anchor, ` font-size="11" font-weight="bold" stroke="#ffffff" stroke-width="3" paint-order="stroke"`, m.Label)
	}
}

// yAxis is panel p's y axis between bottom and top, over its points and
// marks within the chart's x range (from 0 when linear), and the number of
// them.
func (c LineChart) yAxis(p Panel, top, bottom float64) (ya axis, points int) {
	yt := p.YTick
	if yt == nil && p.LogY {
		yt = defaultNum
	}
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, l := range p.Lines {
		for _, q := range l.Points {
			if !finite(q.Y) || (p.LogY && q.Y <= 0) {
				continue
			}
			if c.XMax > c.XMin && (q.X < c.XMin || q.X > c.XMax) {
				continue
			}
			ylo, yhi = math.Min(ylo, q.Y), math.Max(yhi, q.Y)
			points++
		}
	}
	for _, m := range p.Marks {
		if finite(m.Y) {
			ylo, yhi = math.Min(ylo, m.Y), math.Max(yhi, m.Y)
			points++
		}
	}
	if p.LogY {
		if p.YMin > 0 {
			ylo = p.YMin
		}
		if p.YMax > 0 {
			yhi = p.YMax
		}
		return logAxis(ylo, yhi, bottom, top, yt), points
	}
	lo := math.Min(0, ylo)
	hi := yhi
	if p.YMax > 0 {
		hi = p.YMax
	}
	if points == 0 {
		lo, hi = 0, 1
	}
	return linearAxis(lo, hi, bottom, top, 5, yt), points
}

// drawLine draws line l as polylines between its breaks, a lone point as a
// dot, and a dot on every point when l asks for them.
func (c LineChart) drawLine(w *svgWriter, l Line, logY bool, xa, ya axis) {
	width := l.Width
	if width == 0 {
		width = 1.6
	}
	var pts []byte // one buffer for every segment: the live view draws every second
	for _, seg := range segments(c.clip(l), logY, c.LogX) {
		if len(seg) == 1 {
			w.p(`<circle cx="%s" cy="%s" r="1.8" fill="%s"/>`+"\n", fmtCoord(xa.px(seg[0].X)), fmtCoord(ya.px(seg[0].Y)), l.Colour)
			continue
		}
		pts = pts[:0]
		for i, q := range seg {
			if i > 0 {
				pts = append(pts, ' ')
			}
			pts = appendCoord(pts, xa.px(q.X))
			pts = append(pts, ',')
			pts = appendCoord(pts, ya.px(q.Y))
		}
		w.p(`<polyline points="%s" fill="none" stroke="%s" stroke-width="%.1f" stroke-linejoin="round"%s/>`+"\n",
			pts, l.Colour, width, dashAttr(l.Dash))
		if l.Dots {
			for _, q := range seg {
				w.p(`<circle cx="%s" cy="%s" r="2.6" fill="%s"/>`+"\n", fmtCoord(xa.px(q.X)), fmtCoord(ya.px(q.Y)), l.Colour)
			}
		}
	}
}

// clip drops the points outside a fixed x range.
func (c LineChart) clip(l Line) Line {
	if !(c.XMax > c.XMin) {
		return l
	}
	inside := func(q Point) bool { return q.X >= c.XMin && q.X <= c.XMax }
	if !slices.ContainsFunc(l.Points, func(q Point) bool { return !inside(q) }) {
		return l // no copy: the live view draws every second
	}
	var pts []Point
	for _, q := range l.Points {
		if inside(q) {
			pts = append(pts, q)
		}
	}
	l.Points = pts
	return l
}

// segments splits a line where a y is missing (NaN, or <= 0 on a log axis)
// or the x gap is wider than the line allows. The segments are runs of
// the line's points, not copies.
func segments(l Line, logY, logX bool) [][]Point {
	var out [][]Point
	start := -1 // the current segment's first point
	for i, q := range l.Points {
		if !finite(q.X) || !finite(q.Y) || (logY && q.Y <= 0) || (logX && q.X <= 0) {
			if start >= 0 {
				out = append(out, l.Points[start:i])
			}
			start = -1
			continue
		}
		if l.Gap > 0 && start >= 0 && q.X-l.Points[i-1].X > l.Gap {
			out = append(out, l.Points[start:i])
			start = -1
		}
		if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, l.Points[start:])
	}
	return out
}

// BarSeries is one bar per group.
type BarSeries struct {
	Name   string
	Colour string
	Values []float64 // one per group; NaN: no value
}

// BarChart is a grouped bar chart.
type BarChart struct {
	Title    string
	YLabel   string
	YTick    func(float64) string
	ValueFmt func(float64) string
	Groups   []string
	Series   []BarSeries
}

// Render draws the chart as an SVG document.
func (c BarChart) Render() []byte {
	const plotH = 240
	top := float64(titleH + 10)
	bottom := top + plotH
	var legend []legendItem
	for _, s := range c.Series {
		legend = append(legend, legendItem{name: s.Name, colour: s.Colour, bar: true})
	}
	_, legH := legendLayout(legend, report)
	ng := max(len(c.Groups), 1)
	groupW := float64(chartW-marginL-marginR) / float64(ng)
	rotate := false
	for _, g := range c.Groups {
		if 6.2*float64(len([]rune(g))) > groupW-4 {
			rotate = true
		}
	}
	labelH := 22.0
	if rotate {
		labelH = 70
	}
	height := bottom + labelH + 10 + legH + 6
	yt := c.YTick
	hi := 0.0
	for _, s := range c.Series {
		for _, v := range s.Values {
			if finite(v) {
				hi = math.Max(hi, v)
			}
		}
	}
	if hi == 0 {
		hi = 1
	}
	ya := linearAxis(0, hi*1.08, bottom, top, 5, yt)
	w := &svgWriter{}
	svgOpen(w, report, height, c.Title)
	for _, t := range ya.ticks {
		y := ya.px(t)
		w.p(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s"/>`+"\n", marginL, fmtCoord(y), chartW-marginR, fmtCoord(y), colGrid)
		w.text(marginL-6, y+4, "end", "", ya.tickText(t))
	}
	w.p(`<text x="%d" y="%s" font-size="11" font-weight="bold">%s</text>`+"\n", marginL+6, fmtCoord(top-4), esc(c.YLabel))
	for gi, g := range c.Groups {
		c.drawGroup(w, gi, ya, groupW, bottom)
		cx := float64(marginL) + (float64(gi)+0.5)*groupW
		if rotate {
			w.p(`<text x="%s" y="%s" text-anchor="end" transform="rotate(-35 %s %s)">%s</text>`+"\n",
				fmtCoord(cx), fmtCoord(bottom+14), fmtCoord(cx), fmtCoord(bottom+14), esc(g))
		} else {
			w.text(cx, bottom+16, "middle", "", g)
		}
	}
	w.p(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s"/>`+"\n", marginL, fmtCoord(top), marginL, fmtCoord(bottom), colAxis)
	w.p(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s"/>`+"\n", marginL, fmtCoord(bottom), chartW-marginR, fmtCoord(bottom), colAxis)
	if len(c.Groups) == 0 {
		w.text(chartW/2, top+plotH/2, "middle", ` fill="#777777"`, "no data")
	}
	drawLegend(w, legend, report, bottom+labelH+18)
	w.p("</svg>\n")
	return []byte(w.b.String())
}

// drawGroup draws group gi's bars, one per series, each labelled with its
// value where the label fits; a missing value is written n/a.
func (c BarChart) drawGroup(w *svgWriter, gi int, ya axis, groupW, bottom float64) {
	vf := c.ValueFmt
	if vf == nil {
		vf = defaultNum
	}
	ns := max(len(c.Series), 1)
	barW := groupW * 0.8 / float64(ns)
	gx := float64(marginL) + float64(gi)*groupW + groupW*0.1
	for si, s := range c.Series {
		x := gx + float64(si)*barW
		v := math.NaN()
		if gi < len(s.Values) {
			v = s.Values[gi]
		}
		if !finite(v) {
			w.text(x+barW/2, bottom-4, "middle", ` font-size="9" fill="#777777"`, "n/a")
			continue
		}
		y := ya.px(v)
		w.p(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", fmtCoord(x+1), fmtCoord(y), fmtCoord(math.Max(barW-2, 1)), fmtCoord(bottom-y), s.Colour)
		label := vf(v)
		if 5.2*float64(len([]rune(label))) <= barW+6 {
			w.text(x+barW/2, y-3, "middle", ` font-size="9"`, label)
		}
	}
}
