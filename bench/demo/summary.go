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
	Archs       []ArchFigures    // Monolith, then EventDriven
	Backlog     Backlog          // the event-driven app's
	Conclusion  string           // plain words, computed from the figures
	Interrupted bool
	FollowUpCut bool
}

// ArchFigures are one architecture's figures, per phase (see Phases).
type ArchFigures struct {
	Name   string
	Phases [3]PhaseFigures
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

// Backlog summarises the samples of the event-driven app's backlog
// (sum(photobench_runtime_lag)).
type Backlog struct {
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
		s.Archs = append(s.Archs, af)
	}
	s.Backlog = backlog(o)
	s.Conclusion = conclusion(s, o)
	return s
}

func backlog(o Outcome) Backlog {
	if len(o.Lag) == 0 {
		why := o.LagError
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
	for _, l := range o.Lag {
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
	for _, l := range o.Lag {
		if !l.At.Before(o.FaultEnd) && l.Value <= b.PreFault {
			b.CaughtUp, b.CatchUp = true, l.At.Sub(o.FaultEnd)
			break
		}
	}
	return b
}

// conclusion puts the figures into two sentences: what each architecture
// did with the uploads during the fault, then either how the monolith
// recovered (when it refused most uploads) or what the fault did to
// latency. The backlog has a line of its own.
func conclusion(s Summary, o Outcome) string {
	if len(s.Archs) != 2 {
		return ""
	}
	noun := s.Fault.Noun
	mono, ed := s.Archs[0].Phases, s.Archs[1].Phases
	m, e := mono[1], ed[1]
	var out []string

	var first string
	switch {
	case m.Answered == 0:
		first = fmt.Sprintf("During the %s the monolith answered no upload", noun)
	case m.Refused+m.OtherErrors == 0:
		first = fmt.Sprintf("During the %s the monolith accepted all %d uploads", noun, m.Answered)
	case m.Refused == 0:
		first = fmt.Sprintf("During the %s the monolith failed %d of %d uploads", noun, m.OtherErrors, m.Answered)
	default:
		first = fmt.Sprintf("During the %s the monolith refused %d of %d uploads (5xx)", noun, m.Refused, m.Answered)
		if m.OtherErrors > 0 {
			first += fmt.Sprintf(" and failed %d more", m.OtherErrors)
		}
	}
	first += fmt.Sprintf("; the event-driven app accepted %d of %d", e.OK, e.Answered)
	switch {
	case e.OK == 0:
	case e.Ready >= e.OK && e.LastReady.After(o.FaultEnd):
		first += fmt.Sprintf(" and had them all ready %s after the %s ended", words(e.LastReady.Sub(o.FaultEnd)), noun)
	case e.Ready >= e.OK:
		first += fmt.Sprintf(" and had them all ready during the %s", noun)
	default:
		first += fmt.Sprintf(" and had %d of them ready by the end of the demo", e.Ready)
	}
	out = append(out, first+".")

	if m.Answered > 0 && 2*(m.Refused+m.OtherErrors) > m.Answered {
		if after := mono[2]; after.Answered > 0 {
			out = append(out, fmt.Sprintf("Once vision was back the monolith accepted %d of %d uploads again;"+
				" those it refused are lost unless their users retry.", after.OK, after.Answered))
		}
	} else {
		out = append(out, fmt.Sprintf("Upload p99 before -> during: monolith %s -> %s (vision is inside its request);"+
			" event-driven ack %s -> %s, upload to ready %s -> %s.",
			cell(mono[0].Answer.P99, mono[0].Answer.Count), cell(m.Answer.P99, m.Answer.Count),
			cell(ed[0].Answer.P99, ed[0].Answer.Count), cell(e.Answer.P99, e.Answer.Count),
			cell(ed[0].ToReady.P99, ed[0].ToReady.Count), cell(e.ToReady.P99, e.ToReady.Count)))
	}

	return strings.Join(out, " ")
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
	add("the same load on both apps at once: %g req/s each (upload 60%%, get 20%%, list 20%%), %d users",
		s.Rate, s.Users)
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
	if b := s.Backlog; b.Known {
		line := fmt.Sprintf("event-driven backlog (photobench_runtime_lag, messages): %.0f before the %s, peak %.0f at %s into it,",
			b.PreFault, s.Fault.Noun, b.Peak, words(b.PeakAfter))
		if b.CaughtUp {
			line += fmt.Sprintf(" back to %.0f by %s after it ended", b.PreFault, words(b.CatchUp))
		} else {
			line += fmt.Sprintf(" not back to %.0f by the end of the demo", b.PreFault)
		}
		lines = append(lines, wrap(line, Width, "  ")...)
	} else {
		lines = append(lines, wrap("event-driven backlog: unknown ("+b.Why+")", Width, "  ")...)
	}
	if s.FollowUpCut {
		add("(the follow-up time ran out while accepted uploads were still pending)")
	}
	add("")
	lines = append(lines, wrap(s.Conclusion, Width, "")...)
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
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
