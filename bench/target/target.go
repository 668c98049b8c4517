// Package target describes a deployment the bench did not start: the file
// `photobench bench --target FILE` reads. It names where the variants'
// public APIs answer, the Prometheus that scrapes them, the vision
// stand-in's admin API, how (or whether) each server can be restarted for
// a restart fault, and how that Prometheus finds the bench's own metrics.
//
// The local stack is the default; Local describes it in the same terms, so
// a target file written from it (Marshal) points the bench at the same
// apps, Prometheus and hooks as the default path.
//
// A target file:
//
//	name: kind                           # where it ran: the report's fingerprint names it
//	prometheus: http://127.0.0.1:9090    # the Prometheus that scrapes the apps
//	app_set: stack                       # the apps' app_set label ("" = not selected on)
//	variants:                            # each architecture's public API; one left out is not run
//	  monolith: http://127.0.0.1:18080
//	  monolith-async: http://127.0.0.1:18082
//	  eventdriven: http://127.0.0.1:18090
//	vision: http://127.0.0.1:18081       # the vision stand-in ("none": vision faults not injected)
//	restart:                             # restart faults: a command per server, or none
//	  kafka: [sh, -c, "kubectl rollout restart sts/kafka && kubectl rollout status sts/kafka"]
//	  postgres: none
//	metrics:                             # how that Prometheus finds the bench's /metrics
//	  listen: 0.0.0.0:9464               # where the bench serves them
//	  advertise: bench:9464              # the host:port its scrape config names, and/or
//	  # file_sd: /prometheus/targets     # a directory its file_sd_configs watch (with
//	                                     # listen 127.0.0.1:0 alone: the bound address)
//	stack: .stack                        # optional: the servers are this machine's native
//	                                     # stack in that directory (settings, versions, CPU)
//
// Unknown fields are errors.
package target

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/internal/stack"
)

// None is the value that says a hook does not exist: the fault is recorded
// as not injected.
const None = "none"

// Servers are the servers a restart fault may name (a profile's restart
// faults: bench/profile.go).
var Servers = []string{"kafka", "postgres"}

// Target is a deployment the bench drives but did not start.
type Target struct {
	// Name says where it ran, in the report's fingerprint.
	Name string `yaml:"name" json:"name"`
	// Prometheus is the base URL of the Prometheus that scrapes the apps
	// with the labels the bench's queries select (job="photobench",
	// component, architecture, app_set).
	Prometheus string `yaml:"prometheus" json:"prometheus"`
	// AppSet is the apps' app_set label; "" selects on none.
	AppSet string `yaml:"app_set,omitempty" json:"app_set,omitempty"`
	// Variants maps an architecture to its public API's base URL.
	Variants map[string]string `yaml:"variants" json:"variants"`
	// Vision is the vision stand-in's base URL, or None.
	Vision string `yaml:"vision" json:"vision"`
	// Restart maps a server to the command that restarts it; a server
	// missing or set to None cannot be restarted.
	Restart map[string]Hook `yaml:"restart,omitempty" json:"restart,omitempty"`
	// Metrics is how the Prometheus finds the bench's own /metrics.
	Metrics Metrics `yaml:"metrics" json:"metrics"`
	// Stack, if set, says the servers are this machine's native stack in
	// that directory: the bench reads their settings, versions and CPU
	// from it as on the default path. Nothing there is started, stopped
	// or emptied.
	Stack string `yaml:"stack,omitempty" json:"stack,omitempty"`
}

// Metrics is where the bench serves its metrics and how the target's
// Prometheus learns of them: the bench writes a discovery file into FileSD
// naming Advertise (or the address it listens on), or, without FileSD, the
// Prometheus's own scrape config already names Advertise (job photobench,
// label source="bench").
type Metrics struct {
	Listen    string `yaml:"listen" json:"listen"`
	FileSD    string `yaml:"file_sd,omitempty" json:"file_sd,omitempty"`
	Advertise string `yaml:"advertise,omitempty" json:"advertise,omitempty"`
}

// Hook is a command (argv, run without a shell); nil is None.
type Hook []string

// UnmarshalYAML reads a command as a list, or the word none.
func (h *Hook) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.Value != None {
			return fmt.Errorf("line %d: want a command as a list ([cmd, arg, ...]) or %q, got %q", n.Line, None, n.Value)
		}
		*h = nil
		return nil
	}
	var argv []string
	if err := n.Decode(&argv); err != nil {
		return err
	}
	if len(argv) == 0 || argv[0] == "" {
		return fmt.Errorf("line %d: empty command (write %q for none)", n.Line, None)
	}
	*h = argv
	return nil
}

// MarshalYAML writes None for an empty hook.
func (h Hook) MarshalYAML() (any, error) {
	if len(h) == 0 {
		return None, nil
	}
	return []string(h), nil
}

// String is the command as one line.
func (h Hook) String() string {
	if len(h) == 0 {
		return None
	}
	return strings.Join(h, " ")
}

// Load reads and validates a target file.
func Load(path string) (*Target, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", path, err)
	}
	return t, nil
}

