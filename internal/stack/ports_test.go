package stack

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestClaimPort: a claimed port is not claimed again, in this process or
// while another process's claim file exists, until it is released.
func TestClaimPort(t *testing.T) {
	const port = 31999
	release, ok := ClaimPort(port)
	if !ok {
		t.Skipf("port %d is claimed by another test process now", port)
	}
	if _, again := ClaimPort(port); again {
		t.Fatal("a claimed port was claimed again in the same process")
	}
	release()
	r2, ok := ClaimPort(port)
	if !ok {
		t.Fatal("a released port could not be claimed")
	}
	r2()

	// Another process's claim: its file.
	file := filepath.Join(os.TempDir(), "photobench-ports", strconv.Itoa(port))
	if err := os.WriteFile(file, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(file)
	if _, ok := ClaimPort(port); ok {
		t.Fatal("a port claimed by another process (its claim file) was claimed")
	}

	ports, releaseAll, err := FreePorts(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || p == port {
			t.Fatalf("FreePorts gave port %d twice or a claimed one: %v", p, ports)
		}
		seen[p] = true
	}
	releaseAll()
}
