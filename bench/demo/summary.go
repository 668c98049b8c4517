package demo

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/photobench/photobench/loadgen"
)

// Summary is a demo's Outcome reduced to the figures of its one-screen
// summary. Summarize computes it; Write prints it.
type Summary struct {
	Fault       Fault
	Rate        float64
	Users       int
	Durations   [3]time.Duration // the planned phases
	Archs       []ArchFigures    // in the order of Archs
	Conclusion  string           // plain words, computed from the figures
	Interrupted bool
	FollowUpCut bool
}

// ArchFigures are one architecture's figures, per phase (see Phases), and
// its backlog's (nil for an architecture that queues nothing: the
// monolith).
type ArchFigures struct {
	Name    string
	Phases  [3]PhaseFigures
	Backlog *Backlog
}

// PhaseFigures are one architecture's uploads in one phase. Times are in
// seconds.
type PhaseFigures struct {
	Answered    uint64 // uploads answered: OK + Refused + OtherErrors
	OK          uint64 // accepted (201 or 202)
	Refused     uint64 // answered 5xx
	OtherErrors uint64 // 4xx, timeouts, transport errors
	// Answer is the uploads' latency from their intended start to the
	// answer, refusals included.
	Answer loadgen.Quantiles
	// Followed accepted uploads, Ready of them became ready; ToReady is
	// upload-to-ready (to the server's ready_at) of those, LastReady when
	// the last of them did.
	Followed, Ready uint64
	ToReady         loadgen.Quantiles
	LastReady       time.Time
}

// Backlog summarises the samples of an architecture's backlog: the async
// monolith's jobs not finished, the event-driven app's messages not yet
// handled.
type Backlog struct {
	Unit      string // "jobs", "messages"
	Known     bool
	Why       string        // why not Known
	PreFault  float64       // the highest sample in the before phase's second half
	Peak      float64       // the highest sample from the fault's start on
	PeakAfter time.Duration // from the fault's start to the peak
	CaughtUp  bool          // a sample from the fault's end on was back at PreFault
	CatchUp   time.Duration // from the fault's end to that sample
}

// Summarize computes the summary of a demo's outcome. It is a pure
// function of o.
func Summarize(o Outcome) Summary {
	s := Summary{Fault: o.Fault, Rate: o.Rate, Users: o.Users, Durations: o.Durations,
		Interrupted: o.Interrupted, FollowUpCut: o.FollowUpCut}
	for _, a := range o.Archs {
		af := ArchFigures{Name: a.Name}
		for i, name := range Phases {
			ps, ok := a.Summary.Phase(name)
			if !ok {
				continue
			}
			st := ps.Ops[loadgen.OpUpload]
			f := PhaseFigures{OK: st.OK, Refused: st.ErrorsByClass["5xx"], Answer: st.Latency, LastReady: a.LastReady[name]}
			f.OtherErrors = st.Errors - f.Refused
			f.Answered = f.OK + st.Errors
			if r := ps.Ready; r != nil {
				f.Followed, f.Ready, f.ToReady = r.Followed, r.Ready, r.Latency
			}
			af.Phases[i] = f
		}
		if q, ok := backlogs[a.Name]; ok {
			b := backlog(o, a.Backlog, a.BacklogError)
			b.Unit = q.unit
			af.Backlog = &b
		}
		s.Archs = append(s.Archs, af)
	}
	s.Conclusion = conclusion(s, o)
	return s
}

// backlog summarises the samples of one backlog over o's phases; why says
// why there are none, if there are none.
func backlog(o Outcome, samples []BacklogSample, why string) Backlog {
	if len(samples) == 0 {
		if why == "" {
			why = "no samples"
		}
		return Backlog{Why: why}
	}
	b := Backlog{Known: true}
	// The pre-fault level is read from the before phase's second half: its
	// first seconds include the functions' scale from zero, whose backlog
	// says nothing about the fault.
	settled := o.FaultStart.Add(-o.Durations[0] / 2)
	early, late := 0.0, -1.0
	peakSeen := false
	for _, l := range samples {
		switch {
		case l.At.Before(settled):
			early = max(early, l.Value)
		case l.At.Before(o.FaultStart):
			late = max(late, l.Value)
		case !peakSeen || l.Value > b.Peak:
			b.Peak, b.PeakAfter, peakSeen = l.Value, l.At.Sub(o.FaultStart), true
		}
	}
	b.PreFault = late
	if late < 0 {
		b.PreFault = early // no sample in the second half: the whole phase
	}
	if !peakSeen {
		b.Peak = b.PreFault
	}
	for _, l := range samples {
		if !l.At.Before(o.FaultEnd) && l.Value <= b.PreFault {
			b.CaughtUp, b.CatchUp = true, l.At.Sub(o.FaultEnd)
			break
		}
	}
	return b
}

