// Package healthcheck is `photobench healthcheck URL`: one GET, exit 0 on a
// 2xx answer. photobench's image has no shell and no curl (a scratch-style
// base holding only the binary), so a container's healthcheck runs the
// binary itself (compose/docker-compose.yml).
package healthcheck

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/photobench/photobench/internal/command"
)

// Usage is the help of `photobench healthcheck`.
const Usage = `Usage:
  photobench healthcheck [--timeout D] URL

GETs URL (http or https) once: exits 0 when the answer is 2xx, otherwise
prints one line saying what came back (or why nothing did) and exits 1. For
container healthchecks in images without a shell, e.g.

  healthcheck:
    test: ["CMD", "/photobench", "healthcheck", "http://127.0.0.1:18080/healthz"]

Flags:
  --timeout D   the whole request, answer included (default 3s)
`

// DefaultTimeout bounds one check when --timeout is not given.
const DefaultTimeout = 3 * time.Second

// Run runs `photobench healthcheck`.
func Run(ctx context.Context, args []string, _ func(string) string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	timeout := fs.Duration("timeout", DefaultTimeout, "")
	if err := command.ParseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, Usage)
			return nil
		}
		return err
	}
	var problems command.Problems
	if fs.NArg() != 1 {
		problems.Addf("want one URL, got %d arguments", fs.NArg())
	} else if u, err := url.Parse(fs.Arg(0)); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems.Addf("want an http(s) URL, got %q", fs.Arg(0))
	}
	if *timeout <= 0 {
		problems.Addf("--timeout %v: want a positive duration", *timeout)
	}
	if err := problems.Err("healthcheck"); err != nil {
		return err
	}
	return Check(ctx, fs.Arg(0), *timeout)
}

// Check GETs rawURL within timeout and returns nil on a 2xx answer; any
// other answer, or none, is an error naming the URL and what happened.
func Check(ctx context.Context, rawURL string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", rawURL, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection close cleanly
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("healthcheck %s: answered %s", rawURL, resp.Status)
	}
	return nil
}
