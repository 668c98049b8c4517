package stacktest

import (
	"testing"

	"github.com/photobench/photobench/internal/stack"
)

// FreePort returns a loopback port that is free now and that the kernel
// will not hand out by itself: it lies below the ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range, 32768 and up by default), from
// which a port-0 listener (a function replica) or an outgoing connection
// takes its port. A port the kernel picked for a listener on port 0 and
// then freed may be given to such a socket later in the test, before or
// while the service configured with it starts; a service then fails to
// listen, and a probe of the port can even be answered by the other
// process (seen: the front's /healthz answered by a function replica).
//
// A port is free when picked, but nothing listens on it until its service
// starts: until the test ends, FreePort gives it to no one else, in this
// process or in another one (stack.ClaimPort; released when the test
// ends). Without that, the dozens of ports of the scratch stacks that
// test packages start side by side collided now and then (seen: a scratch
// runtime could not listen on the port its own PostgreSQL had just taken).
func FreePort(t testing.TB) int {
	t.Helper()
	ports, release, err := stack.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	return ports[0]
}
