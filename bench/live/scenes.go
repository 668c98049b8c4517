package live

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/photobench/photobench/bench/demo"
	"github.com/photobench/photobench/internal/sleep"
)

// Scene is a scripted sequence of controls with a caption per step, for a
// presenter to read aloud while the room watches: the terminal demos
// (photobench demo) as the page plays them.
type Scene struct {
	Name  string // as the page and the URL name it
	Title string
	Steps []Step
}

// Step is one step of a scene: after waiting After (from the previous
// step's end; scaled by the session's scene speed), or until Until holds
// (checked on every frame; After is then the longest wait), it does Do
// and shows Caption.
type Step struct {
	After   time.Duration
	Until   func(Frame) bool
	Do      func(ctx context.Context, s *Session) error
	Label   string // the timeline's entry ("" for a caption only)
	Caption string
}

// ensureLoad starts the demos' load (constant, the session's rate) unless
// a load runs.
func ensureLoad(_ context.Context, s *Session) error {
	s.mu.Lock()
	running, rate := s.load.Running, s.load.Rate
	s.mu.Unlock()
	if running {
		return nil
	}
	return s.startLoad(ShapeConstant, rate)
}

func visionStep(state string) func(context.Context, *Session) error {
	return func(ctx context.Context, s *Session) error { return s.setVision(ctx, state) }
}

// visionScene is a demo's fault as a scene: 30 s of load, the fault for
// the demo's 40 s, then 40 s to catch up.
func visionScene(f demo.Fault, state string) Scene {
	return Scene{Name: f.Name, Title: "Vision " + f.Noun + ": " + f.Title, Steps: []Step{
		{Do: ensureLoad, Label: "load on",
			Caption: "The same load drives all three apps: each gets the same requests per second, 60 % of them uploads. " +
				"Vision answers as a remote API does, in about 60 ms. The monolith calls it inside the upload; " +
				"the async monolith and the event-driven app call it after answering."},
		{After: 30 * time.Second, Do: visionStep(state), Label: "vision " + state,
			Caption: "Vision " + f.Title + ". Watch the monolith: its uploads wait on vision, so they now " +
				map[string]string{"outage": "fail (its errors rise)", "slowdown": "take as long as vision does (its ack latency)"}[f.Noun] +
				". The async monolith and the event-driven app still answer at once; the work waits in their backlogs (jobs, messages)."},
		{After: demo.DefaultFault, Do: visionStep(VisionHealthy), Label: "vision healthy",
			Caption: "Vision is healthy again. The monolith recovers at once, having refused or delayed what came meanwhile. " +
				"The other two work off their backlogs: watch the backlog fall and upload-to-ready come back down."},
		{After: 40 * time.Second, Label: "end",
			Caption: "End of the scene. Compare, for the " + f.Noun + ": the monolith's errors and ack latency against the other two's " +
				"backlogs and upload-to-ready. That is coupling in time. The load keeps running."},
	}}
}

// replicasAtZero holds when every event-driven function has no replica.
func replicasAtZero(f Frame) bool {
	for _, v := range f.Variants {
		if v.Label != "eventdriven" {
			continue
		}
		if len(v.Functions) == 0 {
			return false
		}
		for _, fn := range v.Functions {
			if !fn.Replicas.Known() || fn.Replicas > 0 {
				return false
			}
		}
		return true
	}
	return false
}

