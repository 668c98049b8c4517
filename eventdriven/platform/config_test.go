package platform_test

import (
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/platform"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := platform.ParseConfig([]byte(`
functions:
  - name: thumbnailer
    kind: event
    group: thumbnailer
    topics: [photos.objects]
  - name: ingest
    kind: http
    addr: 127.0.0.1:18091
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Functions) != 2 {
		t.Fatalf("got %d functions, want 2", len(cfg.Functions))
	}
	ev, h := cfg.Functions[0], cfg.Functions[1]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"minReplicaCount", ev.MinReplicaCount, 0},
		{"maxReplicaCount", ev.MaxReplicaCount, 4},
		{"pollingInterval", ev.PollingInterval.Duration, time.Second},
		{"cooldownPeriod", ev.CooldownPeriod.Duration, 10 * time.Second},
		{"lagThreshold", ev.LagThreshold, int64(5)},
		{"activationLagThreshold", ev.ActivationLagThreshold, int64(0)},
		{"minScale", h.MinScale, 0},
		{"maxScale", h.MaxScale, 4},
		{"containerConcurrency", h.ContainerConcurrency, 10},
		{"targetUtilizationPercentage", h.TargetUtilization, 70.0},
		{"stableWindow", h.StableWindow.Duration, 10 * time.Second},
		{"scaleToZeroGracePeriod", h.ScaleToZeroGracePeriod.Duration, 10 * time.Second},
		{"activatorTimeout", h.ActivatorTimeout.Duration, 10 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // every one must appear in the one error
	}{
		{
			name: "every problem at once",
			yaml: `
functions:
  - name: a
    kind: event
    minReplicaCount: 3
    maxReplicaCount: 2
    lagThreshold: -1
  - name: a
    kind: http
    minScale: 5
    maxScale: 1
    containerConcurrency: -2
  - name: c
    kind: lambda
  - kind: event
    group: g
    topics: [t]
`,
			want: []string{
				"function a: no group", "function a: no topics",
				"minReplicaCount 3 > maxReplicaCount 2", "lagThreshold -1",
				"function a: name used twice", "function a: no addr",
				"minScale 5 > maxScale 1", "containerConcurrency -2",
				`function c: unknown kind "lambda"`, "function #4: no name",
			},
		},
		{name: "no functions", yaml: "functions: []\n", want: []string{"no functions"}},
		{name: "empty", yaml: "", want: []string{"no functions"}},
		{name: "bad duration", yaml: "functions:\n  - name: x\n    kind: event\n    pollingInterval: soon\n", want: []string{"soon"}},
		{name: "unknown field", yaml: "functions:\n  - name: x\n    kind: event\n    lagTreshold: 5\n", want: []string{"lagTreshold"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := platform.ParseConfig([]byte(tt.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestShippedFunctionsYAML(t *testing.T) {
	cfg, err := platform.LoadConfig("../deploy/functions.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]platform.Kind{
		"thumbnailer": platform.KindEvent, "tagger": platform.KindEvent, "catalog": platform.KindEvent,
		"ingest": platform.KindHTTP, "query": platform.KindHTTP, "reconciler": platform.KindHTTP,
	}
	if len(cfg.Functions) != len(want) {
		t.Errorf("got %d functions, want %d", len(cfg.Functions), len(want))
	}
	for _, f := range cfg.Functions {
		kind, ok := want[f.Name]
		if !ok || f.Kind != kind {
			t.Errorf("function %s kind %s, want %v", f.Name, f.Kind, kind)
		}
		if f.Kind == platform.KindEvent && (f.Group != f.Name || f.MaxReplicaCount > 4) {
			t.Errorf("function %s: group %q (want its name), maxReplicaCount %d (want <= 4 partitions)", f.Name, f.Group, f.MaxReplicaCount)
		}
		// Only the reconciler runs on a timer, and never more often than
		// the real platforms' timers can fire.
		if scheduled := f.Schedule.Duration > 0; scheduled != (f.Name == "reconciler") || (scheduled && f.Schedule.Duration < time.Minute) {
			t.Errorf("function %s: schedule %v; want 1m or more for the reconciler only", f.Name, f.Schedule.Duration)
		}
	}
	if _, err := platform.New(cfg, platform.Options{Binary: "photobench", Brokers: []string{"127.0.0.1:9092"}}); err != nil {
		t.Errorf("New with the shipped configuration: %v", err)
	}
}

// Every parameter the report states comes with the real platform's default.
func TestDescribeNamesEachParameterWithThePlatformDefault(t *testing.T) {
	cfg, err := platform.ParseConfig(deploy.Functions)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range cfg.Functions {
		d := f.Describe()
		if strings.Contains(d, "()") {
			t.Errorf("%s: a parameter without its platform default: %s", f.Name, d)
		}
		want := map[platform.Kind][]string{
			platform.KindEvent: {"cooldownPeriod 10s (KEDA 300s)", "pollingInterval 1s (KEDA 30s)", "scaleDownStabilizationWindow 30s (HPA 300s)"},
			platform.KindHTTP:  {"stableWindow 10s (Knative 60s)", "scaleDownDelay 0s (Knative 0s)", "scaleToZeroGracePeriod 10s (Knative 30s)"},
		}[f.Kind]
		for _, w := range want {
			if !strings.Contains(d, w) {
				t.Errorf("%s: %q lacks %q", f.Name, d, w)
			}
		}
	}
}
