// Package promsd registers a process's /metrics endpoint with the stack's
// Prometheus through file-based service discovery: one JSON file per
// process in the discovery directory (PHOTOBENCH_PROMETHEUS_SD_DIR), which
// Prometheus watches. Removing the file removes the target.
package promsd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/photobench/photobench/internal/atomicfile"
)

// AppSetLabel is the scrape label that tells sets of apps apart: "stack"
// for the stack's own (make up's, and a bench's, which stops those first),
// the stack's AppInstance for a second set run beside them (a bench in a
// test). The bench's captured queries select their set's series only.
const AppSetLabel = "app_set"

// AppSetEnv passes an app its set, so that the runtime labels its
// replicas' scrape targets with it too ("stack" when unset).
const AppSetEnv = "PHOTOBENCH_APP_SET"

// AppSet is this process's set of apps: $PHOTOBENCH_APP_SET, or "stack".
func AppSet() string {
	if s := os.Getenv(AppSetEnv); s != "" {
		return s
	}
	return "stack"
}

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

// WaitScraped waits until the Prometheus server at promURL has scraped the
// target at addr (host:port) successfully at or after after: the way to know
// that a registration has been discovered (Prometheus batches discovery
// updates, so that takes up to about 5 s) and that a final value has been
// collected. It gives up when ctx is done.
func WaitScraped(ctx context.Context, promURL, addr string, after time.Time) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ok, err := scraped(ctx, promURL, addr, after)
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("wait for Prometheus to scrape %s: %w (last error: %v)", addr, ctx.Err(), last)
			}
			return fmt.Errorf("wait for Prometheus to scrape %s: %w", addr, ctx.Err())
		case <-tick.C:
		}
	}
}

func scraped(ctx context.Context, promURL, addr string, after time.Time) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, promURL+"/api/v1/targets?state=active", nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("targets: %s", resp.Status)
	}
	var body struct {
		Data struct {
			ActiveTargets []struct {
				ScrapeURL  string    `json:"scrapeUrl"`
				Health     string    `json:"health"`
				LastScrape time.Time `json:"lastScrape"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return false, fmt.Errorf("targets: %w", err)
	}
	for _, t := range body.Data.ActiveTargets {
		if strings.Contains(t.ScrapeURL, "//"+addr+"/") && t.Health == "up" && !t.LastScrape.Before(after) {
			return true, nil
		}
	}
	return false, nil
}

// LoadKinds are the kinds of load generator that register their metrics
// as <kind>-<pid> (loadgen.ServeMetrics' kind): a bench, a photobench
// load, a demo and a live session. Each disturbs the others' figures.
var LoadKinds = []string{"bench", "loadgen", "demo", "live"}

// Loads names the load generators registered in the discovery directory
// dir whose processes are alive ("demo pid 123"), except the process
// self's own registration: how a demo or a live session finds out that
// another load runs against the stack. It is nil when dir is "".
func Loads(dir string, self int) []string {
	if dir == "" {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var busy []string
	for _, f := range files {
		kind, pid, ok := strings.Cut(strings.TrimSuffix(filepath.Base(f), ".json"), "-")
		if !ok || !slices.Contains(LoadKinds, kind) {
			continue
		}
		n, err := strconv.Atoi(pid)
		if err != nil || n <= 0 || n == self {
			continue
		}
		if err := syscall.Kill(n, 0); err == nil || errors.Is(err, syscall.EPERM) {
			busy = append(busy, fmt.Sprintf("%s pid %d", kind, n))
		}
	}
	return busy
}
