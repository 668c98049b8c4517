package calibrate_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/cli"
	"github.com/photobench/photobench/loadgen/calibrate"
)

const helperEnv = "PHOTOBENCH_CALIBRATE_TEST_HELPER"

// TestCalibrateHelperPhotobench is not a test: with helperEnv set, the test
// binary is photobench, running the command line after "--" (the children of
// calibrate.Measure in TestCalibrateRun).
func TestCalibrateHelperPhotobench(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		return
	}
	i := slices.Index(os.Args, "--")
	if i < 0 {
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[i+1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		os.Stderr.WriteString(cli.Message(err) + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

// TestCalibrateRun runs a whole, tiny calibration: the server and
// photobench's attacks are this test binary standing in for photobench.
func TestCalibrateRun(t *testing.T) {
	if testing.Short() {
		t.Skip("a whole calibration takes seconds")
	}
	vegeta, wrk := findTool(t, "vegeta"), findTool(t, "wrk")
	t.Setenv(helperEnv, "1")
	cfg := calibrate.Config{
		Self: os.Args[0], SelfArgs: []string{"-test.run=^TestCalibrateHelperPhotobench$", "--"},
		Vegeta: vegeta, Wrk: wrk,
		Rates: []float64{100, 200}, Duration: time.Second, Repeats: 1, MaxInFlight: 100, Timeout: 2 * time.Second,
		WrkThreads: 1, WrkConnections: 2, SearchStep: 1.25, SearchBudget: 0,
	}
	var progress bytes.Buffer
	rep, err := calibrate.Measure(context.Background(), cfg, &progress)
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 4 || len(rep.Wrk) != 1 || len(rep.Rates) != 2 {
		t.Fatalf("%d runs, %d wrk runs, %d rates; want 4, 1, 2", len(rep.Runs), len(rep.Wrk), len(rep.Rates))
	}
	for _, m := range rep.Runs {
		if m.Error != "" || m.Sent != uint64(m.Rate) || m.OK != m.Sent || m.CPU <= 0 || m.ServerCPU == nil {
			t.Errorf("%s at %g/s: %+v", m.Tool, m.Rate, m)
		}
	}
	for _, rs := range rep.Rates {
		if !rs.Photobench.Sustained || !rs.Vegeta.Sustained {
			t.Errorf("at %g/s: photobench %s, vegeta %s; want both sustained", rs.Rate, rs.Photobench.Reason, rs.Vegeta.Reason)
		}
	}
	if rep.MaxSustained.Photobench.Max != 200 || !rep.MaxSustained.Photobench.LowerBound {
		t.Errorf("photobench's highest sustained %+v, want >= 200", *rep.MaxSustained.Photobench)
	}
	for _, want := range []string{"wrk, repeat 1/1... ", "rate 200/s, repeat 1/1, photobench... achieved", "rate 200/s, repeat 1/1, vegeta... achieved"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q", want)
		}
	}
	if rep.Machine.Vegeta == "unknown" || rep.Machine.Wrk == "unknown" || rep.Machine.Cores < 1 {
		t.Errorf("machine %+v", rep.Machine)
	}
}

// A cancelled calibration returns the partial report with the error.
func TestCalibrateRunCancelled(t *testing.T) {
	vegeta, wrk := findTool(t, "vegeta"), findTool(t, "wrk")
	t.Setenv(helperEnv, "1")
	ctx, cancel := context.WithCancel(context.Background())
	cfg := calibrate.Config{
		Self: os.Args[0], SelfArgs: []string{"-test.run=^TestCalibrateHelperPhotobench$", "--"},
		Vegeta: vegeta, Wrk: wrk,
		Rates: []float64{100}, Duration: 30 * time.Second, Repeats: 1, MaxInFlight: 100, Timeout: 2 * time.Second,
		WrkThreads: 1, WrkConnections: 2, SearchStep: 1.25,
	}
	time.AfterFunc(1500*time.Millisecond, cancel)
	start := time.Now()
	rep, err := calibrate.Measure(ctx, cfg, &bytes.Buffer{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if rep == nil || !rep.Partial {
		t.Fatalf("report %+v, want a partial one", rep)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %s to stop", d)
	}
}

func TestCalibrateConfigErrors(t *testing.T) {
	good := calibrate.Config{Self: "pb", Vegeta: "v", Wrk: "w", Rates: []float64{1000}, Duration: time.Second, Repeats: 1,
		MaxInFlight: 1, Timeout: time.Second, WrkThreads: 1, WrkConnections: 1, SearchStep: 1.25}
	tests := []struct {
		name   string
		change func(*calibrate.Config)
		want   string
	}{
		{"fractional rate", func(c *calibrate.Config) { c.Rates = []float64{1.5} }, "rate 1.5 is not a whole number"},
		{"twice", func(c *calibrate.Config) { c.Rates = []float64{10, 10} }, "rate 10 is listed twice"},
		{"no tools", func(c *calibrate.Config) { c.Vegeta = "" }, "vegeta binary is required"},
		{"step", func(c *calibrate.Config) { c.SearchStep = 1 }, "search step must be in (1, 10]"},
		{"wrk threads", func(c *calibrate.Config) { c.WrkThreads = 0 }, "wrk threads must be at least 1"},
		{"wrk connections", func(c *calibrate.Config) { c.WrkThreads, c.WrkConnections = 4, 2 },
			"wrk connections must be at least as many as the threads (4)"},
		{"max conns", func(c *calibrate.Config) { c.MaxConns = -1 }, "max connections must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			_, err := calibrate.Measure(context.Background(), c, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// Validate's error names each problem's field apart, for a command line to
// word it with its flags.
func TestCalibrateConfigProblems(t *testing.T) {
	err := calibrate.Config{Rates: []float64{0, 5, 5}, Repeats: 1, MaxInFlight: 1, Timeout: time.Second,
		WrkThreads: 1, WrkConnections: 1, SearchStep: 1.25, SearchBudget: -1}.Validate()
	var ps calibrate.Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error %v, want Problems", err)
	}
	want := []calibrate.Problem{
		{Field: "Self", Reason: "is required"},
		{Field: "Vegeta", Reason: "is required"},
		{Field: "Wrk", Reason: "is required"},
		{Field: "Rates", Reason: "0 is not a whole number in [1, 1e7]"},
		{Field: "Rates", Reason: "5 is listed twice"},
		{Field: "Duration", Reason: "must be at least 1s"},
		{Field: "SearchBudget", Reason: "must not be negative"},
	}
	if !slices.Equal(ps, want) {
		t.Errorf("problems %q, want %q", ps, want)
	}
	if got, w := err.Error(), "photobench binary is required; vegeta binary is required; wrk binary is required; "+
		"rate 0 is not a whole number in [1, 1e7]; rate 5 is listed twice; duration must be at least 1s; search budget must not be negative"; got != w {
		t.Errorf("message %q, want %q", got, w)
	}
}
