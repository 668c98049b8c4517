package monolith

import (
	"context"
	"time"

	"github.com/photobench/photobench/monolith/disk"
	"github.com/photobench/photobench/monolith/s3"
	"github.com/photobench/photobench/photo"
)

// Files is where the monolith keeps originals and thumbnails: a directory
// on local disk (*disk.Store, the default) or a bucket in MinIO (*s3.Store,
// --storage s3). A path names one object; only OriginalPath and
// ThumbnailPath make them, after checking owner, id and size, so no caller
// can address anything outside the layout.
type Files interface {
	// OriginalPath is where a photo's original lives; an error for an
	// unsafe owner or id.
	OriginalPath(owner, id string) (string, error)
	// ThumbnailPath is where a photo's thumbnail of one size lives; an
	// error for an unsafe owner, id or size.
	ThumbnailPath(owner, id string, size photo.Size) (string, error)
	// Write stores data at path whole or not at all: no reader ever sees
	// part of it. With sync it is on stable storage when Write returns.
	Write(path string, data []byte, sync bool) error
	// Read returns what path holds; photo.NotFound when nothing does.
	Read(path string) ([]byte, error)
	// Remove deletes paths; missing ones are not an error.
	Remove(paths ...string) error
	// Walk calls fn for every photo file stored (path, owner, photo id,
	// when it was written), until fn returns an error, which Walk
	// returns; the orphan sweep (SweepOrphans) walks the store with it.
	Walk(ctx context.Context, fn func(path, owner, id string, modTime time.Time) error) error
}

var (
	_ Files = (*disk.Store)(nil)
	_ Files = (*s3.Store)(nil)
)
