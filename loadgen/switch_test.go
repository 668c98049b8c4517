package loadgen_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen"
)

func TestCycleRepeatsItsSteps(t *testing.T) {
	c := loadgen.Cycle{{Rate: 2, Duration: time.Second}, {Rate: 0, Duration: time.Second}}
	want := []time.Duration{0, 500 * time.Millisecond, 2 * time.Second, 2500 * time.Millisecond, 4 * time.Second}
	for i, w := range want {
		got, ok := c.Due(uint64(i))
		if !ok || got != w {
			t.Errorf("Due(%d) = %v, %v; want %v", i, got, ok, w)
		}
	}
	if n := loadgen.Count(c, 10*time.Second); n != 10 {
		t.Errorf("Count over 10 s = %d, want 10", n)
	}
	if e := c.Expected(3 * time.Second); e != 4 {
		t.Errorf("Expected over 3 s = %g, want 4", e)
	}
	// A fractional count per cycle (1.5 hits) still schedules in order.
	f := loadgen.Cycle{{Rate: 1.5, Duration: time.Second}, {Rate: 0, Duration: time.Second}}
	prev := time.Duration(-1)
	for i := uint64(0); i < 50; i++ {
		d, ok := f.Due(i)
		if !ok || d < prev {
			t.Fatalf("Due(%d) = %v, %v after %v", i, d, ok, prev)
		}
		prev = d
	}
	if _, ok := (loadgen.Cycle{{Rate: 0, Duration: time.Second}}).Due(0); ok {
		t.Error("a cycle of rate 0 scheduled a hit")
	}
}

// due calls s.Due(i) on a goroutine and returns its answer on a channel.
func due(s *loadgen.Switch, i uint64) <-chan time.Duration {
	ch := make(chan time.Duration, 1)
	go func() {
		d, ok := s.Due(i)
		if !ok {
			d = -1
		}
		ch <- d
	}()
	return ch
}

func TestSwitchFollowsTheScheduleSet(t *testing.T) {
	s := loadgen.NewSwitch(loadgen.Constant{Rate: 100})
	start := time.Now()
	for i := uint64(0); i < 5; i++ {
		d, ok := s.Due(i)
		if want := time.Duration(i) * 10 * time.Millisecond; !ok || d != want {
			t.Fatalf("Due(%d) = %v, %v; want %v", i, d, ok, want)
		}
		// Due returns when the hit's time has come, not before.
		if el := time.Since(start); el < d {
			t.Fatalf("Due(%d) returned at %v, before its time %v", i, el, d)
		}
	}

	// Stopped: the next hit waits for a schedule.
	s.Stop()
	ch := due(s, 5)
	select {
	case d := <-ch:
		t.Fatalf("a stopped switch returned a hit at %v", d)
	case <-time.After(150 * time.Millisecond):
	}
	set := time.Since(start)
	s.Set(loadgen.Constant{Rate: 50})
	select {
	case d := <-ch:
		if d < set-5*time.Millisecond || d > set+time.Second {
			t.Fatalf("the first hit after Set is due at %v; Set was at %v", d, set)
		}
		next, _ := s.Due(6)
		if next-d != 20*time.Millisecond {
			t.Errorf("hits 5 and 6 are %v apart, want 20ms (50/s)", next-d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Set did not release the waiting hit")
	}

	// A change made while the engine waits for a far hit takes effect at once.
	s.Set(loadgen.Constant{Rate: 0.05}) // the next hit 20 s away
	ch = due(s, 7)
	time.Sleep(50 * time.Millisecond)
	s.Set(loadgen.Constant{Rate: 100})
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("the new schedule did not replace the old one's 20 s gap")
	}

	// Close ends the schedule, also for a waiting call.
	s.Stop()
	ch = due(s, 8)
	s.Close()
	select {
	case d := <-ch:
		if d != -1 {
			t.Fatalf("Due after Close returned a hit at %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a waiting Due")
	}
	if n := s.Count(time.Hour); n != 8 {
		t.Errorf("Count = %d, want the 8 hits returned", n)
	}
}

func TestAttackRunsALiveSchedule(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	sw := loadgen.NewSwitch(loadgen.Constant{Rate: 200})
	sc := &loadgen.Scenario{Name: "live", Seed: 1, Users: 1, MaxInFlight: 16, Timeout: 5 * time.Second,
		Mix:    []loadgen.Weight{{Op: loadgen.OpList, Weight: 1}},
		Phases: []loadgen.Phase{{Name: "live", Duration: time.Hour, Pacer: sw}}}
	target := func(ctx context.Context, h loadgen.Hit) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	}
	results, err := loadgen.Attack(context.Background(), sc, target)
	if err != nil {
		t.Fatal(err)
	}
	var got []loadgen.Result
	timeout := time.After(20 * time.Second)
	for len(got) < 20 {
		select {
		case r := <-results:
			got = append(got, r)
		case <-timeout:
			t.Fatalf("only %d results", len(got))
		}
	}
	sw.Stop()
	sw.Close()
	for r := range results {
		got = append(got, r)
	}
	for i, r := range got {
		if r.Err != nil || r.Status != http.StatusOK {
			t.Fatalf("result %d: %v %d", i, r.Err, r.Status)
		}
	}
	if n := sw.Count(time.Hour); n != uint64(len(got)) {
		t.Errorf("the switch counts %d hits, the engine sent %d", n, len(got))
	}
}
