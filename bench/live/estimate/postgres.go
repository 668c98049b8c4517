package estimate

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/internal/procstat"
)

// BackendCPUMetric is the series the PostgreSQL split reads: the CPU
// seconds of the PostgreSQL backends (and autovacuum workers) of each
// database, from /proc, exported by the Exporter.
const BackendCPUMetric = "photobench_postgresql_backend_cpu_seconds_total"

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (procstat's).
const clockTicks = 100

// Split is how PostgreSQL's CPU is shared out between the variants running
// together on one stack (see Shares).
type Split struct {
	Shares map[string]float64 // by architecture; they add up to 1
	// Measured is what the shares are taken from, by architecture: the
	// CPU-seconds of its database's backends over the window.
	Measured map[string]float64
	// Equal is true when nothing was measured: every share is then 1/n,
	// and Why says why.
	Equal bool
	Why   string
}

// Shares splits PostgreSQL between architectures by what their databases'
// backends used over a window (measured, CPU-seconds by architecture):
// each gets measured[a] / sum(measured), so the shares add up to 1 and the
// server's CPU is counted once over all variants, not once per variant as
// a report's runs (one at a time) count it. The server's CPU that no
// variant's backend used (the postmaster, checkpointer, WAL and background
// writers, the stack's own databases, the last second of a backend that
// exited between two scrapes) is shared out in the same proportions: it
// follows the work the backends do. When nothing was measured, every
// architecture gets an equal share, and Why says so.
func Shares(measured map[string]float64) Split {
	s := Split{Shares: map[string]float64{}, Measured: measured}
	total := 0.0
	for _, a := range slices.Sorted(maps.Keys(measured)) { // one order: the same bits every time
		total += max(0, measured[a])
	}
	for a, v := range measured {
		if total > 0 {
			s.Shares[a] = max(0, v) / total
		} else {
			s.Shares[a] = 1 / float64(len(measured))
		}
	}
	if !(total > 0) {
		s.Equal, s.Why = true, "no CPU of the variants' databases' backends measured in the window"
	}
	return s
}

// Database is the database a PostgreSQL process serves, read from its
// process title (its command line): "postgres: user database
// host(port) state" for a client backend, "postgres: autovacuum worker
// database" for a vacuum, with an optional "cluster_name: " after
// "postgres: ". "" for the server's other processes (checkpointer,
// writers, launchers).
func Database(cmdline []byte) string {
	title, _, _ := bytes.Cut(cmdline, []byte{0})
	rest, ok := strings.CutPrefix(strings.TrimSpace(string(title)), "postgres: ")
	if !ok {
		return ""
	}
	f := strings.Fields(rest)
	if len(f) > 0 && strings.HasSuffix(f[0], ":") { // cluster_name
		f = f[1:]
	}
	switch {
	case len(f) == 3 && f[0] == "autovacuum" && f[1] == "worker":
		return f[2]
	case len(f) >= 3 && strings.HasSuffix(f[2], ")") && strings.Contains(f[2], "("):
		return f[1] // user database host(port) ...
	case len(f) >= 3 && f[2] == "[local]":
		return f[1]
	}
	return ""
}

// backend is one PostgreSQL child process as last seen.
type backend struct {
	db    string
	ticks uint64
}

// Backends is a Prometheus collector of BackendCPUMetric: on every
// scrape it reads the children of PostgreSQL's postmaster from /proc and
// adds up their CPU by the database each serves. A backend that exits
// keeps the CPU it had when last seen (a counter never goes down); one
// that lived between two scrapes is not seen (its CPU is the postmaster's
// then, shared out as the rest is: see Shares).
type Backends struct {
	root func() int // the postmaster's pid, 0 when not running
	proc string
	desc *prometheus.Desc

	mu   sync.Mutex
	live map[int]backend    // by pid
	gone map[string]float64 // by database: the CPU ticks of backends that exited
}

// NewBackends returns a Backends reading the proc file system mounted at
// dir, for the postmaster root returns.
func NewBackends(dir string, root func() int) *Backends {
	return &Backends{root: root, proc: dir, live: map[int]backend{}, gone: map[string]float64{},
		desc: prometheus.NewDesc(BackendCPUMetric,
			"User and system CPU time of the PostgreSQL backends and autovacuum workers serving a database, in seconds, read from /proc; backends that exited count until last seen.",
			[]string{"database"}, nil)}
}

// Describe implements prometheus.Collector.
func (b *Backends) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

// Collect implements prometheus.Collector.
func (b *Backends) Collect(ch chan<- prometheus.Metric) {
	for db, secs := range b.Read() {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.CounterValue, secs, db)
	}
}

// Read scans /proc and returns the CPU seconds by database so far.
func (b *Backends) Read() map[string]float64 {
	root := b.root()
	now := map[int]backend{}
	if root > 0 {
		for pid, p := range procstat.Scan(b.proc) {
			if p.PPID != root {
				continue
			}
			cmd, err := os.ReadFile(filepath.Join(b.proc, strconv.Itoa(pid), "cmdline"))
			if err != nil {
				continue
			}
			if db := Database(cmd); db != "" {
				now[pid] = backend{db: db, ticks: p.CPUTicks}
			}
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for pid, old := range b.live {
		// Gone, or the pid taken by another backend since: keep what it had.
		if cur, ok := now[pid]; !ok || cur.db != old.db || cur.ticks < old.ticks {
			b.gone[old.db] += float64(old.ticks)
		}
	}
	b.live = now
	out := maps.Clone(b.gone)
	for _, be := range now {
		out[be.db] += float64(be.ticks)
	}
	for db := range out {
		out[db] /= clockTicks
	}
	return out
}