// subject is how a sentence names an architecture.
func subject(name string) string {
	if name == EventDriven {
		return "the event-driven app"
	}
	return "the " + name
}

// conclusion puts the figures into sentences: what each architecture did
// with the uploads during the fault; then either how the monolith
// recovered (when it refused most uploads) or what the fault did to
// latency; then, when both ran, how the async monolith and the event-driven
// app (which both answer before the work is done) differed before the
// fault: one process against many. The backlogs have lines of their own.
func conclusion(s Summary, o Outcome) string {
	if len(s.Archs) == 0 {
		return ""
	}
	noun := s.Fault.Noun
	var clauses []string
	var mono, async, ed *ArchFigures
	for i := range s.Archs {
		a := &s.Archs[i]
		switch a.Name {
		case Monolith:
			mono = a
			clauses = append(clauses, monolithClause(a.Phases[1]))
		default:
			clauses = append(clauses, queuedClause(a.Name, a.Phases[1], o.FaultEnd, noun))
		}
		switch a.Name {
		case MonolithAsync:
			async = a
		case EventDriven:
			ed = a
		}
	}
	out := []string{fmt.Sprintf("During the %s %s.", noun, strings.Join(clauses, "; "))}

	if m := mono; m != nil && m.Phases[1].Answered > 0 && 2*(m.Phases[1].Refused+m.Phases[1].OtherErrors) > m.Phases[1].Answered {
		if after := m.Phases[2]; after.Answered > 0 {
			out = append(out, fmt.Sprintf("Once vision was back the monolith accepted %d of %d uploads again;"+
				" those it refused are lost unless their users retry.", after.OK, after.Answered))
		}
	} else {
		var parts []string
		for _, a := range s.Archs {
			before, during := a.Phases[0], a.Phases[1]
			if a.Name == Monolith {
				parts = append(parts, fmt.Sprintf("monolith %s -> %s (vision is inside its request)",
					cell(before.Answer.P99, before.Answer.Count), cell(during.Answer.P99, during.Answer.Count)))
				continue
			}
			parts = append(parts, fmt.Sprintf("%s ack %s -> %s, upload to ready %s -> %s", a.Name,
				cell(before.Answer.P99, before.Answer.Count), cell(during.Answer.P99, during.Answer.Count),
				cell(before.ToReady.P99, before.ToReady.Count), cell(during.ToReady.P99, during.ToReady.Count)))
		}
		out = append(out, "Upload p99 before -> during: "+strings.Join(parts, "; ")+".")
	}

	if async != nil && ed != nil {
		a, e := async.Phases[0].ToReady, ed.Phases[0].ToReady
		if a.Count > 0 && e.Count > 0 {
			out = append(out, fmt.Sprintf("Both answering before the work is done, the async monolith (one process, its jobs in its"+
				" own PostgreSQL) had uploads ready in p50 %s before the %s, the event-driven app (functions tied by MinIO's"+
				" events and Kafka) in %s.", cell(a.P50, a.Count), noun, cell(e.P50, e.Count)))
		}
	}
	return strings.Join(out, " ")
}

// monolithClause says what the monolith did with the uploads in the fault
// phase (f): all accepted, some failed or refused.
func monolithClause(f PhaseFigures) string {
	switch {
	case f.Answered == 0:
		return "the monolith answered no upload"
	case f.Refused+f.OtherErrors == 0:
		return fmt.Sprintf("the monolith accepted all %d uploads", f.Answered)
	case f.Refused == 0:
		return fmt.Sprintf("the monolith failed %d of %d uploads", f.OtherErrors, f.Answered)
	}
	c := fmt.Sprintf("the monolith refused %d of %d uploads (5xx)", f.Refused, f.Answered)
	if f.OtherErrors > 0 {
		c += fmt.Sprintf(" and failed %d more", f.OtherErrors)
	}
	return c
}

// queuedClause says what an architecture that answers before the work is
// done (name) did with the uploads in the fault phase (f): how many it
// accepted, and when they were all ready, relative to the fault's end.
func queuedClause(name string, f PhaseFigures, faultEnd time.Time, noun string) string {
	c := fmt.Sprintf("%s accepted %d of %d", subject(name), f.OK, f.Answered)
	switch {
	case f.OK == 0:
	case f.Ready >= f.OK && f.LastReady.After(faultEnd):
		c += fmt.Sprintf(" and had them all ready %s after the %s ended", words(f.LastReady.Sub(faultEnd)), noun)
	case f.Ready >= f.OK:
		c += fmt.Sprintf(" and had them all ready during the %s", noun)
	default:
		c += fmt.Sprintf(" and had %d of them ready by the end of the demo", f.Ready)
	}
	return c
}

