package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Kill crashes the named service of c as a power cut would: SIGKILL to
// its whole process group (a server's children; the runtime's replicas
// follow through their parent-death signal), with none of the clean
// shutdown Down gives it. It waits until the process is gone and removes
// its pid file, so that Start (or Up) starts it again, and returns the
// pid it killed. A service that does not run is an error. Only the
// process recorded in c's pid file is signalled: a Config of a scratch
// stack never reaches the user's.
func Kill(c Config, name string) (int, error) {
	if !slices.Contains(AllNames(), name) {
		return 0, fmt.Errorf("kill: unknown service %q (known: %s)", name, strings.Join(AllNames(), ", "))
	}
	rec, ok := readPID(c.pidFile(name))
	if !ok || !rec.alive() {
		return 0, fmt.Errorf("kill %s: not running", name)
	}
	// Each service starts its own session, so its group id is its pid.
	if err := syscall.Kill(-rec.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return rec.PID, fmt.Errorf("kill %s (pid %d): %w", name, rec.PID, err)
	}
	for i := 0; i < 250 && rec.alive(); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if rec.alive() {
		return rec.PID, fmt.Errorf("kill %s: pid %d survived SIGKILL", name, rec.PID)
	}
	os.Remove(c.pidFile(name))
	return rec.PID, nil
}

// Start starts the named service of c (a server or an app) unless it
// runs, waits until it is ready and runs its setup, as Up does for every
// service: how a service Kill crashed comes back. An app needs
// c.AppBinary.
func Start(ctx context.Context, c Config, name string, out io.Writer) error {
	for _, s := range known() {
		if s.name() == name {
			_, err := up(ctx, c, []service{s}, out)
			return err
		}
	}
	return fmt.Errorf("start: unknown service %q (known: %s)", name, strings.Join(AllNames(), ", "))
}

// Restart stops the named server of c cleanly (its stop signal, as Down
// sends) and starts the stack's servers again (Up without the apps: only
// the stopped one starts; every server's setup runs again, so topics,
// buckets and notifications are back). It returns once the server is
// ready: how the bench's restart faults and the live page's buttons
// restart Kafka, MinIO or PostgreSQL while the apps keep running.
func Restart(ctx context.Context, c Config, name string, out io.Writer) error {
	if !slices.Contains(ServiceNames(), name) {
		return fmt.Errorf("restart: %q is not a server of the stack (%s)", name, strings.Join(ServiceNames(), ", "))
	}
	if err := Down(c, []string{name}, out); err != nil {
		return err
	}
	servers := c
	servers.AppBinary = ""
	_, err := Up(ctx, servers, out)
	return err
}

// Children returns the pids of the live processes whose parent is pid
// and whose command line starts with args after the program (for the
// runtime's replicas of one function: "fn", name), read from /proc.
func Children(pid int, args ...string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if i < 0 || len(f) < 2 || f[0] == "Z" || f[1] != strconv.Itoa(pid) {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(argv) > len(args) && slices.Equal(argv[1:1+len(args)], args) {
			out = append(out, child)
		}
	}
	return out
}

// AppURL is the base URL (http://host:port) of the named app of c, where
// its /metrics is (the runtime's /status too): how the fault matrix reads
// what a process is doing before it kills it.
func (c Config) AppURL(name string) (string, error) {
	for _, s := range apps() {
		if a, ok := s.(app); ok && a.svc == name {
			return "http://" + c.addr(a.port(c)), nil
		}
	}
	return "", fmt.Errorf("app url: %q is not an app of the stack", name)
}
