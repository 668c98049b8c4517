package stacktest

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Start starts cmd, one of photobench's processes, with its stderr shown
// when the test is verbose, kills it when the test ends, and returns once
// it listens: the URL of the line it prints to stdout first
// ("<name> listening on http://...").
func Start(t testing.TB, cmd *exec.Cmd) string {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("%s did not start: %v", cmd.Path, err)
	}
	go io.Copy(io.Discard, stdout)
	_, url, ok := strings.Cut(strings.TrimSpace(line), " listening on ")
	if !ok {
		t.Fatalf("the first line of %s, %q, does not say where it listens", cmd.Path, line)
	}
	return url
}
