package stack

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/promsd"
)

// app is one of photobench's own programs that the stack runs beside the
// servers: the photobench binary with a subcommand. Each registers with
// Prometheus's file-based discovery once it answers.
type app struct {
	svc string
	// arch is the architecture label of its metrics: "monolith",
	// "monolith-async", "eventdriven", or "shared" for what all use (the
	// vision service).
	arch string
	port func(Config) int
	args func(Config) []string
}

// apps lists the apps in start order: the vision service before the
// monoliths and the tagger that call it, then the event-driven functions.
func apps() []service {
	as := []service{
		app{svc: "vision", arch: "shared", port: func(c Config) int { return c.VisionPort },
			args: func(c Config) []string {
				return []string{"vision", "--addr", c.addr(c.VisionPort), "--seed", strconv.Itoa(c.VisionSeed)}
			}},
		app{svc: "monolith", arch: "monolith", port: func(c Config) int { return c.MonolithPort },
			args: func(c Config) []string {
				args := []string{"monolith",
					"--addr", c.addr(c.MonolithPort),
					"--data-dir", c.monolithDataDir("monolith"),
					"--pg-dsn", c.pgDSN(c.monolithDatabase("monolith")),
					"--vision-url", "http://" + c.addr(c.VisionPort),
				}
				if c.MonolithStorage != "" {
					args = append(args, "--storage", c.MonolithStorage)
				}
				if c.MonolithStorage != "" && c.RunID != "" {
					args = append(args, "--s3-bucket", c.monolithBucket("monolith"))
				}
				return args
			}},
		// The same binary in async mode, with a database and data of its
		// own: the third contender.
		app{svc: "monolith-async", arch: "monolith-async", port: func(c Config) int { return c.MonolithAsyncPort },
			args: func(c Config) []string {
				args := []string{"monolith", "--mode", "async",
					"--addr", c.addr(c.MonolithAsyncPort),
					"--data-dir", c.monolithDataDir("monolith-async"),
					"--pg-dsn", c.pgDSN(c.monolithDatabase("monolith-async")),
					"--vision-url", "http://" + c.addr(c.VisionPort),
				}
				// The same storage as the sync monolith, never the same
				// bucket.
				if c.MonolithStorage != "" {
					args = append(args, "--storage", c.MonolithStorage, "--s3-bucket", c.monolithBucket("monolith-async"))
				}
				return args
			}},
	}
	// The event-driven functions run under the scale-to-zero runtime,
	// which owns their replicas and the activators of the HTTP ones (at the
	// ingest, query and reconciler ports); the front stays up and routes to those.
	as = append(as,
		app{svc: "runtime", arch: "eventdriven", port: func(c Config) int { return c.RuntimePort },
			args: func(c Config) []string {
				args := []string{"runtime", "--addr", c.addr(c.RuntimePort)}
				for _, fn := range deploy.Names(deploy.TriggerHTTP) {
					args = append(args, "--listen", fn+"="+c.addr(c.FunctionPorts[fn]))
				}
				if c.RuntimePinned {
					args = append(args, "--pinned")
				}
				return args
			}},
		app{svc: "front", arch: "eventdriven", port: func(c Config) int { return c.FunctionPorts["front"] },
			args: func(c Config) []string {
				return []string{"fn", "front", "--addr", c.addr(c.FunctionPorts["front"]),
					"--ingest-url", "http://" + c.addr(c.FunctionPorts["ingest"]),
					"--query-url", "http://" + c.addr(c.FunctionPorts["query"]),
				}
			}})
	return as
}

func (c Config) appPorts() []PortUse {
	if c.AppBinary == "" {
		return nil
	}
	var ps []PortUse
	for _, s := range apps() {
		a := s.(app)
		ps = append(ps, PortUse{a.svc, envName(a.svc, "PORT"), a.port(c)})
	}
	// The runtime also listens for the HTTP functions (their activators).
	for _, fn := range deploy.Names(deploy.TriggerHTTP) {
		ps = append(ps, PortUse{"runtime", envName(fn, "PORT"), c.FunctionPorts[fn]})
	}
	return ps
}

// AppSet is c's set of apps, the value of their scrape label
// promsd.AppSetLabel: AppInstance, or "stack".
func (c Config) AppSet() string {
	if c.AppInstance != "" {
		return c.AppInstance
	}
	return "stack"
}

// AppEnv is the apps' part of the environment contract.
func (c Config) AppEnv() [][2]string {
	return [][2]string{
		{"PHOTOBENCH_MONOLITH_URL", "http://" + c.addr(c.MonolithPort)},
		{"PHOTOBENCH_MONOLITH_ASYNC_URL", "http://" + c.addr(c.MonolithAsyncPort)},
		{"PHOTOBENCH_EVENTDRIVEN_URL", "http://" + c.addr(c.FunctionPorts["front"])},
		{"PHOTOBENCH_VISION_URL", "http://" + c.addr(c.VisionPort)},
		{"PHOTOBENCH_CATALOG_PG_DSN", c.pgDSN(CatalogDatabase)},
		{"PHOTOBENCH_AUTH_SECRET", c.AuthSecret},
	}
}

// envName is the environment variable of an app's setting:
// PHOTOBENCH_MONOLITH_ASYNC_PORT for ("monolith-async", "PORT").
func envName(svc, setting string) string {
	return "PHOTOBENCH_" + strings.ToUpper(strings.ReplaceAll(svc, "-", "_")) + "_" + setting
}

func (a app) name() string { return a.svc }

func (a app) endpoint(c Config) string { return "http://" + c.addr(a.port(c)) }

func (app) stopSignal() syscall.Signal { return syscall.SIGTERM } // graceful HTTP shutdown

func (a app) check(c Config) error {
	if _, err := os.Stat(c.AppBinary); err != nil {
		return fmt.Errorf("photobench binary %s not found (run make build)", c.AppBinary)
	}
	return nil
}

func (app) prepare(ctx context.Context, c Config) error {
	return os.MkdirAll(filepath.Join(c.Dir, "data"), 0o755)
}

func (a app) command(c Config) (*exec.Cmd, error) {
	cmd := exec.Command(c.AppBinary, a.args(c)...)
	cmd.Env = os.Environ()
	for _, kv := range append(c.Env(), c.AppEnv()...) {
		cmd.Env = append(cmd.Env, kv[0]+"="+kv[1])
	}
	// The runtime labels its replicas' scrape targets with the set too.
	cmd.Env = append(cmd.Env, promsd.AppSetEnv+"="+c.AppSet())
	return cmd, nil
}

func (a app) ready(ctx context.Context, c Config) error {
	return httpOK(ctx, a.endpoint(c)+"/healthz")
}

func (a app) setup(ctx context.Context, c Config) error {
	u, _ := url.Parse(a.endpoint(c))
	_, err := promsd.Register(c.SDDir(), promsd.Target{
		Name: c.instanceName(a.svc), Addr: u.Host,
		Labels: map[string]string{"component": a.svc, "architecture": a.arch, promsd.AppSetLabel: c.AppSet()},
	})
	return err
}

// SelfBinary returns the path of the running program when it is the
// photobench binary, the one the apps run from; "" otherwise (a test binary
// calling a command's Run must not start copies of itself).
func SelfBinary() string {
	if exe, err := os.Executable(); err == nil && filepath.Base(exe) == "photobench" {
		return exe
	}
	return ""
}
