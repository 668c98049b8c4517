package platform_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/eventdriven/platform"
	"github.com/photobench/photobench/internal/stacktest"
)

// kafkaWait bounds every wait in these tests. It only stops a broken test
// from hanging: group joins and session timeouts take seconds.
const kafkaWait = 120 * time.Second

// scaleFixture is one test's fresh 4-partition topic and group on the
// stack's Kafka, with the file its replicas record handled offsets in.
type scaleFixture struct {
	brokers []string
	topic   string
	group   string
	out     string
	reg     *prometheus.Registry
	metrics *platform.Metrics
	log     *slog.Logger
}

var topicUnsafe = regexp.MustCompile(`[^a-zA-Z0-9]+`)

const partitions = 4

func newScaleFixture(t *testing.T) *scaleFixture {
	t.Helper()
	env := stacktest.Load(t)
	fx := &scaleFixture{brokers: strings.Split(env.KafkaBrokers, ",")}
	fx.topic = fmt.Sprintf("platformtest.%s.%08x", strings.ToLower(topicUnsafe.ReplaceAllString(t.Name(), "-")), rand.Uint32())
	fx.group = fx.topic + ".group"
	fx.out = filepath.Join(t.TempDir(), "handled.txt")
	fx.reg = prometheus.NewRegistry()
	fx.metrics = platform.NewMetrics(fx.reg)
	fx.log = slog.New(slog.NewJSONHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))

	stacktest.CreateTopic(t, fx.brokers, fx.topic, partitions)
	return fx
}

// function returns an event function configuration for the fixture.
func (fx *scaleFixture) function(name string) platform.FunctionConfig {
	return platform.FunctionConfig{
		Name: name, Kind: platform.KindEvent, Group: fx.group, Topics: []string{fx.topic},
		PollingInterval: platform.Duration{Duration: 200 * time.Millisecond},
		CooldownPeriod:  platform.Duration{Duration: 2 * time.Second},
	}
}

// options returns runtime options whose replicas are this test binary
// consuming the fixture's topic, each message taking delay.
func (fx *scaleFixture) options(name string, delay time.Duration, extraEnv ...string) platform.Options {
	return platform.Options{
		Binary: os.Args[0],
		Args:   func(string) []string { return nil },
		Env: append([]string{
			envReplica + "=1",
			envName + "=" + name,
			envBrokers + "=" + strings.Join(fx.brokers, ","),
			envTopic + "=" + fx.topic,
			envGroup + "=" + fx.group,
			envOut + "=" + fx.out,
			envDelay + "=" + delay.String(),
		}, extraEnv...),
		Brokers: fx.brokers,
		Log:     fx.log,
		Metrics: fx.metrics,
	}
}

// produce publishes n events with random keys (spread over partitions).
func (fx *scaleFixture) produce(t *testing.T, n int) {
	t.Helper()
	p := kafka.NewProducer(fx.brokers, kafka.ProducerOptions{})
	defer p.Close()
	evs := make([]eventdriven.Event, n)
	for i := range evs {
		evs[i] = eventdriven.Event{
			ID: fmt.Sprintf("ev-%d-%08x", i, rand.Uint32()), Source: "photobench/platform_test", Type: "test.event",
			Subject: fmt.Sprintf("key-%08x", rand.Uint32()), Time: time.Now(), Data: []byte(`{}`),
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), kafkaWait)
	defer cancel()
	if err := p.Publish(ctx, fx.topic, evs...); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// handled returns the distinct partition/offset pairs the replicas
// recorded, and the pids that recorded them.
func (fx *scaleFixture) handled(t *testing.T) (offsets map[[2]int64]bool, pids map[int]bool) {
	t.Helper()
	offsets, pids = map[[2]int64]bool{}, map[int]bool{}
	for _, fs := range outLines(t, fx.out) {
		p, _ := strconv.ParseInt(fs[0], 10, 64)
		o, _ := strconv.ParseInt(fs[1], 10, 64)
		pid, _ := strconv.Atoi(fs[2])
		offsets[[2]int64{p, o}] = true
		pids[pid] = true
	}
	return offsets, pids
}

// outLines returns the fields of each complete line (three fields) the
// test replicas wrote to path; none if it does not exist yet.
func outLines(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) == 3 {
			out = append(out, fs) // else a line being written
		}
	}
	return out
}

// running is a Runtime under test, sampled every 50 ms.
type running struct {
	rt     *platform.Runtime
	cancel context.CancelFunc
	done   chan error

	stopOnce sync.Once

	mu          sync.Mutex
	pids        map[int]bool
	maxReplicas int // most live replica processes of any one function seen
	maxDesired  int
	sawUp       bool // some function had a ready replica
}

