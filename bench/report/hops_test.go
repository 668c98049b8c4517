package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/bench/report"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/kafka"
	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
)

// The report's hop table is what one upload really does: this test runs a
// scratch stack with one replica of every function (pinned, so that no
// counter is lost to scale-in), uploads one photo through each app, and
// counts every hop from the processes' own counters: requests received
// and sent, Kafka messages produced and delivered.
func TestHopTableMatchesOneRealUpload(t *testing.T) {
	cfg := stacktest.UpScratch(t, map[string]string{"PHOTOBENCH_RUNTIME_PINNED": "true"})
	env := map[string]string{}
	for _, kv := range append(cfg.Env(), cfg.AppEnv()...) {
		env[kv[0]] = kv[1]
	}
	issuer, err := auth.NewIssuer([]byte(cfg.AuthSecret))
	if err != nil {
		t.Fatal(err)
	}
	token, err := issuer.Mint("hopper", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s := &scraper{t: t, dir: cfg.SDDir(), brokers: strings.Split(env["PHOTOBENCH_KAFKA_BROKERS"], ",")}
	s.waitFor(deploy.Names(deploy.TriggerHTTP, deploy.TriggerEvent)...)
	img := synth.JPEG(synth.Options{Seed: 7, Width: 1200, Height: 900})

	t.Run("monolith", func(t *testing.T) {
		before := s.scrape()
		id := upload(t, env["PHOTOBENCH_MONOLITH_URL"], token, img, http.StatusCreated)
		t.Logf("photo %s ready", id)
		s.compare(t, report.MonolithHops, before, s.scrape())
	})
	t.Run("async monolith", func(t *testing.T) {
		s.waitFor("monolith-async")
		before := s.scrape()
		base := env["PHOTOBENCH_MONOLITH_ASYNC_URL"]
		id := upload(t, base, token, img, http.StatusAccepted)
		waitReady(t, base, token, id)
		// The request's own counter is observed as its handler returns:
		// wait for the exact hops to settle.
		var after counts
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			after = s.scrape()
			if len(s.diff(report.MonolithAsyncHops, before, after)) == 0 {
				break
			}
		}
		s.compare(t, report.MonolithAsyncHops, before, after)
		// River's background queries share the pool's counter: the
		// statements of the upload's path are held to a lower bound.
		least := 0
		for _, h := range report.MonolithAsyncStatements {
			least += h.N
		}
		got := measured(report.MonolithAsyncStatements[0], before, after)
		t.Logf("PostgreSQL statements while the upload went through: %v (the table's lower bound: %d)", got, least)
		if got < float64(least) {
			t.Errorf("monolith-async → PostgreSQL: %v statements, fewer than the table's lower bound %d", got, least)
		}
	})
	t.Run("event-driven", func(t *testing.T) {
		before := s.scrape()
		base := env["PHOTOBENCH_EVENTDRIVEN_URL"]
		id := upload(t, base, token, img, http.StatusAccepted)
		waitReady(t, base, token, id)
		// The catalog acknowledges its last event just after the write
		// that made the photo ready: wait for the counts to settle.
		hops := deploy.Hops()
		var after counts
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			after = s.scrape()
			if len(s.diff(hops, before, after)) == 0 {
				time.Sleep(time.Second) // and nothing more arrives
				after = s.scrape()
				break
			}
		}
		s.compare(t, hops, before, after)
	})
}

// counts are one scrape: the value of every counter of interest, by
// component, metric name and labels.
type counts struct {
	series  map[string]float64 // "component|name|label=value,..." -> value
	objects int64              // messages on the object notification topic
}

// sum adds the series of component and name whose labels include want.
func (c counts) sum(component, name string, want map[string]string) float64 {
	var total float64
	prefix := component + "|" + name + "|"
	for k, v := range c.series {
		labels, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		match := true
		for lk, lv := range want {
			match = match && strings.Contains(","+labels+",", ","+lk+"="+lv+",")
		}
		if match {
			total += v
		}
	}
	return total
}

type scraper struct {
	t       *testing.T
	dir     string
	brokers []string
}

// targets reads the file-based discovery directory: every process's
// metrics address, by component.
func (s *scraper) targets() map[string][]string {
	s.t.Helper()
	files, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // removed meanwhile
		}
		var groups []struct {
			Targets []string          `json:"targets"`
			Labels  map[string]string `json:"labels"`
		}
		if err := json.Unmarshal(b, &groups); err != nil {
			s.t.Fatalf("%s: %v", f, err)
		}
		for _, g := range groups {
			out[g.Labels["component"]] = append(out[g.Labels["component"]], g.Targets...)
		}
	}
	return out
}

