package estimate_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/photobench/photobench/bench/live/estimate"
	"github.com/photobench/photobench/bench/results"
)

func TestSharesSplitPostgreSQLOnceByBackendCPU(t *testing.T) {
	tests := []struct {
		name  string
		cpu   map[string]float64
		want  map[string]float64
		equal bool
	}{
		{
			name: "by backend CPU",
			cpu:  map[string]float64{results.Monolith: 0.25, results.MonolithAsync: 0.75, results.EventDriven: 1.5},
			want: map[string]float64{results.Monolith: 0.1, results.MonolithAsync: 0.3, results.EventDriven: 0.6},
		},
		{
			name: "an idle variant gets none",
			cpu:  map[string]float64{results.Monolith: 0, results.MonolithAsync: 0.5, results.EventDriven: 1.5},
			want: map[string]float64{results.Monolith: 0, results.MonolithAsync: 0.25, results.EventDriven: 0.75},
		},
		{
			name:  "nothing counted: equal thirds",
			cpu:   map[string]float64{results.Monolith: 0, results.MonolithAsync: 0, results.EventDriven: 0},
			want:  map[string]float64{results.Monolith: 1.0 / 3, results.MonolithAsync: 1.0 / 3, results.EventDriven: 1.0 / 3},
			equal: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := estimate.Shares(tt.cpu)
			sum := 0.0
			for arch, want := range tt.want {
				if got := s.Shares[arch]; math.Abs(got-want) > 1e-12 {
					t.Errorf("share of %s = %g, want %g", arch, got, want)
				}
				sum += s.Shares[arch]
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Errorf("shares add up to %g, want 1: PostgreSQL counted once", sum)
			}
			if s.Equal != tt.equal || (s.Why != "") != tt.equal {
				t.Errorf("Equal = %v (why %q), want %v", s.Equal, s.Why, tt.equal)
			}
		})
	}
}

// A PostgreSQL that used 6 CPU-seconds while the backends of the variants'
// databases used 0.5, 1.5 and 3 (the rest: its writers, the postmaster) is
// 0.6, 1.8 and 3.6 CPU-seconds of theirs: 6 in all, where the report's
// model (each variant alone) would count 18.
func TestSharesOfACPUTotal(t *testing.T) {
	s := estimate.Shares(map[string]float64{results.Monolith: 0.5, results.MonolithAsync: 1.5, results.EventDriven: 3})
	const pg = 6.0
	want := map[string]float64{results.Monolith: 0.6, results.MonolithAsync: 1.8, results.EventDriven: 3.6}
	total := 0.0
	for arch, w := range want {
		got := pg * s.Shares[arch]
		if math.Abs(got-w) > 1e-9 {
			t.Errorf("%s: %g CPU-seconds of PostgreSQL, want %g", arch, got, w)
		}
		total += got
	}
	if math.Abs(total-pg) > 1e-9 {
		t.Errorf("the variants' PostgreSQL CPU adds up to %g, want %g", total, pg)
	}
}

func TestDatabaseFromProcessTitle(t *testing.T) {
	pad := strings.Repeat("\x00", 40)
	tests := []struct{ title, want string }{
		{"postgres: photobench monolith_async 127.0.0.1(56800) idle" + pad, "monolith_async"},
		{"postgres: photobench catalog 127.0.0.1(40012) INSERT waiting", "catalog"},
		{"postgres: photobench monolith [local] idle", "monolith"},
		{"postgres: main: photobench monolith 127.0.0.1(1) idle", "monolith"}, // cluster_name set
		{"postgres: autovacuum worker catalog" + pad, "catalog"},
		{"postgres: checkpointer" + pad, ""},
		{"postgres: background writer", ""},
		{"postgres: walwriter", ""},
		{"postgres: autovacuum launcher", ""},
		{"postgres: logical replication launcher", ""},
		{"/usr/lib/postgresql/15/bin/postgres\x00-D\x00/data", ""},
	}
	for _, tt := range tests {
		if got := estimate.Database([]byte(tt.title)); got != tt.want {
			t.Errorf("Database(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}

// procDir is a fake proc file system: a postmaster (pid 100) and its
// children, each a stat and a cmdline.
type procDir string

func (d procDir) set(t *testing.T, pid, ppid int, ticks int, title string) {
	t.Helper()
	dir := filepath.Join(string(d), strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	stat := fmt.Sprintf("%d (postgres) S %d 1 1 0 -1 0 0 0 0 0 %d 0 0 0 20 0 1 0", pid, ppid, ticks)
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cmdline"), []byte(title+"\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (d procDir) exit(t *testing.T, pid int) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(string(d), strconv.Itoa(pid))); err != nil {
		t.Fatal(err)
	}
}

// Backends add up the CPU of each database's backends, and keep what a
// backend had used once it exits (a scaled-to-zero function's connection):
// the counter never goes down.
func TestBackendsCountByDatabaseAndKeepExited(t *testing.T) {
	d := procDir(t.TempDir())
	d.set(t, 100, 1, 5000, "/usr/lib/postgresql/15/bin/postgres")
	d.set(t, 101, 100, 300, "postgres: checkpointer")
	d.set(t, 102, 100, 200, "postgres: photobench monolith 127.0.0.1(1) idle")
	d.set(t, 103, 100, 50, "postgres: photobench catalog 127.0.0.1(2) idle")
	d.set(t, 104, 100, 25, "postgres: autovacuum worker catalog")
	d.set(t, 200, 1, 999, "postgres: photobench monolith 127.0.0.1(3) idle") // another server's
	b := estimate.NewBackends(string(d), func() int { return 100 })
	want := func(step string, got map[string]float64, w map[string]float64) {
		t.Helper()
		if len(got) != len(w) {
			t.Errorf("%s: %v, want %v", step, got, w)
		}
		for db, v := range w {
			if math.Abs(got[db]-v) > 1e-9 {
				t.Errorf("%s: %s = %g s, want %g (all: %v)", step, db, got[db], v, got)
			}
		}
	}
	want("first scan", b.Read(), map[string]float64{"monolith": 2, "catalog": 0.75})

	d.set(t, 102, 100, 260, "postgres: photobench monolith 127.0.0.1(1) idle")
	d.exit(t, 103)
	d.exit(t, 104)
	want("catalog's backends exited", b.Read(), map[string]float64{"monolith": 2.6, "catalog": 0.75})

	d.set(t, 105, 100, 10, "postgres: photobench catalog 127.0.0.1(4) idle")
	want("a new catalog backend", b.Read(), map[string]float64{"monolith": 2.6, "catalog": 0.85})

	d.set(t, 102, 100, 5, "postgres: photobench monolith_async 127.0.0.1(5) idle") // pid 102 reused
	want("a pid reused", b.Read(), map[string]float64{"monolith": 2.6, "catalog": 0.85, "monolith_async": 0.05})
}
