package calibrate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/loadgen"
)

// Config is a whole calibration.
type Config struct {
	Self string // the photobench binary: runs `calibrate serve` and `calibrate attack` as children
	// SelfArgs go before "calibrate" on Self's command line: for a test binary
	// standing in for photobench, say. Usually none.
	SelfArgs []string
	Vegeta   string // the vegeta binary
	Wrk      string // the wrk binary

	Rates       []float64     // target rates, requests per second, run in this order
	Duration    time.Duration // of every run
	Repeats     int           // runs of each tool at each rate (and of wrk)
	Pause       time.Duration // between runs, for the machine to settle
	MaxInFlight int           // photobench's in-flight cap (and idle connections)
	MaxConns    int           // both open-loop tools' connection cap (vegeta's -max-connections); 0: none
	Timeout     time.Duration // per request, for all three tools

	WrkThreads, WrkConnections int

	SearchStep   float64       // factor between the search's rates
	SearchBudget time.Duration // per tool; 0: no search
}

// Validate reports every problem of c at once, on one line, as Problems.
func (c Config) Validate() error {
	var ps Problems
	if c.Self == "" {
		ps.add("Self", "is required")
	}
	if c.Vegeta == "" {
		ps.add("Vegeta", "is required")
	}
	if c.Wrk == "" {
		ps.add("Wrk", "is required")
	}
	if len(c.Rates) == 0 {
		ps.add("Rates", "is required")
	}
	seen := map[float64]bool{}
	for _, r := range c.Rates {
		if !(r >= 1) || r > 1e7 || r != math.Trunc(r) {
			ps.add("Rates", fmt.Sprintf("%g is not a whole number in [1, 1e7]", r))
		} else if seen[r] {
			ps.add("Rates", fmt.Sprintf("%g is listed twice", r))
		}
		seen[r] = true
	}
	if c.Duration < time.Second {
		ps.add("Duration", "must be at least 1s")
	}
	if c.Repeats < 1 {
		ps.add("Repeats", "must be at least 1")
	}
	if c.Pause < 0 {
		ps.add("Pause", "must not be negative")
	}
	if c.MaxInFlight < 1 {
		ps.add("MaxInFlight", "must be positive")
	}
	if c.MaxConns < 0 {
		ps.add("MaxConns", "must not be negative")
	}
	if c.Timeout < time.Second {
		ps.add("Timeout", "must be at least 1s")
	}
	if c.WrkThreads < 1 {
		ps.add("WrkThreads", "must be at least 1")
	} else if c.WrkConnections < c.WrkThreads {
		ps.add("WrkConnections", fmt.Sprintf("must be at least as many as the threads (%d)", c.WrkThreads))
	}
	if !(c.SearchStep > 1) || c.SearchStep > 10 {
		ps.add("SearchStep", "must be in (1, 10]")
	}
	if c.SearchBudget < 0 {
		ps.add("SearchBudget", "must not be negative")
	}
	return ps.err()
}

// childGrace is how long a child may take beyond its run's duration and the
// request timeout (start-up, the last answers, writing its report) before it is
// killed and the run counted as failed.
const childGrace = 20 * time.Second

