package bench

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/loadgen"
	"github.com/photobench/photobench/vision"
)

//go:embed profiles/*.yaml
var profileFiles embed.FS

// Profile is what `photobench bench --profile NAME` runs: experiments, each a
// load scenario with faults at phase boundaries, run against each
// architecture in turn with the same seed, the same vision profile and the
// same faults.
type Profile struct {
	Name        string
	Description string
	// SLO is the p99 ack latency under which a sweep step counts as within
	// the service level (with errors under 1%); SLOReady the p99
	// upload-to-ready (slo_p99_ready; 0: not judged). SweepSLO puts them
	// together with the backlog's check (results.SLO).
	SLO      time.Duration
	SLOReady time.Duration
	// OrderSeed seeds the balanced order of the runs (order_seed, default
	// DefaultOrderSeed; photobench bench --order-seed overrides it).
	OrderSeed int64
	// Vision is the vision service's baseline remote-API profile for every run.
	Vision vision.Profile
	// VisionSeed seeds the vision service's latency and error draws; the
	// service restarts before every run, so each architecture draws the same
	// sequence in request order. Default 1.
	VisionSeed  int
	Experiments []Experiment
	// Steady and Idle name the phases the cost model reads (load and idle).
	Steady, Idle string
}

// Experiment is one scenario with its faults, repeated; a sweep expands into
// one run per rate.
type Experiment struct {
	Name     string
	Scenario *loadgen.Scenario
	Faults   []Fault
	Repeats  int
	// Sweep, when set, runs the scenario once per rate with the named
	// phase's pacer replaced by a constant one at that rate.
	Sweep *Sweep
}

// Sweep is a rate sweep over one phase of an experiment's scenario.
type Sweep struct {
	Phase string
	Rates []float64
}

// Fault is something done to the system while a phase runs: a vision
// profile change (reverted to the baseline when the phase ends) or a restart
// of one of the stack's servers at an offset into the phase.
type Fault struct {
	Phase   string
	Vision  json.RawMessage // fields of vision.Profile to merge (PATCH /admin/profile)
	Restart string          // "postgres" or "kafka"
	After   time.Duration   // offset into the phase (restarts)
	Text    string          // what the report calls it
}

// Profiles lists the built-in profiles' names.
func Profiles() []string {
	entries, _ := profileFiles.ReadDir("profiles")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// LoadProfile returns a built-in profile by name, or reads a profile file
// when name ends in .yaml or .yml.
func LoadProfile(name string) (*Profile, error) {
	var data []byte
	var err error
	if strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
		data, err = os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
	} else {
		data, err = profileFiles.ReadFile("profiles/" + name + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("unknown profile %q (built in: %s; or a .yaml file)", name, strings.Join(Profiles(), ", "))
		}
	}
	p, err := ParseProfile(data)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	return p, nil
}

type rawProfile struct {
	Name        string          `yaml:"name"`
	Description string          `yaml:"description"`
	SLO         string          `yaml:"slo_p99_ack"`
	SLOReady    string          `yaml:"slo_p99_ready"`
	OrderSeed   string          `yaml:"order_seed"` // parsed here, so that the error names the field
	Vision      yaml.Node       `yaml:"vision"`
	VisionSeed  *int            `yaml:"vision_seed"`
	Steady      string          `yaml:"steady_phase"`
	Idle        string          `yaml:"idle_phase"`
	Experiments []rawExperiment `yaml:"experiments"`
}

type rawExperiment struct {
	Name     string     `yaml:"name"`
	Repeats  int        `yaml:"repeats"`
	Scenario yaml.Node  `yaml:"scenario"`
	Faults   []rawFault `yaml:"faults"`
	Sweep    *struct {
		Phase string    `yaml:"phase"`
		Rates []float64 `yaml:"rates"`
	} `yaml:"sweep"`
}

type rawFault struct {
	Phase   string    `yaml:"phase"`
	Vision  yaml.Node `yaml:"vision"`
	Restart string    `yaml:"restart"`
	After   string    `yaml:"after"`
	Text    string    `yaml:"text"`
}