// waitFor waits until every named component has a replica registered.
func (s *scraper) waitFor(components ...string) {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ts := s.targets()
		var missing []string
		for _, c := range components {
			if len(ts[c]) == 0 {
				missing = append(missing, c)
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no replica registered for %v", missing)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (s *scraper) scrape() counts {
	s.t.Helper()
	c := counts{series: map[string]float64{}}
	keep := map[string]bool{"photobench_requests_sent_total": true, "photobench_events_handled_total": true, "photobench_http_request_duration_seconds": true}
	for component, addrs := range s.targets() {
		for _, addr := range addrs {
			resp, err := http.Get("http://" + addr + "/metrics")
			if err != nil {
				s.t.Fatalf("scrape %s (%s): %v", component, addr, err)
			}
			parser := expfmt.NewTextParser(model.UTF8Validation)
			families, err := parser.TextToMetricFamilies(resp.Body)
			resp.Body.Close()
			if err != nil {
				s.t.Fatalf("parse %s's metrics: %v", component, err)
			}
			for name, f := range families {
				if !keep[name] {
					continue
				}
				for _, m := range f.Metric {
					c.series[component+"|"+name+"|"+labelString(m)] += value(m)
				}
			}
		}
	}
	lag, err := kafka.Lag(context.Background(), s.brokers, "hoptest-never-consumes", []string{deploy.TopicObjects})
	if err != nil {
		s.t.Fatal(err)
	}
	for _, n := range lag[deploy.TopicObjects] {
		c.objects += n
	}
	return c
}

func labelString(m *dto.Metric) string {
	var parts []string
	for _, l := range m.Label {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	}
	return 0
}

// measured is how many times one upload took hop h, from the counters'
// change between before and after.
func measured(h deploy.Hop, before, after counts) float64 {
	d := func(component, name string, labels map[string]string) float64 {
		return after.sum(component, name, labels) - before.sum(component, name, labels)
	}
	target := map[string]string{deploy.MinIO: outbound.TargetMinIO, deploy.PostgreSQL: outbound.TargetPostgreSQL,
		deploy.Vision: outbound.TargetVision, deploy.Kafka: outbound.TargetKafka}
	switch {
	case h.From == deploy.Client: // received
		return d(h.To, "photobench_http_request_duration_seconds", map[string]string{"method": "POST"})
	case h.From == deploy.MinIO && h.To == deploy.Kafka:
		return float64(after.objects - before.objects)
	case h.From == deploy.Kafka: // delivered and acknowledged
		return d(h.To, "photobench_events_handled_total", map[string]string{"topic": strings.TrimSuffix(h.What, " event")})
	case h.To == deploy.Activator: // the front's proxy to the function's activator
		return d(h.From, "photobench_requests_sent_total", map[string]string{"target": "ingest"})
	case h.From == deploy.Activator: // the runtime's proxy to a replica
		return d("runtime", "photobench_requests_sent_total", map[string]string{"target": h.To})
	}
	// Health probes are requests too, but not the upload's.
	sent := map[string]string{"target": target[h.To]}
	probes := map[string]string{"target": target[h.To], "op": outbound.OpHealth}
	return d(h.From, "photobench_requests_sent_total", sent) - d(h.From, "photobench_requests_sent_total", probes)
}

// diff lists the hops whose measured count differs from the table's.
func (s *scraper) diff(hops []deploy.Hop, before, after counts) []string {
	var bad []string
	for _, h := range hops {
		if got := measured(h, before, after); got != float64(h.N) {
			bad = append(bad, fmt.Sprintf("%s → %s (%s): table %d, measured %v", h.From, h.To, h.What, h.N, got))
		}
	}
	return bad
}

func (s *scraper) compare(t *testing.T, hops []deploy.Hop, before, after counts) {
	t.Helper()
	for _, line := range s.diff(hops, before, after) {
		t.Error(line)
	}
}

// upload posts img and returns the photo's id, failing unless the answer
// has status want.
func upload(t *testing.T, base, token string, img []byte, want int) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/v1/photos", bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "image/jpeg")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("upload: %s: %s", resp.Status, body)
	}
	var p struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.ID == "" {
		t.Fatalf("upload answer %s: %v", body, err)
	}
	return p.ID
}

// waitReady polls the photo until it is ready.
func waitReady(t *testing.T, base, token, id string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/photos/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var p struct {
				Status string `json:"status"`
			}
			json.NewDecoder(resp.Body).Decode(&p)
			resp.Body.Close()
			if p.Status == "ready" {
				return
			}
			if p.Status == "failed" {
				t.Fatalf("photo %s failed", id)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("photo %s not ready after 60 s", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
