// Package atomicfile writes files so that readers see either the old content
// or the new, never a half-written file.
package atomicfile

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// An Option tunes Write; without any, the temporary file sits beside path
// and the data is flushed to stable storage before the rename.
type Option func(*options)

type options struct {
	tempDir string
	noSync  bool
}

// TempDir puts the temporary file in dir instead of path's directory, so
// that a store keeping its writes in progress in one place can clear what a
// crash left there. dir must exist and be on path's file system: a rename
// across file systems fails.
func TempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// Sync(false) skips flushing the data to stable storage before the rename.
// Readers still never see a half-written file, but after a power cut the
// file may be empty or gone: for data that is cheap to lose or to make
// again, where the flush would cost more than it saves.
func Sync(on bool) Option { return func(o *options) { o.noSync = !on } }

// Write writes data to a temporary file (beside path unless TempDir says
// otherwise), flushes it (unless Sync(false)) and renames it over path,
// creating path's directory if needed; the file gets mode perm. On failure
// the temporary file is removed and path is left as it was.
//
// Unless Sync(false), the rename is flushed too: path's directory is
// synced after it, and so is the parent of each directory Write created,
// so that once Write returns the name survives a power cut as well as the
// bytes (a rename lives in the directory, which the file's own fsync does
// not flush).
func Write(path string, data []byte, perm os.FileMode, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir := filepath.Dir(path)
	created, err := mkdirAll(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if o.tempDir == "" {
		o.tempDir = dir
	}
	tmp, err := os.CreateTemp(o.tempDir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil && !o.noSync {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if o.noSync {
		return nil
	}
	// path's directory holds the new name; the parent of each directory
	// made for it holds that directory's name.
	for _, d := range append([]string{dir}, parents(created)...) {
		if err := syncDir(d); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}

// mkdirAll makes dir and its missing parents (mode 0755), and returns the
// directories it made, innermost first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || filepath.Dir(d) == d {
			break
		}
		missing = append(missing, d)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return missing, nil
}

// parents returns the parent of each directory in dirs.
func parents(dirs []string) []string {
	out := make([]string, 0, len(dirs))
	for _, d := range dirs {
		out = append(out, filepath.Dir(d))
	}
	return out
}

// syncDir flushes directory dir's entries to stable storage. A variable so
// that a test can see which directories a write flushes: what a power cut
// would show is beyond a test's reach.
var syncDir = func(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// WriteJSON writes v as indented JSON with a final newline to path, with
// Write's guarantees (mode 0644).
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return Write(path, append(data, '\n'), 0o644)
}
