package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/demo"
	"github.com/photobench/photobench/bench/live/estimate"
	"github.com/photobench/photobench/bench/live/ops"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/loadgen"
)

// DefaultPort is the live page's port on loopback (PHOTOBENCH_LIVE_PORT).
const DefaultPort = 18100

// Usage is the help of `photobench live`.
const Usage = `Usage:
  photobench live [flags]

The workshop room: a web page, served by photobench, that shows the monolith,
the async monolith and the event-driven app of the stack make up runs side by
side, in three columns updated every second, while one load drives all three.
Open the URL it prints in a browser (everything the page needs is inside the
photobench binary; nothing is fetched from the internet).

Each column shows requests offered and achieved, errors and dropped, upload
ack and upload-to-ready p50/p99, photos pending, the backlog (the async
monolith's jobs, the event-driven app's messages), the event-driven
functions' replicas, lag and cold starts, dead letters and reconciled
events, CPU and a running cost per million photos from the report's cost
model, a strip of the last photos with their thumbnails and timelines, and
charts of the last 5 minutes with every control pressed marked on them.

The presenter's controls: start, stop and shape the load (constant, burst:
5x for 5 s every 30 s, gap: 30 s on, 45 s off); vision healthy, slow (10x),
outage (fail at once, or hang); SIGKILL a replica of a function; restart
Kafka, MinIO or PostgreSQL; reset (stop the load and empty all three apps'
photos); play a scene (vision-outage, slow-vision, broker-restart,
scale-from-zero) with a caption per step to read aloud; export the session
as one HTML file. Controls refuse, with the reason, while a bench, the fault
matrix, a photobench load or a demo runs against the stack.

Flags:
  --addr HOST:PORT          where to serve the page (default 127.0.0.1:18100;
                            $PHOTOBENCH_LIVE_PORT changes the port). Off
                            loopback a presenter token is required: viewers
                            get the page without controls
  --presenter-token T       the presenter opens /?token=T once to get the
                            controls (default $PHOTOBENCH_LIVE_TOKEN; off
                            loopback without one, a random token is made and
                            printed)
  --start                   start the load at once (constant, --rate)
  --rate R                  the load's rate, requests/s to each app (default 4)
  --max-rate R              the highest rate the page accepts (default 50)
  --max-load D              a started load stops by itself after D (default 90m,
                            at most 8h)
  --secret S                the bearer tokens' signing secret (default
                            $PHOTOBENCH_AUTH_SECRET, else the development secret)
  --target-monolith URL, --target-monolith-async URL, --target-eventdriven URL,
  --vision URL              the apps (default the stack's, or $PHOTOBENCH_*_URL)

The session ends on Ctrl-C: the load stops and the vision profile is put
back as it was found.
`

// options are the command's flags.
type options struct {
	addr, token                   string
	start                         bool
	cfg                           Config
	mono, async, ed, vision, secr string
}

// Run runs `photobench live`: a session against the stack make up runs,
// served until ctx ends.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, sc, err := parse(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, Usage)
		return nil
	}
	if err != nil {
		return err
	}
	started := time.Now()
	if err := ops.Busy(sc); err != nil {
		return fmt.Errorf("live: %w", err)
	}
	loopback := isLoopback(o.addr)
	if !loopback && o.token == "" {
		o.token = randomToken()
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("live: %w (is a live session already running? --addr picks another address)", err)
	}
	defer ln.Close()

	// The load's own metrics, registered with the stack's Prometheus as
	// kind "live": a bench or a demo sees that a live session runs.
	reg := command.Registry()
	_, stopMetrics, err := loadgen.ServeMetrics(reg, "127.0.0.1:0", sc.SDDir(), "live")
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	defer stopMetrics()
	exporters := map[string]*loadgen.Exporter{}
	for _, name := range Variants {
		exporters[demo.Label(name)] = loadgen.NewExporter(reg, demo.Label(name))
	}
	o.cfg.Exporter = func(label string) *loadgen.Exporter { return exporters[label] }
	if sheets, err := cost.Sheets(); err == nil {
		if exp, err := estimate.Export(sc); err == nil {
			defer exp.Close()
			go exp.WaitScraped(ctx) // the estimates start once Prometheus has its first sample (about 5 s)
			est := estimate.ForStack(sc, sheets, exp)
			o.cfg.Estimator = &est
		} else {
			fmt.Fprintf(stderr, "live: no CPU and cost figures: %v\n", err)
		}
	}
	o.cfg.Stack, o.cfg.HaveStack, o.cfg.Log = sc, true, stderr
	s, err := New(ctx, o.cfg)
	if err != nil {
		return err
	}
	s.SetBusy(func() error { return ops.Busy(sc) })
	srv, err := NewServer(s, o.token, loopback, 1)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go hs.Serve(ln)
	url := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(stdout, "live: open %s in a browser (ready in %.1f s). Ctrl-C ends the session.\n", url, time.Since(started).Seconds())
	if o.token != "" {
		fmt.Fprintf(stdout, "live: presenter: open %s?token=%s once; everyone else watches without controls.\n", url, o.token)
	}
	if o.start {
		if err := s.StartLoad(ShapeConstant, o.cfg.Rate); err != nil {
			fmt.Fprintf(stderr, "live: the load did not start: %v\n", err)
		}
	}
	runErr := s.Run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(sctx)
	return runErr
}

