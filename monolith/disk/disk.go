// Package disk stores the monolith's originals and thumbnails as files under
// one data directory. Every write goes to a temporary file in the same file
// system and is renamed into place, so a reader never sees a partial file
// and a failed write leaves nothing behind.
package disk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/internal/atomicfile"
	"github.com/photobench/photobench/photo"
)

// Store is a directory of photo files:
//
//	<dir>/originals/<owner>/<id>
//	<dir>/thumbnails/<owner>/<id>-<size>.jpg
//	<dir>/tmp/        (writes in progress)
type Store struct {
	dir string
}

// Open makes the directory layout under dir and removes temporary files
// that a crashed process left behind.
func Open(dir string) (*Store, error) {
	for _, d := range []string{"originals", "thumbnails", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("open disk store: %w", err)
		}
	}
	tmp, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	for _, e := range tmp {
		os.Remove(filepath.Join(dir, "tmp", e.Name()))
	}
	return &Store{dir: dir}, nil
}

// OriginalPath is where a photo's original lives.
func (s *Store) OriginalPath(owner, id string) (string, error) {
	if !auth.ValidUser(owner) || !photo.ValidID(id) {
		return "", fmt.Errorf("disk path: unsafe owner %q or id %q", owner, id)
	}
	return filepath.Join(s.dir, "originals", owner, id), nil
}

// ThumbnailPath is where a photo's thumbnail of one size lives.
func (s *Store) ThumbnailPath(owner, id string, size photo.Size) (string, error) {
	if !auth.ValidUser(owner) || !photo.ValidID(id) || size.Bound() == 0 {
		return "", fmt.Errorf("disk path: unsafe owner %q, id %q or size %q", owner, id, size)
	}
	return filepath.Join(s.dir, "thumbnails", owner, id+"-"+string(size)+".jpg"), nil
}

// Write stores data at path (from OriginalPath or ThumbnailPath)
// atomically, through <dir>/tmp. With sync, the data is flushed to stable
// storage before the rename, so an acknowledged photo survives a power cut.
// Files are private to the server's user (0600).
func (s *Store) Write(path string, data []byte, sync bool) error {
	return atomicfile.Write(path, data, 0o600, atomicfile.TempDir(filepath.Join(s.dir, "tmp")), atomicfile.Sync(sync))
}

// Read returns a file's content; a missing file is a photo.NotFound error.
func (s *Store) Read(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &photo.Error{Kind: photo.NotFound, Message: "photo not found", Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// Remove deletes files; missing files are not an error.
func (s *Store) Remove(paths ...string) error {
	var errs []error
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
