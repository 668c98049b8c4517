package loadgen_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/loadgen"
)

// serverReadyAt is the ready_at the fake servers answer.
var serverReadyAt = time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)

// transportError makes photoServer drop the connection without an answer.
const transportError = -1

// photoServer answers GET /v1/photos/{id} from a script of the poll number
// (1, 2, ...) of that id, and POST /v1/photos with 202 and a pending photo.
type photoServer struct {
	script func(n int) (code int, body string)

	mu    sync.Mutex
	polls map[string]int
	users map[string]bool // token subjects seen
	n     int
}

func pending() (int, string) { return http.StatusOK, `{"id":"x","status":"pending"}` }

func final(status string) (int, string) {
	return http.StatusOK, fmt.Sprintf(`{"id":"x","status":%q,"ready_at":%q}`, status, serverReadyAt.Format(time.RFC3339Nano))
}

// after answers pending n-1 times, then status.
func after(n int, status string) func(int) (int, string) {
	return func(i int) (int, string) {
		if i < n {
			return pending()
		}
		return final(status)
	}
}

// sequence answers codes[i-1] (200 meaning pending) and then status.
func sequence(status string, codes ...int) func(int) (int, string) {
	return func(i int) (int, string) {
		if i > len(codes) {
			return final(status)
		}
		if c := codes[i-1]; c != http.StatusOK {
			return c, `{"error":{"code":"x","message":"x"}}`
		}
		return pending()
	}
}

func (s *photoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, _ := auth.NewVerifier([]byte(testSecret), 0)
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	user, err := v.Verify(tok)
	if err != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	s.mu.Lock()
	if s.users == nil {
		s.users, s.polls = map[string]bool{}, map[string]int{}
	}
	s.users[user] = true
	if r.Method == http.MethodPost {
		s.n++
		id := fmt.Sprintf("p%d", s.n)
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, `{"id":%q,"status":"pending"}`, id)
		return
	}
	id, _ := strings.CutPrefix(r.URL.Path, "/v1/photos/")
	s.polls[id]++
	n := s.polls[id]
	s.mu.Unlock()
	code, body := s.script(n)
	if code == transportError {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprint(w, body)
}

func (s *photoServer) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.polls {
		n += p
	}
	return n
}

func (s *photoServer) subjects() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for u := range s.users {
		out = append(out, u)
	}
	return out
}

