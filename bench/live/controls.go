package live

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/photobench/photobench/bench/demo"
	"github.com/photobench/photobench/bench/live/ops"
	"github.com/photobench/photobench/loadgen"
)

// The vision service's states a presenter switches between.
const (
	VisionHealthy    = "healthy"     // the demos' baseline: a remote API, median 60 ms, p99 250 ms
	VisionSlow       = "slow"        // 10x slower: median 600 ms, p99 2.5 s (demo slow-vision)
	VisionOutageFail = "outage-fail" // every analyze request answered 503 at once (demo vision-outage)
	VisionOutageHang = "outage-hang" // every analyze request held until the outage ends
)

// VisionStates lists them in the order the page offers them.
var VisionStates = []string{VisionHealthy, VisionSlow, VisionOutageFail, VisionOutageHang}

// visionPatch is the profile fields each state merges into the baseline.
var visionPatch = map[string]json.RawMessage{
	VisionHealthy:    nil,
	VisionSlow:       demo.SlowVision.Patch,
	VisionOutageFail: demo.VisionOutage.Patch,
	VisionOutageHang: json.RawMessage(`{"outage":"hang"}`),
}

// ControlError is a control refused: Status is the HTTP status the page
// gets (409 when something else would be disturbed, 400 for a bad
// request).
type ControlError struct {
	Status int
	Msg    string
}

func (e *ControlError) Error() string { return e.Msg }

func refused(status int, format string, args ...any) error {
	return &ControlError{Status: status, Msg: fmt.Sprintf(format, args...)}
}

// check runs the busy check before a control that changes the stack's
// state.
func (s *Session) check() error {
	if err := s.busy(); err != nil {
		return refused(http.StatusConflict, "refused: %v", err)
	}
	return nil
}

// StartLoad starts the load (or reshapes the running one) on all three
// variants at once: shape at rate requests per second to each.
func (s *Session) StartLoad(shape string, rate float64) error {
	s.control.Lock()
	defer s.control.Unlock()
	return s.startLoad(shape, rate)
}

func (s *Session) startLoad(shape string, rate float64) error {
	if !(rate > 0 && rate <= s.cfg.MaxRate) {
		return refused(http.StatusBadRequest, "the rate must be above 0 and at most %g requests/s, got %g", s.cfg.MaxRate, rate)
	}
	p, err := Pacer(shape, rate)
	if err != nil {
		return refused(http.StatusBadRequest, "%v", err)
	}
	if err := s.check(); err != nil {
		s.mark("load", "start "+shape+" refused", err)
		return err
	}
	s.mu.Lock()
	running := s.load.Running
	s.load = LoadState{Running: true, Shape: shape, Rate: rate}
	s.mu.Unlock()
	label := fmt.Sprintf("%s %g/s", shape, rate)
	if running {
		for _, v := range s.vars {
			v.mu.Lock()
			for _, r := range v.runs {
				if !r.sw.Closed() {
					r.sw.Set(p)
				}
			}
			v.mu.Unlock()
		}
		s.mark("load", label, nil)
		return nil
	}
	s.mu.Lock()
	s.loadGen++
	gen := s.loadGen
	s.mu.Unlock()
	ends := make(chan struct{}, len(s.vars))
	for _, v := range s.vars {
		tgt, err := s.newTarget(v.url)
		if err != nil {
			return err
		}
		sw := loadgen.NewSwitch(p)
		api := &loadgen.APIRun{Scenario: scenario(s.cfg, sw), Target: tgt, Client: loadClient(),
			Observe: v.observe, ObserveReady: v.observeReady, OnAccepted: v.accepted}
		if s.cfg.Exporter != nil {
			api.Exporter = s.cfg.Exporter(v.label)
		}
		r := &run{sw: sw, api: api}
		v.mu.Lock()
		v.runs = append(v.runs, r)
		v.mu.Unlock()
		go func() {
			if _, err := api.Run(context.Background()); err != nil {
				s.mark("load", v.name+": the load failed", err)
			}
			v.mu.Lock()
			for i, x := range v.runs {
				if x == r {
					v.runs = append(v.runs[:i], v.runs[i+1:]...)
					break
				}
			}
			v.mu.Unlock()
			ends <- struct{}{}
		}()
	}
	// A load that reaches MaxLoad stops by itself: say so once.
	go func() {
		timer := time.NewTimer(s.cfg.MaxLoad)
		defer timer.Stop()
		<-timer.C
		s.mu.Lock()
		expired := s.loadGen == gen && s.load.Running
		if expired {
			s.load.Running = false
		}
		s.mu.Unlock()
		if expired {
			s.mark("load", fmt.Sprintf("stopped by itself after its limit of %s", s.cfg.MaxLoad), nil)
		}
	}()
	s.mark("load", "start "+label, nil)
	return nil
}

