package live

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/photobench/photobench/bench/report"
)

// Snapshot is what an export keeps of a session.
type Snapshot struct {
	Title          string
	Started, Ended time.Time
	Frames         []Frame
	Marks          []Mark
	// Settings are the session's knobs: rates, the stack's versions, the
	// machine.
	Settings map[string]string
	Notes    []string
}

// FileName is a name to save the snapshot under.
func (s Snapshot) FileName() string {
	return "photobench-live-" + s.Started.UTC().Format("2006-01-02T1504Z") + ".html"
}

// Export writes the snapshot as one self-contained HTML file in the bench
// report's style, to hand out after a workshop: the settings, the timeline
// of what was pressed, each variant's figures at the end, and the charts
// of the whole session in three columns. Nothing in it is fetched: the
// stylesheet and the charts are inline, and it has no script.
func Export(w io.Writer, s Snapshot) error {
	if err := exportPage.Execute(w, newExport(s)); err != nil {
		return fmt.Errorf("export live session: %w", err)
	}
	return nil
}

// export is what the page's template shows.
type export struct {
	CSS                         template.CSS
	Title                       string
	Covers                      string
	Notes                       []string
	Settings, Timeline, Summary table
	Footnotes                   []string
	Variants                    []string
	Rows                        [][]Chart // [chart][variant]: a row of the grid
}

// table is a table of text; Empty is said instead when it has no row.
type table struct {
	Caption string
	Header  []string
	Rows    [][]string
	Code    int // the column shown as code (-1: none)
	Empty   string
}

type summaryRow struct {
	UploadsOK, Errors, Dropped              string
	Ack, Ready, PeakBacklog, DLQ, CPU, Cost string
}

// exportCSS is the report's stylesheet and the grid of the columns.
const exportCSS = report.Stylesheet + `
.columns{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:.2em 1em;align-items:start}
.columns h3{margin:.4em 0}
.columns figure{margin:.2em 0}`

func newExport(s Snapshot) export {
	e := export{CSS: template.CSS(exportCSS), Title: s.Title, Covers: covers(s), Notes: s.Notes, Variants: Variants,
		Settings: table{Header: []string{"setting", "value"}, Code: 1, Empty: "No settings recorded."},
		Timeline: table{Caption: "What was pressed, and what the session did by itself, in order",
			Header: []string{"time into the session", "kind", "what", "error"}, Code: -1, Empty: "Nothing was pressed."},
		Summary: table{Caption: fmt.Sprintf("Each variant at the end of the session (counts since its start or the last reset; "+
			"latencies over the last %.0f s, CPU and cost over the last %.0f s)",
			LatencyWindow.Seconds(), CostWindow.Seconds()),
			Header: []string{"variant", "uploads ok", "errors", "dropped", "ack p50 / p99", "ready p50 / p99", "peak backlog",
				"dead-lettered / reconciled", "CPU (cores)", "cost per million photos"}, Code: -1},
	}
	if e.Title == "" {
		e.Title = "photobench live session"
	}
	for _, k := range sortedKeys(s.Settings) {
		e.Settings.Rows = append(e.Settings.Rows, []string{k, s.Settings[k]})
	}
	for _, m := range s.Marks {
		e.Timeline.Rows = append(e.Timeline.Rows, []string{clock(m.Elapsed), m.Kind, m.Label, m.Error})
	}
	for v, name := range Variants {
		r, notes := summary(s.Frames, v)
		e.Summary.Rows = append(e.Summary.Rows, []string{name, r.UploadsOK, r.Errors, r.Dropped, r.Ack, r.Ready, r.PeakBacklog, r.DLQ, r.CPU, r.Cost})
		for _, n := range notes {
			e.Footnotes = append(e.Footnotes, name+": "+n)
		}
	}
	cols := Columns(s.Frames, s.Marks, 0, ColumnSize)
	for k := range keys {
		row := make([]Chart, len(cols))
		for v := range cols {
			row[v] = cols[v][k]
		}
		e.Rows = append(e.Rows, row)
	}
	return e
}

// covers says when the session ran and what of it the frames cover.
func covers(s Snapshot) string {
	const layout = "2006-01-02 15:04:05 MST"
	out := "Session started " + s.Started.UTC().Format(layout)
	if !s.Ended.IsZero() {
		out += ", ended " + s.Ended.UTC().Format(layout) + " (" + s.Ended.Sub(s.Started).Round(time.Second).String() + ")"
	}
	if len(s.Frames) == 0 {
		return out + "; no frame was taken."
	}
	first, last := s.Frames[0].Elapsed, s.Frames[len(s.Frames)-1].Elapsed
	out += fmt.Sprintf("; %d frames, one a second, from %s to %s into the session", len(s.Frames), clock(first), clock(last))
	if first > 1 {
		out += fmt.Sprintf(" (a session keeps its last %d frames; earlier ones were dropped)", MaxFrames)
	}
	return out + "."
}

