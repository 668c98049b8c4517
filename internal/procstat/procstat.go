// Package procstat exports the CPU time and resident memory of process trees
// (a server and every process it forked) as Prometheus metrics, read from
// /proc: how photobench bench measures the stack's servers (PostgreSQL,
// Kafka, MinIO, Prometheus), which have no such metrics of their own in the
// form the report needs.
//
//	photobench_component_cpu_seconds_total{component}        user+system CPU of the tree (counter)
//	photobench_component_resident_memory_bytes{component}    resident set of the tree (gauge)
//
// A tree's CPU counts its live processes only: CPU of children that have
// exited is added to the parent's cutime/cstime, which are included, so
// short-lived PostgreSQL backends are not lost once reaped.
package procstat

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

var pageSize = uint64(os.Getpagesize())

// Collector reports the trees rooted at the pids Roots returns, by component.
type Collector struct {
	roots  func() map[string]int // component -> root pid
	mu     sync.Mutex
	last   map[string]float64 // the CPU reported last, per component
	proc   string
	cpu    *prometheus.Desc
	memory *prometheus.Desc
}

// New returns a Collector of the trees roots names when collected.
func New(roots func() map[string]int) *Collector { return NewWithProc("/proc", roots) }

// NewWithProc is New reading the proc file system mounted at dir.
func NewWithProc(dir string, roots func() map[string]int) *Collector {
	return &Collector{roots: roots, proc: dir, last: map[string]float64{},
		cpu: prometheus.NewDesc("photobench_component_cpu_seconds_total",
			"User and system CPU time of a component's process tree, reaped children included, in seconds.", []string{"component"}, nil),
		memory: prometheus.NewDesc("photobench_component_resident_memory_bytes",
			"Resident memory of a component's process tree, in bytes.", []string{"component"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.cpu
	ch <- c.memory
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	procs := c.scan()
	c.mu.Lock()
	defer c.mu.Unlock()
	for comp, root := range c.roots() {
		u, ok := Tree(procs, root)
		if !ok {
			continue
		}
		// A child that exits between reading it and reading its parent is
		// briefly counted in neither, and a counter must not go down (a
		// drop reads as a restart, and the whole value as new CPU): report
		// the highest total seen. A different root (a restarted server)
		// starts again from its own.
		cpu := u.CPUSeconds
		key := comp + "/" + strconv.Itoa(root)
		if prev, ok := c.last[key]; ok && cpu < prev {
			cpu = prev
		}
		c.last[key] = cpu
		ch <- prometheus.MustNewConstMetric(c.cpu, prometheus.CounterValue, cpu, comp)
		ch <- prometheus.MustNewConstMetric(c.memory, prometheus.GaugeValue, float64(u.ResidentBytes), comp)
	}
}

// Proc is one process as read from /proc.
type Proc struct {
	PID, PPID     int
	CPUTicks      uint64 // utime + stime + cutime + cstime
	ResidentPages uint64
}

// Usage is a process tree's total.
type Usage struct {
	CPUSeconds    float64
	ResidentBytes uint64
	Processes     int
}

// Tree sums the processes of the tree rooted at root; false if root is not
// among procs.
func Tree(procs map[int]Proc, root int) (Usage, bool) {
	if _, ok := procs[root]; !ok {
		return Usage{}, false
	}
	children := map[int][]int{}
	for pid, p := range procs {
		children[p.PPID] = append(children[p.PPID], pid)
	}
	var u Usage
	stack := []int{root}
	seen := map[int]bool{}
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		p := procs[pid]
		u.CPUSeconds += float64(p.CPUTicks) / clockTicks
		u.ResidentBytes += p.ResidentPages * pageSize
		u.Processes++
		stack = append(stack, children[pid]...)
	}
	return u, true
}

func (c *Collector) scan() map[int]Proc { return Scan(c.proc) }

// Scan reads every process of the proc file system mounted at dir, by pid;
// processes that exit meanwhile are left out.
func Scan(dir string) map[int]Proc {
	out := map[int]Proc{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, err := ReadProc(dir, pid)
		if err == nil {
			out[pid] = p
		}
	}
	return out
}

// ReadProc reads one process from the proc file system mounted at dir.
func ReadProc(dir string, pid int) (Proc, error) {
	stat, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(pid), "stat"))
	if err != nil {
		return Proc{}, err
	}
	p, err := ParseStat(stat)
	if err != nil {
		return Proc{}, fmt.Errorf("%s/%d/stat: %w", dir, pid, err)
	}
	if statm, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(pid), "statm")); err == nil {
		if f := strings.Fields(string(statm)); len(f) > 1 {
			p.ResidentPages, _ = strconv.ParseUint(f[1], 10, 64)
		}
	}
	return p, nil
}

// ParseStat parses /proc/<pid>/stat (proc(5)): pid, ppid and the four CPU
// times. The command name may contain spaces and parentheses, so fields are
// counted from the last ')'.
func ParseStat(b []byte) (Proc, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Proc{}, fmt.Errorf("malformed stat")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:open])))
	if err != nil {
		return Proc{}, fmt.Errorf("malformed pid")
	}
	f := strings.Fields(string(b[end+1:]))
	// f[0] is field 3 (state); ppid is field 4; utime..cstime are 14..17.
	if len(f) < 15 {
		return Proc{}, fmt.Errorf("stat has %d fields after the name, want at least 15", len(f))
	}
	p := Proc{PID: pid}
	if p.PPID, err = strconv.Atoi(f[1]); err != nil {
		return Proc{}, fmt.Errorf("malformed ppid")
	}
	for _, i := range []int{11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return Proc{}, fmt.Errorf("malformed CPU time %q", f[i])
		}
		if v > 0 {
			p.CPUTicks += uint64(v)
		}
	}
	return p, nil
}