// parse reads the flags, with defaults from the environment and the
// stack's configuration, and reports every problem at once.
func parse(args []string, getenv func(string) string) (options, stack.Config, error) {
	o := options{cfg: DefaultConfig()}
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	port := DefaultPort
	var problems []string
	if p := strings.TrimSpace(getenv("PHOTOBENCH_LIVE_PORT")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			problems = append(problems, fmt.Sprintf("PHOTOBENCH_LIVE_PORT %q is not a port", p))
		} else {
			port = n
		}
	}
	fs.StringVar(&o.addr, "addr", fmt.Sprintf("127.0.0.1:%d", port), "")
	fs.StringVar(&o.token, "presenter-token", getenv("PHOTOBENCH_LIVE_TOKEN"), "")
	fs.BoolVar(&o.start, "start", false, "")
	fs.Float64Var(&o.cfg.Rate, "rate", o.cfg.Rate, "")
	fs.Float64Var(&o.cfg.MaxRate, "max-rate", o.cfg.MaxRate, "")
	fs.DurationVar(&o.cfg.MaxLoad, "max-load", o.cfg.MaxLoad, "")
	fs.StringVar(&o.secr, "secret", "", "")
	fs.StringVar(&o.mono, "target-monolith", "", "")
	fs.StringVar(&o.async, "target-monolith-async", "", "")
	fs.StringVar(&o.ed, "target-eventdriven", "", "")
	fs.StringVar(&o.vision, "vision", "", "")
	if err := command.ParseFlags(fs, args); err != nil {
		return o, stack.Config{}, err
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		problems = append(problems, fmt.Sprintf("--addr %q: want HOST:PORT", o.addr))
	}
	sc, err := stack.LoadConfig(getenv, ".stack")
	if err != nil {
		return o, sc, fmt.Errorf("live: %w", err)
	}
	env := demo.NewEnv(getenv, sc)
	c := &o.cfg
	c.MonolithURL = strings.TrimSuffix(env.Get(o.mono, "PHOTOBENCH_MONOLITH_URL"), "/")
	c.MonolithAsyncURL = strings.TrimSuffix(env.Get(o.async, "PHOTOBENCH_MONOLITH_ASYNC_URL"), "/")
	c.EventDrivenURL = strings.TrimSuffix(env.Get(o.ed, "PHOTOBENCH_EVENTDRIVEN_URL"), "/")
	c.VisionURL = strings.TrimSuffix(env.Get(o.vision, "PHOTOBENCH_VISION_URL"), "/")
	c.PrometheusURL = strings.TrimSuffix(env.Get("", "PHOTOBENCH_PROMETHEUS_URL"), "/")
	c.CacheDir = filepath.Join(sc.Dir, "loadgen-cache")
	c.Secret = auth.SecretFromEnv(getenv)
	if o.secr != "" {
		c.Secret = []byte(o.secr)
	}
	if err := c.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return o, sc, fmt.Errorf("%w: live: %s", command.ErrUsage, strings.Join(problems, "; "))
	}
	if _, err := os.Stat(sc.SDDir()); err != nil {
		return o, sc, fmt.Errorf("live: the stack is not set up here (%s missing): make up first", sc.SDDir())
	}
	return o, sc, nil
}

// isLoopback reports whether addr (host:port) listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && loopbackName(host)
}

// loopbackName reports whether host (a name or an address, IPv6 with or
// without brackets) is loopback: localhost, 127.0.0.0/8 or ::1.
func loopbackName(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func randomToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
