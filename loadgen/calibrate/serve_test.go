package calibrate_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/loadgen/calibrate"
)

func TestCalibrateHandler(t *testing.T) {
	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "/", http.StatusOK, calibrate.Body},
		{http.MethodGet, "/any/path?x=1", http.StatusOK, calibrate.Body},
		{http.MethodHead, "/", http.StatusOK, ""},
		{http.MethodPost, "/", http.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			calibrate.Handler().ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tt.status, tt.body)
			}
		})
	}
	if len(calibrate.Body) != 20 {
		t.Errorf("body is %d bytes, want 20", len(calibrate.Body))
	}
}

// TestServe runs the server on port 0, reads the address from the first line
// of its output and gets the body.
func TestCalibrateServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- calibrate.Serve(ctx, "127.0.0.1:0", pw) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + strings.TrimSpace(line) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != calibrate.Body {
		t.Errorf("got %d %q", resp.StatusCode, body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}

func TestCalibrateAttack(t *testing.T) {
	srv := httptest.NewServer(calibrate.Handler())
	defer srv.Close()
	tests := []struct {
		name      string
		cfg       calibrate.AttackConfig
		scheduled uint64
	}{
		{"200/s for 1s", calibrate.AttackConfig{URL: srv.URL, Rate: 200, Duration: time.Second, MaxInFlight: 100, Timeout: 5 * time.Second}, 200},
		{"warm-up excluded", calibrate.AttackConfig{URL: srv.URL, Rate: 100, Duration: 500 * time.Millisecond, Warmup: 300 * time.Millisecond, MaxInFlight: 100, Timeout: 5 * time.Second}, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := calibrate.Attack(context.Background(), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if st.Scheduled != tt.scheduled || st.Sent != tt.scheduled || st.OK != tt.scheduled || st.Dropped != 0 || st.Errors != 0 {
				t.Errorf("scheduled %d sent %d ok %d dropped %d errors %d; want %d sent and ok", st.Scheduled, st.Sent, st.OK, st.Dropped, st.Errors, tt.scheduled)
			}
			if st.TargetRate < tt.cfg.Rate*0.999 || st.TargetRate > tt.cfg.Rate*1.001 {
				t.Errorf("target rate %g, want %g", st.TargetRate, tt.cfg.Rate)
			}
		})
	}
}

func TestCalibrateAttackConfigErrors(t *testing.T) {
	good := calibrate.AttackConfig{URL: "http://127.0.0.1:1/", Rate: 10, Duration: time.Second, MaxInFlight: 1, Timeout: time.Second}
	tests := []struct {
		name   string
		change func(*calibrate.AttackConfig)
		want   string
	}{
		{"no URL", func(c *calibrate.AttackConfig) { c.URL = "" }, "URL is required"},
		{"bad URL", func(c *calibrate.AttackConfig) { c.URL = "localhost:80" }, "is not an http(s) URL"},
		{"zero rate", func(c *calibrate.AttackConfig) { c.Rate = 0 }, "rate 0 is not in"},
		{"everything", func(c *calibrate.AttackConfig) { *c = calibrate.AttackConfig{Warmup: -1} },
			"URL is required; rate 0 is not in (0, 1e9]; duration must be positive; warm-up must not be negative; max in flight must be positive; timeout must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			_, err := calibrate.Attack(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line with %q", err, tt.want)
			}
		})
	}
}

func TestCalibrateProcCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	deadline := time.Now().Add(30 * time.Millisecond)
	for time.Now().Before(deadline) { // burn some CPU
	}
	cpu, err := calibrate.ProcCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if cpu <= 0 || cpu > 1e6 {
		t.Errorf("ProcCPU = %g, want a positive number of seconds", cpu)
	}
	if _, err := calibrate.ProcCPU(-1); err == nil {
		t.Error("ProcCPU(-1) succeeded")
	}
}
