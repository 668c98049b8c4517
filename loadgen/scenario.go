package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Op is one kind of request in the operation mix.
type Op string

// The operations of the public API the generator can send.
const (
	OpUpload    Op = "upload"
	OpGet       Op = "get"
	OpList      Op = "list"
	OpSearch    Op = "search"
	OpThumbnail Op = "thumbnail"
	OpDelete    Op = "delete"
)

// Ops lists every operation in the fixed order used for mixes and summaries.
var Ops = []Op{OpUpload, OpGet, OpList, OpSearch, OpThumbnail, OpDelete}

func knownOp(op Op) bool {
	for _, o := range Ops {
		if o == op {
			return true
		}
	}
	return false
}

// A Weight is one operation's share of the mix.
type Weight struct {
	Op     Op
	Weight float64 // >= 0; shares are Weight / sum of weights
}

// Scenario is a validated load test: phases run back to back, each on its own
// pacer, and every hit picks an operation from Mix and a user from Users.
type Scenario struct {
	Name        string
	Seed        uint64 // drives the operation and user choices and Poisson pacers
	Users       int
	MaxInFlight int           // requests in flight at most; a hit beyond it is dropped
	Timeout     time.Duration // per request, counted as an error when exceeded
	Mix         []Weight
	Phases      []Phase
	Photos      PhotoSpec // the upload bodies; DefaultPhotoSpec when the file has none
	Ready       ReadyConfig
}

// ReadyConfig says whether and how the generator follows accepted uploads
// until their photos are ready (see Follower).
type ReadyConfig struct {
	Follow       bool          // follow uploads at all
	Timeout      time.Duration // give up following this long after the upload's answer
	MinPoll      time.Duration // first wait before polling; waits double from here
	MaxPoll      time.Duration // longest wait between polls
	MaxFollowing int           // photos followed at once at most; uploads beyond are skipped
}

// Defaults of ReadyConfig.
const (
	DefaultReadyTimeout = 120 * time.Second
	DefaultMinPoll      = 50 * time.Millisecond
	DefaultMaxPoll      = 2 * time.Second
	DefaultMaxFollowing = 1000
)

// DefaultReadyConfig is the ready section of a file without one, for a mix
// that uploads (ParseScenario sets Follow only when the mix has uploads).
func DefaultReadyConfig() ReadyConfig {
	return ReadyConfig{Follow: true, Timeout: DefaultReadyTimeout, MinPoll: DefaultMinPoll,
		MaxPoll: DefaultMaxPoll, MaxFollowing: DefaultMaxFollowing}
}

// Validate reports the first problem of the config as "ready.field: problem".
func (c ReadyConfig) Validate() error {
	switch {
	case c.Timeout <= 0:
		return fieldErr("ready.timeout", "must be positive")
	case c.MinPoll <= 0:
		return fieldErr("ready.min_poll", "must be positive")
	case c.MaxPoll < c.MinPoll:
		return fieldErr("ready.max_poll", "must be at least ready.min_poll")
	case c.MaxFollowing <= 0:
		return fieldErr("ready.max_following", "must be positive")
	}
	return nil
}

// uploads reports whether the mix sends uploads.
func (s *Scenario) uploads() bool {
	for _, w := range s.Mix {
		if w.Op == OpUpload && w.Weight > 0 {
			return true
		}
	}
	return false
}

// Phase is one named stretch of the schedule.
type Phase struct {
	Name     string
	Duration time.Duration
	Warmup   bool // excluded from results
	Pacer    Pacer
}

// Uploads reports whether the mix uploads at all (photos are needed, and
// uploads can be followed until ready).
func (s *Scenario) Uploads() bool {
	for _, w := range s.Mix {
		if w.Op == OpUpload && w.Weight > 0 {
			return true
		}
	}
	return false
}

// Duration returns the total planned length of the scenario.
func (s *Scenario) Duration() time.Duration {
	var d time.Duration
	for _, p := range s.Phases {
		d += p.Duration
	}
	return d
}

