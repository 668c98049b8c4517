package live_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/live"
	"github.com/photobench/photobench/bench/live/estimate"
	"github.com/photobench/photobench/bench/live/ops"
	"github.com/photobench/photobench/internal/browser"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
)

// startSession starts a live session against the apps of stack sc, served on
// loopback by httptest, with scenes played at speed; it ends with t.
func startSession(t *testing.T, sc stack.Config, env stacktest.Env, speed float64) (*live.Session, string) {
	t.Helper()
	c := live.DefaultConfig()
	c.MonolithURL, c.MonolithAsyncURL, c.EventDrivenURL = env.MonolithURL, env.MonolithAsyncURL, env.EventDrivenURL
	c.VisionURL, c.PrometheusURL = env.VisionURL, env.PrometheusURL
	c.Secret = auth.SecretFromEnv(func(k string) string {
		if k == auth.EnvSecret {
			return env.AuthSecret
		}
		return ""
	})
	c.Stack, c.HaveStack = sc, true
	c.CacheDir = filepath.Join(stacktest.RepoRoot(t), ".stack", "loadgen-cache")
	c.Log = tlog{t}
	sheets, err := cost.Sheets()
	if err != nil {
		t.Fatal(err)
	}
	exp, err := estimate.Export(sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exp.Close() })
	est := estimate.ForStack(sc, sheets, exp)
	c.Estimator = &est
	ctx, cancel := context.WithCancel(context.Background())
	go exp.WaitScraped(ctx)
	s, err := live.New(ctx, c)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s.SetBusy(func() error { return ops.Busy(sc) })
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	srv, err := live.NewServer(s, "", true, speed)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("session: %v", err)
		}
	})
	return s, hs.URL
}

type tlog struct{ t *testing.T }

func (l tlog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

var keyRE = regexp.MustCompile(`name="key" value="([0-9a-f]+)"`)

// press presses a control as the page's forms do, with the page's key.
func press(t *testing.T, base string, fields url.Values) {
	t.Helper()
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := keyRE.FindSubmatch(page)
	if m == nil {
		t.Fatal("the page has no control key: no controls shown on loopback")
	}
	fields.Set("key", string(m[1]))
	req, _ := http.NewRequest(http.MethodPost, base+"/control", strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%v: %s %s", fields, resp.Status, body)
	}
}

// stream reads the page's event stream into a channel of updates.
func stream(t *testing.T, ctx context.Context, base string) <-chan live.Update {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("events: content type %q", ct)
	}
	ch := make(chan live.Update, 16)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "frame":
				var u live.Update
				if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &u); err != nil {
					t.Errorf("a frame that is not JSON: %v", err)
					return
				}
				select {
				case ch <- u:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return ch
}

func byLabel(f live.Frame, label string) live.VariantFrame {
	for _, v := range f.Variants {
		if v.Label == label {
			return v
		}
	}
	return live.VariantFrame{}
}

// TestLive plays the vision-outage scene on a stack of its own, first
// read from the event stream alone, then pressed in a real browser.
func TestLive(t *testing.T) {
	sc := stacktest.UpScratch(t, nil)
	env := stacktest.EnvOf(sc)
	t.Run("stream of a scene", func(t *testing.T) { streamOfAScene(t, sc, env) })
	t.Run("browser", func(t *testing.T) { inTheBrowser(t, sc, env) })
}

// streamOfAScene plays vision-outage at a fifth of its length and checks
// what the stream carried: the captions in order, the monolith's errors
// during the outage while the asynchronous two answer every request and
// queue the work, and their backlogs drained after it.
func streamOfAScene(t *testing.T, sc stack.Config, env stacktest.Env) {
	const speed = 0.2
	_, base := startSession(t, sc, env, speed)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	updates := stream(t, ctx, base)
	press(t, base, url.Values{"action": {"scene"}, "scene": {"vision-outage"}})

	scene, _ := live.LookupScene("vision-outage")
	var captions []string
	var outage, after []live.Frame
	deadline := time.After(3 * time.Minute)
	ended := false
	for !ended {
		select {
		case u, ok := <-updates:
			if !ok {
				t.Fatal("the stream ended")
			}
			f := u.Frame
			if n := len(captions); f.Caption != "" && (n == 0 || captions[n-1] != f.Caption) {
				captions = append(captions, f.Caption)
			}
			switch {
			case f.Vision == live.VisionOutageFail:
				outage = append(outage, f)
			case len(outage) > 0:
				after = append(after, f)
			}
			if len(u.HTML.Columns) != 3 || !strings.Contains(u.HTML.Columns[0], `data-k="errors"`) {
				t.Fatalf("the update's columns are not the page's: %d", len(u.HTML.Columns))
			}
			for _, m := range u.Marks {
				if m.Error != "" {
					t.Fatalf("a control failed: %+v", m)
				}
				ended = ended || strings.HasPrefix(m.Label, "vision-outage 4/4")
			}
		case <-deadline:
			t.Fatalf("the scene did not end; captions so far: %q", captions)
		}
	}
	var want []string
	for _, st := range scene.Steps {
		want = append(want, st.Caption)
	}
	if strings.Join(captions, "\n") != strings.Join(want, "\n") {
		t.Errorf("captions in the stream:\n%q\nwant the scene's, in order:\n%q", captions, want)
	}
	if len(outage) < 3 {
		t.Fatalf("only %d frames with vision out", len(outage))
	}
	first, last := outage[0], after[len(after)-1]
	if d := byLabel(last, "monolith").Errors - byLabel(first, "monolith").Errors; d == 0 {
		t.Errorf("the monolith's errors did not rise during the outage (%d before, %d after)",
			byLabel(first, "monolith").Errors, byLabel(last, "monolith").Errors)
	}
	for _, label := range []string{"monolith-async", "eventdriven"} {
		if e := byLabel(last, label).Errors; e != 0 {
			t.Errorf("%s: %d errors; the asynchronous variants answer every upload during an outage", label, e)
		}
		peak := 0.0
		for _, f := range append(outage, after...) {
			if b := byLabel(f, label).Backlog; b.Known() {
				peak = max(peak, float64(b))
			}
		}
		if peak == 0 {
			t.Errorf("%s: no backlog during the outage", label)
		}
	}
	// The export holds the session: its timeline's controls, escaped.
	resp, err := http.Get(base + "/export")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(cd, "attachment;") {
		t.Fatalf("export: %s, Content-Disposition %q", resp.Status, cd)
	}
	for _, want := range []string{"vision outage-fail", "vision-outage 4/4: end", "<svg"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("the export has no %q", want)
		}
	}
	// Stop the load, then every backlog drains: every upload accepted
	// during the outage is done.
	press(t, base, url.Values{"action": {"stop"}})
	drainDeadline := time.After(2 * time.Minute)
	for {
		select {
		case u := <-updates:
			a, e := byLabel(u.Frame, "monolith-async"), byLabel(u.Frame, "eventdriven")
			if a.Backlog == 0 && e.Backlog == 0 && a.Pending == 0 && e.Pending == 0 {
				return
			}
		case <-drainDeadline:
			t.Fatal("the backlogs did not drain within 2 minutes of the outage's end")
		}
	}
}

