package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/vision"
)

// The kill waits for work in flight: from the planned time it reads the
// target's own /metrics every busyPoll, and kills at the first reading
// above zero, or when busyWait (busyWaitOf) has passed (the row then
// records "idle").
const (
	busyWait = 10 * time.Second
	busyPoll = 20 * time.Millisecond
)

// busyWaitOf is the wait for work in flight in cfg's rows: busyWait, but
// never so long that a killed service would come back after the load.
func busyWaitOf(cfg Config) time.Duration {
	return max(0, min(busyWait, cfg.Duration-FaultAt(cfg.Duration)-cfg.Down))
}

// notMeasured is Row.InFlightAtKill of a target with no in-flight gauge
// (the servers) or whose gauge could not be read.
const notMeasured = -1

// inFlightFunc returns how many calls f's target is running now.
type inFlightFunc func(ctx context.Context) (int, error)

// The in-flight gauges, and whether the /metrics request that reads one
// counts itself in it (the HTTP middleware counts every request it
// serves, its own scrape included).
const (
	gaugeHTTP   = "photobench_http_in_flight_requests" // the monoliths, ingest: counts the scrape
	gaugeEvents = "photobench_events_in_flight"        // an event function's messages inside the delivery policy
)

// inFlightReader returns how to read what f's target is doing: for an
// event function the sum over its ready replicas of their gauge (each
// replica's address from the runtime's /status); for the targets that
// serve the uploads themselves (the monoliths, the runtime, whose
// activators proxy them) the uploads the client has sent and not had
// answered (uploading): a server's own in-flight gauge counts
// Prometheus's scrapes and the runtime's probes too, so it read 1 while
// no upload was in flight; for ingest's replicas both: an upload in
// flight at the client and one inside a replica (its gauge less the
// scrape itself); nil for the servers.
func inFlightReader(c stack.Config, f Fault, uploading func() int) inFlightFunc {
	client := &http.Client{Timeout: 2 * time.Second}
	switch {
	case f.Kind == KindReplicas:
		fn, ok := deploy.Lookup(f.Service)
		if !ok {
			return nil
		}
		// The replicas' own gauge: ingest's HTTP one counts its /metrics
		// request too, and the runtime's probes and Prometheus's scrapes
		// (every second, a few ms each). The runtime's per-function gauge
		// is not used: it is set outside the activator's lock, so it can
		// stay above 0 after the last request ended.
		gauge, self := gaugeEvents, 0
		if fn.Trigger == deploy.TriggerHTTP {
			gauge, self = gaugeHTTP, 1
		}
		return func(ctx context.Context) (int, error) {
			rt, err := c.AppURL("runtime")
			if err != nil {
				return 0, err
			}
			addrs, err := replicaAddrs(ctx, client, rt, f.Service)
			if err != nil {
				return 0, err
			}
			if len(addrs) == 0 {
				return 0, fmt.Errorf("no ready replica of %s", f.Service)
			}
			if fn.Trigger == deploy.TriggerHTTP && uploading() == 0 {
				return 0, nil
			}
			n := 0
			for _, a := range addrs {
				v, err := readGauge(ctx, client, "http://"+a+"/metrics", gauge)
				if err != nil {
					return 0, err
				}
				n += max(0, v-self)
			}
			return n, nil
		}
	case f.Name == "monolith" || f.Name == "runtime":
		return func(context.Context) (int, error) { return uploading(), nil }
	}
	return nil
}

// countingTransport counts the requests it has sent and not had
// answered: the uploads in flight at the client.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	defer t.n.Add(-1)
	return t.next.RoundTrip(r)
}

func (t *countingTransport) inFlight() int { return int(t.n.Load()) }

// waitBusy polls read until it says work is in flight or wait passes, and
// returns the last reading (notMeasured if none succeeded).
func waitBusy(ctx context.Context, read inFlightFunc, wait time.Duration) int {
	last := notMeasured
	deadline := time.Now().Add(wait)
	for {
		if n, err := read(ctx); err == nil {
			last = n
		}
		if last > 0 || ctx.Err() != nil || time.Now().After(deadline) {
			return last
		}
		time.Sleep(busyPoll)
	}
}

// replicaAddrs reads the runtime's /status at rt and returns the
// addresses of fn's ready replicas that are not stopping.
func replicaAddrs(ctx context.Context, client *http.Client, rt, fn string) ([]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rt+"/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/status: %s", rt, resp.Status)
	}
	var st struct {
		Functions []struct {
			Name     string `json:"name"`
			Replicas []struct {
				Addr     string `json:"addr"`
				Ready    bool   `json:"ready"`
				Stopping bool   `json:"stopping"`
			} `json:"replicas"`
		} `json:"functions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("%s/status: %w", rt, err)
	}
	var out []string
	for _, f := range st.Functions {
		if f.Name != fn {
			continue
		}
		for _, r := range f.Replicas {
			if r.Ready && !r.Stopping && r.Addr != "" {
				out = append(out, r.Addr)
			}
		}
	}
	return out, nil
}

// readGauge fetches a Prometheus text exposition from url and returns the
// sum of the samples of the metric name (every label set).
func readGauge(ctx context.Context, client *http.Client, url, name string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return sumSamples(bufio.NewScanner(resp.Body), name, url)
}

// sumSamples sums the values of the samples of metric name in a text
// exposition (name may end with a whole label set, `{function="ingest"}`,
// to read that series only); a metric absent from it is an error.
func sumSamples(sc *bufio.Scanner, name, source string) (int, error) {
	sum, seen := 0.0, false
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && (rest[0] != '{' || strings.HasSuffix(name, "}"))) {
			continue
		}
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			rest = rest[i+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %s: %w", source, line, err)
		}
		sum, seen = sum+v, true
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if !seen {
		return 0, errors.New(source + " has no " + name)
	}
	return int(sum), nil
}

// taggerVision is the vision service's profile during the tagger's row:
// 100 to 300 ms per analysis (log-normal, median 150 ms, p99 300 ms), so
// that at the row's rate a tagger replica mostly has a call in flight
// when the kill comes. The rate stays the same.
const taggerVision = `{"latency":{"distribution":"lognormal","median_ms":150,"p99_ms":300}}`

// slowVision sets taggerVision on the vision service of c and returns how
// to put the previous profile back.
func slowVision(ctx context.Context, c stack.Config) (restore func(), err error) {
	base, err := c.AppURL("vision")
	if err != nil {
		return nil, err
	}
	admin := vision.Admin{BaseURL: base, Client: &http.Client{Timeout: 5 * time.Second}}
	old, err := admin.Get(ctx)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	if _, err := admin.Patch(ctx, []byte(taggerVision)); err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	return func() { _, _ = admin.Put(context.WithoutCancel(ctx), old) }, nil
}
