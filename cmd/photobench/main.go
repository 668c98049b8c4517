// Command photobench is the entry point of the photobench benchmark suite:
// the native service stack, the apps, the load generator, the calibration,
// the bench and the demos, each through its own Run (internal/cli
// dispatches). Run `photobench help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/photobench/photobench/internal/cli"
	"github.com/photobench/photobench/internal/command"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var exit command.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.Code)
		}
		fmt.Fprintln(os.Stderr, cli.Message(err))
		os.Exit(1)
	}
}
