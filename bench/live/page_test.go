package live_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photobench/photobench/bench/live"
	"github.com/photobench/photobench/internal/stacktest"
)

// fakes answers, on one address, what a session asks of the stack: the
// apps' public API (every list empty, every upload ready at once), the
// vision service's profile (PUT replaces, PATCH merges its top-level
// fields) and Prometheus (every query empty). Not the stack: these tests
// are about the page.
type fakes struct {
	mu      sync.Mutex
	profile map[string]json.RawMessage
	patches int
	srv     *httptest.Server
}

func newFakes(t *testing.T) *fakes {
	t.Helper()
	f := &fakes{profile: map[string]json.RawMessage{"outage": json.RawMessage(`"off"`)}}
	var n int
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v1/query":
			io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
		case r.URL.Path == "/admin/profile":
			if r.Method != http.MethodGet {
				var in map[string]json.RawMessage
				if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				if r.Method == http.MethodPut {
					f.profile = map[string]json.RawMessage{}
				} else {
					f.patches++
				}
				for k, v := range in {
					f.profile[k] = v
				}
			}
			json.NewEncoder(w).Encode(f.profile)
		case r.Method == http.MethodPost && r.URL.Path == "/v1/photos":
			io.Copy(io.Discard, r.Body)
			n++
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":"p%d","status":"ready","ready_at":%q}`, n, time.Now().UTC().Format(time.RFC3339Nano))
		case r.URL.Path == "/v1/photos":
			io.WriteString(w, `{"photos":[]}`)
		default:
			fmt.Fprintf(w, `{"id":%q,"status":"ready"}`, strings.TrimPrefix(r.URL.Path, "/v1/photos/"))
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// newSession is a session against the fakes, without a stack, and never
// Run: no frame is taken.
func newSession(t *testing.T) (*live.Session, *fakes) {
	t.Helper()
	f := newFakes(t)
	c := live.DefaultConfig()
	u := f.srv.URL
	c.MonolithURL, c.MonolithAsyncURL, c.EventDrivenURL, c.VisionURL, c.PrometheusURL = u, u, u, u, u
	c.Secret = []byte("0123456789abcdef0123456789abcdef")
	c.CacheDir = filepath.Join(stacktest.RepoRoot(t), ".stack", "loadgen-cache") // as TestLive: the photos are made once
	s, err := live.New(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.StopScene()
		s.StopLoad()
	})
	return s, f
}

// servePage serves s's page on loopback (or as if off it) with token.
func servePage(t *testing.T, s *live.Session, token string, loopback bool) string {
	t.Helper()
	srv, err := live.NewServer(s, token, loopback, 1)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// get fetches path with the cookies and Host given.
func get(t *testing.T, base, path, host string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// control posts the form fields to /control, as fetch does when asJSON.
func control(t *testing.T, base string, fields url.Values, asJSON bool, cookies ...*http.Cookie) (*http.Response, map[string]string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/control", strings.NewReader(fields.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, body := do(t, req)
	var ans map[string]string
	if asJSON {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("POST %v: %s %s, want JSON: %s", fields, resp.Status, ct, body)
		}
		if err := json.Unmarshal([]byte(body), &ans); err != nil {
			t.Errorf("POST %v: %s: %v", fields, body, err)
		}
	}
	return resp, ans
}

var keyInPage = regexp.MustCompile(`name="key" value="([0-9a-f]{32})"`)

// pageKey returns the control key in the page at base, opened with
// cookies as a presenter.
func pageKey(t *testing.T, base string, cookies ...*http.Cookie) string {
	t.Helper()
	_, page := get(t, base, "/", "", cookies...)
	m := keyInPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no control key in the page:\n%.2000s", page)
	}
	return m[1]
}

