package chaos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/bench/chaos"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
)

// The short matrix (make test's part of make chaos) on a scratch stack:
// each row kills what it says, the accounting adds up against the
// client's count, the report lands in the table and its JSON, and every
// row loses and duplicates nothing.
func TestShortMatrix(t *testing.T) {
	stacktest.NativeOnly(t)
	root := stacktest.RepoRoot(t)
	bin := filepath.Join(root, "bin", "photobench")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%v: run make build (make test does)", err)
	}
	out := filepath.Join(t.TempDir(), "chaos.md")
	o := chaos.Options{Short: true, Rate: 5, Duration: 20 * time.Second, Down: 5 * time.Second, Drain: 120 * time.Second,
		Out: out, AppBinary: bin}
	// The stack's installed binaries (make deps) are in the clone's
	// .stack, whichever stack the test's environment names.
	getenv := func(k string) string {
		if k == "PHOTOBENCH_STACK_DIR" {
			return filepath.Join(root, ".stack")
		}
		return os.Getenv(k)
	}
	var log bytes.Buffer
	rep, err := chaos.Main(context.Background(), o, getenv, &log)
	t.Logf("log:\n%s", log.String())
	if err != nil {
		t.Fatalf("chaos: %v", err)
	}
	if len(rep.Rows) != len(chaos.Short) {
		t.Fatalf("%d rows, want %d (%v)", len(rep.Rows), len(chaos.Short), chaos.Short)
	}
	for _, r := range rep.Rows {
		id := r.Variant + "/" + r.Fault
		if r.Error != "" {
			t.Errorf("%s did not run: %s", id, r.Error)
			continue
		}
		if len(r.Killed) == 0 || r.KilledAt <= 0 || r.RestartedAt < r.KilledAt {
			t.Errorf("%s: killed %v at %.1f s, back at %.1f s: want a kill during the load, then the restart", id, r.Killed, r.KilledAt, r.RestartedAt)
		}
		if r.Accepted == 0 || r.Accepted > r.Sent {
			t.Errorf("%s: accepted %d of %d sent", id, r.Accepted, r.Sent)
		}
		if got := r.Ready + r.Failed + r.Lost; got != r.Accepted {
			t.Errorf("%s: ready %d + failed %d + lost %d = %d, want the %d accepted", id, r.Ready, r.Failed, r.Lost, got, r.Accepted)
		}
		if !r.Pass() {
			t.Errorf("%s: lost %d (%v: %v), duplicated %d (rows %d, thumbnails %d)", id, r.Lost, r.LostWhy, r.LostIDs,
				r.Duplicated, r.DuplicateRows, r.DifferentThumbnails)
		}
	}
	// The kill waits for work in flight: the function's replicas and the
	// monolith are read from their /metrics (Kafka has no gauge), and at
	// least one row killed a process in the middle of calls.
	busy := 0
	for _, r := range rep.Rows {
		measured := r.InFlightAtKill >= 0
		if want := r.Fault != "kafka"; measured != want {
			t.Errorf("%s/%s: in flight at kill %d: measured %v, want %v", r.Variant, r.Fault, r.InFlightAtKill, measured, want)
		}
		if r.InFlightAtKill > 0 {
			busy++
		}
		if r.OrphanAccepted > r.Lost || r.OrphanAccepted > r.OrphanPhotos || r.OrphanPhotos > r.Orphans {
			t.Errorf("%s/%s: orphans %d of %d photos, %d accepted, with %d lost", r.Variant, r.Fault, r.Orphans, r.OrphanPhotos, r.OrphanAccepted, r.Lost)
		}
	}
	if busy == 0 {
		t.Error("no row killed its target with work in flight")
	}
	// The synchronous monolith answers nothing while it is down: the
	// client saw it.
	for _, r := range rep.Rows {
		if r.Variant == chaos.Monolith && r.Fault == "monolith" && len(r.ClientErrors) == 0 {
			t.Errorf("monolith/monolith: no client errors while the monolith was down for %.1f s", r.RestartedAt-r.KilledAt)
		}
	}
	md, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range chaos.Short {
		variant, fault, _ := strings.Cut(id, "/")
		if !strings.Contains(string(md), "| "+variant+" | "+fault+" |") {
			t.Errorf("chaos.md has no row for %s:\n%s", id, md)
		}
	}
	var back chaos.Report
	data, err := os.ReadFile(strings.TrimSuffix(out, ".md") + ".json")
	if err == nil {
		err = json.Unmarshal(data, &back)
	}
	if err != nil || len(back.Rows) != len(rep.Rows) {
		t.Errorf("chaos.json: %v, %d rows", err, len(back.Rows))
	}
}

