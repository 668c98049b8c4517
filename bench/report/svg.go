package report

import (
	"fmt"
	"html"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The charts are plain SVG written here: no scripts, no external fonts, no
// ids (the HTML inlines several charts in one document), every text escaped.

// Colours: one hue per architecture, used the same way in every chart.
const (
	colMonolith      = "#1f5fbf"
	colMonolithLight = "#8fb3ea"
	colEvent         = "#d9730d"
	colEventLight    = "#f2b880"
	colFault         = "#e53935"
	colPhaseA        = "#f1f1f1"
	colPhaseB        = "#fafafa"
	colGrid          = "#e2e2e2"
	colAxis          = "#555555"
	colText          = "#222222"
)

// Dash patterns.
const (
	dashSolid  = ""
	dashDashed = "7 4"
	dashDotted = "2 3"
	dashDotDsh = "9 3 2 3"
	dashLong   = "14 4"
)

// warm is the palette of the event-driven functions: warm hues, apart from
// the monolith's blue.
var warm = []string{"#d9730d", "#a3360f", "#e0a800", "#c2185b", "#7b4a2d", "#ff5722", "#8e6c00", "#6d1b3f"}

// functionColour gives each event-driven function a fixed colour.
func functionColour(name string) string {
	order := []string{"thumbnailer", "tagger", "catalog", "ingest", "query", "front", "runtime"}
	for i, n := range order {
		if n == name {
			return warm[i]
		}
	}
	h := 0
	for _, c := range name {
		h = h*31 + int(c)
	}
	return warm[(h%len(warm)+len(warm))%len(warm)]
}

func archColour(arch string, light bool) string {
	if arch == archMonolith {
		if light {
			return colMonolithLight
		}
		return colMonolith
	}
	if light {
		return colEventLight
	}
	return colEvent
}

func esc(s string) string { return html.EscapeString(s) }

// pt is one point of a line; a NaN y breaks the line.
type pt struct{ x, y float64 }

// line is one series of a line chart.
type line struct {
	name   string
	colour string
	dash   string
	width  float64
	pts    []pt
	dots   bool    // mark every point
	gap    float64 // break the line where x jumps by more than this (0: never)
}

// panel is one plot area with its own y axis.
type panel struct {
	yLabel string // with unit
	yTick  func(float64) string
	logY   bool
	yMax   float64 // fixed top (0: from the data)
	lines  []line
	marks  []mark
	empty  string // shown when the panel has no data
}

// mark is a labelled point.
type mark struct {
	x, y  float64
	label string
}

// shade is a shaded stretch of x: a phase or a fault.
type shade struct {
	from, to float64
	label    string
	fault    bool
}

// lineChart is one or more panels stacked over a shared x axis.
type lineChart struct {
	title  string
	xLabel string
	xTick  func(float64) string
	logX   bool
	xMin   float64 // used when xMax > xMin
	xMax   float64
	shades []shade
	panels []panel
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

func fmtCoord(v float64) string { return fmt.Sprintf("%.1f", v) }

type svgWriter struct {
	b strings.Builder
}

func (w *svgWriter) p(format string, args ...any) { fmt.Fprintf(&w.b, format, args...) }

func (w *svgWriter) text(x, y float64, anchor, extra, s string) {
	w.p(`<text x="%s" y="%s" text-anchor="%s"%s>%s</text>`+"\n", fmtCoord(x), fmtCoord(y), anchor, extra, esc(s))
}

func svgOpen(w *svgWriter, height float64, title string) {
	w.p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%.0f" viewBox="0 0 %d %.0f" role="img" font-family="sans-serif" font-size="11" fill="%s">`+"\n",
		chartW, height, chartW, height, colText)
	w.p("<title>%s</title>\n", esc(title))
	w.p(`<rect x="0" y="0" width="%d" height="%.0f" fill="#ffffff"/>`+"\n", chartW, height)
	w.p(`<text x="%d" y="20" font-size="14" font-weight="bold">%s</text>`+"\n", marginL, esc(title))
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
func legendLayout(items []legendItem) (pos [][2]float64, height float64) {
	x, y := float64(marginL), 0.0
	for _, it := range items {
		w := 34 + 6.2*float64(len([]rune(it.name))) + 18
		if x+w > chartW-marginR && x > marginL {
			x, y = marginL, y+18
		}
		pos = append(pos, [2]float64{x, y})
		x += w
	}
	if len(items) == 0 {
		return nil, 0
	}
	return pos, y + 18
}

func drawLegend(w *svgWriter, items []legendItem, top float64) {
	pos, _ := legendLayout(items)
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

// render draws the chart as an SVG document.
func (c lineChart) render() []byte {
	// x range
	xlo, xhi := math.Inf(1), math.Inf(-1)
	if c.xMax > c.xMin {
		xlo, xhi = c.xMin, c.xMax
	} else {
		for _, p := range c.panels {
			for _, l := range p.lines {
				for _, q := range l.pts {
					if finite(q.x) && (!c.logX || q.x > 0) {
						xlo, xhi = math.Min(xlo, q.x), math.Max(xhi, q.x)
					}
				}
			}
			for _, m := range p.marks {
				xlo, xhi = math.Min(xlo, m.x), math.Max(xhi, m.x)
			}
		}
		for _, s := range c.shades {
			xlo, xhi = math.Min(xlo, s.from), math.Max(xhi, s.to)
		}
	}
	xt := c.xTick
	if xt == nil && c.logX {
		xt = compactNum
	}
	var legend []legendItem
	seen := map[string]bool{}
	for _, p := range c.panels {
		for _, l := range p.lines {
			k := l.name + "\x00" + l.colour + "\x00" + l.dash
			if l.name != "" && !seen[k] {
				seen[k] = true
				legend = append(legend, legendItem{name: l.name, colour: l.colour, dash: l.dash})
			}
		}
	}
	if names := faultNames(c.shades); len(names) > 0 {
		legend = append(legend, legendItem{name: "fault: " + strings.Join(names, ", "), colour: colFault, bar: true})
	}
	_, legH := legendLayout(legend)
	top := float64(titleH)
	if len(c.shades) > 0 {
		top += shadeH
	}
	n := max(len(c.panels), 1)
	plotBottom := top + float64(n)*panelH + float64(n-1)*panelGp
	height := plotBottom + 44 + legH + 8

	var xa axis
	if c.logX {
		xa = logAxis(xlo, xhi, marginL, chartW-marginR, xt)
	} else {
		xa = linearAxis(xlo, xhi, marginL, chartW-marginR, 10, xt)
		if c.xMax > c.xMin || len(c.shades) > 0 { // keep the exact window
			xa.lo, xa.hi = xlo, xhi
			var ticks []float64
			for _, t := range xa.ticks {
				if t >= xlo-1e-9 && t <= xhi+1e-9 {
					ticks = append(ticks, t)
				}
			}
			xa.ticks = ticks
		}
	}

	w := &svgWriter{}
	svgOpen(w, height, c.title)
	// shades over every panel
	for i, s := range c.shades {
		x0, x1 := xa.px(s.from), xa.px(s.to)
		if x1 <= x0 {
			continue
		}
		if s.fault {
			w.p(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s" fill-opacity="0.16"/>`+"\n",
				fmtCoord(x0), fmtCoord(top), fmtCoord(x1-x0), fmtCoord(plotBottom-top), colFault)
			w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"/>`+"\n", fmtCoord(x0), fmtCoord(top), fmtCoord(x0), fmtCoord(plotBottom), colFault)
			w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="1"/>`+"\n", fmtCoord(x1), fmtCoord(top), fmtCoord(x1), fmtCoord(plotBottom), colFault)
			if s.label != "" && fitsLabel(s.label, x1-x0) {
				w.text((x0+x1)/2, top+24, "middle", fmt.Sprintf(` font-size="10" fill="%s" stroke="#ffffff" stroke-width="3" paint-order="stroke"`, colFault), s.label)
			}
			continue
		}
		fill := colPhaseA
		if i%2 == 1 {
			fill = colPhaseB
		}
		w.p(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", fmtCoord(x0), fmtCoord(top), fmtCoord(x1-x0), fmtCoord(plotBottom-top), fill)
		w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#c8c8c8" stroke-width="1"/>`+"\n", fmtCoord(x0), fmtCoord(top-shadeH+2), fmtCoord(x0), fmtCoord(plotBottom))
		if fitsLabel(s.label, x1-x0) {
			w.text((x0+x1)/2, top-4, "middle", ` font-size="10" fill="#555555"`, s.label)
		}
	}
	for i, p := range c.panels {
		pTop := top + float64(i)*(panelH+panelGp)
		c.drawPanel(w, p, xa, pTop, i == len(c.panels)-1)
	}
	if len(c.panels) == 0 {
		w.text(chartW/2, top+panelH/2, "middle", ` fill="#777777"`, "no data")
	}
	// x axis
	for _, t := range xa.ticks {
		x := xa.px(t)
		w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s"/>`+"\n", fmtCoord(x), fmtCoord(plotBottom), fmtCoord(x), fmtCoord(plotBottom+4), colAxis)
		w.text(x, plotBottom+16, "middle", "", xa.tickText(t))
	}
	w.text((marginL+chartW-marginR)/2, plotBottom+32, "middle", "", c.xLabel)
	drawLegend(w, legend, plotBottom+52)
	w.p("</svg>\n")
	return []byte(w.b.String())
}

// faultNames lists the labelled faults' names, in order.
func faultNames(ss []shade) []string {
	var out []string
	for _, s := range ss {
		if s.fault && s.label != "" {
			out = append(out, s.label)
		}
	}
	return out
}

func fitsLabel(s string, width float64) bool { return 5.6*float64(len([]rune(s)))+4 <= width }

func (c lineChart) drawPanel(w *svgWriter, p panel, xa axis, top float64, last bool) {
	bottom := top + panelH
	yt := p.yTick
	if yt == nil && p.logY {
		yt = compactNum
	}
	ylo, yhi := math.Inf(1), math.Inf(-1)
	points := 0
	for _, l := range p.lines {
		for _, q := range l.pts {
			if !finite(q.y) || (p.logY && q.y <= 0) {
				continue
			}
			if c.xMax > c.xMin && (q.x < c.xMin || q.x > c.xMax) {
				continue
			}
			ylo, yhi = math.Min(ylo, q.y), math.Max(yhi, q.y)
			points++
		}
	}
	for _, m := range p.marks {
		if finite(m.y) {
			ylo, yhi = math.Min(ylo, m.y), math.Max(yhi, m.y)
			points++
		}
	}
	var ya axis
	if p.logY {
		ya = logAxis(ylo, yhi, bottom, top, yt)
	} else {
		lo := math.Min(0, ylo)
		hi := yhi
		if p.yMax > 0 {
			hi = p.yMax
		}
		if points == 0 {
			lo, hi = 0, 1
		}
		ya = linearAxis(lo, hi, bottom, top, 5, yt)
	}
	// grid and y ticks
	for _, t := range ya.ticks {
		y := ya.px(t)
		w.p(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s" stroke-width="1"/>`+"\n", marginL, fmtCoord(y), chartW-marginR, fmtCoord(y), colGrid)
		w.text(marginL-6, y+4, "end", "", ya.tickText(t))
	}
	w.p(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s"/>`+"\n", marginL, fmtCoord(top), marginL, fmtCoord(bottom), colAxis)
	w.p(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s"/>`+"\n", marginL, fmtCoord(bottom), chartW-marginR, fmtCoord(bottom), colAxis)
	ylab := p.yLabel
	if p.logY {
		ylab += " (log scale)"
	}
	w.p(`<text x="%d" y="%s" font-size="11" font-weight="bold">%s</text>`+"\n", marginL+6, fmtCoord(top+12), esc(ylab))
	if points == 0 {
		msg := p.empty
		if msg == "" {
			msg = "no data"
		}
		w.text((marginL+chartW-marginR)/2, top+panelH/2, "middle", ` fill="#777777"`, msg)
		return
	}
	for _, l := range p.lines {
		width := l.width
		if width == 0 {
			width = 1.6
		}
		for _, seg := range segments(c.clip(l), p.logY, c.logX) {
			var sb strings.Builder
			for i, q := range seg {
				if i > 0 {
					sb.WriteByte(' ')
				}
				sb.WriteString(fmtCoord(xa.px(q.x)) + "," + fmtCoord(ya.px(q.y)))
			}
			if len(seg) == 1 {
				w.p(`<circle cx="%s" cy="%s" r="1.8" fill="%s"/>`+"\n", fmtCoord(xa.px(seg[0].x)), fmtCoord(ya.px(seg[0].y)), l.colour)
				continue
			}
			w.p(`<polyline points="%s" fill="none" stroke="%s" stroke-width="%.1f" stroke-linejoin="round"%s/>`+"\n",
				sb.String(), l.colour, width, dashAttr(l.dash))
			if l.dots {
				for _, q := range seg {
					w.p(`<circle cx="%s" cy="%s" r="2.6" fill="%s"/>`+"\n", fmtCoord(xa.px(q.x)), fmtCoord(ya.px(q.y)), l.colour)
				}
			}
		}
	}
	for _, m := range p.marks {
		x, y := xa.px(m.x), ya.px(m.y)
		w.p(`<circle cx="%s" cy="%s" r="5" fill="none" stroke="#000000" stroke-width="1.6"/>`+"\n", fmtCoord(x), fmtCoord(y))
		w.p(`<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#000000" stroke-dasharray="2 3"/>`+"\n", fmtCoord(x), fmtCoord(y), fmtCoord(x), fmtCoord(bottom))
		anchor := "start"
		dx := 8.0
		if x > chartW-240 {
			anchor, dx = "end", -8
		}
		w.text(x+dx, y-8, anchor, ` font-size="11" font-weight="bold" stroke="#ffffff" stroke-width="3" paint-order="stroke"`, m.label)
	}
}

// clip drops the points outside a fixed x range.
func (c lineChart) clip(l line) line {
	if !(c.xMax > c.xMin) {
		return l
	}
	var pts []pt
	for _, q := range l.pts {
		if q.x >= c.xMin && q.x <= c.xMax {
			pts = append(pts, q)
		}
	}
	l.pts = pts
	return l
}

// segments splits a line where a y is missing (NaN, or <= 0 on a log axis)
// or the x gap is wider than the line allows.
func segments(l line, logY, logX bool) [][]pt {
	var out [][]pt
	var cur []pt
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
		}
		cur = nil
	}
	for _, q := range l.pts {
		if !finite(q.x) || !finite(q.y) || (logY && q.y <= 0) || (logX && q.x <= 0) {
			flush()
			continue
		}
		if l.gap > 0 && len(cur) > 0 && q.x-cur[len(cur)-1].x > l.gap {
			flush()
		}
		cur = append(cur, q)
	}
	flush()
	return out
}

// barSeries is one bar per group.
type barSeries struct {
	name   string
	colour string
	values []float64 // one per group; NaN: no value
}

// barChart is a grouped bar chart.
type barChart struct {
	title    string
	yLabel   string
	yTick    func(float64) string
	valueFmt func(float64) string
	groups   []string
	series   []barSeries
}

func (c barChart) render() []byte {
	const plotH = 240
	top := float64(titleH + 10)
	bottom := top + plotH
	var legend []legendItem
	for _, s := range c.series {
		legend = append(legend, legendItem{name: s.name, colour: s.colour, bar: true})
	}
	_, legH := legendLayout(legend)
	ng := max(len(c.groups), 1)
	groupW := float64(chartW-marginL-marginR) / float64(ng)
	rotate := false
	for _, g := range c.groups {
		if 6.2*float64(len([]rune(g))) > groupW-4 {
			rotate = true
		}
	}
	labelH := 22.0
	if rotate {
		labelH = 70
	}
	height := bottom + labelH + 10 + legH + 6
	yt := c.yTick
	vf := c.valueFmt
	if vf == nil {
		vf = compactNum
	}
	hi := 0.0
	for _, s := range c.series {
		for _, v := range s.values {
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
	svgOpen(w, height, c.title)
	for _, t := range ya.ticks {
		y := ya.px(t)
		w.p(`<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="%s"/>`+"\n", marginL, fmtCoord(y), chartW-marginR, fmtCoord(y), colGrid)
		w.text(marginL-6, y+4, "end", "", ya.tickText(t))
	}
	w.p(`<text x="%d" y="%s" font-size="11" font-weight="bold">%s</text>`+"\n", marginL+6, fmtCoord(top-4), esc(c.yLabel))
	ns := max(len(c.series), 1)
	barW := groupW * 0.8 / float64(ns)
	for gi, g := range c.groups {
		gx := float64(marginL) + float64(gi)*groupW + groupW*0.1
		for si, s := range c.series {
			x := gx + float64(si)*barW
			v := math.NaN()
			if gi < len(s.values) {
				v = s.values[gi]
			}
			if !finite(v) {
				w.text(x+barW/2, bottom-4, "middle", ` font-size="9" fill="#777777"`, "n/a")
				continue
			}
			y := ya.px(v)
			w.p(`<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", fmtCoord(x+1), fmtCoord(y), fmtCoord(math.Max(barW-2, 1)), fmtCoord(bottom-y), s.colour)
			label := vf(v)
			if 5.2*float64(len([]rune(label))) <= barW+6 {
				w.text(x+barW/2, y-3, "middle", ` font-size="9"`, label)
			}
		}
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
	if len(c.groups) == 0 {
		w.text(chartW/2, top+plotH/2, "middle", ` fill="#777777"`, "no data")
	}
	drawLegend(w, legend, bottom+labelH+18)
	w.p("</svg>\n")
	return []byte(w.b.String())
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