// Validate reports the first problem of a scenario built in code, as
// "field.path: problem". Ready is checked only when Ready.Follow is set.
func (s *Scenario) Validate() error {
	switch {
	case s.Users <= 0:
		return fieldErr("users", "must be positive")
	case s.MaxInFlight <= 0:
		return fieldErr("max_in_flight", "must be positive")
	case s.Timeout <= 0:
		return fieldErr("timeout", "must be positive")
	case len(s.Mix) == 0:
		return fieldErr("mix", "must name at least one operation")
	case len(s.Phases) == 0:
		return fieldErr("phases", "must list at least one phase")
	}
	sum := 0.0
	for i, w := range s.Mix {
		if !knownOp(w.Op) {
			return fieldErr(fmt.Sprintf("mix[%d]", i), fmt.Sprintf("unknown operation %q", w.Op))
		}
		if w.Weight < 0 || math.IsNaN(w.Weight) || math.IsInf(w.Weight, 0) {
			return fieldErr("mix."+string(w.Op), "must be a non-negative number")
		}
		sum += w.Weight
	}
	if sum <= 0 {
		return fieldErr("mix", "needs a positive weight")
	}
	names := map[string]bool{}
	for i, p := range s.Phases {
		path := fmt.Sprintf("phases[%d]", i)
		switch {
		case p.Name == "":
			return fieldErr(path+".name", "is required")
		case names[p.Name]:
			return fieldErr(path+".name", fmt.Sprintf("%q is used by an earlier phase", p.Name))
		case p.Duration <= 0:
			return fieldErr(path+".duration", "must be positive")
		case p.Pacer == nil:
			return fieldErr(path+".pacer", "is required")
		}
		names[p.Name] = true
	}
	if s.Ready.Follow {
		return s.Ready.Validate()
	}
	return nil
}

func fieldErr(path, problem string) error { return errors.New(path + ": " + problem) }

// LoadScenario reads and validates a scenario file; see ParseScenario.
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	s, err := ParseScenario(data)
	if err != nil {
		return nil, fmt.Errorf("load scenario %s: %w", path, err)
	}
	return s, nil
}

// The file's shape. Numbers are pointers and durations strings so that absent,
// zero and malformed values are told apart and reported with their path.
type rawScenario struct {
	Name        string             `yaml:"name"`
	Seed        *uint64            `yaml:"seed"`
	Users       *int               `yaml:"users"`
	MaxInFlight *int               `yaml:"max_in_flight"`
	Timeout     string             `yaml:"timeout"`
	Mix         map[string]float64 `yaml:"mix"`
	Phases      []rawPhase         `yaml:"phases"`
	Photos      *rawPhotos         `yaml:"photos"`
	Ready       *rawReady          `yaml:"ready"`
}

type rawReady struct {
	Follow       *bool  `yaml:"follow"`
	Timeout      string `yaml:"timeout"`
	MinPoll      string `yaml:"min_poll"`
	MaxPoll      string `yaml:"max_poll"`
	MaxFollowing *int   `yaml:"max_following"`
}

// config applies the section to the defaults; follow is the default of Follow.
func (r *rawReady) config(follow bool) (ReadyConfig, error) {
	c := DefaultReadyConfig()
	c.Follow = follow
	if r == nil {
		return c, nil
	}
	if r.Follow != nil {
		c.Follow = *r.Follow
	}
	for _, d := range []struct {
		path, text string
		to         *time.Duration
	}{
		{"ready.timeout", r.Timeout, &c.Timeout},
		{"ready.min_poll", r.MinPoll, &c.MinPoll},
		{"ready.max_poll", r.MaxPoll, &c.MaxPoll},
	} {
		if d.text == "" {
			continue
		}
		v, err := positiveDuration(d.path, d.text)
		if err != nil {
			return ReadyConfig{}, err
		}
		*d.to = v
	}
	if r.MaxFollowing != nil {
		c.MaxFollowing = *r.MaxFollowing
	}
	return c, c.Validate()
}

type rawPhase struct {
	Name     string    `yaml:"name"`
	Duration string    `yaml:"duration"`
	Warmup   bool      `yaml:"warmup"`
	Pacer    *rawPacer `yaml:"pacer"`
}

type rawPacer struct {
	Type      string    `yaml:"type"`
	Rate      *float64  `yaml:"rate"`
	Seed      *uint64   `yaml:"seed"`
	From      *float64  `yaml:"from"`
	To        *float64  `yaml:"to"`
	Over      string    `yaml:"over"`
	Steps     []rawStep `yaml:"steps"`
	Base      *float64  `yaml:"base"`
	Peak      *float64  `yaml:"peak"`
	Start     string    `yaml:"start"`
	Length    string    `yaml:"length"`
	Mean      *float64  `yaml:"mean"`
	Amplitude *float64  `yaml:"amplitude"`
	Period    string    `yaml:"period"`
}

type rawStep struct {
	Rate     *float64 `yaml:"rate"`
	Duration string   `yaml:"duration"`
}

