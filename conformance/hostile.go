package conformance

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
)

// slowClients is how many connections the slow_bodies case holds open,
// each trickling an upload body: more than any server's upload slots on a
// machine of up to 16 cores (the monoliths admit 4 x cores at once).
const slowClients = 72

// healthyUploadTimeout bounds the upload slow_bodies sends beside the slow
// clients: the server must serve it while they hang, not after they time
// out.
const healthyUploadTimeout = 30 * time.Second

// testHostile sends what an attacker or a broken client sends, and checks
// that each gets a clean 4xx JSON error (or works as the contract says),
// never a 5xx, and that the server is still healthy afterwards.
func (s *suite) testHostile(t *testing.T) {
	t.Run("cases", func(t *testing.T) {
		t.Run("random_methods", s.hostileMethods)
		t.Run("tokens", s.hostileTokens)
		t.Run("slow_bodies", s.hostileSlowBodies)
	})
	t.Run("still_healthy", func(t *testing.T) {
		wantStatus(t, s.do(t, request{method: http.MethodGet, path: "/healthz"}), http.StatusOK)
	})
}

// hostileMethods: made-up HTTP methods get 405 (or 404) with a JSON error,
// and none of them becomes a label value of the server's metrics, which
// would add series without bound.
func (s *suite) hostileMethods(t *testing.T) {
	t.Parallel()
	u := s.newUser(t)
	var sent []string
	for i := range 40 {
		b := make([]byte, 4)
		rand.Read(b)
		method := "M" + strings.ToUpper(hex.EncodeToString(b))
		sent = append(sent, method)
		path := "/v1/photos"
		if i%2 == 1 {
			path += "/" + photo.NewID()
		}
		r := s.do(t, request{method: method, path: path, authz: u.authz()})
		if r.status != http.StatusMethodNotAllowed && r.status != http.StatusNotFound {
			t.Errorf("%v: want 405 or 404", r)
			continue
		}
		var body struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := checkJSON(r, &body); err != nil || body.Error.Code == "" {
			t.Errorf("%v: want a JSON error body (%v)", r, err)
		}
	}
	m := s.do(t, request{method: http.MethodGet, path: "/metrics"})
	wantStatus(t, m, http.StatusOK)
	for _, line := range strings.Split(string(m.body), "\n") {
		for _, method := range sent {
			if strings.Contains(line, `"`+method+`"`) {
				t.Fatalf("the made-up method %s is a metric label: %s", method, line)
			}
		}
	}
}

// hostileTokens: tokens signed with the server's own secret that the
// server must still refuse: issued in the future, valid for longer than
// any token may be, or with no expiry at all.
func (s *suite) hostileTokens(t *testing.T) {
	t.Parallel()
	u := s.newUser(t)
	now := time.Now()
	tokens := []struct {
		name   string
		claims jwt.RegisteredClaims
	}{
		{"issued_in_the_future", jwt.RegisteredClaims{
			IssuedAt: jwt.NewNumericDate(now.Add(2 * time.Hour)), NotBefore: jwt.NewNumericDate(now.Add(2 * time.Hour)),
			ExpiresAt: jwt.NewNumericDate(now.Add(3 * time.Hour)),
		}},
		{"lifetime_of_ten_years", jwt.RegisteredClaims{
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(10 * 365 * 24 * time.Hour)),
		}},
		{"no_expiry", jwt.RegisteredClaims{IssuedAt: jwt.NewNumericDate(now)}},
	}
	for _, tt := range tokens {
		c := tt.claims
		c.Issuer, c.Subject = auth.IssuerName, u.id
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.tgt.Secret)
		if err != nil {
			t.Fatal(err)
		}
		for _, rq := range []request{
			{method: http.MethodGet, path: "/v1/photos"},
			{method: http.MethodGet, path: "/v1/photos/" + photo.NewID()},
		} {
			rq.authz = "Bearer " + tok
			if err := checkError(s.do(t, rq), http.StatusUnauthorized, photo.Unauthorized); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
	}
}

// hostileSlowBodies: many clients that announce an upload and then send
// its body a few bytes at a time must not keep an ordinary upload from
// being served: the server may make them wait or cut them off, but it
// reads bodies before it commits resources to them.
func (s *suite) hostileSlowBodies(t *testing.T) {
	u := s.newUser(t)
	host := s.base.Host
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n",
		strings.TrimSuffix(s.base.Path, "/")+"/v1/photos", host, u.authz(), 1<<20)
	prefix := synth.JPEG(synth.Options{Seed: 733, Width: 64, Height: 48})[:64]
	for range slowClients {
		c, err := net.DialTimeout("tcp", host, 5*time.Second)
		if err != nil {
			t.Fatalf("slow client: %v", err)
		}
		conns = append(conns, c)
		if _, err := c.Write(append([]byte(head), prefix...)); err != nil {
			t.Fatalf("slow client: %v", err)
		}
	}
	// Keep them trickling while the ordinary upload runs.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for _, c := range conns {
					c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
					c.Write([]byte{0})
				}
			}
		}
	}()

	client := *s.client
	client.Timeout = healthyUploadTimeout
	start := time.Now()
	r := s.send(t, &client, s.url("/v1/photos"), request{method: http.MethodPost, path: "/v1/photos", authz: u.authz(),
		body: synth.JPEG(synth.Options{Seed: 734, Width: 320, Height: 240}), contentType: "image/jpeg"})
	if s.tgt.Eventual {
		wantStatus(t, r, http.StatusAccepted)
	} else {
		wantStatus(t, r, http.StatusCreated)
	}
	t.Logf("an ordinary upload beside %d slow clients: %v in %v", slowClients, r.status, time.Since(start).Round(time.Millisecond))
}