// On loopback, a Host header that is not a loopback name (DNS rebinding)
// gets 421 on every route; loopback names are served.
func TestPageRefusesOtherHostsOnLoopback(t *testing.T) {
	s, _ := newSession(t)
	base := servePage(t, s, "", true)
	port := strings.TrimPrefix(base, "http://127.0.0.1:")
	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.evil.example", "0.0.0.0:" + port, "192.168.1.5"} {
		for _, path := range []string{"/", "/frame.json", "/healthz", "/static/live.css"} {
			resp, body := get(t, base, path, host)
			if resp.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(body, "loopback names only") {
				t.Errorf("Host %s, GET %s: %s %.100s, want 421", host, path, resp.Status, body)
			}
		}
	}
	for _, host := range []string{"", "localhost:" + port, "localhost", "[::1]:" + port, "127.0.0.1"} {
		if resp, body := get(t, base, "/healthz", host); resp.StatusCode != http.StatusOK {
			t.Errorf("Host %q: %s %.100s, want 200", host, resp.Status, body)
		}
	}
	// Off loopback (with a token) any Host is served.
	off := servePage(t, s, "tok", false)
	if resp, _ := get(t, off, "/healthz", "photos.example:80"); resp.StatusCode != http.StatusOK {
		t.Errorf("off loopback: %s, want 200", resp.Status)
	}
}

func TestNewServerNeedsATokenOffLoopback(t *testing.T) {
	s, _ := newSession(t)
	if _, err := live.NewServer(s, "", false, 1); err == nil || !strings.Contains(err.Error(), "token") {
		t.Errorf("off loopback without a token: %v", err)
	}
	if _, err := live.NewServer(s, "", true, 1); err != nil {
		t.Errorf("on loopback without a token: %v", err)
	}
}

