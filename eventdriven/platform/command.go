package platform

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/promsd"
)

// Usage is the help of `photobench runtime`.
const Usage = `Usage: photobench runtime [flags]

Runs the event-driven functions with scale to zero, as KEDA (event functions,
on consumer-group lag) and Knative (HTTP functions, behind an activator that
holds requests while a replica starts) do on Kubernetes. Replicas are
processes of this binary (photobench fn NAME). Each function's parameters
come from the deployment file (default: the built-in
eventdriven/deploy/functions.yaml).

Flags:
  --config FILE   deployment file (default: built in)
  --pinned        one replica of every function, no scaling (for comparison)
  --listen NAME=ADDR
                  where an HTTP function's activator listens, overriding the
                  file's addr (repeatable)
  --addr ADDR     the runtime's own /healthz, /metrics and /status (default
                  127.0.0.1:18096; /status is every function's replicas,
                  restarts and crash-loop state, as JSON)

Environment: PHOTOBENCH_AUTH_SECRET (the public development secret, the
default, is refused unless every activator listens on loopback),
PHOTOBENCH_KAFKA_BROKERS (lag), PHOTOBENCH_PROMETHEUS_SD_DIR (when
set, every replica is registered for scraping), and whatever the functions
need (photobench fn -h), passed on to the replicas.
`

// runConfig is the runtime process's configuration, from flags and
// environment.
type runConfig struct {
	cfg     Config
	addr    string
	pinned  bool
	brokers []string
	exe     string
	sdDir   string
}

// parseCommand reads the runtime's flags, its deployment file and its
// environment, reporting every problem in one line.
func parseCommand(args []string, getenv func(string) string, stderr io.Writer) (runConfig, error) {
	var c runConfig
	fs := flag.NewFlagSet("runtime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, Usage) }
	configPath := fs.String("config", "", "")
	fs.BoolVar(&c.pinned, "pinned", false, "")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:18096", "")
	listen := map[string]string{}
	fs.Func("listen", "", func(v string) error {
		name, a, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return fmt.Errorf("want NAME=ADDR, got %q", v)
		}
		if _, _, err := net.SplitHostPort(a); err != nil {
			return err
		}
		listen[name] = a
		return nil
	})
	if err := command.ParseFlags(fs, args); err != nil {
		return c, err
	}
	var problems command.Problems
	if fs.NArg() > 0 {
		problems.Addf("unexpected arguments %q", fs.Args())
	}
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		problems.Addf("--addr %q: %v", c.addr, err)
	}
	if brokers := getenv("PHOTOBENCH_KAFKA_BROKERS"); brokers != "" {
		c.brokers = strings.Split(brokers, ",")
	} else if !c.pinned {
		problems.Addf("PHOTOBENCH_KAFKA_BROKERS is not set (make up writes it to .stack/env)")
	}
	var err error
	if *configPath != "" {
		c.cfg, err = LoadConfig(*configPath)
	} else {
		c.cfg, err = ParseConfig(deploy.Functions)
	}
	if err != nil {
		problems.Addf("%v", err)
	}
	for name, a := range listen {
		found := false
		for i := range c.cfg.Functions {
			if c.cfg.Functions[i].Name == name && c.cfg.Functions[i].Kind == KindHTTP {
				c.cfg.Functions[i].Addr, found = a, true
			}
		}
		if !found {
			problems.Addf("--listen %s: no HTTP function of that name", name)
		}
	}
	if c.exe, err = os.Executable(); err != nil {
		problems.Addf("cannot find the photobench binary: %v", err)
	}
	c.sdDir = getenv("PHOTOBENCH_PROMETHEUS_SD_DIR")
	return c, problems.Err("runtime")
}