// ParseProfile parses a profile file; the error names the field.
func ParseProfile(data []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var raw rawProfile
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	p := &Profile{Name: raw.Name, Description: raw.Description, Steady: raw.Steady, Idle: raw.Idle}
	if p.Name == "" {
		return nil, errors.New("name: required")
	}
	p.SLO = time.Second
	if raw.SLO != "" {
		d, err := time.ParseDuration(raw.SLO)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("slo_p99_ack: %q is not a positive duration", raw.SLO)
		}
		p.SLO = d
	}
	if raw.SLOReady != "" {
		d, err := time.ParseDuration(raw.SLOReady)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("slo_p99_ready: %q is not a positive duration", raw.SLOReady)
		}
		p.SLOReady = d
	}
	p.OrderSeed = DefaultOrderSeed
	if raw.OrderSeed != "" {
		n, err := strconv.ParseInt(raw.OrderSeed, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("order_seed: %q is not an integer", raw.OrderSeed)
		}
		p.OrderSeed = n
	}
	if raw.Vision.Kind != 0 {
		js, err := nodeJSON(&raw.Vision)
		if err != nil {
			return nil, fmt.Errorf("vision: %w", err)
		}
		if err := decodeStrict(js, &p.Vision); err != nil {
			return nil, fmt.Errorf("vision: %v", err)
		}
	}
	p.VisionSeed = 1
	if raw.VisionSeed != nil {
		if *raw.VisionSeed < 1 {
			return nil, fmt.Errorf("vision_seed: %d is not a whole number >= 1", *raw.VisionSeed)
		}
		p.VisionSeed = *raw.VisionSeed
	}
	if len(raw.Experiments) == 0 {
		return nil, errors.New("experiments: at least one is required")
	}
	seen := map[string]bool{}
	for i, re := range raw.Experiments {
		path := fmt.Sprintf("experiments[%d]", i)
		if re.Name == "" {
			return nil, fmt.Errorf("%s.name: required", path)
		}
		if seen[re.Name] {
			return nil, fmt.Errorf("%s.name: %q is used twice", path, re.Name)
		}
		seen[re.Name] = true
		e, err := parseExperiment(path, re)
		if err != nil {
			return nil, err
		}
		p.Experiments = append(p.Experiments, e)
	}
	if err := p.checkPhaseNames(); err != nil {
		return nil, err
	}
	return p, nil
}

// parseExperiment parses the named experiment at path (for errors): its
// repeats, its scenario, its sweep and its faults.
func parseExperiment(path string, re rawExperiment) (Experiment, error) {
	e := Experiment{Name: re.Name, Repeats: re.Repeats}
	if e.Repeats == 0 {
		e.Repeats = 1
	}
	if e.Repeats < 0 || e.Repeats > 20 {
		return e, fmt.Errorf("%s.repeats: must be 1..20", path)
	}
	if re.Scenario.Kind == 0 {
		return e, fmt.Errorf("%s.scenario: required", path)
	}
	// Decoding into a plain value resolves anchors, aliases and merge
	// keys (<<), so scenarios can share a base.
	var plain any
	if err := re.Scenario.Decode(&plain); err != nil {
		return e, fmt.Errorf("%s.scenario: %w", path, err)
	}
	text, err := yaml.Marshal(plain)
	if err != nil {
		return e, fmt.Errorf("%s.scenario: %w", path, err)
	}
	sc, err := loadgen.ParseScenario(text)
	if err != nil {
		return e, fmt.Errorf("%s.scenario.%w", path, err)
	}
	e.Scenario = sc
	phases := map[string]bool{}
	for _, ph := range sc.Phases {
		phases[ph.Name] = true
	}
	if re.Sweep != nil {
		if !phases[re.Sweep.Phase] {
			return e, fmt.Errorf("%s.sweep.phase: %q is not a phase of the scenario", path, re.Sweep.Phase)
		}
		if len(re.Sweep.Rates) == 0 {
			return e, fmt.Errorf("%s.sweep.rates: at least one rate is required", path)
		}
		for j, r := range re.Sweep.Rates {
			if r <= 0 {
				return e, fmt.Errorf("%s.sweep.rates[%d]: must be positive", path, j)
			}
		}
		e.Sweep = &Sweep{Phase: re.Sweep.Phase, Rates: re.Sweep.Rates}
	}
	for j, rf := range re.Faults {
		f, err := parseFault(fmt.Sprintf("%s.faults[%d]", path, j), rf, phases)
		if err != nil {
			return e, err
		}
		e.Faults = append(e.Faults, f)
	}
	return e, nil
}

