package command

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/photobench/photobench/internal/brief"
)

// Problems collects what is wrong with a command line and its environment,
// so that a process reports all of it at once instead of one per try.
type Problems []string

// Addf notes one problem.
func (p *Problems) Addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// Err is nil without problems, else one line naming cmd and every problem,
// wrapping ErrUsage.
func (p Problems) Err(cmd string) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: %s", ErrUsage, cmd, brief.OneLine(strings.Join(p, "; ")))
}

// ParseFlags parses args with fs. -h comes back as flag.ErrHelp; any other
// problem as a usage error on one line naming the command (fs's name).
func ParseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %s: %s", ErrUsage, fs.Name(), brief.OneLine(err.Error()))
}

// Logger is a process's log: JSON lines on w, each naming the component.
func Logger(w io.Writer, component string) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, nil)).With("component", component)
}
