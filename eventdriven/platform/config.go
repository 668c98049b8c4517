// Package platform is the scale-to-zero runtime of the event-driven app: it
// runs each function as 0..N replica processes of the photobench binary,
// scaling event functions on their consumer-group lag the way KEDA's Kafka
// scaler does and HTTP functions on in-flight requests the way Knative's
// KPA does, with the same parameter names, so the functions' deploy/
// functions.yaml maps one to one onto KEDA ScaledObjects and Knative
// Services. It records replicas, cold starts and replica-seconds (the cost
// proxy).
package platform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// Kind says how a function is triggered, and so how it scales.
type Kind string

// Function kinds.
const (
	// KindEvent functions consume Kafka topics and scale on lag (KEDA).
	KindEvent Kind = "event"
	// KindHTTP functions serve requests and scale on concurrency (Knative).
	KindHTTP Kind = "http"
)

// Defaults of event functions, beside KEDA's. Ours are shorter because a
// benchmark run lasts minutes, not days, and a local process starts in well
// under a second.
const (
	// DefaultMinReplicaCount: scale to zero (KEDA 0).
	DefaultMinReplicaCount = 0
	// DefaultMaxReplicaCount (KEDA 100): the topics' partition count, beyond
	// which a replica would sit idle; the runtime also caps it at the
	// partition count it reads from Kafka at start.
	DefaultMaxReplicaCount = 4
	// DefaultPollingInterval: how often lag is read (KEDA 30 s). At 30 s
	// a cold start would wait up to 30 s before the first replica starts.
	DefaultPollingInterval = 1 * time.Second
	// DefaultCooldownPeriod: how long without lag before going to
	// minReplicaCount (KEDA 300 s; applies only to N -> 0).
	DefaultCooldownPeriod = 10 * time.Second
	// DefaultScaleDownStabilizationWindow: a scale-down takes the highest
	// replica count recommended over this window, so one poll that reads
	// little lag does not stop replicas that the next poll needs again
	// (the HPA's behavior.scaleDown.stabilizationWindowSeconds, which KEDA
	// passes through: 300 s by default). Scale-up is immediate, as the HPA's.
	DefaultScaleDownStabilizationWindow = 30 * time.Second
	// DefaultLagThreshold: target lag per replica (KEDA 5).
	DefaultLagThreshold = 5
	// DefaultActivationLagThreshold: lag above which a function at zero is
	// activated (KEDA 0).
	DefaultActivationLagThreshold = 0
)

// Defaults of HTTP functions, beside Knative's.
const (
	// DefaultMinScale: scale to zero (Knative 0).
	DefaultMinScale = 0
	// DefaultMaxScale (Knative 0, unlimited): a machine has few cores.
	DefaultMaxScale = 4
	// DefaultContainerConcurrency: the target in-flight requests per
	// replica (Knative's soft target default 100; our replicas are small).
	DefaultContainerConcurrency = 10
	// DefaultTargetUtilization: percent of containerConcurrency aimed at
	// (Knative 70).
	DefaultTargetUtilization = 70
	// DefaultStableWindow: the averaging window of the concurrency metric
	// (Knative 60 s).
	DefaultStableWindow = 10 * time.Second
	// DefaultScaleToZeroGracePeriod: how long the last replica is kept after
	// it has no more requests (Knative 30 s).
	DefaultScaleToZeroGracePeriod = 10 * time.Second
	// DefaultScaleDownDelay: how long a lower replica count must be wanted
	// before it is applied (Knative's scale-down-delay, 0 s by default; as
	// there, the stable window's averaging already smooths the decisions).
	DefaultScaleDownDelay = 0 * time.Second
	// DefaultActivatorTimeout: how long a request may be held while the
	// function scales from zero before it is answered 503 (Knative's
	// activator holds it up to the revision timeout, 300 s by default).
	DefaultActivatorTimeout = 10 * time.Second
)

