package calibrate

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Machine describes where a calibration ran.
type Machine struct {
	CPU       string `json:"cpu"` // model name from /proc/cpuinfo
	Cores     int    `json:"cores"`
	OS        string `json:"os"`
	GoVersion string `json:"go_version"` // the photobench binary's
	Vegeta    string `json:"vegeta"`
	Wrk       string `json:"wrk"`
}

// DescribeMachine gathers the machine's description and the tools' versions;
// what it cannot find it reports as "unknown".
func DescribeMachine(ctx context.Context, vegeta, wrk string) Machine {
	return Machine{
		CPU:       cpuModel(),
		Cores:     runtime.NumCPU(),
		OS:        runtime.GOOS + "/" + runtime.GOARCH,
		GoVersion: runtime.Version(),
		Vegeta:    VegetaVersion(vegeta),
		Wrk:       WrkVersion(ctx, wrk),
	}
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// VegetaVersion reads the module version from the binary's build
// information ("v12.13.0, built with go1.26.8"): a binary from go install
// carries no version in `vegeta -version`.
func VegetaVersion(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	return v + ", built with " + bi.GoVersion
}

// WrkVersion is the first line of `wrk -v` ("wrk debian/4.1.0-3+b2 [epoll]
// ..."), up to the copyright notice.
func WrkVersion(ctx context.Context, path string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, path, "-v").CombinedOutput() // wrk -v exits 1
	line, _, _ := strings.Cut(string(out), "\n")
	line, _, _ = strings.Cut(line, " Copyright")
	if line = strings.TrimSpace(line); !strings.HasPrefix(line, "wrk ") {
		return "unknown"
	}
	return line
}

// clockTicks is the kernel's USER_HZ, the unit of /proc/PID/stat's times:
// 100 on every Linux architecture Go supports.
const clockTicks = 100

// ProcCPU returns the user + system CPU seconds the process pid has used so
// far, from /proc/PID/stat.
func ProcCPU(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("process cpu: %w", err)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("process cpu: malformed stat")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 { // fields 3.. follow; utime and stime are fields 14 and 15
		return 0, errors.New("process cpu: malformed stat")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("process cpu: malformed stat")
	}
	return float64(utime+stime) / clockTicks, nil
}
