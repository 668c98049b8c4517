package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/photobench/photobench/internal/stack"
)

// How Reset empties each app, and why that leaves it consistent:
//
//   - the event-driven app runs on: its data has the deployment's fixed
//     names and its functions handle deletes themselves. Once every event
//     published has been handled (stack.Settle), Reset removes every
//     object of its buckets; each original removed is an object-removed
//     event through which the catalog makes the photo a tombstone that
//     readers never see (and the thumbnailer removes its thumbnails), the
//     app's own delete path. Once those are handled (Settle again) no
//     event is left that could touch a row, and Reset empties the
//     catalog's table of the tombstones. Whenever it stops, every photo
//     is whole or on its way out by the app's own path;
//   - the monoliths are stopped (stack.Down: their graceful shutdown),
//     emptied and started again (stack.Start): a photo's files and rows
//     are written by one request or job, which a running monolith could be
//     in the middle of, so emptying under it is not safe. Rows go before
//     files: files with no row are orphans, which the monolith's sweep
//     removes, while a row whose files are gone would be a broken photo.
//     Whatever fails, both are started again.
//
// A failure stops Reset where it is and says so; every step is
// idempotent, so pressing reset again finishes the job.

// settleTimeout bounds each wait for the consumer groups to catch up.
const settleTimeout = 60 * time.Second

// restartTimeout bounds starting the monoliths again.
const restartTimeout = 3 * time.Minute

// monolithTables are the monoliths' tables (monolith/postgres's
// migrations), thumbnails first: they reference photos.
var monolithTables = []string{"thumbnails", "photos"}

// riverJobs is the async monolith's job table (River's migrations).
const riverJobs = "river_job"

// monoliths are the monolith apps, in the order Reset empties them.
var monoliths = []string{"monolith", "monolith-async"}

// Reset empties the data of the three apps of c's stack so a workshop can
// start over: the event-driven app's buckets and catalog, both monoliths'
// photos (their database's tables, River's jobs for the async one, and
// their data directory or bucket). The apps run afterwards as before and
// take new uploads. It needs no load running: it refuses, having touched
// nothing, while the event-driven app's consumer groups do not catch up
// within a minute. The monoliths are started again with c.AppBinary, or
// this program when that is empty and it is photobench. Progress lines
// go to out.
func Reset(ctx context.Context, c stack.Config, out io.Writer) error {
	t0 := time.Now()
	if c.AppBinary == "" {
		c.AppBinary = stack.SelfBinary()
	}
	if c.AppBinary == "" {
		return errors.New("reset: no photobench binary to start the monoliths again with (set the stack config's AppBinary)")
	}
	pids := stack.PIDs(c)
	var down []string
	for _, app := range append([]string{"runtime"}, monoliths...) {
		if pids[app] == 0 {
			down = append(down, app)
		}
	}
	if len(down) > 0 {
		return fmt.Errorf("reset: %s not running; start the stack first (make up)", strings.Join(down, ", "))
	}

	fmt.Fprintln(out, "reset: waiting until the event-driven app has handled every event")
	if lag, err := stack.Settle(ctx, c, settleTimeout); err != nil {
		return fmt.Errorf("reset: nothing emptied: the event-driven app does not catch up (%w; lag %v): stop the load and try again", err, lag)
	}
	if err := resetEventDriven(ctx, c, out); err != nil {
		return fmt.Errorf("reset: %w (the monoliths are untouched)", err)
	}
	if err := resetMonoliths(ctx, c, out); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	fmt.Fprintf(out, "reset: done in %s\n", time.Since(t0).Round(100*time.Millisecond))
	return nil
}

// resetEventDriven empties the event-driven app (stack.EmptyEventDriven:
// buckets first, their delete events handled, then the catalog).
func resetEventDriven(ctx context.Context, c stack.Config, out io.Writer) error {
	originals, thumbnails, err := stack.EmptyEventDriven(ctx, c, settleTimeout)
	if err != nil {
		return fmt.Errorf("eventdriven: %w", err)
	}
	fmt.Fprintf(out, "reset: eventdriven: removed %d originals and %d thumbnails, their delete events handled; emptied %s.%s\n",
		originals, thumbnails, stack.CatalogDatabase, strings.Join(stack.CatalogTables, ", "))
	return nil
}

// resetMonoliths stops both monoliths, empties them, and starts them again
// whatever happened (with a context of its own if ctx has ended).
func resetMonoliths(ctx context.Context, c stack.Config, out io.Writer) (err error) {
	fmt.Fprintf(out, "reset: stopping %s\n", strings.Join(monoliths, ", "))
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restartTimeout)
		defer cancel()
		for _, app := range monoliths {
			if serr := stack.Start(sctx, c, app, out); serr != nil {
				err = errors.Join(err, fmt.Errorf("start %s again: %w", app, serr))
			}
		}
	}()
	if err := stack.Down(c, monoliths, out); err != nil {
		return fmt.Errorf("stop the monoliths: %w (nothing of theirs emptied)", err)
	}
	for _, app := range monoliths {
		if err := emptyMonolith(ctx, c, app, out); err != nil {
			return err
		}
	}
	return nil
}

// emptyMonolith empties the stopped monolith app's tables, then its data
// directory or bucket.
func emptyMonolith(ctx context.Context, c stack.Config, app string, out io.Writer) error {
	db, dir, bucket := c.MonolithState(app)
	tables := monolithTables
	if app == "monolith-async" {
		tables = append([]string{riverJobs}, tables...)
	}
	var buckets []string
	if bucket != "" {
		buckets = []string{bucket}
	}
	removed, err := stack.Empty(ctx, c, db, tables, buckets)
	if err != nil {
		return fmt.Errorf("%s: %w", app, err)
	}
	where := fmt.Sprintf("bucket %s (%d objects)", bucket, removed)
	if dir != "" {
		if err := emptyDir(dir); err != nil {
			return fmt.Errorf("%s: %w", app, err)
		}
		where = "data directory " + dir
	}
	fmt.Fprintf(out, "reset: %s: emptied %s.%s and %s\n", app, db, strings.Join(tables, ", "), where)
	return nil
}

// emptyDir removes everything under dir, keeping dir (a missing one is
// empty).
func emptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("empty %s: %w", dir, err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("empty %s: %w", dir, err)
		}
	}
	return nil
}
