// Package query is the event-driven app's read side, an HTTP function: it
// answers GET /v1/photos, /v1/photos/{id} and /v1/photos/{id}/thumbnail
// from the catalog database and MinIO, and writes nothing.
//
// In the choreography query is the end of the line: the catalog function
// folds the pipeline's events (s3:ObjectCreated/Removed from MinIO,
// photo.thumbnailed and photo.failed from the thumbnailer, photo.tagged
// from the tagger) into its database, and query reads that database
// through the Catalog interface. Because the catalog learns of a photo
// only when MinIO's notification has travelled through Kafka, a client
// that uploaded a photo a moment ago may ask for it before the catalog has
// it; query then looks in the object store, and a stored original answers
// as a pending photo, so a photo is readable as soon as its upload was
// acknowledged. Thumbnails are served from MinIO as bytes, or, with
// Options.ThumbnailRedirect, as a redirect to a presigned URL so that the
// bytes do not pass through query at all.
package query

import (
	"context"
	"time"

	"github.com/photobench/photobench/photo"
)

// Catalog is the catalog database as query reads it; the catalog
// package's store implements it.
type Catalog interface {
	// Get returns the caller's photo: NotFound when there is none, it is
	// another user's, or it was deleted; Unavailable when the database
	// cannot be reached.
	Get(ctx context.Context, owner, id string) (photo.Photo, error)
	// List returns a page of q.Owner's photos, newest first: Invalid for a
	// malformed cursor, Unavailable when the database cannot be reached.
	List(ctx context.Context, q photo.ListQuery) (photo.Page, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
}

// DefaultPresignExpiry is how long a presigned thumbnail URL stays valid
// when Options.PresignExpiry is zero.
const DefaultPresignExpiry = 15 * time.Minute

// Options tune the handler.
type Options struct {
	// ThumbnailRedirect answers thumbnail requests with a 307 redirect to
	// a presigned MinIO URL instead of the bytes; clients must then be
	// able to reach MinIO.
	ThumbnailRedirect bool
	// PresignExpiry is how long a presigned thumbnail URL stays valid
	// (DefaultPresignExpiry when zero).
	PresignExpiry time.Duration
}

func (o Options) withDefaults() Options {
	if o.PresignExpiry <= 0 {
		o.PresignExpiry = DefaultPresignExpiry
	}
	return o
}
