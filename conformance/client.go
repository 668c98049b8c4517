package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/photo"
)

// requestTimeout bounds one request.
const requestTimeout = 2 * time.Minute

// maxResponseBytes bounds a response body the suite reads.
const maxResponseBytes = 64 << 20

// user is one of the suite's users: a fresh random id and its token.
type user struct {
	id    string
	token string
}

func (u user) authz() string { return "Bearer " + u.token }

// newUser makes a user no earlier run has seen.
func (s *suite) newUser(t testing.TB) user {
	t.Helper()
	id := "conf-" + strings.ToLower(rand.Text()[:16])
	token, err := s.issuer.Mint(id, time.Hour)
	if err != nil {
		t.Fatalf("mint a token for %s: %v", id, err)
	}
	return user{id: id, token: token}
}

// request is one HTTP request of the suite.
type request struct {
	method string
	// path is relative to the base URL and may carry a query.
	path string
	// authz is the Authorization header; none when empty.
	authz       string
	body        []byte
	contentType string
	// expectContinue sends "Expect: 100-continue", so a server refusing
	// a large body early can answer before the body is sent.
	expectContinue bool
}

// response is what came back, with the request for failure messages.
type response struct {
	method, url string
	status      int
	header      http.Header
	body        []byte
}

// String renders the response for failure messages: request, status, and
// the body when it is text.
func (r response) String() string {
	ct := r.header.Get("Content-Type")
	body := ""
	switch {
	case len(r.body) == 0:
		body = "(empty body)"
	case isText(ct):
		body = string(r.body)
		if len(body) > 600 {
			body = body[:600] + "..."
		}
	default:
		body = fmt.Sprintf("(%d bytes of %s)", len(r.body), ct)
	}
	return fmt.Sprintf("%s %s: %d %s; body: %s", r.method, r.url, r.status, http.StatusText(r.status), strings.TrimSpace(body))
}

func isText(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "" || strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "json")
}

// url is path resolved against the base URL (whose path prefixes it).
func (s *suite) url(path string) string {
	return strings.TrimSuffix(s.tgt.BaseURL, "/") + path
}

// do sends rq with the suite's client.
func (s *suite) do(t testing.TB, rq request) response {
	t.Helper()
	return s.send(t, s.client, s.url(rq.path), rq)
}

func (s *suite) send(t testing.TB, c *http.Client, target string, rq request) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, target, body)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, target, err)
	}
	if rq.authz != "" {
		req.Header.Set("Authorization", rq.authz)
	}
	if rq.contentType != "" {
		req.Header.Set("Content-Type", rq.contentType)
	}
	if rq.expectContinue {
		req.Header.Set("Expect", "100-continue")
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s (%d-byte body): %v", rq.method, target, len(rq.body), err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes))
	if err != nil {
		t.Fatalf("%s %s: read the response: %v", rq.method, target, err)
	}
	return response{method: rq.method, url: target, status: res.StatusCode, header: res.Header, body: b}
}

// wantStatus fails the test unless the response has one of the statuses.
func wantStatus(t testing.TB, r response, statuses ...int) {
	t.Helper()
	if !slices.Contains(statuses, r.status) {
		t.Fatalf("%v\nwant status %v", r, statuses)
	}
}

// decodeJSON checks that r is JSON and decodes it into v.
func decodeJSON(t testing.TB, r response, v any) {
	t.Helper()
	if err := checkJSON(r, v); err != nil {
		t.Fatal(err)
	}
}

func checkJSON(r response, v any) error {
	mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	if mt != "application/json" {
		return fmt.Errorf("%v\nwant Content-Type application/json, got %q", r, r.header.Get("Content-Type"))
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("%v\ndecode the JSON body: %v", r, err)
	}
	return nil
}

// checkError checks an error answer: the status, a JSON body
// {"error":{"code":code,"message":"..."}} with a message, and for 503 a
// Retry-After of whole seconds >= 1.
func checkError(r response, status int, code photo.Kind) error {
	if r.status != status {
		return fmt.Errorf("%v\nwant status %d (%s)", r, status, code)
	}
	var body httpapi.ErrorBody
	if err := checkJSON(r, &body); err != nil {
		return err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &raw); err != nil || raw["error"] == nil {
		return fmt.Errorf("%v\nwant a JSON object with an \"error\" member", r)
	}
	switch {
	case body.Error.Code != string(code):
		return fmt.Errorf("%v\nwant error code %q, got %q", r, code, body.Error.Code)
	case strings.TrimSpace(body.Error.Message) == "":
		return fmt.Errorf("%v\nwant an error message", r)
	}
	if status == http.StatusServiceUnavailable {
		var secs int
		if _, err := fmt.Sscanf(r.header.Get("Retry-After"), "%d", &secs); err != nil || secs < 1 {
			return fmt.Errorf("%v\nwant Retry-After in whole seconds >= 1, got %q", r, r.header.Get("Retry-After"))
		}
	}
	return nil
}

// wantError fails the test unless r is the error answer (see checkError).
func wantError(t testing.TB, r response, status int, code photo.Kind) {
	t.Helper()
	if err := checkError(r, status, code); err != nil {
		t.Fatal(err)
	}
}

// checkLocation checks that a Location header names the photo: absolute
// or relative, its path ends in /v1/photos/{id}.
func (s *suite) checkLocation(r response, id string) error {
	loc := r.header.Get("Location")
	if loc == "" {
		return fmt.Errorf("%v\nwant a Location header for /v1/photos/%s", r, id)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return fmt.Errorf("%v\nLocation %q: %v", r, loc, err)
	}
	u = s.base.ResolveReference(u)
	if !strings.HasSuffix(u.Path, "/v1/photos/"+id) || (u.Host != "" && u.Host != s.base.Host) {
		return fmt.Errorf("%v\nLocation %q does not point at /v1/photos/%s", r, loc, id)
	}
	return nil
}

// poll calls f until it reports done, or fails the test after the ready
// timeout with f's last word. Without Eventual there is one try: the
// answer must be right at once.
func (s *suite) poll(t testing.TB, what string, f func() (done bool, last string)) {
	t.Helper()
	if !s.tgt.Eventual {
		if done, last := f(); !done {
			t.Fatalf("%s: %s", what, last)
		}
		return
	}
	deadline := time.Now().Add(s.readyTimeout)
	wait := 50 * time.Millisecond
	for {
		done, last := f()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last: %s", what, s.readyTimeout, last)
		}
		time.Sleep(wait)
		wait = min(wait*3/2, time.Second)
	}
}

// settleDown waits, when Eventual, long enough for a wrongly accepted
// write to show before the suite checks it did not happen.
func (s *suite) settleDown() {
	if s.tgt.Eventual {
		time.Sleep(min(settle, s.readyTimeout))
	}
}