// Run runs the runtime process (`photobench runtime`): the functions'
// replicas and scalers, an activator per HTTP function, and /healthz and
// /metrics, until ctx ends.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	c, err := parseCommand(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := command.Logger(stderr, "runtime")
	// The activators forward bearer tokens to the HTTP functions: the
	// public secret only if they all listen on loopback.
	var apiAddrs []string
	for _, f := range c.cfg.Functions {
		if f.Kind == KindHTTP {
			apiAddrs = append(apiAddrs, f.Addr)
		}
	}
	if _, err := auth.ServerSecret(log, getenv, apiAddrs...); err != nil {
		return fmt.Errorf("runtime: %w", err)
	}
	reg := command.Registry()
	m := NewMetrics(reg)
	rt, err := New(c.cfg, Options{
		Binary: c.exe, Env: os.Environ(), Brokers: c.brokers, Log: log, Metrics: m, Pinned: c.pinned, Stderr: stderr,
	})
	if err != nil {
		return fmt.Errorf("runtime: %w", err)
	}

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- rt.Run(runCtx)
		stop() // a runtime that ends stops the process
	}()
	servers, err := serveActivators(runCtx, rt, m, log, stdout)
	if err != nil {
		stop()
		<-done
		return err
	}
	if c.sdDir != "" {
		go registerReplicas(runCtx, rt, c.sdDir, log)
	}

	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	r.Get("/status", func(w http.ResponseWriter, _ *http.Request) {
		var st []Status
		for _, f := range rt.Functions() {
			st = append(st, f.Status())
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"functions": st})
	})
	// On SIGTERM the activators stop taking requests at once, while Run
	// stops the replicas.
	drained := make(chan struct{})
	go func() {
		<-runCtx.Done()
		drainActivators(servers, rt.opts.StopGrace)
		close(drained)
	}()
	serveErr := command.ServeHTTP(runCtx, log, "runtime", c.addr, r, stdout)
	stop()
	<-drained
	if err := <-done; err != nil {
		return fmt.Errorf("runtime: %w", err)
	}
	return serveErr
}

// activatorServer is an activator and its listener's server.
type activatorServer struct {
	act *Activator
	srv *http.Server
}

// drainActivators stops the activators while the replicas drain (the
// runtime's Run stops them at the same time): each refuses new and queued
// requests with 503 and closes its listener, and the requests already
// proxied get until grace to finish (a replica's own stop ends within it).
func drainActivators(servers []activatorServer, grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range servers {
		s.act.Drain()
		wg.Go(func() {
			if err := s.srv.Shutdown(ctx); err != nil {
				s.srv.Close()
			}
		})
	}
	wg.Wait()
}

// serveActivators starts one activator per HTTP function, where the front
// sends its traffic, each scaling its function until ctx ends.
func serveActivators(ctx context.Context, rt *Runtime, m *Metrics, log *slog.Logger, stdout io.Writer) ([]activatorServer, error) {
	var servers []activatorServer
	for _, f := range rt.Functions() {
		if f.Config().Kind != KindHTTP {
			continue
		}
		act := NewActivator(f, m, log.With("function", f.Name()))
		ln, err := net.Listen("tcp", f.Config().Addr)
		if err != nil {
			for _, s := range servers {
				s.srv.Close()
			}
			return nil, fmt.Errorf("runtime: activator of %s: %w", f.Name(), err)
		}
		srv := NewActivatorServer(act)
		servers = append(servers, activatorServer{act, srv})
		go srv.Serve(ln)
		go act.Autoscale(ctx)
		fmt.Fprintf(stdout, "runtime: %s activator on http://%s\n", f.Name(), ln.Addr())
		if f.Config().Schedule.Duration > 0 {
			go invoke(ctx, f.Config(), "http://"+ln.Addr().String()+"/", m, log.With("function", f.Name()))
		}
	}
	return servers, nil
}

// registerReplicas keeps one Prometheus discovery file per ready replica,
// so that replicas on their random ports are scraped like any process.
func registerReplicas(ctx context.Context, rt *Runtime, dir string, log *slog.Logger) {
	registered := map[string]func() error{}
	defer func() {
		for _, unregister := range registered {
			unregister()
		}
	}()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		live := map[string]bool{}
		for _, f := range rt.Functions() {
			for _, r := range f.Replicas() {
				if !r.Ready || r.Addr == "" {
					continue
				}
				// The runtime's pid keeps two runtimes sharing the
				// discovery directory (the stack's and a bench's) apart.
				name := fmt.Sprintf("replica-%d-%s-%d", os.Getpid(), f.Name(), r.ID)
				live[name] = true
				if registered[name] != nil {
					continue
				}
				unregister, err := promsd.Register(dir, promsd.Target{Name: name, Addr: r.Addr,
					Labels: map[string]string{"component": f.Name(), "architecture": "eventdriven", promsd.AppSetLabel: promsd.AppSet()}})
				if err != nil {
					log.Warn("register replica for scraping", "replica", name, "err", err)
					continue
				}
				registered[name] = unregister
			}
		}
		for name, unregister := range registered {
			if !live[name] {
				unregister()
				delete(registered, name)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
