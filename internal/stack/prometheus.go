package stack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// ScrapeInterval is Prometheus's scrape and evaluation interval. 1 s is a
// benchmark setting (the usual production value is 15 s to 60 s): bursts,
// cold starts and scale-to-zero transitions last seconds, and a coarser
// interval would average them away.
const ScrapeInterval = "1s"

// prometheus runs a Prometheus server that scrapes itself, MinIO, and every
// target registered in the file-based service discovery directory (SDDir).
type prometheus struct{}

func (prometheus) name() string { return "prometheus" }

func (prometheus) endpoint(c Config) string { return c.PrometheusURL() }

func (prometheus) stopSignal() syscall.Signal { return syscall.SIGTERM }

func (prometheus) bin(c Config) string { return filepath.Join(c.BinDir, "prometheus") }

func (p prometheus) check(c Config) error {
	if _, err := os.Stat(p.bin(c)); err != nil {
		return fmt.Errorf("binary %s not found (run make deps)", p.bin(c))
	}
	return nil
}

func (prometheus) configPath(c Config) string {
	return filepath.Join(c.Dir, "prometheus", "prometheus.yml")
}

// PrometheusConfig is Prometheus's configuration for the stack c: YAML,
// written by hand because it is small and fixed.
func PrometheusConfig(c Config) string {
	return strings.Join([]string{
		"# Written by photobench on every `stack up`; edit internal/stack/prometheus.go instead.",
		"global:",
		"  scrape_interval: " + ScrapeInterval,
		"  evaluation_interval: " + ScrapeInterval,
		"  scrape_timeout: " + ScrapeInterval,
		"scrape_configs:",
		"  - job_name: prometheus",
		"    static_configs:",
		"      - targets: ['" + c.addr(c.PrometheusPort) + "']",
		"  - job_name: minio",
		"    metrics_path: /minio/v2/metrics/cluster",
		"    static_configs:",
		"      - targets: ['" + c.addr(c.MinIOPort) + "']",
		"  # Apps, functions and the load generator register here (package promsd):",
		"  # one JSON file per process; the job label comes from the file.",
		"  - job_name: photobench",
		"    file_sd_configs:",
		"      - files: ['" + filepath.Join(c.SDDir(), "*.json") + "']",
		"        refresh_interval: 5s",
		"",
	}, "\n")
}

func (p prometheus) prepare(ctx context.Context, c Config) error {
	if err := os.MkdirAll(c.SDDir(), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p.configPath(c), []byte(PrometheusConfig(c)), 0o644)
}

func (prometheus) dataDir(c Config) string { return filepath.Join(c.Dir, "data", "prometheus") }

func (p prometheus) command(c Config) (*exec.Cmd, error) {
	return exec.Command(p.bin(c),
		"--config.file="+p.configPath(c),
		"--storage.tsdb.path="+p.dataDir(c),
		"--storage.tsdb.retention.time=30d",
		"--web.listen-address="+c.addr(c.PrometheusPort),
		"--web.enable-lifecycle",
		"--log.level=warn",
	), nil
}

func (prometheus) ready(ctx context.Context, c Config) error {
	return httpOK(ctx, c.PrometheusURL()+"/-/ready")
}

func (prometheus) setup(ctx context.Context, c Config) error { return nil }