// Width and Height bound the printed summary: one screen.
const (
	Width  = 100
	Height = 30
)

// Layout of the tables: a label column, then one column per phase.
const (
	labelWidth = 22
	cellWidth  = 26
)

// Write prints the summary: at most Height lines of at most Width columns.
func (s Summary) Write(w io.Writer) error {
	var lines []string
	add := func(format string, args ...any) {
		lines = append(lines, strings.TrimRight(fmt.Sprintf(format, args...), " "))
	}
	title := fmt.Sprintf("photobench demo %s: %s for %s", s.Fault.Name, s.Fault.Title, words(s.Durations[1]))
	if s.Interrupted {
		title += " (STOPPED EARLY)"
	}
	lines = append(lines, wrap(title, Width, "  ")...)
	apps := fmt.Sprintf("all %d apps", len(s.Archs))
	if len(s.Archs) == 2 {
		apps = "both apps"
	}
	add("the same load on %s at once: %g req/s each (upload 60%%, get 20%%, list 20%%), %d users", apps, s.Rate, s.Users)
	add("")
	header := fmt.Sprintf("%-*s", labelWidth, "")
	for i, name := range []string{PhaseBefore, s.Fault.Noun, PhaseAfter} {
		header += fmt.Sprintf("%-*s", cellWidth, fmt.Sprintf("%s %s", name, words(s.Durations[i])))
	}
	add("%s", header)
	table := func(title string, cellOf func(PhaseFigures) string) {
		add("%s", title)
		for _, a := range s.Archs {
			row := fmt.Sprintf("%-*s", labelWidth, "  "+a.Name)
			for _, f := range a.Phases {
				row += fmt.Sprintf("%-*s", cellWidth, cellOf(f))
			}
			add("%s", row)
		}
	}
	table("uploads accepted / refused (5xx)", func(f PhaseFigures) string {
		c := fmt.Sprintf("%d / %d", f.OK, f.Refused)
		if f.OtherErrors > 0 {
			c += fmt.Sprintf(" +%d failed", f.OtherErrors)
		}
		return c
	})
	table("upload answered in p50 / p99 (refusals included)", func(f PhaseFigures) string {
		return cell(f.Answer.P50, f.Answer.Count) + " / " + cell(f.Answer.P99, f.Answer.Count)
	})
	table("upload to ready p50 / p99 (ready of accepted)", func(f PhaseFigures) string {
		return fmt.Sprintf("%s / %s (%d/%d)", cell(f.ToReady.P50, f.ToReady.Count), cell(f.ToReady.P99, f.ToReady.Count), f.Ready, f.OK)
	})
	backlogs := false
	for _, a := range s.Archs {
		if a.Backlog == nil {
			continue
		}
		if !backlogs {
			add("backlog before the %s / its peak, into it / back to the level before", s.Fault.Noun)
			backlogs = true
		}
		for i, l := range wrap(a.Backlog.text(), Width-labelWidth, "") {
			label := ""
			if i == 0 {
				label = "  " + a.Name
			}
			add("%-*s%s", labelWidth, label, l)
		}
	}
	if s.FollowUpCut {
		add("(the follow-up time ran out while accepted uploads were still pending)")
	}
	add("")
	lines = append(lines, wrap(s.Conclusion, Width, "")...)
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

// text is a backlog's figures for its line of the summary: before the
// fault, the peak and when, and when it was back.
func (b Backlog) text() string {
	if !b.Known {
		return "unknown (" + b.Why + ")"
	}
	back := "not back by the end of the demo"
	if b.CaughtUp {
		back = "back by " + words(b.CatchUp) + " after it ended"
	}
	return fmt.Sprintf("%s: %.0f / %.0f at %s / %s", b.Unit, b.PreFault, b.Peak, words(b.PeakAfter), back)
}

// cell formats a latency of a table cell: "-" when there were none.
func cell(seconds float64, count int64) string {
	if count == 0 {
		return "-"
	}
	switch {
	case seconds < 0.001:
		return fmt.Sprintf("%.0fµs", seconds*1e6)
	case seconds < 1:
		return fmt.Sprintf("%.0fms", seconds*1e3)
	case seconds < 10:
		return fmt.Sprintf("%.2fs", seconds)
	case seconds < 100:
		return fmt.Sprintf("%.1fs", seconds)
	}
	return fmt.Sprintf("%.0fs", seconds)
}

// words formats a duration for a sentence: "14.2 s", "40 s", "350 ms".
func words(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// wrap breaks text into lines of at most width columns at spaces, each
// line after the first starting with indent.
func wrap(text string, width int, indent string) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		switch {
		case line == "":
			line = word
			if len(lines) > 0 {
				line = indent + word
			}
		case len([]rune(line))+1+len([]rune(word)) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = indent + word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
