package browser_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/photobench/photobench/internal/browser"
)

// wait bounds each wait for the browser: generous, for a machine busy with the
// rest of make test.
const wait = 30 * time.Second

// counterPage counts the presses of its button in JavaScript.
const counterPage = `<!doctype html>
<html><head><title>counter</title>
<style>body { font: 24px sans-serif; margin: 40px; } button { font: inherit; }</style>
</head><body>
<h1>Browser test</h1>
<p>Presses: <span id="count" data-count="0">0</span></p>
<button id="press" onclick="press()">Press</button>
<script>
function press() {
  const c = document.getElementById("count");
  const n = Number(c.dataset.count) + 1;
  c.dataset.count = String(n);
  c.textContent = String(n);
}
</script>
</body></html>`

func serve(t *testing.T, page string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// A page on loopback, a press of its button, the DOM after it, and a
// screenshot of the window's size; New's cleanup then fails the test if
// Chromium tried to reach anything off loopback meanwhile.
func TestPressAndScreenshot(t *testing.T) {
	url := serve(t, counterPage)
	ctx := browser.New(t)

	if err := browser.Open(ctx, url, wait); err != nil {
		t.Fatal(err)
	}
	if got, err := browser.Text(ctx, "#count", wait); err != nil || got != "0" {
		t.Fatalf("count before a press = %q, %v; want 0", got, err)
	}
	for range 2 {
		if err := browser.Click(ctx, "#press", wait); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := browser.WaitText(ctx, "#count", wait, func(s string) bool { return s == "2" }); err != nil {
		t.Fatal(err)
	}
	if got, err := browser.Attribute(ctx, "#count", "data-count", wait); err != nil || got != "2" {
		t.Fatalf("data-count after two presses = %q, %v; want 2", got, err)
	}

	if w, h := screenshot(t, ctx); w != browser.Width || h != browser.Height {
		t.Errorf("screenshot is %dx%d; want the window's %dx%d", w, h, browser.Width, browser.Height)
	}
}

// screenshot saves a screenshot of the tab of ctx under t.TempDir() and
// returns its size, failing t if it is not a PNG.
func screenshot(t *testing.T, ctx context.Context) (width, height int) {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "page.png")
	if err := browser.Screenshot(ctx, shot); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	return cfg.Width, cfg.Height
}

// A page longer than the window: Screenshot takes all of it.
func TestScreenshotWholePage(t *testing.T) {
	url := serve(t, `<!doctype html><body style="margin:0"><div style="height:2500px;background:#369"></div></body>`)
	ctx := browser.New(t)
	if err := browser.Open(ctx, url, wait); err != nil {
		t.Fatal(err)
	}
	if w, h := screenshot(t, ctx); w != browser.Width || h != 2500 {
		t.Errorf("screenshot is %dx%d; want %dx2500", w, h, browser.Width)
	}
}

// A page that asks for an image from a host off loopback: Chromium reports
// the request, sends it to New's proxy (not to the network: the host does
// not resolve), and the proxy refuses it.
func TestOffLoopbackRefused(t *testing.T) {
	const away = "photobench.invalid"
	url := serve(t, `<!doctype html><body><p id="here">here</p><img id="away" src="http://`+away+`/pixel.png"></body>`)
	ctx := browser.New(t, browser.AllowOffLoopback(away))
	if err := browser.Open(ctx, url, wait); err != nil {
		t.Fatal(err)
	}
	if _, err := browser.Text(ctx, "#here", wait); err != nil {
		t.Fatal(err)
	}
	asked, refused := "http://"+away+"/pixel.png", "GET http://"+away+"/pixel.png"
	deadline := time.Now().Add(wait)
	for !slices.Contains(browser.Refused(ctx), refused) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := browser.OffLoopback(ctx); !slices.Equal(got, []string{asked}) {
		t.Errorf("the page's requests off loopback = %q; want only %q", got, asked)
	}
	if got := browser.Refused(ctx); !slices.Contains(got, refused) {
		t.Errorf("the proxy refused %q; want %q among them", got, refused)
	}
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("away").naturalWidth > 0`))
	if err != nil || loaded {
		t.Errorf("image off loopback loaded = %v, %v; want false", loaded, err)
	}
}

func TestPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "chromium")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExe := filepath.Join(dir, "plain")
	if err := os.WriteFile(notExe, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, env string
		ok        bool
	}{
		{"executable", exe, true},
		{"missing", filepath.Join(dir, "nothing"), false},
		{"not executable", notExe, false},
		{"a directory", dir, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(browser.EnvPath, tc.env)
			p, err := browser.Path()
			if tc.ok && (err != nil || p != tc.env) {
				t.Errorf("Path() = %q, %v; want %q", p, err, tc.env)
			}
			if !tc.ok && err == nil {
				t.Errorf("Path() = %q; want an error", p)
			}
		})
	}
}

// Chromium's own record of its sockets and host resolutions, for a page on
// loopback that also asks for an image off loopback: every TCP connection
// goes to 127.0.0.1, no DNS query leaves the browser, and a UDP socket is
// only ever connected to loopback or for Chromium's IPv6 check, a connect(2)
// to a public address that picks a route and sends no packet.
func TestNetLogLoopbackOnly(t *testing.T) {
	const away = "photobench.invalid"
	url := serve(t, `<!doctype html><body><p id="here">here</p><img src="http://`+away+`/pixel.png"></body>`)
	log := filepath.Join(t.TempDir(), "netlog.json")
	// Registered before New's cleanup, so run after it: the browser has
	// stopped and completed the log.
	t.Cleanup(func() {
		events := readNetLog(t, log)
		const ipv6Check = "[2001:4860:4860::8888]:443"
		pageServer := strings.TrimPrefix(url, "http://")
		sawPage := false
		for _, e := range events {
			addr, _ := e.Params["address"].(string)
			switch {
			case e.Type == "TCP_CONNECT_ATTEMPT" && addr != "":
				sawPage = sawPage || addr == pageServer
				if !loopbackAddr(addr) {
					t.Errorf("TCP connection off loopback: %s", addr)
				}
			case e.Type == "UDP_CONNECT" && addr != "":
				if !loopbackAddr(addr) && addr != ipv6Check {
					t.Errorf("UDP socket connected off loopback: %s", addr)
				}
			case strings.HasPrefix(e.Type, "DNS_TRANSACTION"), e.Type == "DOH_URL_REQUEST",
				e.Type == "HOST_RESOLVER_DNS_TASK", e.Type == "HOST_RESOLVER_SYSTEM_TASK":
				t.Errorf("a host resolution reached a resolver: %s %v", e.Type, e.Params)
			}
		}
		if !sawPage {
			t.Errorf("the NetLog (%d events) has no connection to the page's server %s: not a NetLog of this test", len(events), pageServer)
		}
	})
	ctx := browser.New(t, browser.NetLog(log), browser.AllowOffLoopback(away))
	if err := browser.Open(ctx, url, wait); err != nil {
		t.Fatal(err)
	}
	if _, err := browser.Text(ctx, "#here", wait); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for len(browser.OffLoopback(ctx)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

type netLogEvent struct {
	Type   string
	Params map[string]any
}

// readNetLog reads a NetLog file, naming each event's type. A log whose
// writer was stopped before it closed the event list is read up to its last
// complete event.
func readNetLog(t *testing.T, path string) []netLogEvent {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := bytes.TrimRight(b, " \n"); !bytes.HasSuffix(s, []byte("}")) || bytes.HasSuffix(s, []byte("},")) {
		b = append(bytes.TrimSuffix(s, []byte(",")), "]}"...)
	}
	var raw struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int            `json:"type"`
			Params map[string]any `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("read NetLog %s: %v", path, err)
	}
	names := make(map[int]string, len(raw.Constants.LogEventTypes))
	for name, n := range raw.Constants.LogEventTypes {
		names[n] = name
	}
	events := make([]netLogEvent, len(raw.Events))
	for i, e := range raw.Events {
		events[i] = netLogEvent{Type: names[e.Type], Params: e.Params}
	}
	return events
}

func loopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tb records what Require does with a test instead of ending it.
type tb struct {
	testing.TB
	skipped, failed string
}

func (t *tb) Helper()                           {}
func (t *tb) Skip(args ...any)                  { t.skipped = fmt.Sprint(args...) }
func (t *tb) Fatalf(format string, args ...any) { t.failed = fmt.Sprintf(format, args...) }

func TestRequireWithoutBrowser(t *testing.T) {
	t.Setenv(browser.EnvPath, filepath.Join(t.TempDir(), "nothing"))
	for _, tc := range []struct {
		ci         string
		skip, fail bool
	}{
		{ci: "", skip: true},
		{ci: "true", fail: true},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			var rec tb
			if p := browser.Require(&rec); p != "" {
				t.Errorf("Require = %q; want no path", p)
			}
			if got := rec.skipped != ""; got != tc.skip {
				t.Errorf("skipped: %q; want a skip: %v", rec.skipped, tc.skip)
			}
			if got := rec.failed != ""; got != tc.fail {
				t.Errorf("failed: %q; want a failure: %v", rec.failed, tc.fail)
			}
			for _, msg := range []string{rec.skipped, rec.failed} {
				if msg != "" && !strings.Contains(msg, "make deps installs Debian's chromium") {
					t.Errorf("message %q does not say how to get a browser", msg)
				}
			}
		})
	}
}