// Without a token the loopback page is a presenter's; the controls need
// its key, in the form's body.
func TestControlNeedsTheKey(t *testing.T) {
	s, _ := newSession(t)
	base := servePage(t, s, "", true)
	key := pageKey(t, base)
	for name, fields := range map[string]url.Values{
		"no key":    {"action": {"stop"}},
		"wrong key": {"action": {"stop"}, "key": {strings.Repeat("0", 32)}},
		"empty key": {"action": {"stop"}, "key": {""}},
	} {
		resp, ans := control(t, base, fields, true)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(ans["error"], "control key") {
			t.Errorf("%s: %s %v, want 403 about the key", name, resp.Status, ans)
		}
	}
	// The key in the URL, not the form, does not count.
	req, _ := http.NewRequest(http.MethodPost, base+"/control?key="+key, strings.NewReader("action=stop"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if resp, _ := do(t, req); resp.StatusCode != http.StatusForbidden {
		t.Errorf("key in the query: %s, want 403", resp.Status)
	}
	if len(s.Marks()) != 0 {
		t.Errorf("refused controls left marks: %v", s.Marks())
	}
	resp, ans := control(t, base, url.Values{"action": {"stop"}, "key": {key}}, true)
	if resp.StatusCode != http.StatusOK || ans["ok"] != "stop done" {
		t.Errorf("with the key: %s %v", resp.Status, ans)
	}
}

// With a presenter token, a viewer's page has neither controls nor key; the
// presenter opens /?token=TOKEN once and a cookie keeps it.
func TestPresenterToken(t *testing.T) {
	s, _ := newSession(t)
	base := servePage(t, s, "s3cret", true)

	_, viewer := get(t, base, "/", "")
	if strings.Contains(viewer, `id="controls"`) || strings.Contains(viewer, `name="key"`) || strings.Contains(viewer, "/control") {
		t.Errorf("the viewer's page has controls:\n%.3000s", viewer)
	}
	if !strings.Contains(viewer, "You are watching") {
		t.Error("the viewer's page does not say it is watching")
	}

	if resp, body := get(t, base, "/?token=WRONG", ""); resp.StatusCode != http.StatusForbidden || resp.Header.Get("Set-Cookie") != "" ||
		!strings.Contains(body, "wrong presenter token") {
		t.Errorf("wrong token: %s %q %s", resp.Status, resp.Header.Get("Set-Cookie"), body)
	}
	resp, _ := get(t, base, "/?token=s3cret", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("right token: %s to %q, want 303 to /", resp.Status, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "photobench_presenter" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "s3cret" || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("presenter cookie: %+v", cookie)
	}

	key := pageKey(t, base, cookie)
	if strings.Contains(viewer, key) {
		t.Error("the viewer's page holds the control key")
	}
	if resp, ans := control(t, base, url.Values{"action": {"stop"}, "key": {key}}, true, cookie); resp.StatusCode != http.StatusOK || ans["ok"] != "stop done" {
		t.Errorf("presenter with cookie and key: %s %v", resp.Status, ans)
	}
	// The key without the cookie, or a wrong cookie, is a viewer's.
	for name, cookies := range map[string][]*http.Cookie{"no cookie": nil, "wrong cookie": {{Name: "photobench_presenter", Value: "guess"}}} {
		resp, ans := control(t, base, url.Values{"action": {"stop"}, "key": {key}}, true, cookies...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(ans["error"], "only the presenter") {
			t.Errorf("%s: %s %v, want 403", name, resp.Status, ans)
		}
	}
	if resp, ans := control(t, base, url.Values{"action": {"stop"}}, true, cookie); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cookie without the key: %s %v, want 403", resp.Status, ans)
	}
}

// A page without JavaScript posts the form and gets a redirect to the page
// with the outcome; fetch gets JSON with the reason and the status.
func TestControlAnswers(t *testing.T) {
	s, _ := newSession(t)
	base := servePage(t, s, "", true)
	key := pageKey(t, base)

	resp, _ := control(t, base, url.Values{"action": {"stop"}, "key": {key}}, false)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?msg=stop+done" {
		t.Errorf("form post: %s to %q, want 303 to /?msg=stop+done", resp.Status, resp.Header.Get("Location"))
	}
	resp, _ = control(t, base, url.Values{"action": {"dance"}, "key": {key}}, false)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/" || loc.Query().Get("msg") != `unknown action "dance"` {
		t.Errorf("form post of an unknown action: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	if _, page := get(t, base, "/?msg="+url.QueryEscape(`<b>"hi"</b>`), ""); !strings.Contains(page, "&lt;b&gt;&#34;hi&#34;&lt;/b&gt;") {
		t.Error("the page does not show the message escaped")
	}

	for _, c := range []struct {
		name   string
		fields url.Values
		status int
		says   string
	}{
		{"unknown action", url.Values{"action": {"dance"}}, http.StatusBadRequest, `unknown action "dance"`},
		{"no action", url.Values{}, http.StatusBadRequest, `unknown action ""`},
		{"rate not a number", url.Values{"action": {"start"}, "shape": {"constant"}, "rate": {"fast"}}, http.StatusBadRequest, `rate "fast" is not a number`},
		{"rate NaN", url.Values{"action": {"apply"}, "shape": {"constant"}, "rate": {"NaN"}}, http.StatusBadRequest, `rate "NaN" is not a number`},
		{"rate missing", url.Values{"action": {"start"}, "shape": {"constant"}}, http.StatusBadRequest, `rate "" is not a number`},
		{"rate 0", url.Values{"action": {"start"}, "shape": {"constant"}, "rate": {"0"}}, http.StatusBadRequest, "the rate must be above 0 and at most 50"},
		{"rate above the highest", url.Values{"action": {"start"}, "shape": {"constant"}, "rate": {"51"}}, http.StatusBadRequest, "at most 50 requests/s, got 51"},
		{"rate infinite", url.Values{"action": {"start"}, "shape": {"constant"}, "rate": {"+Inf"}}, http.StatusBadRequest, "at most 50"},
		{"unknown shape", url.Values{"action": {"start"}, "shape": {"square"}, "rate": {"4"}}, http.StatusBadRequest, `unknown load shape "square"`},
		{"unknown vision state", url.Values{"action": {"vision"}, "state": {"asleep"}}, http.StatusBadRequest, `unknown vision state "asleep"`},
		{"unknown scene", url.Values{"action": {"scene"}, "scene": {"nope"}}, http.StatusBadRequest, `unknown scene "nope"`},
		{"kill without a stack", url.Values{"action": {"kill"}, "function": {"thumbnail"}}, http.StatusConflict, "no stack"},
		{"restart without a stack", url.Values{"action": {"restart"}, "server": {"kafka"}}, http.StatusConflict, "no stack"},
		{"reset without a stack", url.Values{"action": {"reset"}}, http.StatusConflict, "no stack"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.fields.Set("key", key)
			resp, ans := control(t, base, c.fields, true)
			if resp.StatusCode != c.status || !strings.Contains(ans["error"], c.says) {
				t.Errorf("%s %v, want %d saying %q", resp.Status, ans, c.status, c.says)
			}
		})
	}
	if f := s.Latest(); f.Load.Running {
		t.Error("a refused start started the load")
	}
}

// Without a stack the page offers no stack controls; with one it would.
func TestPageWithoutAStackHidesItsControls(t *testing.T) {
	s, _ := newSession(t)
	base := servePage(t, s, "", true)
	_, page := get(t, base, "/", "")
	for _, id := range []string{`id="reset"`, `id="restart-kafka"`, `value="kill"`} {
		if strings.Contains(page, id) {
			t.Errorf("the page without a stack has %s", id)
		}
	}
	for _, sc := range live.Scenes {
		if !strings.Contains(page, `id="scene-`+sc.Name+`"`) {
			t.Errorf("the page does not offer scene %s", sc.Name)
		}
	}
}

func TestScenesHaveCaptions(t *testing.T) {
	if len(live.Scenes) == 0 {
		t.Fatal("no scenes")
	}
	names := map[string]bool{}
	for _, sc := range live.Scenes {
		if sc.Name == "" || sc.Title == "" || len(sc.Steps) == 0 || names[sc.Name] {
			t.Errorf("scene %q (%q): %d steps, name repeated %v", sc.Name, sc.Title, len(sc.Steps), names[sc.Name])
		}
		names[sc.Name] = true
		for i, st := range sc.Steps {
			if strings.TrimSpace(st.Caption) == "" {
				t.Errorf("scene %s step %d (%s) has no caption", sc.Name, i+1, st.Label)
			}
		}
		got, ok := live.LookupScene(sc.Name)
		if !ok || got.Name != sc.Name || len(got.Steps) != len(sc.Steps) {
			t.Errorf("LookupScene(%q) = %q, %v", sc.Name, got.Name, ok)
		}
	}
	if _, ok := live.LookupScene("no-such-scene"); ok {
		t.Error("LookupScene found a scene that is not there")
	}
	if got := live.SceneNames(); len(got) != len(live.Scenes) {
		t.Errorf("SceneNames %v", got)
	}
}

// One scene at a time: a second is refused (409) while one plays, and
// StopScene stops it.
func TestPlaySceneOneAtATime(t *testing.T) {
	s, f := newSession(t)
	base := servePage(t, s, "", true)
	key := pageKey(t, base)

	// vision-outage: its first step starts the load, the next waits 30 s.
	resp, ans := control(t, base, url.Values{"action": {"scene"}, "scene": {"vision-outage"}, "key": {key}}, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("play: %s %v", resp.Status, ans)
	}
	waitMark(t, s, "vision-outage 1/4: load on")
	for _, name := range []string{"vision-outage", "slow-vision"} {
		resp, ans := control(t, base, url.Values{"action": {"scene"}, "scene": {name}, "key": {key}}, true)
		if resp.StatusCode != http.StatusConflict || !strings.Contains(ans["error"], "scene vision-outage is playing") {
			t.Errorf("play %s during vision-outage: %s %v, want 409", name, resp.Status, ans)
		}
	}
	if err := s.PlayScene("slow-vision", 1); err == nil {
		t.Error("PlayScene during a scene: no error")
	}

	resp, ans = control(t, base, url.Values{"action": {"stop-scene"}, "key": {key}}, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stop-scene: %s %v", resp.Status, ans)
	}
	waitMark(t, s, "vision-outage stopped")
	f.mu.Lock()
	patches := f.patches
	f.mu.Unlock()
	if patches != 1 { // the baseline, set by New; the scene never reached the outage
		t.Errorf("vision patched %d times, want once (the baseline)", patches)
	}

	// Stopped, another plays; a scene that ran to its end frees the slot.
	if err := s.PlayScene("scale-from-zero", 1); err != nil {
		t.Fatalf("a scene after the stop: %v", err)
	}
	waitMark(t, s, "scale-from-zero 1/4: load off")
	if err := s.StopScene(); err != nil {
		t.Fatal(err)
	}
	if err := s.StopScene(); err != nil {
		t.Errorf("StopScene without a scene: %v", err)
	}
	if err := s.PlayScene("slow-vision", 1e-6); err != nil {
		t.Fatal(err)
	}
	waitMark(t, s, "slow-vision 4/4: end")
	deadline := time.Now().Add(10 * time.Second)
	for s.PlayScene("vision-outage", 1) != nil {
		if time.Now().After(deadline) {
			t.Fatal("a scene that ended still holds the slot")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitMark waits (10 s at most) for a timeline entry labelled label.
func waitMark(t *testing.T, s *live.Session, label string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range s.Marks() {
			if m.Label == label {
				if m.Error != "" {
					t.Errorf("%s: %s", label, m.Error)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mark %q in %v", label, s.Marks())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
