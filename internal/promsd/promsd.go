// Package promsd registers a process's /metrics endpoint with the stack's
// Prometheus through file-based service discovery: one JSON file per
// process in the discovery directory (PHOTOBENCH_PROMETHEUS_SD_DIR), which
// Prometheus watches. Removing the file removes the target.
package promsd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"github.com/photobench/photobench/internal/atomicfile"
)

// Target is one scrape target: an address and the labels its series get.
type Target struct {
	// Name identifies the registration; it names the file (<Name>.json), so
	// it must be unique among running processes.
	Name string
	// Addr is host:port of the process's HTTP server serving /metrics.
	Addr string
	// Labels are attached to every series scraped from the target, for
	// example {"component": "monolith", "architecture": "monolith"}.
	Labels map[string]string
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// group is Prometheus's file_sd format: a list of target groups.
type group struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels,omitempty"`
}

// Register writes t's discovery file into dir, atomically, and returns a
// function that removes it again.
func Register(dir string, t Target) (unregister func() error, err error) {
	if !validName.MatchString(t.Name) {
		return nil, fmt.Errorf("register scrape target: invalid name %q", t.Name)
	}
	if t.Addr == "" {
		return nil, errors.New("register scrape target " + t.Name + ": empty address")
	}
	b, err := json.MarshalIndent([]group{{Targets: []string{t.Addr}, Labels: t.Labels}}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("register scrape target %s: %w", t.Name, err)
	}
	path := filepath.Join(dir, t.Name+".json")
	if err := atomicfile.Write(path, append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("register scrape target %s: %w", t.Name, err)
	}
	return func() error {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("unregister scrape target %s: %w", t.Name, err)
		}
		return nil
	}, nil
}
