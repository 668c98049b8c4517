// Package browser runs a real, headless Chromium for tests that look at a page
// as a person would: open it, press its buttons, read what it shows, and save a
// screenshot of it.
//
// The browser is Debian's chromium (make deps installs it), or the binary that
// PHOTOBENCH_CHROMIUM names. It starts with a fresh profile in the test's
// temporary directory, none of the test's environment, and is kept on this
// machine twice over: every host name but localhost, and every address but
// 127.0.0.1 and ::1, resolves to nothing (--host-resolver-rules); and every
// request for a host off loopback goes to a proxy of this package on loopback
// that refuses it. Flags turn off what they can of Chromium's own background
// requests; those they cannot (Chromium 156 still asks for a component update
// and for the signed-in Google accounts at start) end at that proxy, and the
// test's log lists them. A page that asks for anything off loopback fails its
// test (see [New]).
//
// A context from [New] is a chromedp context: use it with chromedp.Run and
// chromedp.Do directly, or with this package's helpers, which bound each wait.
package browser

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// EnvPath names the environment variable that overrides the browser's path.
const EnvPath = "PHOTOBENCH_CHROMIUM"

// DefaultPath is where Debian's chromium package puts the browser.
const DefaultPath = "/usr/bin/chromium"

// The size of the browser's window and viewport, and so of a screenshot of a
// page that fits in it.
const (
	Width  = 1600
	Height = 1000
)

// Path returns the browser to run: $PHOTOBENCH_CHROMIUM when set, else
// DefaultPath. It fails when that is not an executable file.
func Path() (string, error) {
	p := os.Getenv(EnvPath)
	from := EnvPath
	if p == "" {
		p, from = DefaultPath, "the default path"
	}
	fi, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("chromium at %s (%s): %w", p, from, err)
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("chromium at %s (%s): not an executable file", p, from)
	}
	return p, nil
}

// Require returns the browser's path, or ends t when there is none: it skips t
// with a note on how to install one, except under CI (the environment
// variable CI set), where it fails t, because CI must run the browser tests.
func Require(t testing.TB) string {
	t.Helper()
	p, err := Path()
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("no browser for this test: %v; make deps installs Debian's chromium, or set %s to a Chromium binary", err, EnvPath)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set: the browser tests must run there)", msg)
		return ""
	}
	t.Skip(msg)
	return ""
}

// An Option changes how New starts the browser.
type Option func(*config)

type config struct {
	allowed []string
	netLog  string
}

// NetLog has Chromium write its NetLog (every host resolution and socket it
// opens) to path, complete once the browser has stopped at t's cleanup. It
// is for the test that checks what the browser connects to.
func NetLog(path string) Option {
	return func(c *config) { c.netLog = path }
}

// AllowOffLoopback lets the page ask for these host names off loopback
// without failing the test. The proxy still refuses the requests;
// [OffLoopback] and [Refused] list them. It is for the test that checks the
// proxy itself.
func AllowOffLoopback(hosts ...string) Option {
	return func(c *config) { c.allowed = append(c.allowed, hosts...) }
}

