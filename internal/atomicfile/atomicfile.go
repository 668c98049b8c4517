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
func Write(path string, data []byte, perm os.FileMode, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
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