// Parse reads a target file's content strictly and validates it.
func Parse(data []byte) (*Target, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var t Target
	if err := dec.Decode(&t); err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	// Base URLs without a trailing slash: callers append paths.
	t.Prometheus = strings.TrimSuffix(t.Prometheus, "/")
	t.Vision = strings.TrimSuffix(t.Vision, "/")
	for a, u := range t.Variants {
		t.Variants[a] = strings.TrimSuffix(u, "/")
	}
	return &t, nil
}

// Validate checks every field; the first problem is the error.
func (t *Target) Validate() error {
	if strings.TrimSpace(t.Name) == "" {
		return errors.New("name: empty (say where it runs, e.g. kind or compose)")
	}
	if err := checkURL("prometheus", t.Prometheus); err != nil {
		return err
	}
	if len(t.Variants) == 0 {
		return fmt.Errorf("variants: none (want some of %s)", strings.Join(results.Archs, ", "))
	}
	for _, a := range sortedKeys(t.Variants) {
		if !slices.Contains(results.Archs, a) {
			return fmt.Errorf("variants: unknown architecture %q (want some of %s)", a, strings.Join(results.Archs, ", "))
		}
		if err := checkURL("variants."+a, t.Variants[a]); err != nil {
			return err
		}
	}
	if t.Vision != None {
		if err := checkURL("vision", t.Vision); err != nil {
			return fmt.Errorf("%w (or %q)", err, None)
		}
	}
	for _, s := range sortedKeys(t.Restart) {
		if !slices.Contains(Servers, s) {
			return fmt.Errorf("restart: unknown server %q (want some of %s)", s, strings.Join(Servers, ", "))
		}
	}
	m := t.Metrics
	if _, _, err := net.SplitHostPort(m.Listen); err != nil {
		return fmt.Errorf("metrics.listen: want host:port, got %q", m.Listen)
	}
	if m.FileSD == "" && m.Advertise == "" {
		return errors.New("metrics: give file_sd (a directory the Prometheus watches), advertise (the host:port it scrapes), or both")
	}
	if m.Advertise != "" {
		if _, _, err := net.SplitHostPort(m.Advertise); err != nil {
			return fmt.Errorf("metrics.advertise: want host:port, got %q", m.Advertise)
		}
		if _, port, _ := net.SplitHostPort(m.Listen); port == "0" {
			return fmt.Errorf("metrics: listen %s picks a port at random, which advertise %s cannot name: give listen a fixed port", m.Listen, m.Advertise)
		}
	} else if host, _, _ := net.SplitHostPort(m.Listen); host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		return fmt.Errorf("metrics: listen %s is every interface, which a scraper cannot dial: give advertise, the host:port the Prometheus reaches the bench at", m.Listen)
	}
	return nil
}

func checkURL(field, s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s: want an http(s) URL, got %q", field, s)
	}
	return nil
}

// Archs lists the architectures t names, in the order of results.Archs.
func (t *Target) Archs() []string {
	var out []string
	for _, a := range results.Archs {
		if t.Variants[a] != "" {
			out = append(out, a)
		}
	}
	return out
}

// Marshal writes t as a target file.
func (t *Target) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(t); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Describe is one line for the report: the name and the URLs.
func (t *Target) Describe() string {
	var vs []string
	for _, a := range results.Archs {
		if u, ok := t.Variants[a]; ok {
			vs = append(vs, a+" "+u)
		}
	}
	return fmt.Sprintf("%s (Prometheus %s; %s; vision %s)", t.Name, t.Prometheus, strings.Join(vs, ", "), t.Vision)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// urlVar names the variable of the stack's environment contract that holds
// each architecture's public API.
var urlVar = map[string]string{
	results.Monolith:      "PHOTOBENCH_MONOLITH_URL",
	results.MonolithAsync: "PHOTOBENCH_MONOLITH_ASYNC_URL",
	results.EventDriven:   "PHOTOBENCH_EVENTDRIVEN_URL",
}

// Local describes the native stack c (its apps as `make up` runs them) as
// a target: the apps' URLs, its Prometheus and app set, restarts through
// `photobench stack restart` of c.AppBinary (run with the bench's
// environment, which must be the stack's), the bench's metrics registered
// in its discovery directory, and Stack set to c.Dir.
func Local(c stack.Config) *Target {
	env := map[string]string{}
	for _, kv := range c.AppEnv() {
		env[kv[0]] = kv[1]
	}
	t := &Target{Name: "local", Prometheus: c.PrometheusURL(), AppSet: c.AppSet(), Variants: map[string]string{},
		Vision: env["PHOTOBENCH_VISION_URL"], Restart: map[string]Hook{},
		Metrics: Metrics{Listen: "127.0.0.1:0", FileSD: c.SDDir()}, Stack: c.Dir}
	for a, v := range urlVar {
		t.Variants[a] = env[v]
	}
	for _, s := range Servers {
		t.Restart[s] = Hook{c.AppBinary, "stack", "restart", s}
	}
	return t
}