// screenshots is where the browser test saves its screenshots of each
// state (live-healthy.png, live-outage.png, live-recovered.png; failed.png
// when a step fails): $PHOTOBENCH_LIVE_SCREENSHOTS, else
// photobench-live-screenshots-UID in the temporary directory, kept after the
// test and overwritten by the next run (the test logs where).
func screenshots(t *testing.T) string {
	d := os.Getenv("PHOTOBENCH_LIVE_SCREENSHOTS")
	if d == "" {
		d = filepath.Join(os.TempDir(), fmt.Sprintf("photobench-live-screenshots-%d", os.Getuid()))
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func atLeast(n int) func(string) bool {
	return func(s string) bool {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		return err == nil && v >= n
	}
}

// inTheBrowser presses the page's buttons in Chromium: start the load,
// vision outage, healthy; and reads the rendered page.
func inTheBrowser(t *testing.T, sc stack.Config, env stacktest.Env) {
	ctx := browser.New(t)
	_, base := startSession(t, sc, env, 1)
	dir := screenshots(t)
	const wait = 90 * time.Second
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			browser.Screenshot(ctx, filepath.Join(dir, "failed.png"))
			t.Fatalf("%s: %v (screenshot in %s)", what, err, dir)
		}
	}
	step("open", browser.Open(ctx, base+"/", wait))
	step("start the load", browser.Click(ctx, "#load-start", wait))
	for _, col := range []string{"monolith", "monolith-async", "eventdriven"} {
		_, err := browser.WaitText(ctx, "#col-"+col+` [data-k="uploads"]`, wait, atLeast(5))
		step(col+" uploads", err)
	}
	step("screenshot", browser.Screenshot(ctx, filepath.Join(dir, "live-healthy.png")))

	step("vision outage", browser.Click(ctx, "#vision-outage-fail", wait))
	errorsBefore, err := browser.Text(ctx, `#col-monolith [data-k="errors"]`, wait)
	step("monolith errors", err)
	before, _ := strconv.Atoi(errorsBefore)
	_, err = browser.WaitText(ctx, `#col-monolith [data-k="errors"]`, wait, atLeast(before+10))
	step("the monolith's errors rise", err)
	for _, col := range []string{"monolith-async", "eventdriven"} {
		_, err := browser.WaitText(ctx, "#col-"+col+` [data-k="backlog"]`, wait, atLeast(5))
		step(col+"'s backlog rises", err)
		text, err := browser.Text(ctx, "#col-"+col+` [data-k="errors"]`, wait)
		step(col+" errors", err)
		if text != "0" {
			t.Errorf("%s shows %s errors during the outage; want 0", col, text)
		}
	}
	step("screenshot", browser.Screenshot(ctx, filepath.Join(dir, "live-outage.png")))

	step("vision healthy", browser.Click(ctx, "#vision-healthy", wait))
	step("stop the load", browser.Click(ctx, "#load-stop", wait))
	for _, col := range []string{"monolith-async", "eventdriven"} {
		_, err := browser.WaitText(ctx, "#col-"+col+` [data-k="backlog"]`, 2*time.Minute, func(s string) bool { return s == "0" })
		step(col+"'s backlog drains", err)
		_, err = browser.WaitText(ctx, "#col-"+col+` [data-k="pending"]`, 2*time.Minute, func(s string) bool { return s == "0" })
		step(col+"'s photos all final", err)
	}
	step("screenshot", browser.Screenshot(ctx, filepath.Join(dir, "live-recovered.png")))
	t.Logf("screenshots in %s", dir)
}