// Measure calibrates: it starts the trivial server, measures wrk's closed-loop
// rate once per repeat, runs photobench's generator then vegeta at each rate
// and repeat, searches each tool's highest sustained rate, and returns the
// report. Progress goes to progress, one line per run. When ctx is cancelled
// it returns the report so far (Partial) with the error.
func Measure(ctx context.Context, cfg Config, progress io.Writer) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	rep := &Report{
		Machine: DescribeMachine(ctx, cfg.Vegeta, cfg.Wrk),
		Config: ReportConfig{Rates: cfg.Rates, Duration: cfg.Duration.Seconds(), Repeats: cfg.Repeats,
			Pause: cfg.Pause.Seconds(), MaxInFlight: cfg.MaxInFlight, MaxConns: cfg.MaxConns, Timeout: cfg.Timeout.Seconds(),
			WrkThreads: cfg.WrkThreads, WrkConnections: cfg.WrkConnections,
			SearchStep: cfg.SearchStep, SearchBudget: cfg.SearchBudget.Seconds()},
		Criterion: Criterion,
		Started:   time.Now().UTC(),
		Runs:      []Measurement{},
		Wrk:       []WrkResult{},
	}
	finish := func(err error) (*Report, error) {
		rep.Ended = time.Now().UTC()
		rep.Partial = err != nil
		rep.Compute()
		return rep, err
	}
	srv, err := startServer(ctx, cfg.Self, cfg.SelfArgs)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	defer srv.stop()
	rep.Target = srv.url
	fmt.Fprintf(progress, "calibrate: target %s (pid %d)\n", srv.url, srv.cmd.Process.Pid)

	r := &runner{cfg: cfg, srv: srv, progress: progress, rep: rep}
	for i := 1; i <= cfg.Repeats; i++ {
		if err := r.wrk(ctx, i); err != nil {
			return finish(err)
		}
	}
	for _, rate := range cfg.Rates {
		for i := 1; i <= cfg.Repeats; i++ {
			if _, err := r.measure(ctx, ToolPhotobench, "rates", rate, i); err != nil {
				return finish(err)
			}
			if _, err := r.measure(ctx, ToolVegeta, "rates", rate, i); err != nil {
				return finish(err)
			}
		}
	}
	rep.Compute()
	for _, tool := range []string{ToolPhotobench, ToolVegeta} {
		var known []Summary
		for _, rs := range rep.Rates {
			known = append(known, rs.tool(tool))
		}
		step := func(ctx context.Context, rate float64) (bool, error) {
			var ms []Measurement
			for i := 1; i <= cfg.Repeats; i++ {
				m, err := r.measure(ctx, tool, "search", rate, i)
				if err != nil {
					return false, err
				}
				ms = append(ms, m)
			}
			s := Summarize(tool, rate, ms)
			fmt.Fprintf(progress, "search %s: %.0f/s %s\n", tool, rate, s.Reason)
			return s.Sustained, nil
		}
		cost := time.Duration(cfg.Repeats) * (cfg.Duration + cfg.Pause + time.Second)
		res, err := Search(ctx, verdicts(known), SearchConfig{Step: cfg.SearchStep, Budget: cfg.SearchBudget, StepCost: cost}, step)
		rep.SetSearch(tool, res)
		if err != nil {
			return finish(err)
		}
		fmt.Fprintf(progress, "search %s: highest sustained %s (%s)\n", tool, maxRate(res), res.Stopped)
	}
	return finish(nil)
}

type runner struct {
	cfg      Config
	srv      *server
	progress io.Writer
	rep      *Report
	ran      bool // a run happened: pause before the next
}

func (r *runner) pause(ctx context.Context) error {
	if r.ran && r.cfg.Pause > 0 {
		t := time.NewTimer(r.cfg.Pause)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	r.ran = true
	return ctx.Err()
}

// wrk runs wrk once, closed loop, for the run's duration.
func (r *runner) wrk(ctx context.Context, repeat int) error {
	if err := r.pause(ctx); err != nil {
		return err
	}
	fmt.Fprintf(r.progress, "wrk, repeat %d/%d... ", repeat, r.cfg.Repeats)
	res, err := RunWrk(ctx, r.cfg.Wrk, r.srv.url, r.cfg.WrkThreads, r.cfg.WrkConnections, r.cfg.Duration, r.cfg.Timeout)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(r.progress, "stopped")
			return ctx.Err()
		}
		fmt.Fprintf(r.progress, "failed: %v\n", err)
		r.rep.WrkErrors = append(r.rep.WrkErrors, err.Error())
		return nil
	}
	r.rep.Wrk = append(r.rep.Wrk, res)
	fmt.Fprintf(r.progress, "%.0f requests/s, latency p50 %s p99 %s\n", res.RequestsSec, optSeconds(res.LatencyP50), optSeconds(res.LatencyP99))
	return nil
}

