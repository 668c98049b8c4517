// Package cli is the photobench command line: the top-level help, and a
// switch from each subcommand to the Run beside the code it drives
// (monolith.Run, loadgen.Run, stack.Run, ...). It keeps two small ones:
// fn, which picks a function's Run by its registry name (fn.go), and token.
package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/bench/chaos"
	"github.com/photobench/photobench/bench/demo"
	"github.com/photobench/photobench/bench/live"
	"github.com/photobench/photobench/deploy/oci"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/dlq"
	"github.com/photobench/photobench/eventdriven/platform"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/command"
	"github.com/photobench/photobench/internal/healthcheck"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/loadgen"
	"github.com/photobench/photobench/loadgen/calibrate"
	"github.com/photobench/photobench/monolith"
	"github.com/photobench/photobench/vision"
)

const usage = `photobench: measure a monolith against an event-driven, scale-to-zero
version of the same photo app, under one open-loop load generator.

Usage:
  photobench <command> [arguments]

Commands:
  stack     start, check and stop the native service stack
            (PostgreSQL, Kafka, MinIO, Prometheus, and the apps) on loopback
  monolith  run the monolith photo app
  fn        run one function of the event-driven photo app
  runtime   run the event-driven functions with scale to zero (KEDA/Knative semantics)
  dlq       list and replay the event-driven functions' dead letters
  load      run a load scenario (open loop) against either architecture's API
  calibrate measure the load generator against vegeta and wrk on a trivial server
  bench     the side-by-side benchmark of a profile, and its trade-off report
  demo      a two-minute coupling demonstration against make up (workshops)
  live      the workshop room: a live web page of the three apps side by side, with fault buttons
  chaos     the fault matrix: SIGKILL each process under load, count what is lost
  vision    run the vision service (stand-in for a cloud vision API)
  token     print a bearer token for a user
  image     build the container image (OCI layout and tarball, no Docker needed)
  healthcheck  GET a URL, exit 0 on 2xx (container healthchecks without a shell)
  version   print the version and commit (also --version)
  help      show this help, or a command's: photobench help monolith

Run photobench COMMAND -h for a command's flags.

Most users drive photobench through make: make help lists the targets.
`

var usages = map[string]string{
	"stack":     stack.Usage,
	"monolith":  monolith.Usage,
	"vision":    vision.Usage,
	"token":     tokenUsage,
	"fn":        deploy.Usage,
	"runtime":   platform.Usage,
	"dlq":       dlq.Usage,
	"load":      loadgen.Usage,
	"calibrate": calibrate.Usage,
	"bench":     bench.Usage,
	"demo":      demo.Usage,
	"live":      live.Usage,
	"chaos":     chaos.Usage,
	"image":     oci.Usage,

	"healthcheck": healthcheck.Usage,
}

// Run runs the photobench command line. args excludes the program name.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command given", command.ErrUsage)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			if u, ok := usages[rest[0]]; ok {
				fmt.Fprint(stdout, u)
				return nil
			}
		}
		fmt.Fprint(stdout, usage)
		return nil
	case "version", "-version", "--version":
		printVersion(stdout)
		return nil
	case "image":
		return oci.Run(ctx, rest, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck.Run(ctx, rest, getenv, stdout, stderr)
	case "stack":
		return stack.Run(ctx, rest, getenv, stdout, stderr)
	case "monolith":
		return monolith.Run(ctx, rest, getenv, stdout, stderr)
	case "vision":
		return vision.Run(ctx, rest, getenv, stdout, stderr)
	case "token":
		return runToken(ctx, rest, getenv, stdout, stderr)
	case "fn":
		return runFn(ctx, rest, getenv, stdout, stderr)
	case "runtime":
		return platform.Run(ctx, rest, getenv, stdout, stderr)
	case "dlq":
		return dlq.Run(ctx, rest, getenv, stdout, stderr)
	case "load":
		return loadgen.Run(ctx, rest, getenv, stdout, stderr)
	case "calibrate":
		return calibrate.Run(ctx, rest, getenv, stdout, stderr)
	case "bench":
		return bench.Run(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return demo.Run(ctx, rest, getenv, stdout, stderr)
	case "chaos":
		return chaos.Run(ctx, rest, getenv, stdout, stderr)
	case "live":
		return live.Run(ctx, rest, getenv, stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", command.ErrUsage, cmd)
	}
}

// Message formats err for the user: one line, prefixed with the program name.
func Message(err error) string { return "photobench: " + brief.OneLine(err.Error()) }
