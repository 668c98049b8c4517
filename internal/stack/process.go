package stack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/photobench/photobench/internal/atomicfile"
)

// pidRecord identifies one process the stack started. The kernel's start time
// of the process is kept with its pid so that a pid reused by an unrelated
// process after a reboot or crash is never signalled.
type pidRecord struct {
	PID       int
	StartTime uint64
}

func (c Config) pidFile(service string) string {
	return filepath.Join(c.Dir, "run", c.instanceName(service)+".pid")
}

func (c Config) logFile(service string) string {
	return filepath.Join(c.Dir, "logs", c.instanceName(service)+".log")
}

// instanceName is the name an app's pid file, log and scrape registration
// go by: its own, or with AppInstance a second set's beside the stack's.
func (c Config) instanceName(service string) string {
	if c.AppInstance == "" {
		return service
	}
	for _, a := range apps() {
		if a.name() == service {
			return service + "-" + c.AppInstance
		}
	}
	return service
}

func readPID(path string) (pidRecord, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return pidRecord{}, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return pidRecord{}, false
	}
	pid, err1 := strconv.Atoi(f[0])
	st, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return pidRecord{}, false
	}
	return pidRecord{PID: pid, StartTime: st}, true
}

func writePID(path string, r pidRecord) error {
	return atomicfile.Write(path, []byte(fmt.Sprintf("%d %d\n", r.PID, r.StartTime)), 0o644)
}

// procStartTime reads a process's start time (clock ticks since boot) and
// whether it is a zombie, from /proc/<pid>/stat.
func procStartTime(pid int) (start uint64, zombie bool, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false, err
	}
	// The command name (field 2) may hold spaces and parentheses; the fields
	// after the last ')' are plain.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, false, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(f[19], 10, 64) // field 22 overall
	return start, f[0] == "Z", err
}

// StartTime is when process pid started, in clock ticks since boot: of
// the runtime's replicas (Children), the newest has the largest.
func StartTime(pid int) (uint64, error) {
	st, _, err := procStartTime(pid)
	return st, err
}

// alive reports whether the recorded process still runs (and is not a
// zombie, nor a different process that reuses the pid).
func (r pidRecord) alive() bool {
	st, zombie, err := procStartTime(r.PID)
	return err == nil && !zombie && st == r.StartTime
}

// process is a service process started by this invocation.
type process struct {
	rec    pidRecord
	exited chan struct{} // closed when the process has exited
	err    error         // the exit status, valid once exited is closed
}

// startProcess starts cmd detached from the caller's session (so that the
// service outlives `photobench stack up` and a Ctrl-C at the terminal does not
// reach it), with output appended to logPath, and records its pid.
func startProcess(cmd *exec.Cmd, logPath, pidPath string) (*process, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor
	fmt.Fprintf(logf, "==== %s photobench: starting %s\n", time.Now().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	cmd.Stdout, cmd.Stderr = logf, logf
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	st, _, err := procStartTime(cmd.Process.Pid)
	if err != nil {
		// It exited already, before its start time could be read: report
		// it as the readiness wait would, with its last words.
		<-p.exited
		msg := fmt.Sprintf("exited before it was ready (%v)", p.err)
		if l := lastLogLine(logPath); l != "" {
			msg += ": " + l
		}
		return nil, errors.New(msg)
	}
	p.rec = pidRecord{PID: cmd.Process.Pid, StartTime: st}
	if err := writePID(pidPath, p.rec); err != nil {
		_ = stopPID(p.rec, syscall.SIGKILL, time.Second)
		return nil, err
	}
	return p, nil
}

// stopPID sends sig to the process, waits up to grace for it to exit, then
// kills its whole process group (the service's children included).
func stopPID(r pidRecord, sig syscall.Signal, grace time.Duration) error {
	if !r.alive() {
		return nil
	}
	if err := syscall.Kill(r.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal pid %d: %w", r.PID, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !r.alive() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The process started its own session, so its group id is its pid.
	_ = syscall.Kill(-r.PID, syscall.SIGKILL)
	for i := 0; i < 100 && r.alive(); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if r.alive() {
		return fmt.Errorf("pid %d survived SIGKILL", r.PID)
	}
	return fmt.Errorf("did not stop within %s after %s; killed", grace, sig)
}

// lastLogLine returns the last non-empty line of a log file, shortened, for
// one-line error messages.
func lastLogLine(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const tail = 16 * 1024
	if fi, err := f.Stat(); err == nil && fi.Size() > tail {
		f.Seek(fi.Size()-tail, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return lastLine(string(b))
}

// lastLine returns the last non-empty line of s, shortened to 200 bytes.
func lastLine(s string) string {
	var last string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			last = l
		}
	}
	if len(last) > 200 {
		last = last[:200] + "..."
	}
	return last
}
