package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/bench/demo"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/loadgen"
)

// visionProfile returns the vision service's profile as it answers it.
func visionProfile(t *testing.T, base string) []byte {
	t.Helper()
	resp, err := http.Get(base + "/admin/profile")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/profile: %s %s %v", resp.Status, b, err)
	}
	return b
}

func putVisionProfile(t *testing.T, base string, p []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, base+"/admin/profile", bytes.NewReader(p))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("PUT /admin/profile: %s", resp.Status)
	}
}

// A short vision outage against the three apps of the running stack: the
// monolith refuses uploads during it, the async monolith and the
// event-driven app accept every one and have each ready once the vision
// service is back (their backlogs sampled), and the vision profile is what
// it was before.
func TestDemoVisionOutageShort(t *testing.T) {
	env := stacktest.Load(t)
	env.Apps(t)
	stacktest.LockVision(t, env)
	before := visionProfile(t, env.VisionURL)
	t.Cleanup(func() { putVisionProfile(t, env.VisionURL, before) })

	c := demo.DefaultConfig(demo.VisionOutage)
	c.MonolithURL, c.MonolithAsyncURL, c.EventDrivenURL, c.VisionURL = env.MonolithURL, env.MonolithAsyncURL, env.EventDrivenURL, env.VisionURL
	c.PrometheusURL, c.Secret = env.PrometheusURL, []byte(env.AuthSecret)
	c.CacheDir = filepath.Join(t.TempDir(), "photos")
	if env.StackDir != "" {
		c.CacheDir = filepath.Join(env.StackDir, "loadgen-cache")
	}
	c.Rate, c.Before, c.During, c.After = 2, 3*time.Second, 3*time.Second, 3*time.Second
	c.FollowUp, c.ReadyTimeout, c.Tick, c.Sample = 60*time.Second, 60*time.Second, time.Second, 500*time.Millisecond
	reg := prometheus.NewRegistry()
	c.Exporter = func(arch string) *loadgen.Exporter { return loadgen.NewExporter(reg, arch) }
	if c.MonolithURL == "" || c.MonolithAsyncURL == "" {
		t.Fatal("the stack does not run the monoliths (no PHOTOBENCH_MONOLITH_URL or PHOTOBENCH_MONOLITH_ASYNC_URL)")
	}

	var live bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := demo.Play(ctx, c, &live)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, live.String())
	}
	s := demo.Summarize(out)
	var screen bytes.Buffer
	if err := s.Write(&screen); err != nil {
		t.Fatal(err)
	}
	t.Logf("live:\n%s\nsummary:\n%s", live.String(), screen.String())
	checkScreen(t, screen.String())

	if out.Interrupted || out.FollowUpCut {
		t.Errorf("interrupted %v, follow-up cut %v", out.Interrupted, out.FollowUpCut)
	}
	if !out.FaultStart.After(out.Start) || !out.FaultEnd.After(out.FaultStart) {
		t.Errorf("fault from %s to %s, start %s", out.FaultStart, out.FaultEnd, out.Start)
	}
	if got := visionProfile(t, env.VisionURL); !jsonEqual(got, before) {
		t.Errorf("vision profile after the demo:\n%s\nwant\n%s", got, before)
	}
	if n := strings.Count(live.String(), "\n"); n < 5 {
		t.Errorf("%d live lines, want one a second:\n%s", n, live.String())
	}

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	archs := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() == "photobench_loadgen_requests_total" {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "architecture" {
						archs[l.GetValue()] = true
					}
				}
			}
		}
	}
	if !archs["monolith"] || !archs["monolith-async"] || !archs["eventdriven"] || len(archs) != 3 {
		t.Errorf("exported architectures %v, want monolith, monolith-async and eventdriven", archs)
	}

	mono := s.Archs[0]
	if f := mono.Phases[1]; f.Refused == 0 || f.Answered == 0 {
		t.Errorf("monolith during the outage: %+v, want refused uploads", f)
	}
	if f := mono.Phases[0]; f.OK == 0 {
		t.Errorf("monolith before the outage: %+v, want accepted uploads", f)
	}
	for _, a := range s.Archs[1:] {
		for i, f := range a.Phases {
			if f.Refused+f.OtherErrors != 0 {
				t.Errorf("%s, phase %s: %d refused, %d failed, want none", a.Name, demo.Phases[i], f.Refused, f.OtherErrors)
			}
			if f.Ready != f.OK || f.Followed != f.OK {
				t.Errorf("%s, phase %s: %d accepted, %d followed, %d ready; want all ready", a.Name, demo.Phases[i], f.OK, f.Followed, f.Ready)
			}
		}
		if f := a.Phases[1]; f.OK == 0 || !f.LastReady.After(out.FaultEnd) {
			t.Errorf("%s during the outage: %+v; want accepted uploads ready after the outage (ended %s)", a.Name, f, out.FaultEnd)
		}
		if a.Backlog == nil || !a.Backlog.Known {
			t.Errorf("%s: no backlog samples: %+v", a.Name, a.Backlog)
		}
	}
	for _, p := range []string{"During the outage the monolith refused", "the async monolith accepted", "the event-driven app accepted", "had them all ready"} {
		if !strings.Contains(s.Conclusion, p) {
			t.Errorf("conclusion lacks %q: %s", p, s.Conclusion)
		}
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
