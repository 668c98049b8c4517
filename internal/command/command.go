// Package command holds what every photobench process shares: the
// usage-error sentinel its command line reports bad arguments with (through
// ParseFlags and Problems), the exit status it passes on from a child,
// whether it writes to a terminal, and, for the long-running ones, their
// own Prometheus registry, log, and an HTTP server that stops gracefully.
package command

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// ErrUsage marks an error caused by a bad command line.
var ErrUsage = errors.New("usage")

// ExitError asks main to exit with Code without printing anything more
// (the command already said what happened).
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// IsTerminal reports whether w is a character device (a terminal): a
// command draws its live progress line only there.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Registry is a process's own Prometheus registry, with the Go and process
// collectors every photobench process exports.
func Registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// ServeHTTP serves h on addr until ctx ends, then shuts down gracefully
// (in-flight requests get up to 30 s). It prints the listening URL to
// stdout once the socket is bound, so that callers (the stack, tests) know
// where it is even with port 0.
func ServeHTTP(ctx context.Context, log *slog.Logger, name, addr string, h http.Handler, stdout io.Writer) error {
	return ServeHTTPWithin(ctx, log, name, addr, h, stdout, 30*time.Second)
}

// ServeHTTPWithin is ServeHTTP with in-flight requests given up to drain
// at shutdown, for a process whose launcher kills it after a grace.
func ServeHTTPWithin(ctx context.Context, log *slog.Logger, name, addr string, h http.Handler, stdout io.Writer, drain time.Duration) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: listen: %w", name, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "%s listening on http://%s\n", name, ln.Addr())
	log.Info("listening", "addr", ln.Addr().String(), "pid", os.Getpid())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("%s: serve: %w", name, err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("%s: shutdown: %w", name, err)
	}
	return nil
}
