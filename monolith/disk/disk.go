// Package disk stores the monolith's originals and thumbnails as files under
// one data directory. Every write goes to a temporary file in the same file
// system and is renamed into place, so a reader never sees a partial file
// and a failed write leaves nothing behind.
package disk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

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

// Walk calls fn for every photo file in the store (originals and
// thumbnails, by the layout's names; anything else is not the store's and
// is skipped) with its path, owner, photo id and modification time, until
// fn returns an error, which Walk returns. Files may come and go while it
// walks.
func (s *Store) Walk(ctx context.Context, fn func(path, owner, id string, modTime time.Time) error) error {
	for _, top := range []string{"originals", "thumbnails"} {
		root := filepath.Join(s.dir, top)
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // removed while we walked
				}
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(s.dir, path)
			if err != nil {
				return err
			}
			owner, id, ok := ParseName(filepath.ToSlash(rel))
			if !ok {
				return nil
			}
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			return fn(path, owner, id, info.ModTime())
		})
		if err != nil {
			return fmt.Errorf("walk %s: %w", root, err)
		}
	}
	return nil
}

// ParseName reads the owner and photo id from a name of the store's
// layout, relative to its directory and slash-separated
// ("originals/<owner>/<id>", "thumbnails/<owner>/<id>-<size>.jpg"); ok is
// false for any other name. The s3 store's keys have the same layout.
func ParseName(name string) (owner, id string, ok bool) {
	parts := strings.Split(name, "/")
	if len(parts) != 3 || !auth.ValidUser(parts[1]) {
		return "", "", false
	}
	switch parts[0] {
	case "originals":
		id = parts[2]
	case "thumbnails":
		base, found := strings.CutSuffix(parts[2], ".jpg")
		i := strings.LastIndexByte(base, '-')
		if !found || i < 0 || photo.Size(base[i+1:]).Bound() == 0 {
			return "", "", false
		}
		id = base[:i]
	default:
		return "", "", false
	}
	if !photo.ValidID(id) {
		return "", "", false
	}
	return parts[1], id, true
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