// Scenes are the scripted scenes, in the order the page offers them.
var Scenes = []Scene{
	visionScene(demo.VisionOutage, VisionOutageFail),
	visionScene(demo.SlowVision, VisionSlow),
	{Name: "broker-restart", Title: "Kafka restarts under load", Steps: []Step{
		{Do: ensureLoad, Label: "load on",
			Caption: "Kafka carries the event-driven app's events between its functions. The monoliths do not use it."},
		{After: 20 * time.Second, Do: func(ctx context.Context, s *Session) error { return s.restart(ctx, "kafka") }, Label: "restart kafka",
			Caption: "Kafka has restarted (graceful stop, then start: a few seconds). The monoliths carry on. " +
				"The event-driven app keeps accepting uploads, which land in MinIO; the notifications MinIO sent while Kafka was down are lost, " +
				"and the reconciler publishes them again on its next run (once a minute): watch \"reconciled\" and upload-to-ready."},
		{After: 75 * time.Second, Label: "end",
			Caption: "End of the scene. Compare the event-driven app's upload-to-ready around the restart with the monoliths', " +
				"and watch its pending count come back down: every upload it accepted is followed until ready. The load keeps running."},
	}},
	{Name: "scale-from-zero", Title: "Scale to zero, and back", Steps: []Step{
		{Do: func(_ context.Context, s *Session) error { s.stopLoad("stop (scene)"); return nil }, Label: "load off",
			Caption: "No load. The event-driven functions scale to zero once idle (a 10 s cooldown, then the 30 s stabilisation window); " +
				"the monoliths stay up, using memory and a VM around the clock. Waiting for every function to reach zero replicas…"},
		{After: 3 * time.Minute, Until: replicasAtZero, Label: "all functions at zero",
			Caption: "Every event-driven function is at zero replicas: it costs nothing now on a per-request platform."},
		{After: 5 * time.Second, Do: ensureLoad, Label: "load on",
			Caption: "Load again. The event-driven app's first requests wait for cold starts (circled on the replica chart): " +
				"watch its ack and upload-to-ready p99. The monoliths answer as before."},
		{After: 40 * time.Second, Label: "end",
			Caption: "End of the scene: what idling costs (replicas at zero) against what waking costs (the cold starts' latency). The load keeps running."},
	}},
}

// LookupScene returns the scene called name.
func LookupScene(name string) (Scene, bool) {
	for _, sc := range Scenes {
		if sc.Name == name {
			return sc, true
		}
	}
	return Scene{}, false
}

// SceneNames lists the scenes' names.
func SceneNames() []string {
	var out []string
	for _, sc := range Scenes {
		out = append(out, sc.Name)
	}
	return out
}

// sceneRun is a scene playing.
type sceneRun struct {
	scene  Scene
	cancel context.CancelFunc
	done   chan struct{}
}

// PlayScene plays a scene on its own goroutine; one at a time. Its steps
// wait speed times their After (1 is real time; tests play faster).
func (s *Session) PlayScene(name string, speed float64) error {
	sc, ok := LookupScene(name)
	if !ok {
		return refused(http.StatusBadRequest, "unknown scene %q (want %s)", name, strings.Join(SceneNames(), ", "))
	}
	if !(speed > 0) {
		speed = 1
	}
	if err := s.check(); err != nil {
		s.mark("scene", sc.Name+" refused", err)
		return err
	}
	s.mu.Lock()
	if s.scene != nil {
		playing := s.scene.scene.Name
		s.mu.Unlock()
		return refused(http.StatusConflict, "scene %s is playing: stop it first", playing)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &sceneRun{scene: sc, cancel: cancel, done: make(chan struct{})}
	s.scene = r
	s.mu.Unlock()
	s.mark("scene", "play "+sc.Name, nil)
	go s.play(ctx, r, speed)
	return nil
}

// StopScene stops the scene playing, if any, and waits for it; what it
// switched stays as it is.
func (s *Session) StopScene() error {
	s.mu.Lock()
	r := s.scene
	s.mu.Unlock()
	if r == nil {
		return nil
	}
	r.cancel()
	<-r.done
	return nil
}

func (s *Session) play(ctx context.Context, r *sceneRun, speed float64) {
	defer close(r.done)
	defer func() {
		s.mu.Lock()
		s.scene = nil
		s.mu.Unlock()
	}()
	for i, st := range r.scene.Steps {
		wait := time.Duration(float64(st.After) * speed)
		deadline := time.Now().Add(wait)
		if st.Until != nil {
			for !st.Until(s.Latest()) && time.Now().Before(deadline) {
				if !sleep.For(ctx, 250*time.Millisecond) {
					break
				}
			}
		} else {
			sleep.Until(ctx, deadline)
		}
		if ctx.Err() != nil {
			s.mark("scene", r.scene.Name+" stopped", nil)
			return
		}
		var err error
		if st.Do != nil {
			s.control.Lock()
			err = st.Do(ctx, s)
			s.control.Unlock()
		}
		s.mu.Lock()
		s.caption = st.Caption
		s.mu.Unlock()
		if st.Label != "" || err != nil {
			s.mark("scene", fmt.Sprintf("%s %d/%d: %s", r.scene.Name, i+1, len(r.scene.Steps), st.Label), err)
		}
		if err != nil {
			return // a scene without its step shows nothing: the mark says why
		}
	}
}