// Defaults for fields a scenario file may leave out.
const (
	DefaultUsers       = 1
	DefaultMaxInFlight = 1000
	DefaultTimeout     = 30 * time.Second
	DefaultSeed        = 1
)

// ParseScenario decodes a scenario from YAML (unknown fields rejected) and validates
// it. Every error is one line naming the field path and the problem, such as
// "phases[2].pacer.rate: must be positive".
//
//	name: smoke
//	seed: 42
//	users: 10
//	max_in_flight: 500
//	timeout: 10s
//	mix: {upload: 1, get: 5, list: 2, search: 1, thumbnail: 3, delete: 0.5}
//	phases:
//	  - {name: warmup, warmup: true, duration: 10s, pacer: {type: constant, rate: 20}}
//	  - {name: ramp, duration: 1m, pacer: {type: ramp, from: 20, to: 200}}
//	  - {name: rest, duration: 5s, pacer: {type: idle}}
//	ready: {follow: true, timeout: 2m, min_poll: 50ms, max_poll: 2s, max_following: 1000}
//
// Pacer types and their fields: constant (rate), poisson (rate, seed: default the
// scenario's seed plus the phase index), ramp (from, to, over: default the phase's
// duration), step (steps: list of {rate, duration}), spike (base, peak, start,
// length), sine (mean, amplitude, period), idle (none).
//
// The optional ready section configures the Follower; each field left out
// takes its value from DefaultReadyConfig, except follow, which defaults to
// whether the mix has uploads.
func ParseScenario(data []byte) (*Scenario, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("scenario: file is empty")
	}
	var raw rawScenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, yamlError(data, err)
	}
	return raw.scenario()
}

func (r *rawScenario) scenario() (*Scenario, error) {
	s := &Scenario{Name: r.Name, Seed: DefaultSeed, Users: DefaultUsers,
		MaxInFlight: DefaultMaxInFlight, Timeout: DefaultTimeout, Photos: DefaultPhotoSpec()}
	if r.Seed != nil {
		s.Seed = *r.Seed
	}
	if r.Users != nil {
		if *r.Users <= 0 {
			return nil, fieldErr("users", "must be positive")
		}
		s.Users = *r.Users
	}
	if r.MaxInFlight != nil {
		if *r.MaxInFlight <= 0 {
			return nil, fieldErr("max_in_flight", "must be positive")
		}
		s.MaxInFlight = *r.MaxInFlight
	}
	if r.Timeout != "" {
		d, err := positiveDuration("timeout", r.Timeout)
		if err != nil {
			return nil, err
		}
		s.Timeout = d
	}
	if len(r.Mix) == 0 {
		return nil, fieldErr("mix", "must name at least one operation")
	}
	for name := range r.Mix {
		if !knownOp(Op(name)) {
			return nil, fieldErr("mix."+name, "unknown operation (want one of "+opList()+")")
		}
	}
	for _, op := range Ops { // fixed order: the same seed picks the same operations
		if w, ok := r.Mix[string(op)]; ok {
			s.Mix = append(s.Mix, Weight{Op: op, Weight: w})
		}
	}
	if len(r.Phases) == 0 {
		return nil, fieldErr("phases", "must list at least one phase")
	}
	for i, rp := range r.Phases {
		path := fmt.Sprintf("phases[%d]", i)
		if rp.Duration == "" {
			return nil, fieldErr(path+".duration", "is required")
		}
		d, err := positiveDuration(path+".duration", rp.Duration)
		if err != nil {
			return nil, err
		}
		if rp.Pacer == nil {
			return nil, fieldErr(path+".pacer", "is required")
		}
		p, err := rp.Pacer.pacer(path+".pacer", d, s.Seed+uint64(i))
		if err != nil {
			return nil, err
		}
		s.Phases = append(s.Phases, Phase{Name: rp.Name, Duration: d, Warmup: rp.Warmup, Pacer: p})
	}
	if r.Photos != nil {
		p, err := r.Photos.spec()
		if err != nil {
			return nil, err
		}
		s.Photos = p
	}
	ready, err := r.Ready.config(s.uploads())
	if err != nil {
		return nil, err
	}
	s.Ready = ready
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s, nil
}

func opList() string {
	names := make([]string, len(Ops))
	for i, op := range Ops {
		names[i] = string(op)
	}
	return strings.Join(names, ", ")
}