// The matrix does not start while a bench holds the stack's lock.
func TestRefusesWhileBenchRuns(t *testing.T) {
	c := stacktest.Unstarted(t)
	dir := c.Dir
	release, err := stack.LockBench(c, "photobench bench")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	o := chaos.Options{Short: true, Rate: 5, Duration: 20 * time.Second, Down: 5 * time.Second, Drain: time.Minute,
		Out: filepath.Join(dir, "chaos.md"), AppBinary: "/nonexistent/photobench"}
	_, err = chaos.Main(context.Background(), o, func(k string) string {
		if k == "PHOTOBENCH_STACK_DIR" {
			return dir
		}
		return ""
	}, &bytes.Buffer{})
	if !errors.Is(err, stack.ErrBusy) || !strings.Contains(err.Error(), "photobench bench") {
		t.Fatalf("err = %v, want ErrBusy naming the bench", err)
	}
	release()
	if again, err := stack.LockBench(c, "photobench chaos"); err != nil {
		t.Errorf("after the bench: %v", err)
	} else {
		again()
	}
}

func TestSelect(t *testing.T) {
	tests := []struct {
		name              string
		variants, faults  []string
		ids               []string
		want              []string
		wantErrSubstrings []string
	}{
		{name: "all", want: ids(chaos.Matrix)},
		{name: "short", ids: chaos.Short, want: []string{"monolith/monolith", "eventdriven/thumbnailer", "eventdriven/kafka"}},
		{name: "postgres everywhere", faults: []string{"postgres"},
			want: []string{"monolith/postgres", "monolith-async/postgres", "eventdriven/postgres"}},
		{name: "the monoliths' own processes", variants: []string{"monolith", "monolith-async"}, faults: []string{"monolith"},
			want: []string{"monolith/monolith", "monolith-async/monolith"}},
		{name: "no monolith minio", variants: []string{"monolith"}, faults: []string{"minio"}, wantErrSubstrings: []string{"no row matches"}},
		{name: "unknown names, all at once", variants: []string{"mainframe"}, faults: []string{"disk"},
			wantErrSubstrings: []string{`unknown variant "mainframe"`, `unknown fault "disk"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chaos.Select(tt.variants, tt.faults, tt.ids)
			if len(tt.wantErrSubstrings) > 0 {
				for _, s := range tt.wantErrSubstrings {
					if err == nil || !strings.Contains(err.Error(), s) {
						t.Errorf("err = %v, want it to say %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := ids(got); strings.Join(g, " ") != strings.Join(tt.want, " ") {
				t.Errorf("rows %v, want %v", g, tt.want)
			}
		})
	}
}

func ids(fs []chaos.Fault) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID())
	}
	return out
}

// A row that lost or duplicated fails, in the table and in Pass; the
// help lists every row.
func TestReportMarksLossAndDuplicates(t *testing.T) {
	rep := &chaos.Report{Started: time.Now(), Ended: time.Now(), Rows: []chaos.Row{
		{Variant: "monolith", Fault: "monolith", Killed: []int{7}, KilledAt: 10.3, InFlightAtKill: 2, UploadsAtKill: 3, UploadsCut: 1, Accepted: 10, Sent: 12, Ready: 10,
			ClientErrors: map[string]int{"transport": 2}},
		{Variant: "eventdriven", Fault: "kafka", InFlightAtKill: -1, Accepted: 10, Sent: 10, Ready: 9, Lost: 1, LostWhy: map[string]int{"no row": 1},
			LostIDs: []string{"01a2"}, RecoverDrain: -1, Orphans: 3, OrphanPhotos: 2, OrphanAccepted: 1},
		{Variant: "eventdriven", Fault: "catalog", Killed: []int{8}, KilledAt: 10, Accepted: 10, Sent: 10, Ready: 10, Duplicated: 1, DuplicateRows: 1},
	}}
	if rep.Pass() || !rep.Rows[0].Pass() || rep.Rows[1].Pass() || rep.Rows[2].Pass() {
		t.Errorf("pass: report %v, rows %v %v %v", rep.Pass(), rep.Rows[0].Pass(), rep.Rows[1].Pass(), rep.Rows[2].Pass())
	}
	md := chaos.Markdown(rep)
	for _, want := range []string{
		"1 of 3 rows pass",
		"| monolith | monolith | 2 (at 10.3 s); uploads 3, 1 cut | 10 / 12 | 10 | 0 | 0 | 0 | 0 | 0 | n/a | transport: 2 | 0.0 s | 0.0 s | pass |",
		"| eventdriven | kafka | n/a | 10 / 10 |",
		"| idle (at 10.0 s); uploads 0, 0 cut |",
		"| 3 (2 photos, 1 accepted) |",
		"| 1 (no row: 1) |",
		"| never | **fail** |",
		"| 1 (1 rows, 0 thumbnails) |",
		"eventdriven/kafka lost 1: 01a2",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the table lacks %q:\n%s", want, md)
		}
	}
	for _, f := range chaos.Matrix {
		if !strings.Contains(chaos.Usage, f.ID()) {
			t.Errorf("the help does not list %s", f.ID())
		}
	}
}
