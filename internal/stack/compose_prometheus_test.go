package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/promsd"
	"github.com/photobench/photobench/internal/stacktest"
)

// compose/prometheus.yml, run by the Prometheus release the compose file
// pins (the native stack builds the same one): it must load, label every
// app as the bench's queries select, scrape the runtime's replicas on the
// loopback it shares with the runtime, and send only the host directory's
// loopback targets through host.docker.internal. The containers' paths
// are moved into temporary directories; nothing else changes.
func TestComposePrometheusConfigLabelsAndRewrites(t *testing.T) {
	bin := filepath.Join(stacktest.RepoRoot(t), ".stack", "bin", "prometheus")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%v (make deps builds it)", err)
	}
	raw, err := os.ReadFile(composePrometheusPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	composeSD, hostSD := filepath.Join(dir, "targets-compose"), filepath.Join(dir, "targets")
	config := string(raw)
	for _, r := range [][2]string{{"/etc/prometheus/targets-compose", composeSD}, {"/etc/prometheus/targets", hostSD}} {
		if !strings.Contains(config, r[0]) {
			t.Fatalf("%s no longer reads %s: update this test", composePrometheusPath, r[0])
		}
		config = strings.ReplaceAll(config, r[0], r[1])
	}
	for _, d := range []string{composeSD, hostSD} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	// A replica as the runtime registers it, and a process on the host.
	replica := promsd.Target{Name: "replica-1-ingest-1", Addr: "127.0.0.1:41111",
		Labels: map[string]string{"component": "ingest", "architecture": "eventdriven", promsd.AppSetLabel: "stack"}}
	host := promsd.Target{Name: "load-1", Addr: "127.0.0.1:42222", Labels: map[string]string{"source": "load"}}
	for _, r := range []struct {
		dir string
		t   promsd.Target
	}{{composeSD, replica}, {hostSD, host}} {
		if _, err := promsd.Register(r.dir, r.t); err != nil {
			t.Fatal(err)
		}
	}

	addr := fmt.Sprintf("127.0.0.1:%d", stacktest.FreePort(t))
	cmd := exec.Command(bin, "--config.file="+configPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	// scrapeURL by instance label, and the labels, of the photobench job.
	type target struct {
		Labels    map[string]string `json:"labels"`
		ScrapeURL string            `json:"scrapeUrl"`
	}
	want := map[string]struct {
		labels    map[string]string
		scrapeURL string
	}{
		"vision:18081":         {map[string]string{"component": "vision", "architecture": "shared", "app_set": "stack"}, "http://vision:18081/metrics"},
		"monolith:18080":       {map[string]string{"component": "monolith", "architecture": "monolith", "app_set": "stack"}, "http://monolith:18080/metrics"},
		"monolith-async:18082": {map[string]string{"component": "monolith-async", "architecture": "monolith-async", "app_set": "stack"}, "http://monolith-async:18082/metrics"},
		"runtime:18096":        {map[string]string{"component": "runtime", "architecture": "eventdriven", "app_set": "stack"}, "http://runtime:18096/metrics"},
		"front:18090":          {map[string]string{"component": "front", "architecture": "eventdriven", "app_set": "stack"}, "http://front:18090/metrics"},
		"bench:9464":           {map[string]string{"source": "bench"}, "http://bench:9464/metrics"},
		replica.Addr:           {replica.Labels, "http://127.0.0.1:41111/metrics"},
		host.Addr:              {host.Labels, "http://host.docker.internal:42222/metrics"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got map[string]target
	for {
		got = map[string]target{}
		var body struct {
			Data struct {
				ActiveTargets []target `json:"activeTargets"`
			} `json:"data"`
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/api/v1/targets?state=active", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
		}
		for _, tg := range body.Data.ActiveTargets {
			if tg.Labels["job"] == "photobench" {
				got[tg.Labels["instance"]] = tg
			}
		}
		if len(got) >= len(want) {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("prometheus exited: %v\n%s", err, logs.String())
		case <-ctx.Done():
			t.Fatalf("prometheus has %d photobench targets after 60 s, want %d: %v\n%s", len(got), len(want), got, logs.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	for instance, w := range want {
		g, ok := got[instance]
		if !ok {
			t.Errorf("no photobench target with instance %s; got %v", instance, got)
			continue
		}
		if g.ScrapeURL != w.scrapeURL {
			t.Errorf("%s is scraped at %s, want %s", instance, g.ScrapeURL, w.scrapeURL)
		}
		for k, v := range w.labels {
			if g.Labels[k] != v {
				t.Errorf("%s has %s=%q, want %q (labels %v)", instance, k, g.Labels[k], v, g.Labels)
			}
		}
	}
}
