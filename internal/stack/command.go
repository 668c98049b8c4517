package stack

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"

	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/command"
)

// Usage is the help of `photobench stack`.
const Usage = `Usage:
  photobench stack up                 start every service not running yet; wait until ready;
                                      create databases, topics, buckets; write .stack/env
  photobench stack down [SERVICE...]  stop the services (default all) by the pids up recorded
  photobench stack restart SERVER     stop a server (postgres, kafka, minio, prometheus) cleanly
                                      and start it again, the apps left running; returns once
                                      it is ready (the bench's restart faults, as a command)
  photobench stack status [--check]   say what runs and whether it answers
                                      (--check: exit 1 unless every service is ready)
  photobench stack exec -- CMD [ARG...]
                                      bring the stack up, run CMD with the stack's environment,
                                      then stop only the services this call started;
                                      exits with CMD's status
  photobench stack clean              remove data, logs and generated config under .stack/,
                                      and the PostgreSQL cluster wherever it lives
                                      (keeps the installed binaries in .stack/bin and .stack/lib)

Services, in start order: postgres, kafka, minio, prometheus (the servers), then
vision, monolith, monolith-async (the monolith in async mode), runtime and front
(the apps, run from this binary; their ports: README, "Ports").

Environment (all optional):
  PHOTOBENCH_STACK_DIR               state directory (default .stack)
  PHOTOBENCH_PG_PORT                 PostgreSQL port (default 15432)
  PHOTOBENCH_KAFKA_PORT              Kafka broker port (default 19092)
  PHOTOBENCH_KAFKA_CONTROLLER_PORT   Kafka KRaft controller port (default 19093)
  PHOTOBENCH_MINIO_PORT              MinIO S3 API port (default 19000)
  PHOTOBENCH_PROMETHEUS_PORT         Prometheus port (default 19090)
  PHOTOBENCH_KAFKA_HEAP_MB           Kafka JVM heap in MiB (default 512)
  PHOTOBENCH_KAFKA_PARTITIONS        partitions per event topic (default 4)
  PHOTOBENCH_MINIO_NOTIFY_QUEUE      on: MinIO stages events on disk (survive a Kafka outage,
                                     0-3 s delivery delay); off: sent at once, lost ones
                                     published again by the reconciler function (default off)
  PHOTOBENCH_VISION_SEED             seed of the vision service's latency and error draws
                                     (default 1; photobench bench sets its profile's vision_seed)
  PHOTOBENCH_READY_TIMEOUT_SECONDS   how long to wait for each service (default 90)
  PHOTOBENCH_STACK_BIN_DIR           where minio and prometheus are (default .stack/bin)
  PHOTOBENCH_KAFKA_LIB_DIR           where the Kafka jars are (default .stack/lib/kafka)
  PHOTOBENCH_PG_BIN_DIR              PostgreSQL binaries (default newest /usr/lib/postgresql/N/bin)
  PHOTOBENCH_PG_DATA_DIR             PostgreSQL data directory (default .stack/data/postgres; as root,
                                     ~postgres/photobench/<hash of the stack dir>/data, since the server
                                     then runs as the postgres user, who may not enter the clone)
  PHOTOBENCH_JAVA                    java launcher (default java)
`

// Run runs `photobench stack SUBCOMMAND`: up, down, restart, status, exec, clean or
// help, on the stack configured by the environment (LoadConfig).
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, Usage)
		return fmt.Errorf("%w: stack: no subcommand given", command.ErrUsage)
	}
	cfg, err := LoadConfig(getenv, ".stack")
	if err != nil {
		return err
	}
	// The apps run from this very binary, if it is photobench.
	cfg.AppBinary = SelfBinary()
	sub, rest := args[0], args[1:]
	fs := flag.NewFlagSet("stack "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, Usage) }
	check := false
	if sub == "status" {
		fs.BoolVar(&check, "check", false, "exit 1 unless every service is ready")
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: stack %s: %v", command.ErrUsage, sub, err)
	}
	switch sub {
	case "up":
		if fs.NArg() > 0 {
			return fmt.Errorf("%w: stack up takes no arguments", command.ErrUsage)
		}
		_, err := Up(ctx, cfg, stdout)
		return err
	case "down":
		return Down(cfg, fs.Args(), stdout)
	case "restart":
		if fs.NArg() != 1 {
			return fmt.Errorf("%w: stack restart wants one server (%s)", command.ErrUsage, strings.Join(ServiceNames(), ", "))
		}
		return Restart(ctx, cfg, fs.Arg(0), stdout)
	case "status":
		return printStatus(ctx, cfg, check, stdout)
	case "clean":
		return Clean(cfg, stdout)
	case "exec":
		return execWith(ctx, cfg, fs.Args(), stdout, stderr)
	case "help":
		fmt.Fprint(stdout, Usage)
		return nil
	default:
		fmt.Fprint(stderr, Usage)
		return fmt.Errorf("%w: stack: unknown subcommand %q", command.ErrUsage, sub)
	}
}

// printStatus prints a table of the services, their state, pid and
// endpoint, and where their data lives; with check, it fails unless every
// service is ready.
func printStatus(ctx context.Context, cfg Config, check bool, stdout io.Writer) error {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTATE\tPID\tENDPOINT")
	notReady := 0
	statuses := Statuses(ctx, cfg)
	for _, s := range statuses {
		state, pid := "stopped", "-"
		switch {
		case s.Running() && s.Ready == nil:
			state, pid = "ready", fmt.Sprint(s.PID)
		case s.Running():
			state, pid = "not answering: "+brief.OneLine(s.Ready.Error()), fmt.Sprint(s.PID)
		}
		if s.Ready != nil {
			notReady++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Service, state, pid, s.Endpoint)
	}
	tw.Flush()
	for _, d := range cfg.DataDirs() {
		fmt.Fprintf(stdout, "%s data: %s\n", d[0], d[1])
	}
	if check && notReady > 0 {
		return fmt.Errorf("stack status: %d of %d services not ready", notReady, len(statuses))
	}
	return nil
}

// execWith brings the stack up, runs a command with the stack's environment
// and stops only the services it started, whatever the command's outcome.
func execWith(ctx context.Context, cfg Config, argv []string, stdout, stderr io.Writer) (err error) {
	if len(argv) == 0 {
		return fmt.Errorf("%w: stack exec: no command given (photobench stack exec -- CMD ARGS...)", command.ErrUsage)
	}
	started, err := Up(ctx, cfg, stdout)
	if err != nil {
		return err
	}
	if len(started) > 0 {
		fmt.Fprintf(stdout, "stack exec: started %s; will stop them afterwards\n", strings.Join(started, ", "))
		defer func() {
			// Stop even when ctx was cancelled (Ctrl-C): that is the point.
			if derr := Down(cfg, started, stdout); derr != nil && err == nil {
				err = derr
			}
		}()
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = stdout, stderr, os.Stdin
	cmd.Env = os.Environ()
	env := cfg.Env()
	if cfg.AppBinary != "" {
		env = append(env, cfg.AppEnv()...)
	}
	for _, kv := range env {
		cmd.Env = append(cmd.Env, kv[0]+"="+kv[1])
	}
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() > 0 {
			return command.ExitError{Code: ee.ExitCode()}
		}
		return fmt.Errorf("stack exec: %s: %w", argv[0], err)
	}
	return nil
}