// measure runs one tool at one rate and records the run. A run that fails
// is recorded as failed; the error is only for a cancelled ctx.
func (r *runner) measure(ctx context.Context, tool, stage string, rate float64, repeat int) (Measurement, error) {
	if err := r.pause(ctx); err != nil {
		return Measurement{}, err
	}
	fmt.Fprintf(r.progress, "rate %.0f/s, repeat %d/%d, %s... ", rate, repeat, r.cfg.Repeats, tool)
	before, srvErr := ProcCPU(r.srv.cmd.Process.Pid)
	var m Measurement
	var err error
	if tool == ToolPhotobench {
		m, err = r.photobench(ctx, rate)
	} else {
		m, err = r.vegeta(ctx, rate)
	}
	if after, err2 := ProcCPU(r.srv.cmd.Process.Pid); srvErr == nil && err2 == nil {
		d := after - before
		m.ServerCPU = &d
	}
	m.Tool, m.Stage, m.Rate, m.Repeat, m.Duration = tool, stage, rate, repeat, r.cfg.Duration.Seconds()
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(r.progress, "stopped")
			return m, ctx.Err()
		}
		m.Error = brief.OneLine(err.Error())
		fmt.Fprintf(r.progress, "failed: %s\n", m.Error)
	} else {
		lag := ""
		if m.LagP99 != nil {
			lag = ", lag p99 " + seconds(*m.LagP99)
		}
		fmt.Fprintf(r.progress, "achieved %.1f/s, ok %d/%d%s, latency p50 %s p99 %s, cpu %.2fs\n",
			m.AchievedRate, m.OK, m.Scheduled, lag, seconds(m.LatencyP50), seconds(m.LatencyP99), m.CPU)
	}
	r.rep.Runs = append(r.rep.Runs, m)
	return m, nil
}

func (r *runner) photobench(ctx context.Context, rate float64) (Measurement, error) {
	var out bytes.Buffer
	args := append(slices.Clip(r.cfg.SelfArgs), "calibrate", "attack", "--url", r.srv.url,
		"--rate", strconv.FormatFloat(rate, 'f', -1, 64), "--duration", r.cfg.Duration.String(),
		"--max-in-flight", strconv.Itoa(r.cfg.MaxInFlight), "--max-conns", strconv.Itoa(r.cfg.MaxConns),
		"--timeout", r.cfg.Timeout.String())
	cpu, wall, err := runChild(ctx, r.cfg.Duration+r.cfg.Timeout+childGrace, nil, &out, r.cfg.Self, args...)
	if err != nil {
		return Measurement{CPU: cpu, Wall: wall}, fmt.Errorf("photobench calibrate attack: %w", err)
	}
	line := bytes.TrimSpace(out.Bytes())
	var st loadgen.Stats
	if err := json.Unmarshal(line, &st); err != nil {
		return Measurement{CPU: cpu, Wall: wall}, fmt.Errorf("photobench calibrate attack: read its stats: %w", err)
	}
	m := FromStats(st, rate, r.cfg.Duration)
	m.CPU, m.Wall, m.Raw = cpu, wall, json.RawMessage(line)
	return m, nil
}

func (r *runner) vegeta(ctx context.Context, rate float64) (Measurement, error) {
	return RunVegeta(ctx, r.cfg.Vegeta, r.srv.url, rate, r.cfg.Duration, r.cfg.Timeout, r.cfg.MaxConns)
}

// RunVegeta runs `vegeta attack` (the binary at path) against url at rate for
// d, with its defaults but for the rate, duration and request timeout
// (keep-alive on, its default, said explicitly), writing its results to a
// temporary file, then `vegeta report -type json` on them. The CPU is the
// attack process's alone: the report runs after it, as analysis of
// photobench's own results runs inside its attack process. rate is a whole
// number of requests per second (vegeta's -rate takes no fraction).
//
// maxConns > 0 caps its connections (-max-connections), as photobench's are
// capped in the same run.
func RunVegeta(ctx context.Context, path, url string, rate float64, d, timeout time.Duration, maxConns int) (Measurement, error) {
	dir, err := os.MkdirTemp("", "photobench-calibrate-")
	if err != nil {
		return Measurement{}, fmt.Errorf("vegeta: %w", err)
	}
	defer os.RemoveAll(dir)
	results := filepath.Join(dir, "results.bin")
	cpu, wall, err := runChild(ctx, d+timeout+childGrace, strings.NewReader("GET "+url+"\n"), io.Discard, path,
		"attack", "-rate", strconv.FormatFloat(math.Round(rate), 'f', 0, 64)+"/1s", "-duration", d.String(),
		"-timeout", timeout.String(), "-keepalive=true", "-max-connections", strconv.Itoa(maxConns), "-output", results)
	if err != nil {
		return Measurement{CPU: cpu, Wall: wall}, fmt.Errorf("vegeta attack: %w", err)
	}
	var out bytes.Buffer
	if _, _, err := runChild(ctx, 2*time.Minute, nil, &out, path, "report", "-type", "json", results); err != nil {
		return Measurement{CPU: cpu, Wall: wall}, fmt.Errorf("vegeta report: %w", err)
	}
	rep, err := ParseVegetaReport(out.Bytes())
	if err != nil {
		return Measurement{CPU: cpu, Wall: wall}, err
	}
	m := rep.Measurement(rate, d)
	m.CPU, m.Wall, m.Raw = cpu, wall, json.RawMessage(bytes.TrimSpace(out.Bytes()))
	return m, nil
}

