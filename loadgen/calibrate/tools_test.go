package calibrate_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen/calibrate"
)

// findTool returns the tool from the stack's bin directory (where
// stack/calibrate-deps.sh puts vegeta) or PATH, or skips the test.
func findTool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("PHOTOBENCH_STACK_BIN_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", ".stack", "bin")
	}
	if p := filepath.Join(dir, name); fileExists(p) {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (stack/calibrate-deps.sh installs it): skipping the run of the real tool", name)
	}
	return p
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func TestCalibrateRunVegeta(t *testing.T) {
	vegeta := findTool(t, "vegeta")
	srv := httptest.NewServer(calibrate.Handler())
	defer srv.Close()
	m, err := calibrate.RunVegeta(context.Background(), vegeta, srv.URL+"/", 200, time.Second, 5*time.Second, 64)
	if err != nil {
		t.Fatal(err)
	}
	if m.Scheduled != 200 || m.Sent != 200 || m.OK != 200 || m.Dropped != 0 {
		t.Errorf("scheduled %d sent %d ok %d dropped %d, want 200 sent and ok", m.Scheduled, m.Sent, m.OK, m.Dropped)
	}
	if m.CPU <= 0 || m.LatencyP99 <= 0 || m.AchievedRate < 190 || m.AchievedRate > 210 {
		t.Errorf("cpu %g, latency p99 %g, achieved %g: want positive figures near 200/s", m.CPU, m.LatencyP99, m.AchievedRate)
	}
	if v := calibrate.VegetaVersion(vegeta); v == "unknown" {
		t.Errorf("VegetaVersion(%s) = %q", vegeta, v)
	}
}

func TestCalibrateRunWrk(t *testing.T) {
	wrk := findTool(t, "wrk")
	srv := httptest.NewServer(calibrate.Handler())
	defer srv.Close()
	res, err := calibrate.RunWrk(context.Background(), wrk, srv.URL+"/", 1, 2, time.Second, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.RequestsSec <= 0 || res.LatencyP99 == nil || res.Non2xx3xx != 0 {
		t.Errorf("wrk result %+v, want requests, a rate, a p99 and no errors", res)
	}
	if v := calibrate.WrkVersion(context.Background(), wrk); v == "unknown" {
		t.Errorf("WrkVersion(%s) = %q", wrk, v)
	}
}
