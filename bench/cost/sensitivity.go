package cost

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/photobench/photobench/bench/results"
)

// The sensitivity analysis: for each verdict (which option is cheapest at
// the measured load, idle, and per million photos with their storage),
// which single input, changed by how much, makes another option the
// cheapest. The flips are found on the model itself: the load by solving
// the piecewise-linear monthly-cost lines exactly, the other inputs by
// scanning a factor and bisecting where the cheapest option changes.

// world is one setting of the inputs the sensitivity varies.
type world struct {
	load      float64 // photos/s
	transport string  // the event-driven candidate: OptLambda, OptLambdaMSK or OptLambdaSQS
	vm        float64 // factor on the VM's hourly price
	mem       float64 // factor on AWS Lambda's memory sizes (its GB-seconds)
	retention float64 // months each photo is stored (verdict "stored" only)
}

// verdict kinds.
const (
	verdictLoad   = "load"
	verdictIdle   = "idle"
	verdictStored = "stored"
)

// transports are the event-driven candidates; the first is the one the
// bench ran.
var transports = []string{OptLambda, OptLambdaMSK, OptLambdaSQS}

// transportName names an event transport in the sensitivity table.
var transportName = map[string]string{OptLambda: "MSK Serverless", OptLambdaMSK: "MSK provisioned", OptLambdaSQS: "SQS"}

// sensRow is one row of the sensitivity table.
type sensRow struct{ verdict, input, used, flip, change, after string }

// sens is the sensitivity analysis's outcome.
type sens struct {
	rows  []sensRow
	sents []string
	notes []string
}

// candidates are the options a verdict chooses among in world w: every
// monolith option and the event-driven app on AWS Lambda with w's
// transport, those with figures.
func (a *analysis) candidates(kind string, w world) []string {
	var out []string
	for _, o := range append(append([]string{}, vmOptions...), w.transport) {
		if _, ok := a.costIn(kind, o, w); ok {
			out = append(out, o)
		}
	}
	return out
}

// lineIn is option o's monthly-cost line in world w, with the storage of
// w.retention months when withStorage.
func (a *analysis) lineIn(o string, w world, withStorage bool) (line, bool) {
	l := a.lines[o]
	if !l.ok {
		return l, false
	}
	if onVM(o) {
		l.perVM *= w.vm
	} else if c := a.cost(o, "item/function compute"); c.ok() {
		l.slope += (w.mem - 1) * c.med * SecondsPerMonth
	} else if w.mem != 1 {
		return l, false
	}
	if withStorage {
		st := a.book.storagePerMillion(o)
		if !st.ok() {
			return l, false
		}
		l.slope += w.retention * st.v * SecondsPerMonth / 1e6
	}
	return l, true
}

// costIn is what option o costs in world w by the verdict's measure:
// USD/month at w.load, USD/hour idle, or USD per million photos with
// their storage.
func (a *analysis) costIn(kind, o string, w world) (float64, bool) {
	switch kind {
	case verdictIdle:
		return a.idleIn(o, w)
	case verdictStored:
		l, ok := a.lineIn(o, w, true)
		if !ok || !(w.load > 0) {
			return 0, false
		}
		return perMillion(l, w.load), true
	}
	l, ok := a.lineIn(o, w, false)
	return l.at(w.load), ok
}

// idleIn is option o's idle cost per hour in world w.
func (a *analysis) idleIn(o string, w world) (float64, bool) {
	if onVM(o) {
		lb := a.cost(o, "lb_hour")
		if !a.book.vmHourly.ok() || !lb.ok() || a.noRuns[archOf(o)] != "" {
			return 0, false
		}
		vms := 1.0
		if isHA(o) {
			vms = HAMinVMs
		}
		return w.vm*vms*a.book.vmHourly.v + lb.med, true
	}
	idle, compute := a.cost(o, "idle_hour"), a.cost(o, "idle_compute_hour")
	if !idle.ok() || !compute.ok() {
		return 0, false
	}
	return idle.med + (w.mem-1)*compute.med, true
}