// loadClient is a client for one variant's load, with as many idle
// connections as requests in flight.
func loadClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 64, 64
	return &http.Client{Transport: tr}
}

// StopLoad stops the load: no new requests; the uploads accepted are still
// followed until ready.
func (s *Session) StopLoad() error {
	s.control.Lock()
	defer s.control.Unlock()
	s.stopLoad("stop")
	return nil
}

func (s *Session) stopLoad(label string) {
	s.mu.Lock()
	was := s.load.Running
	s.load.Running = false
	s.mu.Unlock()
	for _, v := range s.vars {
		v.mu.Lock()
		for _, r := range v.runs {
			r.sw.Close()
		}
		v.mu.Unlock()
	}
	if was {
		s.mark("load", label, nil)
	}
}

// SetVision switches the vision service to state (VisionStates), on top
// of the demos' baseline.
func (s *Session) SetVision(ctx context.Context, state string) error {
	s.control.Lock()
	defer s.control.Unlock()
	return s.setVision(ctx, state)
}

func (s *Session) setVision(ctx context.Context, state string) error {
	patch, ok := visionPatch[state]
	if !ok {
		return refused(http.StatusBadRequest, "unknown vision state %q (want %s)", state, strings.Join(VisionStates, ", "))
	}
	if err := s.check(); err != nil {
		s.mark("vision", state+" refused", err)
		return err
	}
	// From the profile found at the start: the baseline, then the state.
	_, err := s.vis.Put(ctx, s.original)
	if err == nil {
		_, err = s.vis.Patch(ctx, demo.DefaultBaseline)
	}
	if err == nil && patch != nil {
		_, err = s.vis.Patch(ctx, patch)
	}
	if err != nil {
		s.mark("vision", state, err)
		return fmt.Errorf("vision %s: %w", state, err)
	}
	s.mu.Lock()
	s.vision = state
	s.mu.Unlock()
	s.mark("vision", "vision "+state, nil)
	return nil
}

// KillReplica SIGKILLs one replica of an event-driven function.
func (s *Session) KillReplica(function string) error {
	s.control.Lock()
	defer s.control.Unlock()
	return s.killReplica(function)
}

func (s *Session) killReplica(function string) error {
	if !s.cfg.HaveStack {
		return refused(http.StatusConflict, "no stack: the session was started against apps whose stack it does not know")
	}
	if err := s.check(); err != nil {
		s.mark("kill", function+" refused", err)
		return err
	}
	pid, err := ops.KillReplica(s.cfg.Stack, function)
	if err != nil {
		s.mark("kill", "SIGKILL a "+function+" replica", err)
		return refused(http.StatusConflict, "%v", err)
	}
	s.mark("kill", fmt.Sprintf("SIGKILL %s (pid %d)", function, pid), nil)
	return nil
}

// Restart restarts one of the stack's servers (ops.Servers).
func (s *Session) Restart(ctx context.Context, server string) error {
	s.control.Lock()
	defer s.control.Unlock()
	return s.restart(ctx, server)
}

func (s *Session) restart(ctx context.Context, server string) error {
	if !s.cfg.HaveStack {
		return refused(http.StatusConflict, "no stack: the session was started against apps whose stack it does not know")
	}
	if err := s.check(); err != nil {
		s.mark("restart", server+" refused", err)
		return err
	}
	took, err := ops.Restart(ctx, s.cfg.Stack, server, s.cfg.Log)
	if err != nil {
		s.mark("restart", "restart "+server, err)
		return refused(http.StatusConflict, "restart %s: %v", server, err)
	}
	s.mark("restart", fmt.Sprintf("restart %s (%.1f s)", server, took.Seconds()), nil)
	return nil
}

// Reset stops the load, empties the three apps' data (ops.Reset) and
// starts the session's counts again.
func (s *Session) Reset(ctx context.Context) error {
	s.control.Lock()
	defer s.control.Unlock()
	if !s.cfg.HaveStack {
		return refused(http.StatusConflict, "no stack: the session was started against apps whose stack it does not know")
	}
	if err := s.check(); err != nil {
		s.mark("reset", "reset refused", err)
		return err
	}
	s.stopLoad("stop (reset)")
	if err := ops.Reset(ctx, s.cfg.Stack, s.cfg.Log); err != nil {
		s.mark("reset", "reset", err)
		return refused(http.StatusConflict, "reset: %v", err)
	}
	for _, v := range s.vars {
		v.reset()
	}
	s.mu.Lock()
	s.totals = map[string]float64{}
	s.mu.Unlock()
	s.mark("reset", "reset: data emptied, counts from 0", nil)
	return nil
}

// drain reads a body to its end so that the connection is reused.
func drain(r io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(r, 1<<20))
	r.Close()
}