// newFollower starts a photoServer with script and a follower for it (users
// load-9-0 and load-9-1) polling every 1 to 4 ms.
func newFollower(t *testing.T, script func(int) (int, string), timeout time.Duration, maxFollowing int) (*loadgen.Follower, *loadgen.APITarget, *photoServer) {
	t.Helper()
	ps := &photoServer{script: script}
	srv := httptest.NewServer(ps)
	t.Cleanup(srv.Close)
	photos, err := loadgen.LoadPhotos(loadgen.PhotoSpec{Count: 1, Sizes: []loadgen.PhotoSize{{Megapixels: 0.01, Weight: 1}}}, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	tgt, err := loadgen.NewAPITarget(loadgen.APIConfig{BaseURL: srv.URL, Secret: []byte(testSecret), Users: 2, Seed: 9, Photos: photos})
	if err != nil {
		t.Fatal(err)
	}
	f := loadgen.NewFollower(loadgen.FollowerConfig{Target: tgt, Client: srv.Client(), Seed: 9, RequestTimeout: 5 * time.Second,
		Ready: loadgen.ReadyConfig{Follow: true, Timeout: timeout, MinPoll: time.Millisecond, MaxPoll: 4 * time.Millisecond, MaxFollowing: maxFollowing}})
	return f, tgt, ps
}

func drain(f *loadgen.Follower) []loadgen.ReadyResult {
	var out []loadgen.ReadyResult
	for r := range f.Results() {
		out = append(out, r)
	}
	return out
}

func TestFollower(t *testing.T) {
	const anyPolls = -1
	tests := []struct {
		name        string
		script      func(int) (int, string)
		answer      string // the upload answer's status
		timeout     time.Duration
		outcome     loadgen.ReadyOutcome
		polls       int  // anyPolls: any number (a slow machine may start polling after the timeout)
		pollErrors  int  // anyPolls: every poll failed
		serverReady bool // ServerReady is serverReadyAt (else zero)
	}{
		{"ready after 3 polls", after(3, "ready"), "pending", time.Minute, loadgen.ReadyOK, 3, 0, true},
		{"ready at the first poll", after(1, "ready"), "pending", time.Minute, loadgen.ReadyOK, 1, 0, true},
		{"failed after 2 polls", after(2, "failed"), "pending", time.Minute, loadgen.ReadyFailed, 2, 0, true},
		{"unknown status is followed", after(2, "ready"), "", time.Minute, loadgen.ReadyOK, 2, 0, true},
		{"server errors are retried", sequence("ready", 503, 429, 500, 200), "pending", time.Minute, loadgen.ReadyOK, 5, 3, true},
		{"transport errors are retried", sequence("ready", transportError, 200), "pending", time.Minute, loadgen.ReadyOK, 3, 1, true},
		{"bad JSON is retried", func(i int) (int, string) {
			if i == 1 {
				return http.StatusOK, "{"
			}
			return final("ready")
		}, "pending", time.Minute, loadgen.ReadyOK, 2, 1, true},
		{"one 404 is retried", sequence("ready", 404), "pending", time.Minute, loadgen.ReadyOK, 2, 1, true},
		{"404s apart are retried", sequence("ready", 404, 200, 404), "pending", time.Minute, loadgen.ReadyOK, 4, 2, true},
		{"two 404s in a row", sequence("ready", 200, 404, 404), "pending", time.Minute, loadgen.ReadyError, 3, 2, false},
		{"other 4xx", sequence("ready", 400), "pending", time.Minute, loadgen.ReadyError, 1, 1, false},
		{"never ready", func(int) (int, string) { return pending() }, "pending", 20 * time.Millisecond, loadgen.ReadyTimeout, anyPolls, 0, false},
		{"always failing", func(int) (int, string) { return 503, "" }, "pending", 20 * time.Millisecond, loadgen.ReadyTimeout, anyPolls, anyPolls, false},
		{"ready without ready_at", func(int) (int, string) { return http.StatusOK, `{"status":"ready"}` }, "pending", time.Minute, loadgen.ReadyOK, 1, 0, false},
		{"upload answered ready", after(1, "ready"), "ready", time.Minute, loadgen.ReadyOK, 0, 0, true},
		{"upload answered failed", after(1, "ready"), "failed", time.Minute, loadgen.ReadyFailed, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, ps := newFollower(t, tt.script, tt.timeout, 10)
			hit := loadgen.Hit{Seq: 5, Phase: 2, Op: loadgen.OpUpload, User: 1, Intended: time.Now().Add(-time.Second)}
			ans := loadgen.UploadAnswer{ID: "photo-1", Status: tt.answer, Acked: time.Now()}
			if tt.answer != "pending" {
				ans.ReadyAt = serverReadyAt
			}
			f.Follow(hit, "main", false, ans)
			f.Close(context.Background())
			got := drain(f)
			if len(got) != 1 {
				t.Fatalf("%d results, want 1: %+v", len(got), got)
			}
			r := got[0]
			if r.Upload != hit || r.PhaseName != "main" || r.Warmup || r.ID != "photo-1" || !r.Acked.Equal(ans.Acked) {
				t.Errorf("result does not carry the upload: %+v", r)
			}
			if r.Outcome != tt.outcome {
				t.Errorf("Outcome = %q, want %q", r.Outcome, tt.outcome)
			}
			if tt.polls != anyPolls && r.Polls != tt.polls {
				t.Errorf("Polls = %d, want %d", r.Polls, tt.polls)
			}
			if (tt.pollErrors == anyPolls && r.PollErrors != r.Polls) || (tt.pollErrors != anyPolls && r.PollErrors != tt.pollErrors) {
				t.Errorf("PollErrors = %d, want %d (of %d polls)", r.PollErrors, tt.pollErrors, r.Polls)
			}
			if n := ps.total(); n != r.Polls || f.Polls() != uint64(n) {
				t.Errorf("server saw %d polls, follower counted %d, result %d", n, f.Polls(), r.Polls)
			}
			if want := (time.Time{}); tt.serverReady {
				if !r.ServerReady.Equal(serverReadyAt) {
					t.Errorf("ServerReady = %v, want %v", r.ServerReady, serverReadyAt)
				}
			} else if !r.ServerReady.Equal(want) {
				t.Errorf("ServerReady = %v, want zero", r.ServerReady)
			}
			switch final := tt.outcome == loadgen.ReadyOK || tt.outcome == loadgen.ReadyFailed; {
			case final && r.Polls == 0 && !r.Observed.Equal(r.Acked):
				t.Errorf("Observed = %v, want Acked %v", r.Observed, r.Acked)
			case final && r.Observed.Before(r.Acked):
				t.Errorf("Observed %v before Acked %v", r.Observed, r.Acked)
			case !final && !r.Observed.IsZero():
				t.Errorf("Observed = %v, want zero", r.Observed)
			}
			if subj := ps.subjects(); r.Polls > 0 && (len(subj) != 1 || subj[0] != "load-9-1") {
				t.Errorf("polled as %v, want the uploader load-9-1", subj)
			}
			if f.Pending() != 0 || f.Skipped() != 0 {
				t.Errorf("after Close: %d pending, %d skipped", f.Pending(), f.Skipped())
			}
		})
	}
}

