package bench

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/sleep"
	"github.com/photobench/photobench/internal/stack"
)

// How every run starts from the same state:
//
//   - the monoliths get a database, a data directory (or bucket) of the
//     run's own (stack.Config.RunID), which they create empty at start,
//     migrations applied; they are dropped once the run is captured;
//   - the event-driven app's state cannot be per run (its buckets, topics
//     and consumer groups are the deployment's fixed names, and a fresh
//     catalog database would make the reconciler publish every original
//     already in the shared bucket again), so the bench waits until every
//     consumer group has handled its topics (lag 0), then, with
//     Config.EmptyShared (the command), empties the buckets, waits until
//     their delete events are handled, then empties the catalog's table
//     (stack.EmptyEventDriven), and records the rows and objects there;
//   - the vision service restarts with the same seed before every run;
//   - the scenario's warm-up phase (excluded from every figure) warms the
//     caches and connection pools.
//
// What each run started from is in results.RunStart.
//
// A target (Config.Target) is a deployment the bench did not start: none
// of the above happens there; each run starts from the state the
// deployment is in, the vision stand-in is set to the profile's profile
// but not restarted, and RunStart.Shared says so. With Target.Stack, the
// start state is still read (rows, objects, consumer-group lag).

// deletesSettled is how long the bench waits, once the delete events of
// emptying the buckets are handled, before the run starts: the capture
// window opens CaptureMargin before the run, and a replica that handled
// them must be discovered (file SD refresh 5 s) and scraped (1 s) by then.
const deletesSettled = results.CaptureMargin + 7*time.Second

// settleTimeout bounds the wait for the consumer groups to reach the end
// of their topics before a run.
const settleTimeout = 60 * time.Second

// loadWindow is how long the host's load is sampled before each run.
const loadWindow = 2 * time.Second

// runStack is the stack configuration of the index-th run (1-based) of
// arch: for a monolith, with resources of the run's own. It returns what
// the run starts from as far as it is known before the apps start.
func (b *bencher) runStack(s step, index int) (stack.Config, results.RunStart) {
	c := b.cfg.Stack
	st := results.RunStart{Index: index, Block: s.block, Position: s.position, Arch: s.arch,
		Scenario: s.name, Repeat: s.repeat, SweepRate: s.sweepRate}
	if t := b.cfg.Target; t != nil {
		st.Shared = fmt.Sprintf("target %s: the apps and their state as the deployment has them (not started, restarted or emptied by the bench); the vision profile set to the profile's", t.Name)
		return c, st
	}
	switch s.arch {
	case results.Monolith, results.MonolithAsync:
		c.RunID = fmt.Sprintf("%s%03d", b.id, index)
		db, dir, bucket := c.MonolithState(s.arch)
		st.Fresh = "database " + db
		if dir != "" {
			st.Fresh += ", data directory " + dir
		} else {
			st.Fresh += ", bucket " + bucket
		}
	case results.EventDriven:
		st.Shared = fmt.Sprintf("catalog database catalog, buckets %s, topics %s and their consumer groups %s (fixed names of eventdriven/deploy)",
			strings.Join(deploy.Buckets, ", "), strings.Join(deploy.Topics, ", "), strings.Join(eventGroups(), ", "))
	}
	return c, st
}