// RunWrk runs wrk (the binary at path) closed loop against url:
// wrk -tTHREADS -cCONNS -dDs --timeout Ts --latency URL, with d and timeout
// rounded up to whole seconds.
func RunWrk(ctx context.Context, path, url string, threads, conns int, d, timeout time.Duration) (WrkResult, error) {
	secs := int(math.Ceil(d.Seconds()))
	var out bytes.Buffer
	_, _, err := runChild(ctx, time.Duration(secs)*time.Second+timeout+childGrace, nil, &out, path,
		"-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(secs)+"s",
		"--timeout", strconv.Itoa(int(math.Ceil(timeout.Seconds())))+"s", "--latency", url)
	if err != nil {
		return WrkResult{}, fmt.Errorf("wrk: %w", err)
	}
	return ParseWrk(out.String())
}

// runChild runs a command with a time limit and returns its CPU time (user +
// system) and wall time. Its stderr's last lines are in the error when it fails.
func runChild(ctx context.Context, limit time.Duration, stdin io.Reader, stdout io.Writer, name string, args ...string) (cpu, wall float64, err error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Stdin, cmd.Stdout = stdin, stdout
	var stderr tailBuffer
	cmd.Stderr = &stderr
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start).Seconds()
	if cmd.ProcessState != nil {
		cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("killed after %s", limit)
		}
		if msg := stderr.String(); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
	}
	return cpu, wall, err
}

// tailBuffer keeps the last 2 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2048 {
		t.b = t.b[len(t.b)-2048:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return brief.OneLine(string(t.b)) }

// server is the trivial target running as a child process.
type server struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// startServer runs `photobench calibrate serve --addr 127.0.0.1:0` and reads
// its address from the first line of its stdout.
func startServer(ctx context.Context, self string, selfArgs []string) (*server, error) {
	cmd := exec.Command(self, append(slices.Clip(selfArgs), "calibrate", "serve", "--addr", "127.0.0.1:0")...)
	// A pipe of our own rather than StdoutPipe: Wait, which runs as soon as the
	// server exits, would close StdoutPipe under the reader.
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	cmd.Stdout = pw
	var stderr tailBuffer
	cmd.Stderr = &stderr
	err = cmd.Start()
	pw.Close() // the child holds its end
	if err != nil {
		pr.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &server{cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		defer pr.Close()
		br := bufio.NewReader(pr)
		line, err := br.ReadString('\n')
		if err != nil {
			line = ""
		}
		lines <- line
		io.Copy(io.Discard, br) // until the server exits: it must never write to a closed pipe
	}()
	go func() { cmd.Wait(); close(s.done) }()
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case line := <-lines:
		if line != "" {
			s.url = "http://" + strings.TrimSpace(line) + "/"
			return s, nil
		}
		<-s.done
		return nil, fmt.Errorf("start server: it exited without an address: %s", stderr.String())
	case <-t.C:
		s.stop()
		return nil, errors.New("start server: no address within 10s")
	case <-ctx.Done():
		s.stop()
		return nil, fmt.Errorf("start server: %w", ctx.Err())
	}
}

// stop asks the server to shut down and kills it if it has not within 10 s.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func optSeconds(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return seconds(*v)
}
