package chaos

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/photobench/photobench/internal/atomicfile"
)

// Write writes the report as a Markdown table to path (results/chaos.md)
// and as JSON beside it (results/chaos.json).
func Write(path string, rep *Report) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	if err := atomicfile.Write(path, []byte(Markdown(rep)), 0o644); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	if err := atomicfile.WriteJSON(strings.TrimSuffix(path, filepath.Ext(path))+".json", rep); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	return nil
}

// Markdown is the report as results/chaos.md holds it.
func Markdown(rep *Report) string {
	var b strings.Builder
	title := "Fault matrix"
	if rep.Settings.Short {
		title += " (short)"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	commit := rep.Machine.Commit
	if len(commit) > 12 {
		commit = commit[:12]
	}
	if commit == "" {
		commit = "unknown"
	}
	if rep.Machine.Dirty {
		commit += " (uncommitted changes)"
	}
	passed := 0
	for _, r := range rep.Rows {
		if r.Pass() {
			passed++
		}
	}
	fmt.Fprintf(&b, "`photobench chaos`: %d of %d rows pass (0 lost, 0 duplicated). Commit %s; %s to %s (%.0f min).\n\n",
		passed, len(rep.Rows), commit, rep.Started.Format("2006-01-02 15:04 MST"), rep.Ended.Format("15:04 MST"),
		rep.Ended.Sub(rep.Started).Minutes())
	m := rep.Machine
	fmt.Fprintf(&b, "Machine: %d cores (%s), %.1f GiB, %s, kernel %s; Kafka %s, MinIO %s, %s.\n\n",
		m.Cores, m.CPU, float64(m.MemoryBytes)/(1<<30), m.OS, m.Kernel, m.Versions["kafka"], m.Versions["minio"], m.Versions["go"])
	s := rep.Settings
	fmt.Fprintf(&b, "Each row: %g uploads/s (upload only, %d users of the row's own, %s, requests time out after %.0f s) for %.0f s on a scratch stack; "+
		"SIGKILL at %.0f s; a killed service started again %.0f s later (a function's replicas: the runtime starts new ones itself); "+
		"then at most %.0f s for every accepted photo to be final. Kafka topics have %d partitions; MinIO's notification queue is %s.\n\n",
		s.Rate, s.Users, s.Photos, s.Timeout, s.Duration, s.FaultAt, s.Down, s.Drain, s.Partitions, onOff(s.NotifyQueue))

	b.WriteString("| variant | fault | in flight at kill | accepted / sent | ready | failed (reasons) | lost | duplicated | unacked rows | orphans | re-sent events | client errors | uploads ok again | backlog drained | verdict |\n")
	b.WriteString("| --- | --- | --- | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: | --- | ---: | ---: | --- |\n")
	for _, r := range rep.Rows {
		failed := fmt.Sprint(r.Failed)
		if len(r.FailedReasons) > 0 {
			failed += " (" + counts(r.FailedReasons) + ")"
		}
		lost := fmt.Sprint(r.Lost)
		if len(r.LostWhy) > 0 {
			lost += " (" + counts(r.LostWhy) + ")"
		}
		dup := fmt.Sprint(r.Duplicated)
		if r.Duplicated > 0 {
			dup += fmt.Sprintf(" (%d rows, %d thumbnails)", r.DuplicateRows, r.DifferentThumbnails)
		}
		resent := "n/a"
		if r.Variant == EventDriven {
			resent = fmt.Sprint(r.ResentEvents)
		}
		verdict := "pass"
		if !r.Pass() {
			verdict = "**fail**"
		}
		if r.Error != "" {
			verdict += ": " + strings.ReplaceAll(r.Error, "|", "/")
		}
		orphans := fmt.Sprint(r.Orphans)
		if r.Orphans > 0 {
			orphans += fmt.Sprintf(" (%d photos, %d accepted)", r.OrphanPhotos, r.OrphanAccepted)
		}
		killed := r.inFlight()
		if len(r.Killed) > 0 {
			killed += fmt.Sprintf(" (at %.1f s); uploads %d, %d cut", r.KilledAt, r.UploadsAtKill, r.UploadsCut)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d / %d | %d | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s |\n",
			r.Variant, r.Fault, killed, r.Accepted, r.Sent, r.Ready, failed, lost, dup, r.UnackedRows, orphans, resent,
			counts(r.ClientErrors), seconds(r.RecoverAccept), seconds(r.RecoverDrain), verdict)
	}
	b.WriteString(legend)
	fmt.Fprintf(&b, "- **in flight at kill**: the work the killed process had when the SIGKILL was sent, read just before: an event\n"+
		"  function's replicas: `%s` from their own /metrics, the messages inside the delivery policy, summed over its\n"+
		"  ready replicas (found through the runtime's /status); the monoliths and the runtime: the uploads the client had\n"+
		"  sent and not had answered (a server's own in-flight gauge counts Prometheus's scrapes and the runtime's probes\n"+
		"  too: it read 1 with no upload in flight); ingest's replicas: an upload in flight at the client and `%s` above 0\n"+
		"  in a replica (less the scrape itself). The kill waits up to %.0f s after the planned time (%.0f s) for a reading above 0, polling every %s;\n"+
		"  \"idle\" means that wait ran out; n/a: a server (no such gauge). Then the kill's time from the start of the\n"+
		"  load, and the client's side: uploads sent before the kill and answered after it, and how many of those\n"+
		"  were not accepted (cut).\n",
		gaugeEvents, gaugeHTTP, s.BusyWait, s.FaultAt, busyPoll)
	if s.TaggerVision != "" {
		fmt.Fprintf(&b, "- The tagger's row runs with the vision service's profile `%s` (100-300 ms per\n"+
			"  analysis; the other rows: no added latency), so that a tagger replica has work in flight at the kill; the\n"+
			"  rate is the same.\n", s.TaggerVision)
	}
	b.WriteString("- A row passes with 0 lost and 0 duplicated.\n")
	for _, r := range rep.Rows {
		if len(r.LostIDs) > 0 {
			ids := r.LostIDs
			if len(ids) > 5 {
				ids = ids[:5]
			}
			fmt.Fprintf(&b, "- %s/%s lost %d: %s%s\n", r.Variant, r.Fault, r.Lost, strings.Join(ids, ", "), more(len(r.LostIDs)-len(ids)))
		}
	}
	return b.String()
}

const legend = `
How each column is counted (package bench/chaos):

- **accepted / sent**: uploads answered 2xx with a photo id, of those the load generator started.
- **ready**, **failed**: of the accepted, final in the variant's database (the monolith's photos
  table, the event-driven catalog), failed with the stored reason; a ready photo counts only when
  its original and both thumbnails are in the store.
- **lost**: accepted, and at the end of the drain wait without a row, still pending, or ready with
  an original or a thumbnail missing.
- **duplicated**: rows of the row's users beyond every upload that could have written one (rows
  with ids the client never saw accepted, minus the uploads answered 5xx or not answered), plus
  ready photos whose stored thumbnail differs from the one made again from the stored original
  (thumbnails are deterministic, so a second write of other content shows).
- **unacked rows**: rows with an id the client never saw accepted (a crash after the write, before
  the answer): expected, the client would try again; not a failure unless beyond the unanswered.
- **re-sent events**: event-driven only: photo.thumbnailed and photo.tagged events beyond the first
  per photo and type on their topics (at-least-once delivery after a crash; the catalog's upserts
  are idempotent, so shown, not a failure). The app publishes no photo-ready event: the catalog
  marks the row ready, so "two ready events" is the duplicate-rows check here.
- **client errors**: uploads not accepted, by status, or by class when no answer came.
- **uploads ok again**: from the restart (a function's replicas: the kill) to the answer of the
  first upload started after the last upload that failed; 0 when none failed, "never" when
  uploads still failed at the end of the load.
- **backlog drained**: from the restart until every photo accepted before it was final (stores
  polled every 0.5 s); "never" when some never were.
- **orphans**: after the drain, files (monoliths: originals and thumbnails on disk) or objects
  (event-driven: the originals and thumbnails buckets) of the row's users whose photo has no row;
  in brackets the photos they belong to and how many of those the client saw accepted (those are
  counted lost as well). Orphans of uploads the client saw fail are garbage, not a failure. The
  count is taken before any orphan sweep could run: the monolith's sweep (where present) removes
  only files older than its grace (10 min), and no row's files are that old.
`

// inFlight formats InFlightAtKill: the count, "idle" for 0, "n/a".
func (r Row) inFlight() string {
	switch {
	case r.InFlightAtKill < 0:
		return "n/a"
	case r.InFlightAtKill == 0:
		return "idle"
	}
	return fmt.Sprint(r.InFlightAtKill)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func more(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(" and %d more", n)
}

// counts formats a count map as "k: n, k2: n2" (sorted), or "0".
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// seconds formats a recovery time; negative means never.
func seconds(s float64) string {
	if s < 0 {
		return "never"
	}
	return fmt.Sprintf("%.1f s", s)
}