// pacer builds the pacer a spec names, checking that exactly its fields are set.
func (r *rawPacer) pacer(path string, phase time.Duration, seed uint64) (Pacer, error) {
	if err := r.checkFields(path); err != nil {
		return nil, err
	}
	switch r.Type {
	case "constant", "poisson":
		rate, err := rateField(path+".rate", r.Rate, true)
		if err != nil {
			return nil, err
		}
		if r.Type == "constant" {
			return Constant{Rate: rate}, nil
		}
		if r.Seed != nil {
			seed = *r.Seed
		}
		return NewPoisson(rate, seed), nil
	case "ramp":
		return r.ramp(path, phase)
	case "step":
		return r.steps(path)
	case "spike":
		return r.spike(path)
	case "sine":
		return r.sine(path)
	default: // idle
		return Idle{}, nil
	}
}

// checkFields checks that the spec names a known pacer type and sets no
// field that type does not use.
func (r *rawPacer) checkFields(path string) error {
	set := map[string]bool{
		"rate": r.Rate != nil, "seed": r.Seed != nil, "from": r.From != nil, "to": r.To != nil,
		"over": r.Over != "", "steps": r.Steps != nil, "base": r.Base != nil, "peak": r.Peak != nil,
		"start": r.Start != "", "length": r.Length != "", "mean": r.Mean != nil,
		"amplitude": r.Amplitude != nil, "period": r.Period != "",
	}
	fields := map[string][]string{
		"constant": {"rate"}, "poisson": {"rate", "seed"}, "ramp": {"from", "to", "over"},
		"step": {"steps"}, "spike": {"base", "peak", "start", "length"},
		"sine": {"mean", "amplitude", "period"}, "idle": nil,
	}
	if r.Type == "" {
		return fieldErr(path+".type", "is required (constant, poisson, ramp, step, spike, sine or idle)")
	}
	allowed, ok := fields[r.Type]
	if !ok {
		return fieldErr(path+".type", fmt.Sprintf("unknown pacer %q (want constant, poisson, ramp, step, spike, sine or idle)", r.Type))
	}
	for _, f := range []string{"rate", "seed", "from", "to", "over", "steps", "base", "peak", "start", "length", "mean", "amplitude", "period"} {
		if set[f] && !contains(allowed, f) {
			return fieldErr(path+"."+f, "not used by pacer type "+r.Type)
		}
	}
	return nil
}

// ramp builds a ramp pacer; it ramps over the whole phase unless over says
// otherwise.
func (r *rawPacer) ramp(path string, phase time.Duration) (Pacer, error) {
	from, err := rateField(path+".from", r.From, false)
	if err != nil {
		return nil, err
	}
	to, err := rateField(path+".to", r.To, false)
	if err != nil {
		return nil, err
	}
	if from == 0 && to == 0 {
		return nil, fieldErr(path+".to", "from and to cannot both be 0 (use type idle)")
	}
	over := phase
	if r.Over != "" {
		if over, err = positiveDuration(path+".over", r.Over); err != nil {
			return nil, err
		}
	}
	return Ramp{From: from, To: to, Over: over}, nil
}

// steps builds a step pacer from its list of rates and durations.
func (r *rawPacer) steps(path string) (Pacer, error) {
	if len(r.Steps) == 0 {
		return nil, fieldErr(path+".steps", "must list at least one step")
	}
	steps := make(Steps, len(r.Steps))
	for i, st := range r.Steps {
		sp := fmt.Sprintf("%s.steps[%d]", path, i)
		rate, err := rateField(sp+".rate", st.Rate, false)
		if err != nil {
			return nil, err
		}
		d, err := requiredDuration(sp+".duration", st.Duration, true)
		if err != nil {
			return nil, err
		}
		steps[i] = Step{Rate: rate, Duration: d}
	}
	return steps, nil
}

// spike builds a spike pacer: a base rate with a peak from start for
// length.
func (r *rawPacer) spike(path string) (Pacer, error) {
	base, err := rateField(path+".base", r.Base, false)
	if err != nil {
		return nil, err
	}
	peak, err := rateField(path+".peak", r.Peak, true)
	if err != nil {
		return nil, err
	}
	start, err := requiredDuration(path+".start", r.Start, false)
	if err != nil {
		return nil, err
	}
	length, err := requiredDuration(path+".length", r.Length, true)
	if err != nil {
		return nil, err
	}
	return Spike{Base: base, Peak: peak, Start: start, Length: length}, nil
}