// New starts a headless Chromium for t (skipping or failing t as [Require]
// does when there is none) and returns a context with a blank tab of it, for
// chromedp and this package's helpers. The browser stops when t's cleanup
// runs; then t fails if a page in that tab asked for a URL off loopback
// (unless [AllowOffLoopback] named its host), and t's log lists the requests
// the proxy refused. Tabs a test opens itself (chromedp.NewContext of this
// context) are kept on loopback too, but their requests are not listed.
func New(t testing.TB, opts ...Option) context.Context {
	t.Helper()
	path := Require(t)
	var c config
	for _, o := range opts {
		o(&c)
	}

	tr := &trap{}
	proxy := httptest.NewServer(tr)
	dir := t.TempDir()
	// chromedp's defaults: headless, no first run, no background networking,
	// no sync, no extensions, no crash reports; then this machine's.
	alloc := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(dir+"/profile"),
		chromedp.WindowSize(Width, Height),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-component-extensions-with-background-pages", true),
		chromedp.Flag("disable-field-trial-config", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying"),
		// Off loopback, host names resolve to nothing, and requests go to
		// the trap; loopback bypasses the proxy by Chromium's own rule.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1 , EXCLUDE [::1]"),
		chromedp.ProxyServer(proxy.URL),
		chromedp.Flag("force-webrtc-ip-handling-policy", "disable_non_proxied_udp"),
		// Not the test's environment: it holds the stack's passwords.
		chromedp.NoInheritEnv,
		chromedp.Env("HOME="+dir, "TMPDIR="+dir, "PATH=/usr/bin:/bin"),
	)
	if c.netLog != "" {
		alloc = append(alloc, chromedp.Flag("log-net-log", c.netLog))
	}
	if os.Geteuid() == 0 {
		// Chromium's sandbox refuses to run as root.
		alloc = append(alloc, chromedp.NoSandbox)
	}
	var out lockedBuffer
	alloc = append(alloc, chromedp.CombinedOutput(&out))

	actx, acancel := chromedp.NewExecAllocator(context.Background(), alloc...)
	ctx, cancel := chromedp.NewContext(actx)
	pg := &pageWatch{}
	t.Cleanup(func() {
		// Closed, not killed: Chromium then completes its files (NetLog).
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		chromedp.Cancel(cctx)
		ccancel()
		cancel()
		acancel()
		proxy.Close()
		if refused := tr.requests(); len(refused) > 0 {
			t.Logf("requests off loopback the proxy refused: %s", strings.Join(refused, "; "))
		}
		var off []string
		for _, r := range pg.requests() {
			if !slices.Contains(c.allowed, r.host) {
				off = append(off, r.url)
			}
		}
		if len(off) > 0 {
			t.Errorf("the page asked for URLs off loopback (refused; a page under test must work offline): %s", strings.Join(off, " "))
		}
	})
	// The first run starts the browser; it must not have a deadline, which
	// would end the browser with it (chromedp.Run). The viewport is set to the
	// window's size (a headless window keeps room for toolbars it does not
	// draw), so that a screenshot of a page that fits is Width x Height.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), chromedp.EmulateViewport(Width, Height)); err != nil {
		t.Fatalf("start chromium %s: %v; its output:\n%s", path, err, tail(out.String(), 30))
	}
	if err := chromedp.Listen(ctx, pg.event); err != nil {
		t.Fatalf("watch the requests of chromium's tab: %v", err)
	}
	ctx = context.WithValue(ctx, trapKey{}, tr)
	return context.WithValue(ctx, pageKey{}, pg)
}

// OffLoopback lists the URLs off loopback that pages in the tab of ctx asked
// for so far, as Chromium reported them (the proxy refused them all).
func OffLoopback(ctx context.Context) []string {
	pg, _ := ctx.Value(pageKey{}).(*pageWatch)
	if pg == nil {
		return nil
	}
	var urls []string
	for _, r := range pg.requests() {
		urls = append(urls, r.url)
	}
	return urls
}

// Refused lists the requests that reached the proxy of the browser of ctx so
// far, the page's and the browser's own, each as "METHOD URL" (or "CONNECT
// host:port" for HTTPS).
func Refused(ctx context.Context) []string {
	tr, _ := ctx.Value(trapKey{}).(*trap)
	if tr == nil {
		return nil
	}
	return tr.requests()
}

type (
	trapKey struct{}
	pageKey struct{}
)

// pageWatch records the requests of the tab's pages for URLs off loopback,
// from Chromium's own account of them (the Network domain's events).
type pageWatch struct {
	mu  sync.Mutex
	off []pageRequest
}

type pageRequest struct{ host, url string }

// event runs in chromedp's reading loop: it must return at once.
func (pg *pageWatch) event(ev any) {
	var raw string
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		raw = ev.Request.URL
	case *network.EventWebSocketCreated:
		raw = ev.URL
	default:
		return
	}
	u, err := url.Parse(raw)
	if err != nil || !slices.Contains([]string{"http", "https", "ws", "wss"}, u.Scheme) || loopback(u.Hostname()) {
		return
	}
	pg.mu.Lock()
	pg.off = append(pg.off, pageRequest{host: u.Hostname(), url: raw})
	pg.mu.Unlock()
}

func (pg *pageWatch) requests() []pageRequest {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return slices.Clone(pg.off)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// trap is the browser's proxy: Chromium sends it every request for a host
// off loopback (loopback bypasses proxies by Chromium's own rule); it records
// each and refuses it.
type trap struct {
	mu   sync.Mutex
	seen []string
}

func (tr *trap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.URL.String()
	if r.Method == http.MethodConnect {
		target = r.Host
	}
	tr.mu.Lock()
	tr.seen = append(tr.seen, r.Method+" "+target)
	tr.mu.Unlock()
	http.Error(w, "photobench browser tests stay on loopback", http.StatusForbidden)
}

func (tr *trap) requests() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.seen)
}

// lockedBuffer keeps the browser's output, which chromedp writes from its own
// goroutine, for the message of a failed start.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
