package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/platform"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/promsd"
)

const runtimeUsage = `Usage: photobench runtime [flags]

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
  --addr ADDR     the runtime's own /healthz and /metrics (default 127.0.0.1:18096)

Environment: PHOTOBENCH_KAFKA_BROKERS (lag), PHOTOBENCH_PROMETHEUS_SD_DIR (when
set, every replica is registered for scraping), and whatever the functions
need (photobench fn -h), passed on to the replicas.
`

func runRuntime(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("runtime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runtimeUsage) }
	configPath := fs.String("config", "", "")
	pinned := fs.Bool("pinned", false, "")
	addr := fs.String("addr", "127.0.0.1:18096", "")
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
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: runtime: %v", command.ErrUsage, err)
	}
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected arguments %q", fs.Args()))
	}
	if _, _, err := net.SplitHostPort(*addr); err != nil {
		problems = append(problems, fmt.Sprintf("--addr %q: %v", *addr, err))
	}
	brokers := getenv("PHOTOBENCH_KAFKA_BROKERS")
	if brokers == "" && !*pinned {
		problems = append(problems, "PHOTOBENCH_KAFKA_BROKERS is not set (make up writes it to .stack/env)")
	}
	var (
		cfg platform.Config
		err error
	)
	if *configPath != "" {
		cfg, err = platform.LoadConfig(*configPath)
	} else {
		cfg, err = platform.ParseConfig(deploy.Functions)
	}
	if err != nil {
		problems = append(problems, err.Error())
	}
	for name, a := range listen {
		found := false
		for i := range cfg.Functions {
			if cfg.Functions[i].Name == name && cfg.Functions[i].Kind == platform.KindHTTP {
				cfg.Functions[i].Addr, found = a, true
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("--listen %s: no HTTP function of that name", name))
		}
	}
	exe, err := os.Executable()
	if err != nil {
		problems = append(problems, "cannot find the photobench binary: "+err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: runtime: %s", command.ErrUsage, brief.OneLine(strings.Join(problems, "; ")))
	}

	log := slog.New(slog.NewJSONHandler(stderr, nil)).With("component", "runtime")
	reg := command.Registry()
	m := platform.NewMetrics(reg)
	var brokerList []string
	if brokers != "" {
		brokerList = strings.Split(brokers, ",")
	}
	rt, err := platform.New(cfg, platform.Options{
		Binary: exe, Env: os.Environ(), Brokers: brokerList, Log: log, Metrics: m, Pinned: *pinned, Stderr: stderr,
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

	// One activator per HTTP function, where the front sends its traffic.
	var servers []*http.Server
	for _, f := range rt.Functions() {
		if f.Config().Kind != platform.KindHTTP {
			continue
		}
		act := platform.NewActivator(f, m, log.With("function", f.Name()))
		ln, err := net.Listen("tcp", f.Config().Addr)
		if err != nil {
			stop()
			<-done
			return fmt.Errorf("runtime: activator of %s: %w", f.Name(), err)
		}
		srv := &http.Server{Handler: act, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
		servers = append(servers, srv)
		go srv.Serve(ln)
		go act.Autoscale(runCtx)
		fmt.Fprintf(stdout, "runtime: %s activator on http://%s\n", f.Name(), ln.Addr())
	}
	if dir := getenv("PHOTOBENCH_PROMETHEUS_SD_DIR"); dir != "" {
		go registerReplicas(runCtx, rt, dir, log)
	}

	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	serveErr := command.ServeHTTP(runCtx, log, "runtime", *addr, r, stdout)
	stop()
	for _, s := range servers {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		s.Shutdown(sctx)
		cancel()
	}
	if err := <-done; err != nil {
		return fmt.Errorf("runtime: %w", err)
	}
	return serveErr
}

// registerReplicas keeps one Prometheus discovery file per ready replica,
// so that replicas on their random ports are scraped like any process.
func registerReplicas(ctx context.Context, rt *platform.Runtime, dir string, log *slog.Logger) {
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
				name := fmt.Sprintf("replica-%s-%d", f.Name(), r.ID)
				live[name] = true
				if registered[name] != nil {
					continue
				}
				unregister, err := promsd.Register(dir, promsd.Target{Name: name, Addr: r.Addr,
					Labels: map[string]string{"component": f.Name(), "architecture": "eventdriven"}})
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
