package stacktest

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Relay forwards TCP connections from a loopback port to a server, so a
// test can break the path between a client and a real server: Cut drops
// it, and a limit cuts each connection short.
type Relay struct {
	// Addr is where clients connect instead of the server.
	Addr  string
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  bool
}

// NewRelay relays to target until Cut or the end of the test. With limit
// > 0, each connection carries only its first limit bytes towards target
// and is then closed, as if the network failed in the middle of a request.
func NewRelay(t testing.TB, target string, limit int64) *Relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &Relay{Addr: ln.Addr().String(), ln: ln}
	t.Cleanup(r.Cut)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			if !r.track(c, up) {
				return
			}
			go func() {
				if limit > 0 {
					io.CopyN(up, c, limit)
					c.Close()
				} else {
					io.Copy(up, c)
				}
				up.Close()
			}()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return r
}

func (r *Relay) track(cs ...net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	r.conns = append(r.conns, cs...)
	return true
}

// Cut closes the listener and every relayed connection.
func (r *Relay) Cut() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	r.ln.Close()
	for _, c := range r.conns {
		c.Close()
	}
}