// startRuntime runs rt until stop (or the test's end).
func startRuntime(t *testing.T, rt *platform.Runtime) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{rt: rt, cancel: cancel, done: make(chan error, 1), pids: map[int]bool{}}
	go func() { r.done <- rt.Run(ctx) }()
	sampleCtx, stopSampling := context.WithCancel(context.Background())
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			r.sample()
			select {
			case <-sampleCtx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	t.Cleanup(func() {
		r.stop(t)
		stopSampling()
		sampler.Wait()
	})
	return r
}

func (r *running) sample() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range r.rt.Functions() {
		rs := f.Replicas()
		r.maxReplicas = max(r.maxReplicas, len(rs))
		r.maxDesired = max(r.maxDesired, f.Desired())
		for _, x := range rs {
			r.pids[x.PID] = true
			if x.Ready {
				r.sawUp = true
			}
		}
	}
}

// stop cancels Run, waits for it, and checks that no replica process is
// left: every pid seen is gone and nothing has this process as parent.
// Later calls do nothing.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.stopOnce.Do(func() { r.stopAndCheck(t) })
}

func (r *running) stopAndCheck(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(kafkaWait):
		t.Fatal("Run did not return after its ctx was cancelled")
	}
	r.sample()
	for _, f := range r.rt.Functions() {
		if rs := f.Replicas(); len(rs) != 0 {
			t.Errorf("%s: %d replicas after Run returned", f.Name(), len(rs))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for pid := range r.pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("replica pid %d still exists after Run returned (kill 0: %v)", pid, err)
		}
	}
	if kids := children(t); len(kids) > 0 {
		t.Errorf("processes with the test as parent after Run returned: %v", kids)
	}
}

// children lists the pids whose parent is this process, from /proc.
func children(t *testing.T) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	me := os.Getpid()
	var kids []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(data), ')')
		if i < 0 {
			continue
		}
		fs := strings.Fields(string(data[i+1:]))
		if len(fs) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(fs[1]); ppid == me {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			kids = append(kids, pid)
		}
	}
	return kids
}

// pollUntil polls cond every 50 ms until it holds, failing after kafkaWait.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(kafkaWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metricValue returns the value of a counter or gauge series, or a
// histogram series' sample count, summed over series matching labels.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				if !hasLabel(m, k, v) {
					continue series
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, k, v string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == k {
			return l.GetValue() == v
		}
	}
	return false
}

func TestScaleFromZeroAndBack(t *testing.T) {
	fx := newScaleFixture(t)
	rt, err := platform.New(platform.Config{Functions: []platform.FunctionConfig{fx.function("worker")}}, fx.options("worker", 0))
	if err != nil {
		t.Fatal(err)
	}
	f := rt.Function("worker")
	r := startRuntime(t, rt)

	// Nothing to do: it stays at zero over several polls.
	time.Sleep(time.Second)
	if n := len(f.Replicas()); n != 0 || f.Desired() != 0 {
		t.Fatalf("with no lag: %d replicas, desired %d; want 0", n, f.Desired())
	}

	const n = 30
	fx.produce(t, n)
	pollUntil(t, "every message handled", func() bool {
		offsets, _ := fx.handled(t)
		return len(offsets) == n
	})
	r.mu.Lock()
	up := r.sawUp
	r.mu.Unlock()
	if !up {
		t.Error("never saw a ready replica")
	}
	pollUntil(t, "back to zero replicas after the cooldown", func() bool {
		return f.Desired() == 0 && len(f.Replicas()) == 0
	})
	r.stop(t)

	fn := map[string]string{"function": "worker"}
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"photobench_runtime_scaling_decisions_total", map[string]string{"function": "worker", "direction": "up"}},
		{"photobench_runtime_scaling_decisions_total", map[string]string{"function": "worker", "direction": "down"}},
		{"photobench_runtime_cold_start_seconds", map[string]string{"function": "worker", "phase": "process_ready"}},
		{"photobench_runtime_cold_start_seconds", map[string]string{"function": "worker", "phase": "first_event"}},
		{"photobench_runtime_replica_seconds_total", fn},
	} {
		if v := metricValue(t, fx.reg, c.name, c.labels); v <= 0 {
			t.Errorf("%s%v = %v, want > 0", c.name, c.labels, v)
		}
	}
	if v := metricValue(t, fx.reg, "photobench_runtime_replicas", fn); v != 0 {
		t.Errorf("photobench_runtime_replicas = %v after stop, want 0", v)
	}
	if v := metricValue(t, fx.reg, "photobench_runtime_restarts_total", fn); v != 0 {
		t.Errorf("photobench_runtime_restarts_total = %v, want 0 (no crash)", v)
	}
}

