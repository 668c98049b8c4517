package stack

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

var (
	reservedMu sync.Mutex
	// reserved are the ports ClaimPort gave this process and not yet
	// released.
	reserved = map[int]bool{}
)

// staleClaim is the age after which a claim file is taken to be left by a
// process that died without releasing it.
const staleClaim = 3 * time.Hour

// ClaimPort reserves port for the caller until release: no other caller
// in this process (a map) or in another process (a claim file under
// os.TempDir()/photobench-ports, created exclusively; the directory is
// sticky and world-writable, each process removes only its own files) gets
// it meanwhile. It does not check that the port is free. A port picked
// free stays unbound until its server starts; scratch stacks that test
// packages and the fault matrix start side by side, each with a dozen
// random ports, collided without this now and then.
func ClaimPort(port int) (release func(), ok bool) {
	reservedMu.Lock()
	defer reservedMu.Unlock()
	if reserved[port] {
		return nil, false
	}
	file := ""
	dir := filepath.Join(os.TempDir(), "photobench-ports")
	if err := os.MkdirAll(dir, 0o777); err == nil {
		os.Chmod(dir, 0o1777) //nolint:errcheck // not ours: then the claim file fails below
		file = filepath.Join(dir, strconv.Itoa(port))
		f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		switch {
		case err == nil:
			fmt.Fprintln(f, os.Getpid())
			f.Close()
		case errors.Is(err, fs.ErrExist):
			if info, serr := os.Stat(file); serr == nil && time.Since(info.ModTime()) > staleClaim {
				os.Remove(file) // free for the next pick
			}
			return nil, false
		default:
			file = "" // the directory is not writable: this process's map only
		}
	}
	reserved[port] = true
	return func() {
		reservedMu.Lock()
		defer reservedMu.Unlock()
		delete(reserved, port)
		if file != "" {
			os.Remove(file)
		}
	}, true
}

// FreePorts claims n distinct loopback ports that are free now, from
// 20000 up to the kernel's ephemeral range (32768 by default), so that no
// port-0 listener or outgoing connection takes one before its server
// listens. release gives them all back.
func FreePorts(n int) (ports []int, release func(), err error) {
	var releases []func()
	release = func() {
		for _, r := range releases {
			r()
		}
	}
	for tries := 0; len(ports) < n && tries < 50*n; tries++ {
		p := 20000 + rand.IntN(ephemeralLow()-20000)
		r, ok := ClaimPort(p)
		if !ok {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			r()
			continue
		}
		ln.Close()
		ports, releases = append(ports, p), append(releases, r)
	}
	if len(ports) < n {
		release()
		return nil, nil, fmt.Errorf("found %d free loopback ports of %d", len(ports), n)
	}
	return ports, release, nil
}

// ephemeralLow is the lowest port of the kernel's ephemeral range, or
// Linux's default 32768 when it cannot be read.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	var low, high int
	if err == nil {
		if n, _ := fmt.Sscan(string(b), &low, &high); n == 2 && low > 20100 {
			return low
		}
	}
	return 32768
}