// observeStart reads the state run s starts from once its apps are up
// (c is runStack's configuration): for the event-driven app it first waits
// until every consumer group has caught up (or settleTimeout passes).
func (b *bencher) observeStart(ctx context.Context, c stack.Config, s step, st *results.RunStart) {
	problem := func(err error) { st.Problems = append(st.Problems, brief.OneLine(err.Error())) }
	st.Rows, st.Objects = map[string]int64{}, map[string]int64{}
	switch s.arch {
	case results.Monolith, results.MonolithAsync:
		db, dir, bucket := c.MonolithState(s.arch)
		if n, err := stack.CountRows(ctx, c, db, "photos"); err != nil {
			problem(err)
		} else {
			st.Rows[db+".photos"] = n
		}
		if dir != "" {
			st.Objects[dir] = countFiles(dir)
		} else if n, err := stack.CountObjects(ctx, c, bucket); err != nil {
			problem(err)
		} else {
			st.Objects[bucket] = n
		}
	case results.EventDriven:
		lag, err := stack.Settle(ctx, c, settleTimeout)
		st.Lag = lag
		if err != nil {
			problem(err)
		}
		if b.cfg.EmptyShared && err == nil {
			// Buckets first, their delete events handled, then the
			// catalog: the other way round left a tombstone row per photo
			// of the previous run (36-320 rows at the start of the
			// 2026-12-05 runs).
			originals, thumbnails, err := stack.EmptyEventDriven(ctx, c, settleTimeout)
			before := originals + thumbnails
			if err != nil {
				problem(err)
			} else {
				st.Fresh = fmt.Sprintf("emptied before the run: %s.%s, buckets %s", stack.CatalogDatabase, strings.Join(stack.CatalogTables, ", "),
					strings.Join(deploy.Buckets, ", "))
			}
			if before > 0 {
				// Every object removed is an object-removed event the
				// functions handle (EmptyEventDriven waited for that): let
				// Prometheus see their counters before the run's window
				// opens, so that the run neither pays for nor counts the
				// previous run's deletes.
				sleep.For(ctx, deletesSettled)
				st.Fresh += fmt.Sprintf(" (%d objects; their delete events handled before the run)", before)
			}
		}
		if n, err := stack.CountRows(ctx, c, stack.CatalogDatabase, "photos"); err != nil {
			problem(err)
		} else {
			st.Rows[stack.CatalogDatabase+".photos"] = n
		}
		for _, bk := range deploy.Buckets {
			if n, err := stack.CountObjects(ctx, c, bk); err != nil {
				problem(err)
			} else {
				st.Objects[bk] = n
			}
		}
	}
	for _, p := range st.Problems {
		fmt.Fprintf(b.cfg.Log, "bench: %s start state: %s\n", s.arch, p)
	}
}

// dropRun removes the resources of a run's own, if it had any.
func (b *bencher) dropRun(c stack.Config) {
	if c.RunID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := stack.DropRun(ctx, c); err != nil {
		fmt.Fprintf(b.cfg.Log, "bench: removing the run's own resources: %s\n", brief.OneLine(err.Error()))
	}
}

func eventGroups() []string {
	var gs []string
	for _, f := range stack.EventFunctions() {
		gs = append(gs, f.Group)
	}
	return gs
}

// countFiles is the number of regular files under dir (0 when it does not
// exist).
func countFiles(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// hostLoad samples the host's load over d: /proc/loadavg, and the CPU all
// processes but this one used (from /proc/stat and /proc/self/stat).
func hostLoad(ctx context.Context, d time.Duration) results.HostLoad {
	var h results.HostLoad
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscan(string(data), &h.LoadAvg[0], &h.LoadAvg[1], &h.LoadAvg[2])
	}
	busy0, ok0 := hostBusyTicks()
	self0, ok1 := selfTicks()
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return h
	case <-time.After(d):
	}
	busy1, ok2 := hostBusyTicks()
	self1, ok3 := selfTicks()
	if ok0 && ok1 && ok2 && ok3 {
		h.Seconds = time.Since(t0).Seconds()
		const hz = 100 // USER_HZ: the unit of /proc's tick counts on Linux
		h.OtherCPU = max(0, float64((busy1-busy0)-(self1-self0))/hz/h.Seconds)
	}
	return h
}

// hostBusyTicks is the machine's busy time in ticks: every CPU time of
// /proc/stat's first line but idle and iowait.
func hostBusyTicks() (int64, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var busy int64
	for i, v := range f[1:] {
		var n int64
		fmt.Sscan(v, &n)
		if i != 3 && i != 4 && i < 8 { // idle, iowait; guest time is in user already
			busy += n
		}
	}
	return busy, true
}

// selfTicks is this process's user and system time in ticks.
func selfTicks() (int64, bool) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut) // utime is field 14 of the whole line
	fmt.Sscan(f[12], &st)
	return ut + st, true
}
