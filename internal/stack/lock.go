package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrBusy is returned by LockBench while another measurement holds the
// lock.
var ErrBusy = errors.New("another measurement runs")

// LockBench takes the stack's measurement lock, an exclusive flock on
// <Dir>/bench.lock, without waiting: photobench bench and photobench
// chaos each hold it for their whole run, so that neither runs while the
// other loads the machine (chaos runs a stack of its own, but the same
// cores). who (the command) is written into the file so that the refusal
// can name the holder. release drops the lock; the kernel drops it too
// when the process ends.
func LockBench(c Config, who string) (release func(), err error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock %s: %w", c.Dir, err)
	}
	path := filepath.Join(c.Dir, "bench.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s holds %s)", ErrBusy, strings.TrimSpace(string(holder)), path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%s, pid %d\n", who, os.Getpid())
	return func() { f.Close() }, nil
}
