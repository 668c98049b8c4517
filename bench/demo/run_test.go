package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/photobench/photobench/bench/demo"
)

// fakeApp answers the public API as the monolith does when vision is
// healthy: uploads 201 ready, lists and gets 200.
func fakeApp(t *testing.T) *httptest.Server {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v1/photos":
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, `{"id":"p%d","status":"ready","ready_at":%q}`, n.Add(1), time.Now().UTC().Format(time.RFC3339Nano))
		case r.URL.Path == "/v1/photos":
			fmt.Fprint(w, `{"photos":[]}`)
		default:
			fmt.Fprint(w, `{"status":"ready"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// fakeVision keeps a profile behind /admin/profile: PUT replaces it, PATCH
// merges top-level fields.
type fakeVision struct {
	mu      sync.Mutex
	profile map[string]any
	srv     *httptest.Server
}

func newFakeVision(t *testing.T, profile string) *fakeVision {
	t.Helper()
	v := &fakeVision{}
	if err := json.Unmarshal([]byte(profile), &v.profile); err != nil {
		t.Fatal(err)
	}
	v.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		defer v.mu.Unlock()
		if r.Method != http.MethodGet {
			var in map[string]any
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if r.Method == http.MethodPut {
				v.profile = map[string]any{}
			}
			for k, x := range in {
				v.profile[k] = x
			}
		}
		json.NewEncoder(w).Encode(v.profile)
	}))
	t.Cleanup(v.srv.Close)
	return v
}

func (v *fakeVision) get() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	b, _ := json.Marshal(v.profile)
	return string(b)
}

func (v *fakeVision) put(t *testing.T, profile string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, v.srv.URL+"/admin/profile", strings.NewReader(profile))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return
	}
	resp.Body.Close()
}

const original = `{"latency":{"distribution":"none"},"outage":"off"}`

func shortConfig(t *testing.T, vision string) demo.Config {
	t.Helper()
	c := demo.DefaultConfig(demo.VisionOutage)
	c.MonolithURL, c.MonolithAsyncURL, c.EventDrivenURL, c.VisionURL = fakeApp(t).URL, fakeApp(t).URL, fakeApp(t).URL, vision
	c.Secret = []byte("0123456789abcdef")
	c.CacheDir = ""
	c.Rate, c.Before, c.During, c.After = 4, 500*time.Millisecond, 500*time.Millisecond, 500*time.Millisecond
	c.FollowUp, c.Tick, c.Sample = 5*time.Second, 200*time.Millisecond, 100*time.Millisecond
	return c
}

// Against fake apps and a fake vision service: the fault is switched on and
// off, the profile is put back, and the live lines come.
func TestDemoRunRestoresTheProfile(t *testing.T) {
	v := newFakeVision(t, original)
	c := shortConfig(t, v.srv.URL)
	var patched atomic.Value
	c.Check = func() error {
		if strings.Contains(v.get(), `"outage":"fail"`) {
			patched.Store(v.get())
		}
		return nil
	}
	var live bytes.Buffer
	out, err := demo.Play(context.Background(), c, &live)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := patched.Load().(string); !strings.Contains(p, `"median_ms":60`) {
		t.Errorf("during the fault the profile was %q, want the outage on the baseline", p)
	}
	if got := v.get(); !sameJSON(got, original) {
		t.Errorf("profile after the demo %s, want %s", got, original)
	}
	if out.Interrupted || out.FollowUpCut || len(out.Archs) != 3 {
		t.Errorf("outcome %+v", out)
	}
	if l := live.String(); !strings.Contains(l, "fault") || !strings.Contains(l, "uploads: monolith") || !strings.Contains(l, "| async monolith") {
		t.Errorf("live lines:\n%s", live.String())
	}
}

// When someone else (a bench restarting the vision service, say) changes the
// profile during the demo, the demo stops without injecting its fault and
// leaves the profile alone.
func TestDemoRunLeavesAProfileSomeoneElseSet(t *testing.T) {
	v := newFakeVision(t, original)
	c := shortConfig(t, v.srv.URL)
	c.Before = 2 * time.Second
	theirs := `{"latency":{"distribution":"fixed","fixed_ms":5},"outage":"off"}`
	var once sync.Once
	c.Check = func() error { // called while the load runs: before the fault
		once.Do(func() { v.put(t, theirs) })
		return nil
	}
	out, err := demo.Play(context.Background(), c, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "changed by someone else") {
		t.Fatalf("err = %v, want the profile changed by someone else", err)
	}
	if got := v.get(); !sameJSON(got, theirs) {
		t.Errorf("profile after the demo %s, want theirs %s", got, theirs)
	}
	if !out.Interrupted {
		t.Error("not marked as stopped early")
	}
}

// A failed Check (another load started) stops the demo at once, with the
// profile put back.
func TestDemoRunStopsWhenTheCheckFails(t *testing.T) {
	v := newFakeVision(t, original)
	c := shortConfig(t, v.srv.URL)
	c.Before, c.During = 5*time.Second, 5*time.Second
	errBusy := errors.New("another load started")
	var calls atomic.Int64
	var failedAt atomic.Int64 // unix nanoseconds of the first failed check
	c.Check = func() error {
		if calls.Add(1) > 3 {
			failedAt.CompareAndSwap(0, time.Now().UnixNano())
			return errBusy
		}
		return nil
	}
	start := time.Now()
	out, err := demo.Play(context.Background(), c, io.Discard)
	if !errors.Is(err, errBusy) {
		t.Fatalf("err = %v, want %v", err, errBusy)
	}
	// At once: soon after the failed check, far from the schedule's 10 s
	// (the checks' own times vary with the machine's load).
	if d := time.Since(time.Unix(0, failedAt.Load())); d > 2*time.Second || time.Since(start) > 8*time.Second {
		t.Errorf("stopped %s after the failed check (%s after the start), want at once", d, time.Since(start))
	}
	if got := v.get(); !sameJSON(got, original) {
		t.Errorf("profile after the demo %s, want %s", got, original)
	}
	if !out.Interrupted || out.FollowUpCut {
		t.Errorf("interrupted %v, follow-up cut %v", out.Interrupted, out.FollowUpCut)
	}
}

func sameJSON(a, b string) bool { return jsonEqual([]byte(a), []byte(b)) }