// cheapest is the verdict's cheapest option in world w ("" when none has
// figures); ties go to the first in display order.
func (a *analysis) cheapest(kind string, w world) (string, float64) {
	best, bestCost := "", math.Inf(1)
	for _, o := range a.candidates(kind, w) {
		c, _ := a.costIn(kind, o, w)
		if c < bestCost*(1-1e-12) {
			best, bestCost = o, c
		}
	}
	return best, bestCost
}

// change is where the cheapest option changes as one input grows: at x,
// from the one below to the one above.
type change struct {
	x        float64
	from, to string
}

// loadChanges solves where the cheapest of the candidates' lines (in world
// w, with storage when withStorage) changes for loads in (0, hi]: the
// lines are linear between the monoliths' VM steps, so each segment's
// crossings are solved exactly and the cheapest is read between them.
func (a *analysis) loadChanges(w world, withStorage bool, hi float64) []change {
	kind := verdictLoad
	if withStorage {
		kind = verdictStored
	}
	cands := a.candidates(kind, w)
	ls := map[string]line{}
	pts := []float64{0, hi}
	for _, o := range cands {
		l, _ := a.lineIn(o, w, withStorage)
		ls[o] = l
		for k := 1; l.stepped() && float64(k)*l.capacity < hi && k <= maxSegments; k++ {
			pts = append(pts, float64(k)*l.capacity)
		}
	}
	sort.Float64s(pts)
	pts = dedup(pts)
	all := append([]float64{}, pts...)
	for i := 0; i+1 < len(pts); i++ {
		lo, up := pts[i], pts[i+1]
		mid := (lo + up) / 2
		for p := range cands {
			for q := p + 1; q < len(cands); q++ {
				lp, lq := ls[cands[p]], ls[cands[q]]
				if lp.slope == lq.slope {
					continue
				}
				if x := mid + (lq.at(mid)-lp.at(mid))/(lp.slope-lq.slope); x > lo && x < up {
					all = append(all, x)
				}
			}
		}
	}
	sort.Float64s(all)
	all = dedup(all)
	cheapestAt := func(x float64) string {
		best, bestCost := "", math.Inf(1)
		for _, o := range cands {
			if c := ls[o].at(x); c < bestCost*(1-1e-12) {
				best, bestCost = o, c
			}
		}
		return best
	}
	var out []change
	prev := ""
	for i := 0; i+1 < len(all); i++ {
		o := cheapestAt((all[i] + all[i+1]) / 2)
		if prev != "" && o != prev {
			out = append(out, change{x: all[i], from: prev, to: o})
		}
		prev = o
	}
	return out
}

// factorChange finds the nearest value of one input, from base towards
// limit (a factor's: stepping by 1% of itself; a retention's: by 0.01),
// where the cheapest option in world set(x) changes, and bisects it. ok is
// false when it does not change up to limit.
func (a *analysis) factorChange(kind string, set func(x float64) world, base, limit float64, geometric bool) (change, bool) {
	at := func(x float64) string { o, _ := a.cheapest(kind, set(x)); return o }
	from := at(base)
	step := func(x float64) float64 {
		up := limit > base
		switch {
		case geometric && up:
			return x * 1.01
		case geometric:
			return x / 1.01
		case up:
			return x + 0.01
		}
		return x - 0.01
	}
	beyond := func(x float64) bool { return (limit > base && x > limit) || (limit < base && x < limit) }
	prev := base
	for x := step(base); !beyond(x); prev, x = x, step(x) {
		if to := at(x); to != from {
			lo, hi := prev, x // the change is between them
			for range 60 {
				mid := (lo + hi) / 2
				if at(mid) == from {
					lo = mid
				} else {
					hi = mid
				}
			}
			return change{x: hi, from: from, to: at(hi)}, true
		}
	}
	return change{}, false
}