// summary is variant v's row of the summary table, and its notes (what its
// CPU and cost rest on).
func summary(frames []Frame, v int) (summaryRow, []string) {
	row := summaryRow{UploadsOK: "–", Errors: "–", Dropped: "–", Ack: "–", Ready: "–", PeakBacklog: "–", DLQ: "–", CPU: "–", Cost: "–"}
	var last *VariantFrame
	peak, unit := math.Inf(-1), ""
	for i := range frames {
		if v >= len(frames[i].Variants) {
			continue
		}
		f := &frames[i].Variants[v]
		last = f
		if f.Backlog.Known() && float64(f.Backlog) > peak {
			peak, unit = float64(f.Backlog), f.BacklogUnit
		}
	}
	if last == nil {
		return row, nil
	}
	row.UploadsOK = strconv.FormatUint(last.UploadsOK, 10)
	row.Errors = strconv.FormatUint(last.Errors, 10)
	row.Dropped = strconv.FormatUint(last.Dropped, 10)
	row.Ack = pair(last.AckP50, last.AckP99)
	row.Ready = pair(last.ReadyP50, last.ReadyP99)
	if known(peak) {
		row.PeakBacklog = strconv.FormatFloat(peak, 'f', 0, 64) + " " + unit
	}
	if last.DLQ.Known() || last.Reconciled.Known() {
		row.DLQ = count(last.DLQ) + " / " + count(last.Reconciled)
	}
	if last.CPU.Known() {
		row.CPU = strconv.FormatFloat(float64(last.CPU), 'f', 2, 64)
	}
	if last.CostPerMillion.Known() {
		row.Cost = "$" + strconv.FormatFloat(float64(last.CostPerMillion), 'f', 2, 64)
		if last.CostOption != "" {
			row.Cost += " (" + last.CostOption + ")"
		}
	}
	var notes []string
	if last.CPUNote != "" {
		notes = append(notes, "CPU: "+last.CPUNote)
	}
	if last.CostNote != "" {
		notes = append(notes, "cost: "+last.CostNote)
	}
	return row, notes
}

func count(n Num) string {
	if !n.Known() {
		return "–"
	}
	return strconv.FormatFloat(float64(n), 'f', 0, 64)
}

// pair writes a p50 and a p99 in milliseconds.
func pair(p50, p99 Num) string {
	if !p50.Known() && !p99.Known() {
		return "–"
	}
	return ms(p50) + " / " + ms(p99)
}

func ms(n Num) string {
	switch v := float64(n); {
	case !n.Known():
		return "–"
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	default:
		return strconv.FormatFloat(v, 'f', 1, 64) + " ms"
	}
}

// clock writes seconds into the session as m:ss, or h:mm:ss.
func clock(s float64) string {
	d := time.Duration(math.Round(math.Max(s, 0))) * time.Second
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

var exportPage = template.Must(template.New("export").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title>{{.Title}}</title>
<style>
{{.CSS}}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p>{{.Covers}}</p>
{{- if .Notes}}
<ul>
{{- range .Notes}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
<h2>Settings</h2>
{{- template "table" .Settings}}
<h2>Timeline</h2>
{{- template "table" .Timeline}}
<h2>Summary</h2>
{{- template "table" .Summary}}
{{- range .Footnotes}}
<p class="note">{{.}}</p>
{{- end}}
<h2>Charts</h2>
<p>The whole session, one column per variant. Vertical lines are the timeline's entries (dashed: the control failed); gaps are seconds a figure was unknown. Rates, errors, latencies, replicas and CPU have one scale across the columns; each backlog has its own (jobs and messages are not the same unit). Latency axes are logarithmic.</p>
<div class="columns">
{{- range .Variants}}
<h3>{{.}}</h3>
{{- end}}
{{- range .Rows}}
{{- range .}}
<figure>{{.SVG}}</figure>
{{- end}}
{{- end}}
</div>
</body>
</html>
{{- define "table"}}
{{- if .Rows}}
<table>
{{- with .Caption}}
<caption>{{.}}</caption>
{{- end}}
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr>{{range $i, $c := .}}{{if eq $i $.Code}}<td><code>{{$c}}</code></td>{{else}}<td>{{$c}}</td>{{end}}{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- else}}
<p>{{.Empty}}</p>
{{- end}}
{{- end}}
`))
