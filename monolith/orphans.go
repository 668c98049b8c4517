package monolith

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// An upload writes its files before the row that points to them (both
// modes: the synchronous one after the vision service answers, the
// asynchronous one in the transaction that enqueues the job), so a process
// killed in between leaves files that no row points to. The orphan sweep
// finds them: files with no photo row that are older than a grace period.
// The grace period is what keeps the sweep off uploads in flight, whose
// rows are not written yet: it must exceed the longest an upload can take
// from its first write to its commit, which the server's write timeout
// (120 s) bounds.

// DefaultOrphanGrace is how old a file with no row must be before the
// sweep removes it: five times the server's write timeout.
const DefaultOrphanGrace = 10 * time.Minute

// DefaultSweepInterval is how often the monolith sweeps orphans, besides
// once at start.
const DefaultSweepInterval = time.Hour

// sweepBatch is how many photo ids the sweep asks the database about at once.
const sweepBatch = 1000

// SweepOrphans removes the stored files that no photo row points to and
// that were written more than grace ago, and returns how many it removed.
// A file younger than grace is left, whatever the database says: its
// upload may still be running. It walks the whole store and asks the
// database about the ids it found, sweepBatch at a time.
func (s *Service) SweepOrphans(ctx context.Context, grace time.Duration) (removed int, err error) {
	cutoff := time.Now().Add(-grace)
	old := map[string][]string{} // photo id -> its files older than the cutoff
	sweep := func() error {
		if len(old) == 0 {
			return nil
		}
		live, err := s.db.Existing(ctx, slices.Collect(maps.Keys(old)))
		if err != nil {
			return err
		}
		for id, paths := range old {
			if live[id] {
				continue
			}
			if err := s.files.Remove(paths...); err != nil {
				return fmt.Errorf("remove orphans of photo %s: %w", id, err)
			}
			s.log.InfoContext(ctx, "removed orphan files", "photo", id, "files", len(paths))
			removed += len(paths)
			s.metrics.OrphansRemoved.Add(float64(len(paths)))
		}
		clear(old)
		return nil
	}
	err = s.files.Walk(ctx, func(path, _, id string, modTime time.Time) error {
		if !modTime.Before(cutoff) {
			return nil
		}
		old[id] = append(old[id], path)
		if len(old) >= sweepBatch {
			return sweep()
		}
		return nil
	})
	if err == nil {
		err = sweep()
	}
	if err != nil {
		return removed, fmt.Errorf("sweep orphans: %w", err)
	}
	return removed, nil
}

// sweepOrphans runs SweepOrphans now and then every interval until ctx
// ends; a failed sweep is logged and tried again at the next.
func (s *Service) sweepOrphans(ctx context.Context, grace, interval time.Duration) {
	for {
		if n, err := s.SweepOrphans(ctx, grace); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.WarnContext(ctx, "orphan sweep failed", "err", err, "removed", n)
		} else if n > 0 {
			s.log.InfoContext(ctx, "orphan sweep", "removed", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