// sensitivity computes the sensitivity table and its sentences.
func (a *analysis) sensitivity() sens {
	var s sens
	l0, base := a.sensLoad()
	if !(l0 > 0) {
		s.rows = append(s.rows, sensRow{verdict: "all", input: "—", used: "—", flip: "n/a (" + base + ")", change: "—", after: "—"})
		return s
	}
	w0 := world{load: l0, transport: transports[0], vm: 1, mem: 1, retention: DefaultRetentionMonths}
	hi := max(a.xmax, 100*l0)
	verdicts := []struct{ kind, title, unit string }{
		{verdictLoad, fmt.Sprintf("cheapest at the measured %s photos/s, per month", num(l0)), "USD/month"},
		{verdictIdle, "cheapest idle, per hour", "USD/hour"},
		{verdictStored, fmt.Sprintf("cheapest per million photos at %s photos/s, with %s month of storage", num(l0), num(DefaultRetentionMonths)), "USD per million photos"},
	}
	for _, v := range verdicts {
		o, c := a.cheapest(v.kind, w0)
		if o == "" {
			s.rows = append(s.rows, sensRow{verdict: v.title, input: "—", used: "—", flip: "n/a (no option has the figures)", change: "—", after: "—"})
			continue
		}
		title := fmt.Sprintf("%s: %s (%s %s)", v.title, optionNames[o], money(c), v.unit)
		row := func(input, used, flip, chg, after string) {
			s.rows = append(s.rows, sensRow{title, input, used, flip, chg, after})
		}
		// Load, with each event transport.
		if v.kind != verdictIdle {
			for _, t := range transports {
				w := w0
				w.transport = t
				a.loadRows(&s, v.kind, w, hi, row)
			}
		} else {
			row("load (photos/s)", "none (idle)", "—", "—", "— (no load when idle)")
		}
		// The event transport.
		var parts []string
		flipped := ""
		for _, t := range transports[1:] {
			w := w0
			w.transport = t
			ot, ct := a.cheapest(v.kind, w)
			switch {
			case ot == "":
				parts = append(parts, transportName[t]+": n/a (no figures)")
			case ot != o:
				parts = append(parts, fmt.Sprintf("%s: flips", transportName[t]))
				flipped += fmt.Sprintf("with %s: %s (%s %s); ", transportName[t], optionNames[ot], money(ct), v.unit)
			default:
				tc, _ := a.costIn(v.kind, t, w)
				parts = append(parts, fmt.Sprintf("%s: no flip (its line %s %s)", transportName[t], money(tc), v.unit))
			}
		}
		if flipped == "" {
			flipped = "— (no flip)"
		}
		row("event transport (MSK choice)", transportName[w0.transport]+" (as measured)", strings.Join(parts, "; "), "—", strings.TrimSuffix(flipped, "; "))
		// The VM's price (its size or family), Lambda's memory sizes, the
		// storage retention.
		a.factorRow(v.kind, w0, row, "VM price (size or family; capacity unchanged)", "x1 (m6i.large)",
			func(x float64) world { w := w0; w.vm = x; return w }, 1, true, func(x float64) string {
				return fmt.Sprintf("x%s (USD %s/hour)", num(x), money(x*a.book.vmHourly.v))
			})
		a.factorRow(v.kind, w0, row, "AWS Lambda memory sizes (GB-seconds)", "x1 (sized from CPU-seconds)",
			func(x float64) world { w := w0; w.mem = x; return w }, 1, true, func(x float64) string { return "x" + num(x) })
		if v.kind == verdictStored {
			a.factorRow(v.kind, w0, row, "storage retention (months)", num(DefaultRetentionMonths),
				func(x float64) world { w := w0; w.retention = x; return w }, DefaultRetentionMonths, false, func(x float64) string { return num(x) + " months" })
		} else {
			row("storage retention (months)", "—", "—", "—", "— (storage is priced apart: see the storage table)")
		}
	}
	s.notes = []string{
		"Each row changes one input, the others as measured, and gives the nearest value at which the verdict's cheapest option changes, above and below the value used.",
		"Candidates: every monolith option and the event-driven app on AWS Lambda with one event transport at a time (MSK Serverless, as measured, unless the row says otherwise). The Azure Functions line, the AWS Lambda line with other function prices, is left out.",
		fmt.Sprintf("Load: solved exactly on the break-even chart's lines (linear between VM steps) between 0 and %s photos/s. Other inputs: scanned by steps of 1%% of the factor (0.01 month for the retention), from x0.01 to x100 (0 to 120 months), and bisected.", num(hi)),
		"VM price: the monolith's VM hourly price times the factor, its capacity unchanged: a cheaper or dearer size or family that still carries the load. AWS Lambda memory sizes: the GB-seconds times the factor, the invocations unchanged.",
		fmt.Sprintf("The measured load: the %s.", base),
	}
	return s
}