func TestReplicasCappedAtPartitions(t *testing.T) {
	fx := newScaleFixture(t)
	cfg := fx.function("worker")
	cfg.MaxReplicaCount = 10 // more than the topic's 4 partitions
	cfg.LagThreshold = 5
	const n = 200
	fx.produce(t, n) // a backlog before the runtime starts
	rt, err := platform.New(platform.Config{Functions: []platform.FunctionConfig{cfg}}, fx.options("worker", 30*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	f := rt.Function("worker")
	r := startRuntime(t, rt)
	pollUntil(t, "every message handled", func() bool {
		offsets, _ := fx.handled(t)
		return len(offsets) == n
	})
	pollUntil(t, "back to zero replicas after the cooldown", func() bool {
		return f.Desired() == 0 && len(f.Replicas()) == 0
	})
	r.stop(t)

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.maxReplicas > partitions || r.maxDesired > partitions {
		t.Errorf("at most %d replicas and %d desired seen; want <= %d partitions", r.maxReplicas, r.maxDesired, partitions)
	}
	if r.maxDesired < 2 {
		t.Errorf("at most %d desired with a lag of %d; want a scale-out", r.maxDesired, n)
	}
	if v := metricValue(t, fx.reg, "photobench_runtime_desired_replicas", map[string]string{"function": "worker"}); v != 0 {
		t.Errorf("photobench_runtime_desired_replicas = %v at the end, want 0", v)
	}
}

func TestCrashedReplicaReplaced(t *testing.T) {
	fx := newScaleFixture(t)
	opts := fx.options("worker", 30*time.Millisecond)
	opts.Pinned = true // exactly one replica: the one killed must come back
	rt, err := platform.New(platform.Config{Functions: []platform.FunctionConfig{fx.function("worker")}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	f := rt.Function("worker")
	r := startRuntime(t, rt)

	const n = 150
	fx.produce(t, n)
	pollUntil(t, "the replica handling messages", func() bool {
		offsets, _ := fx.handled(t)
		return len(offsets) >= 20
	})
	rs := f.Replicas()
	if len(rs) != 1 {
		t.Fatalf("pinned: %d replicas, want 1", len(rs))
	}
	victim := rs[0].PID
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatalf("kill replica %d: %v", victim, err)
	}
	pollUntil(t, "a replacement replica ready", func() bool {
		rs := f.Replicas()
		return len(rs) == 1 && rs[0].PID != victim && rs[0].Ready
	})
	pollUntil(t, "every message handled despite the crash", func() bool {
		offsets, _ := fx.handled(t)
		return len(offsets) == n
	})
	if v := metricValue(t, fx.reg, "photobench_runtime_restarts_total", map[string]string{"function": "worker"}); v < 1 {
		t.Errorf("photobench_runtime_restarts_total = %v, want >= 1", v)
	}
	_, pids := fx.handled(t)
	if len(pids) < 2 {
		t.Errorf("messages handled by %d replica processes, want the killed one and its replacement", len(pids))
	}
	r.stop(t)
}

func TestRunLeavesNoChildren(t *testing.T) {
	fx := newScaleFixture(t)
	cfgs := []platform.FunctionConfig{fx.function("obedient")}
	stubborn := fx.function("stubborn")
	stubborn.Group = fx.group + ".stubborn"
	cfgs = append(cfgs, stubborn)
	// One replica ignores SIGTERM: Run must SIGKILL it after the grace.
	opts := fx.options("worker", 0, envIgnoreTerm+"=")
	opts.Pinned = true
	opts.StopGrace = time.Second
	rtObedient, err := platform.New(platform.Config{Functions: cfgs[:1]}, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Env = append(opts.Env[:len(opts.Env)-1:len(opts.Env)-1], envIgnoreTerm+"=1")
	rtStubborn, err := platform.New(platform.Config{Functions: cfgs[1:]}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range []*platform.Runtime{rtObedient, rtStubborn} {
		r := startRuntime(t, rt)
		f := rt.Functions()[0]
		if _, err := func() (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), kafkaWait)
			defer cancel()
			return f.WaitReady(ctx)
		}(); err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if addrs := f.ReadyAddrs(); len(addrs) != 1 {
			t.Errorf("%s: ready addrs %v, want one", f.Name(), addrs)
		}
		r.stop(t)
	}
}
