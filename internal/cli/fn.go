package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/photobench/photobench/eventdriven/catalog"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/eventdriven/front"
	"github.com/photobench/photobench/eventdriven/ingest"
	"github.com/photobench/photobench/eventdriven/query"
	"github.com/photobench/photobench/eventdriven/reconciler"
	"github.com/photobench/photobench/eventdriven/tagger"
	"github.com/photobench/photobench/eventdriven/thumbnailer"
)

// functions are the event-driven app's functions' processes, by registry
// name; each Run lives beside its function's code.
var functions = map[string]func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error{
	"front":       front.Run,
	"ingest":      ingest.Run,
	"query":       query.Run,
	"thumbnailer": thumbnailer.Run,
	"tagger":      tagger.Run,
	"catalog":     catalog.Run,
	"reconciler":  reconciler.Run,
}

// runFn runs `photobench fn NAME [flags]`: the function's own Run.
func runFn(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	for _, name := range deploy.Names() {
		if _, ok := functions[name]; !ok {
			return fmt.Errorf("fn: the registry's function %q has no process", name)
		}
	}
	var err error
	if run, ok := functions[firstArg(args)]; ok {
		err = run(ctx, args, getenv, stdout, stderr)
	} else {
		_, err = deploy.ParseArgs(args, getenv, stderr) // help, no name or an unknown one
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func firstArg(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}
