package procstat_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/internal/procstat"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    procstat.Proc
		wantErr bool
	}{
		{"plain", "42 (postgres) S 7 42 42 0 -1 4194560 100 0 0 0 150 50 3 2 20 0 1 0 100 1000 50", procstat.Proc{PID: 42, PPID: 7, CPUTicks: 205}, false},
		{"a name with spaces and parens", "9 (a (b) c) R 1 9 9 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0", procstat.Proc{PID: 9, PPID: 1, CPUTicks: 10}, false},
		{"truncated", "9 (x) R 1 9", procstat.Proc{}, true},
		{"no name", "garbage", procstat.Proc{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := procstat.ParseStat([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseStat = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestTreeSumsDescendantsOnly(t *testing.T) {
	procs := map[int]procstat.Proc{
		1:  {PID: 1, PPID: 0, CPUTicks: 1000, ResidentPages: 1},
		10: {PID: 10, PPID: 1, CPUTicks: 100, ResidentPages: 2},
		11: {PID: 11, PPID: 10, CPUTicks: 50, ResidentPages: 3},
		12: {PID: 12, PPID: 10, CPUTicks: 25, ResidentPages: 4},
		20: {PID: 20, PPID: 1, CPUTicks: 7, ResidentPages: 5},
	}
	u, ok := procstat.Tree(procs, 10)
	if !ok || u.Processes != 3 || u.CPUSeconds != 1.75 || u.ResidentBytes != 9*uint64(os.Getpagesize()) {
		t.Errorf("Tree(10) = %+v, %v; want 3 processes, 1.75 s, 9 pages", u, ok)
	}
	if _, ok := procstat.Tree(procs, 99); ok {
		t.Error("Tree of a pid not running: want false")
	}
}

// The collector reads this machine's /proc: a child process's tree is found
// and has resident memory.
func TestCollectorReadsProc(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	reg := prometheus.NewRegistry()
	reg.MustRegister(procstat.New(func() map[string]int {
		return map[string]int{"sleeper": cmd.Process.Pid, "gone": 1 << 30}
	}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == "gone" {
					t.Errorf("%s reported for a pid that does not exist", mf.GetName())
				}
			}
			if mf.GetName() == "photobench_component_resident_memory_bytes" {
				found["memory"] = m.GetGauge().GetValue()
			}
			if mf.GetName() == "photobench_component_cpu_seconds_total" {
				found["cpu"] = m.GetCounter().GetValue()
			}
		}
	}
	if found["memory"] <= 0 {
		t.Errorf("resident memory of sleep = %v, want > 0 (%v)", found["memory"], found)
	}
	if _, ok := found["cpu"]; !ok {
		t.Errorf("no CPU series (%v)", found)
	}
}

// A tree's total may dip while a child exits; the counter must not.
func TestCollectorCPUNeverGoesDown(t *testing.T) {
	dir := t.TempDir()
	write := func(ticks int) {
		if err := os.MkdirAll(filepath.Join(dir, "42"), 0o755); err != nil {
			t.Fatal(err)
		}
		stat := fmt.Sprintf("42 (srv) S 1 42 42 0 -1 0 0 0 0 0 %d 0 0 0 20 0 1 0", ticks)
		if err := os.WriteFile(filepath.Join(dir, "42", "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := procstat.NewWithProc(dir, func() map[string]int { return map[string]int{"srv": 42} })
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	cpu := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "photobench_component_cpu_seconds_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		t.Fatal("no cpu metric")
		return 0
	}
	for _, tt := range []struct {
		ticks int
		want  float64
	}{{500, 5}, {300, 5}, {700, 7}} {
		write(tt.ticks)
		if got := cpu(); got != tt.want {
			t.Errorf("after %d ticks: %v CPU-s, want %v", tt.ticks, got, tt.want)
		}
	}
}
