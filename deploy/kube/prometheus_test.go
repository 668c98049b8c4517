// The native stack's Prometheus binary (make deps) is not built in
// containers mode (PHOTOBENCH_STACK=containers, -tags containers), whose
// Prometheus is a container image: there the strict decode of the snippet
// (TestManifestsDecodeStrictly) stands alone.

//go:build !containers

package kube_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/photobench/photobench/deploy/kube"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
)

// TestScrapeConfigLoadsInPrometheus loads the plain Prometheus snippet
// with Prometheus's own configuration loader: the project's pinned
// Prometheus (make deps), started on a free loopback port until it has
// loaded the file or refused it. That build leaves out Kubernetes
// discovery, so the snippet's kubernetes_sd_configs are swapped for a
// file_sd_configs stand-in; everything else (jobs, static targets and
// every relabelling rule) is loaded as written.
func TestScrapeConfigLoadsInPrometheus(t *testing.T) {
	sc, err := stack.LoadConfig(os.Getenv, filepath.Join(stacktest.RepoRoot(t), ".stack"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(sc.BinDir, "prometheus")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%v (run make deps)", err)
	}
	good, err := kube.ScrapeConfig(kube.Namespace)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, cfg, wantErr string
	}{
		{name: "generated", cfg: string(good)},
		{name: "a bad regex", cfg: strings.Replace(string(good), "regex: .+", "regex: (.+", 1), wantErr: "Error loading config"},
		{name: "a replace without a target label", cfg: strings.Replace(string(good), "target_label: component", "target_label: ''", 1), wantErr: "Error loading config"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := loadInPrometheus(t, bin, []byte(tt.cfg))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

// loadInPrometheus starts Prometheus on cfg (kubernetes_sd_configs
// swapped for file_sd_configs) and returns nil once it has loaded the
// file, or its error line.
func loadInPrometheus(t *testing.T, bin string, cfg []byte) error {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(cfg, &m); err != nil {
		return err
	}
	dir := t.TempDir()
	scs, _ := m["scrape_configs"].([]any)
	for _, s := range scs {
		if sm, ok := s.(map[string]any); ok && sm["kubernetes_sd_configs"] != nil {
			delete(sm, "kubernetes_sd_configs")
			sm["file_sd_configs"] = []any{map[string]any{"files": []any{filepath.Join(dir, "*.json")}}}
		}
	}
	b, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--config.file="+file, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:0")
	out, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		switch l := lines.Text(); {
		case strings.Contains(l, "Completed loading of configuration file"):
			return nil
		case strings.Contains(l, "Error loading config"):
			return errors.New(l)
		}
	}
	return errors.New("prometheus stopped before loading its configuration")
}