// sine builds a sine pacer, whose amplitude may not take the rate below 0.
func (r *rawPacer) sine(path string) (Pacer, error) {
	mean, err := rateField(path+".mean", r.Mean, true)
	if err != nil {
		return nil, err
	}
	amp, err := rateField(path+".amplitude", r.Amplitude, false)
	if err != nil {
		return nil, err
	}
	if amp > mean {
		return nil, fieldErr(path+".amplitude", "must not exceed mean (the rate would go negative)")
	}
	period, err := requiredDuration(path+".period", r.Period, true)
	if err != nil {
		return nil, err
	}
	return Sine{Mean: mean, Amplitude: amp, Period: period}, nil
}

// requiredDuration reads the duration s of the field at path, which must be
// set, and positive, or when positive is false not negative.
func requiredDuration(path, s string, positive bool) (time.Duration, error) {
	switch {
	case s == "":
		return 0, fieldErr(path, "is required")
	case positive:
		return positiveDuration(path, s)
	default:
		return nonNegativeDuration(path, s)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func rateField(path string, v *float64, positive bool) (float64, error) {
	switch {
	case v == nil:
		return 0, fieldErr(path, "is required")
	case math.IsNaN(*v) || math.IsInf(*v, 0):
		return 0, fieldErr(path, "must be a finite number")
	case positive && *v <= 0:
		return 0, fieldErr(path, "must be positive")
	case *v < 0:
		return 0, fieldErr(path, "must not be negative")
	}
	return *v, nil
}

func positiveDuration(path, s string) (time.Duration, error) {
	d, err := nonNegativeDuration(path, s)
	if err == nil && d == 0 {
		err = fieldErr(path, "must be positive")
	}
	return d, err
}

func nonNegativeDuration(path, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fieldErr(path, fmt.Sprintf("invalid duration %q (want e.g. 30s, 2m, 500ms)", s))
	}
	if d < 0 {
		return 0, fieldErr(path, "must not be negative")
	}
	return d, nil
}

var (
	lineRe    = regexp.MustCompile(`line (\d+): (.*)`)
	unknownRe = regexp.MustCompile(`^field (\S+) not found in type`)
	typeRe    = regexp.MustCompile("^cannot unmarshal !!\\w+(?: `(.*)`)? into (\\S+)$")
)

// yamlError turns a decoder error into one line naming the field path when the
// decoder gave a line to find it by.
func yamlError(data []byte, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		msg := strings.TrimPrefix(strings.SplitN(err.Error(), "\n", 2)[0], "yaml: ")
		return errors.New("scenario: " + msg)
	}
	m := lineRe.FindStringSubmatch(te.Errors[0])
	if m == nil {
		return errors.New("scenario: " + te.Errors[0])
	}
	line, _ := strconv.Atoi(m[1])
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root) // it decoded once already
	if u := unknownRe.FindStringSubmatch(m[2]); u != nil {
		if path, ok := findPath(&root, "", line, u[1], true); ok {
			return fieldErr(path, "unknown field")
		}
		return fmt.Errorf("scenario: line %d: unknown field %s", line, u[1])
	}
	if t := typeRe.FindStringSubmatch(m[2]); t != nil {
		problem := "must be " + kindOf(t[2])
		if path, ok := findPath(&root, "", line, t[1], false); ok {
			return fieldErr(path, problem)
		}
		return fmt.Errorf("scenario: line %d: %s", line, problem)
	}
	return fmt.Errorf("scenario: line %d: %s", line, m[2])
}

func kindOf(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "loadgen."):
		return "a mapping"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	}
	return "of type " + goType
}

// findPath walks the document for the key (key == true) or the value node on line
// with the given text and returns its field path, such as phases[1].pacer.rate.
func findPath(n *yaml.Node, path string, line int, text string, key bool) (string, bool) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, ok := findPath(c, path, line, text, key); ok {
				return p, true
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, ok := findPath(c, fmt.Sprintf("%s[%d]", path, i), line, text, key); ok {
				return p, true
			}
		}
		if !key && n.Line == line {
			return path, true
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			if key && k.Line == line && k.Value == text {
				return p, true
			}
			if !key && v.Kind != yaml.ScalarNode && v.Line == line && text == "" {
				return p, true
			}
			if !key && v.Kind == yaml.ScalarNode && v.Line == line && v.Value == text {
				return p, true
			}
			if q, ok := findPath(v, p, line, text, key); ok {
				return q, true
			}
		}
	case yaml.ScalarNode:
		if !key && n.Line == line && n.Value == text {
			return path, true
		}
	}
	return "", false
}