// FunctionConfig is one function's scaling configuration. Event fields are
// KEDA ScaledObject names and meanings; HTTP fields are Knative KPA names
// and meanings. Zero values take the Default* constants.
type FunctionConfig struct {
	// Name is the function's name, as in `photobench fn NAME`.
	Name string `yaml:"name"`
	// Kind is KindEvent or KindHTTP.
	Kind Kind `yaml:"kind"`

	// Group is an event function's consumer group, whose lag is scaled on.
	Group string `yaml:"group"`
	// Topics are the topics the group consumes.
	Topics []string `yaml:"topics"`
	// MinReplicaCount is the fewest replicas (0: scale to zero).
	MinReplicaCount int `yaml:"minReplicaCount"`
	// MaxReplicaCount is the most replicas; capped at the partition count.
	MaxReplicaCount int `yaml:"maxReplicaCount"`
	// PollingInterval is how often the lag is read.
	PollingInterval Duration `yaml:"pollingInterval"`
	// CooldownPeriod is how long the function must stay inactive before
	// scaling to minReplicaCount. It is active while its lag is above
	// activationLagThreshold, or while events arrive on its topics (their
	// end offsets grew since the last poll; see Function.scale).
	CooldownPeriod Duration `yaml:"cooldownPeriod"`
	// ScaleDownStabilizationWindow: scaling down between minReplicaCount+1
	// and maxReplicaCount follows the highest count recommended over this
	// window (HPA behavior.scaleDown.stabilizationWindowSeconds).
	ScaleDownStabilizationWindow Duration `yaml:"scaleDownStabilizationWindow"`
	// LagThreshold is the target lag per replica: desired = ceil(lag /
	// lagThreshold).
	LagThreshold int64 `yaml:"lagThreshold"`
	// ActivationLagThreshold: a function at zero starts only when its lag
	// is above it.
	ActivationLagThreshold int64 `yaml:"activationLagThreshold"`

	// MinScale is an HTTP function's fewest replicas (0: scale to zero).
	MinScale int `yaml:"minScale"`
	// MaxScale is its most replicas.
	MaxScale int `yaml:"maxScale"`
	// ContainerConcurrency is the target in-flight requests per replica.
	ContainerConcurrency int `yaml:"containerConcurrency"`
	// TargetUtilization is the percent of ContainerConcurrency aimed at.
	TargetUtilization float64 `yaml:"targetUtilizationPercentage"`
	// StableWindow is the window in-flight requests are averaged over.
	StableWindow Duration `yaml:"stableWindow"`
	// ScaleDownDelay is how long a lower replica count must be wanted
	// before it is applied (Knative's scale-down-delay).
	ScaleDownDelay Duration `yaml:"scaleDownDelay"`
	// ScaleToZeroGracePeriod is how long an idle function keeps its last
	// replica.
	ScaleToZeroGracePeriod Duration `yaml:"scaleToZeroGracePeriod"`
	// ActivatorTimeout is how long a request may be held at zero replicas.
	ActivatorTimeout Duration `yaml:"activatorTimeout"`
	// Addr is where an HTTP function's activator listens (the front points
	// here), host:port.
	Addr string `yaml:"addr"`
	// Schedule, when set, makes the runtime invoke an HTTP function on a
	// timer, as a Knative PingSource (or an EventBridge schedule, or a
	// CronJob) does: POST / through its activator every Schedule. Real
	// timers fire at most once a minute (cron syntax; EventBridge's
	// rate(1 minute)).
	Schedule Duration `yaml:"schedule,omitempty"`
}

// Duration is a time.Duration written in YAML as a Go duration ("30s").
type Duration struct{ time.Duration }

// UnmarshalYAML parses a Go duration string such as "1s" or "250ms".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	d.Duration = v
	return nil
}

// MarshalYAML writes the duration as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// Config is the runtime's configuration: every function it runs.
type Config struct {
	// Functions lists the functions; names are unique.
	Functions []FunctionConfig `yaml:"functions"`
}

// LoadConfig reads and parses a YAML configuration file (see ParseConfig).
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	cfg, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("load config %s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig parses a YAML configuration, fills in the defaults and
// validates it, reporting every problem in one error. Unknown fields are
// errors (a misspelt knob would otherwise silently take its default).
func ParseConfig(data []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("parse config: %w", err)
	}
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("parse config: %w", err)
	}
	return cfg, nil
}

// Defaults fills in the zero fields of every function with the Default*
// constants of its kind.
func (c *Config) Defaults() {
	for i := range c.Functions {
		c.Functions[i].defaults()
	}
}

func (f *FunctionConfig) defaults() {
	setDur := func(d *Duration, def time.Duration) {
		if d.Duration == 0 {
			d.Duration = def
		}
	}
	switch f.Kind {
	case KindEvent:
		if f.MaxReplicaCount == 0 {
			f.MaxReplicaCount = DefaultMaxReplicaCount
		}
		setDur(&f.PollingInterval, DefaultPollingInterval)
		setDur(&f.CooldownPeriod, DefaultCooldownPeriod)
		setDur(&f.ScaleDownStabilizationWindow, DefaultScaleDownStabilizationWindow)
		if f.LagThreshold == 0 {
			f.LagThreshold = DefaultLagThreshold
		}
	case KindHTTP:
		if f.MaxScale == 0 {
			f.MaxScale = DefaultMaxScale
		}
		if f.ContainerConcurrency == 0 {
			f.ContainerConcurrency = DefaultContainerConcurrency
		}
		if f.TargetUtilization == 0 {
			f.TargetUtilization = DefaultTargetUtilization
		}
		setDur(&f.StableWindow, DefaultStableWindow)
		setDur(&f.ScaleToZeroGracePeriod, DefaultScaleToZeroGracePeriod)
		setDur(&f.ActivatorTimeout, DefaultActivatorTimeout)
	}
}