// loadRows adds the load rows of a verdict in world w: the nearest loads
// above and below w.load at which the cheapest option changes.
func (a *analysis) loadRows(s *sens, kind string, w world, hi float64, row func(input, used, flip, chg, after string)) {
	input := "load (photos/s), events on " + transportName[w.transport]
	changes := a.loadChanges(w, kind == verdictStored, hi)
	var above, below *change
	for i := range changes {
		c := &changes[i]
		if c.x > w.load && above == nil {
			above = c
		}
		if c.x <= w.load {
			below = c
		}
	}
	if above == nil && below == nil {
		row(input, num(w.load), fmt.Sprintf("no flip between 0 and %s", num(hi)), "—", "—")
		return
	}
	for _, c := range []*change{above, below} {
		if c == nil {
			continue
		}
		after := fmt.Sprintf("%s above it (%s below)", optionNames[c.to], optionNames[c.from])
		row(input, num(w.load), num(c.x), pct(c.x/w.load-1), after)
		if kind == verdictLoad {
			s.sents = append(s.sents, fmt.Sprintf("Sensitivity to load, events on %s: at %s photos/s the %s line crosses the %s line; below it the %s is the cheaper, above it the %s (the measured load is %s photos/s).",
				transportName[w.transport], num(c.x), optionNames[c.to], optionNames[c.from], optionNames[c.from], optionNames[c.to], num(w.load)))
		}
	}
}

// factorRow adds a row for one scanned input: the nearest value above and
// below base (to x100 and x0.01 when geometric, else to 120 and 0) where
// the verdict's cheapest option changes.
func (a *analysis) factorRow(kind string, w0 world, row func(input, used, flip, chg, after string), input, used string,
	set func(float64) world, base float64, geometric bool, show func(float64) string) {
	up, down := base*100, base/100
	if !geometric {
		up, down = 120, 0
	}
	var flips, changes, afters []string
	for _, limit := range []float64{up, down} {
		c, ok := a.factorChange(kind, set, base, limit, geometric)
		if !ok {
			continue
		}
		flips = append(flips, show(c.x))
		if geometric {
			changes = append(changes, pct(c.x/base-1))
		} else {
			changes = append(changes, fmt.Sprintf("%+.2f months", c.x-base))
		}
		afters = append(afters, fmt.Sprintf("%s at %s (%s before)", optionNames[c.to], show(c.x), optionNames[c.from]))
	}
	if len(flips) == 0 {
		lo, hi := show(down), show(up)
		row(input, used, fmt.Sprintf("no flip from %s to %s", lo, hi), "—", "—")
		return
	}
	row(input, used, strings.Join(flips, "; "), strings.Join(changes, "; "), strings.Join(afters, "; "))
}

// sensLoad is the load the sensitivity starts from: the event-driven
// run's measured load, else the first architecture's; and which it is, or
// why there is none.
func (a *analysis) sensLoad() (float64, string) {
	for _, arch := range append([]string{results.EventDriven}, archs...) {
		if l := a.get(arch, "load"); l.ok() && l.med > 0 {
			return l.med, fmt.Sprintf("%s run's measured load, %s photos/s", archNames[arch], num(l.med))
		}
	}
	return 0, "no data: no measured load"
}

// pct formats a relative change: "+112%", "-37.5%".
func pct(r float64) string {
	s := sig(100*r, 3) + "%"
	if r > 0 {
		s = "+" + s
	}
	return s
}

func (s sens) table() Table {
	t := Table{
		Title:  "Sensitivity: what flips each verdict",
		Header: []string{"verdict: the cheapest option", "input changed", "value used", "flips at", "change from the value used", "cheapest after the flip"},
		Notes:  s.notes,
	}
	for _, r := range s.rows {
		t.Rows = append(t.Rows, []string{r.verdict, r.input, r.used, r.flip, r.change, r.after})
	}
	return t
}

func (s sens) sentences() []string { return s.sents }