// parseFault parses the fault at fpath (for errors), which must name one of
// the scenario's phases and either a vision profile or a restart.
func parseFault(fpath string, rf rawFault, phases map[string]bool) (Fault, error) {
	f := Fault{Phase: rf.Phase, Restart: rf.Restart, Text: rf.Text}
	if !phases[f.Phase] {
		return f, fmt.Errorf("%s.phase: %q is not a phase of the scenario", fpath, f.Phase)
	}
	if rf.After != "" {
		d, err := time.ParseDuration(rf.After)
		if err != nil || d < 0 {
			return f, fmt.Errorf("%s.after: %q is not a duration", fpath, rf.After)
		}
		f.After = d
	}
	switch {
	case rf.Vision.Kind != 0 && f.Restart != "":
		return f, fmt.Errorf("%s: either vision or restart, not both", fpath)
	case rf.Vision.Kind != 0:
		js, err := nodeJSON(&rf.Vision)
		if err != nil {
			return f, fmt.Errorf("%s.vision: %w", fpath, err)
		}
		var check vision.Profile
		if err := decodeStrict(js, &check); err != nil {
			return f, fmt.Errorf("%s.vision: %v", fpath, err)
		}
		f.Vision = js
	case f.Restart == "postgres" || f.Restart == "kafka":
	case f.Restart != "":
		return f, fmt.Errorf("%s.restart: %q is not postgres or kafka", fpath, f.Restart)
	default:
		return f, fmt.Errorf("%s: vision or restart is required", fpath)
	}
	if f.Text == "" {
		return f, fmt.Errorf("%s.text: required (what the report calls the fault)", fpath)
	}
	return f, nil
}

// checkPhaseNames checks that the steady and idle phases the profile names
// are phases of at least one experiment.
func (p *Profile) checkPhaseNames() error {
	for _, ph := range []struct{ field, name string }{{"steady_phase", p.Steady}, {"idle_phase", p.Idle}} {
		if ph.name == "" {
			continue
		}
		found := false
		for _, e := range p.Experiments {
			if _, ok := phaseIndex(e.Scenario, ph.name); ok {
				found = true
			}
		}
		if !found {
			return fmt.Errorf("%s: %q is not a phase of any experiment", ph.field, ph.name)
		}
	}
	return nil
}

// decodeStrict decodes the JSON js into v, refusing fields v does not have.
func decodeStrict(js []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func phaseIndex(sc *loadgen.Scenario, name string) (int, bool) {
	for i, ph := range sc.Phases {
		if ph.Name == name {
			return i, true
		}
	}
	return 0, false
}

// nodeJSON converts a YAML mapping into JSON (via a generic value).
func nodeJSON(n *yaml.Node) ([]byte, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// SweepSLO is the SLO a sweep step is judged against: p99 ack under SLO,
// p99 ready under SLOReady, errors under results.DefaultMaxErrors, and the
// backlog not growing.
func (p *Profile) SweepSLO() results.SLO {
	return results.SLO{AckP99: p.SLO.Seconds(), ReadyP99: p.SLOReady.Seconds(), MaxErrors: results.DefaultMaxErrors}
}

// Duration is the planned wall time of the profile's load against archs
// architectures (every run of every experiment against each, every sweep
// rate included: an upper bound, as a variant's sweep stops at its knee),
// without start-up, draining and capture.
func (p *Profile) Duration(archs int) time.Duration {
	var d time.Duration
	for _, e := range p.Experiments {
		d += time.Duration(e.runs()) * e.Scenario.Duration()
	}
	return time.Duration(archs) * d
}

// Runs is the number of runs the profile makes against archs architectures.
func (p *Profile) Runs(archs int) int {
	n := 0
	for _, e := range p.Experiments {
		n += e.runs()
	}
	return n * archs
}

// runs is the number of runs of e against one architecture: its repeats of
// each sweep rate.
func (e Experiment) runs() int {
	if e.Sweep != nil {
		return e.Repeats * len(e.Sweep.Rates)
	}
	return e.Repeats
}

// Estimate is the expected wall time of the whole bench against archs
// architectures: the bench's start, the load, and each run's start, drain
// and capture (an upper bound with a sweep, which stops at each knee).
func (p *Profile) Estimate(archs int) time.Duration {
	return benchOverhead + p.Duration(archs) + time.Duration(p.Runs(archs))*runOverhead
}