func TestFollowerCapAndClose(t *testing.T) {
	f, _, _ := newFollower(t, func(int) (int, string) { return pending() }, time.Hour, 2)
	hit := func(seq uint64, phase int) loadgen.Hit {
		return loadgen.Hit{Seq: seq, Phase: phase, Op: loadgen.OpUpload, Intended: time.Now()}
	}
	pend := func(id string) loadgen.UploadAnswer {
		return loadgen.UploadAnswer{ID: id, Status: "pending", Acked: time.Now()}
	}

	f.Follow(hit(0, 0), "warm", true, pend("a"))                                                          // followed
	f.Follow(hit(1, 1), "main", false, pend("b"))                                                         // followed: the cap is reached
	f.Follow(hit(2, 1), "main", false, pend("c"))                                                         // skipped
	f.Follow(hit(3, 1), "main", false, loadgen.UploadAnswer{ID: "d", Status: "ready", Acked: time.Now()}) // final: not followed, not capped
	f.Follow(hit(4, 0), "warm", true, pend("e"))                                                          // skipped
	if f.Pending() != 2 || f.Skipped() != 2 {
		t.Errorf("pending %d skipped %d, want 2 and 2", f.Pending(), f.Skipped())
	}

	results := make(chan []loadgen.ReadyResult)
	go func() { results <- drain(f) }() // Results is read while Close waits
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Close(ctx) // nothing ends by itself within the hour: cancels the follows
	got := map[string]loadgen.ReadyOutcome{}
	for _, r := range <-results {
		got[r.ID] = r.Outcome
	}
	want := map[string]loadgen.ReadyOutcome{"a": loadgen.ReadyAborted, "b": loadgen.ReadyAborted, "d": loadgen.ReadyOK}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if f.Pending() != 0 {
		t.Errorf("%d pending after Close", f.Pending())
	}

	f.Follow(hit(5, 1), "main", false, loadgen.UploadAnswer{ID: "f", Status: "ready", Acked: time.Now()}) // after Close: skipped
	f.Close(context.Background())                                                                         // again: returns at once
	wantSkips := []loadgen.ReadySkip{{Phase: 0, PhaseName: "warm", Warmup: true, N: 1}, {Phase: 1, PhaseName: "main", N: 2}}
	if got := f.SkippedPhases(); fmt.Sprint(got) != fmt.Sprint(wantSkips) || f.Skipped() != 3 {
		t.Errorf("skipped %d: %+v, want 3: %+v", f.Skipped(), got, wantSkips)
	}
}

// The target's client hands accepted uploads to the follower.
func TestFollowerOnUpload(t *testing.T) {
	f, tgt, _ := newFollower(t, after(2, "ready"), time.Minute, 10)
	phases := []string{"warm", "main"}
	tgt.OnUpload(func(h loadgen.Hit, a loadgen.UploadAnswer) { f.Follow(h, phases[h.Phase], h.Phase == 0, a) })
	hit := loadgen.Hit{Seq: 3, Phase: 1, Op: loadgen.OpUpload, User: 1, Intended: time.Now()}
	req, err := tgt.Target(context.Background(), hit)
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	resp, err := tgt.Client(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	f.Close(context.Background())
	got := drain(f)
	if len(got) != 1 {
		t.Fatalf("%d results, want 1", len(got))
	}
	r := got[0]
	if r.Upload != hit || r.PhaseName != "main" || r.Warmup || r.ID != "p1" || r.Acked.Before(sent) {
		t.Errorf("result %+v does not carry the upload", r)
	}
	if r.Outcome != loadgen.ReadyOK || r.Polls != 2 || !r.ServerReady.Equal(serverReadyAt) {
		t.Errorf("outcome %q after %d polls, ready_at %v", r.Outcome, r.Polls, r.ServerReady)
	}
}