// Validate reports every problem of the configuration in one error; nil
// if there is none. It expects the defaults filled in.
func (c Config) Validate() error {
	var errs []error
	if len(c.Functions) == 0 {
		errs = append(errs, errors.New("no functions"))
	}
	seen := map[string]bool{}
	for i, f := range c.Functions {
		name := f.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i+1)
			errs = append(errs, fmt.Errorf("function %s: no name", name))
		} else if seen[name] {
			errs = append(errs, fmt.Errorf("function %s: name used twice", name))
		}
		seen[f.Name] = true
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("function %s: %s", name, fmt.Sprintf(format, args...)))
		}
		positive := func(field string, d Duration) {
			if d.Duration <= 0 {
				bad("%s %v: want > 0", field, d.Duration)
			}
		}
		switch f.Kind {
		case KindEvent:
			if f.Schedule.Duration != 0 {
				bad("schedule: only HTTP functions are invoked on a timer")
			}
			if f.Group == "" {
				bad("no group")
			}
			if len(f.Topics) == 0 {
				bad("no topics")
			}
			for _, t := range f.Topics {
				if t == "" {
					bad("empty topic name")
				}
			}
			if f.MinReplicaCount < 0 {
				bad("minReplicaCount %d: want >= 0", f.MinReplicaCount)
			}
			if f.MaxReplicaCount < 1 {
				bad("maxReplicaCount %d: want >= 1", f.MaxReplicaCount)
			}
			if f.MinReplicaCount > f.MaxReplicaCount {
				bad("minReplicaCount %d > maxReplicaCount %d", f.MinReplicaCount, f.MaxReplicaCount)
			}
			positive("pollingInterval", f.PollingInterval)
			positive("cooldownPeriod", f.CooldownPeriod)
			positive("scaleDownStabilizationWindow", f.ScaleDownStabilizationWindow)
			if f.LagThreshold <= 0 {
				bad("lagThreshold %d: want > 0", f.LagThreshold)
			}
			if f.ActivationLagThreshold < 0 {
				bad("activationLagThreshold %d: want >= 0", f.ActivationLagThreshold)
			}
		case KindHTTP:
			if f.Addr == "" {
				bad("no addr")
			}
			if f.MinScale < 0 {
				bad("minScale %d: want >= 0", f.MinScale)
			}
			if f.MaxScale < 1 {
				bad("maxScale %d: want >= 1", f.MaxScale)
			}
			if f.MinScale > f.MaxScale {
				bad("minScale %d > maxScale %d", f.MinScale, f.MaxScale)
			}
			if f.ContainerConcurrency <= 0 {
				bad("containerConcurrency %d: want > 0", f.ContainerConcurrency)
			}
			if f.TargetUtilization <= 0 || f.TargetUtilization > 100 {
				bad("targetUtilizationPercentage %v: want in (0, 100]", f.TargetUtilization)
			}
			positive("stableWindow", f.StableWindow)
			positive("scaleToZeroGracePeriod", f.ScaleToZeroGracePeriod)
			positive("activatorTimeout", f.ActivatorTimeout)
			if f.ScaleDownDelay.Duration < 0 {
				bad("scaleDownDelay %v: want >= 0", f.ScaleDownDelay.Duration)
			}
			if f.Schedule.Duration < 0 || (f.Schedule.Duration > 0 && f.Schedule.Duration < time.Second) {
				bad("schedule %v: want 0 (none) or >= 1s", f.Schedule.Duration)
			}
		case "":
			bad("no kind (want %q or %q)", KindEvent, KindHTTP)
		default:
			bad("unknown kind %q (want %q or %q)", f.Kind, KindEvent, KindHTTP)
		}
	}
	return errors.Join(errs...)
}

// Min returns the fewest replicas of the function's kind.
func (f FunctionConfig) Min() int {
	if f.Kind == KindHTTP {
		return f.MinScale
	}
	return f.MinReplicaCount
}

// Max returns the most replicas of the function's kind.
func (f FunctionConfig) Max() int {
	if f.Kind == KindHTTP {
		return f.MaxScale
	}
	return f.MaxReplicaCount
}
