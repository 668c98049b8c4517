package photo

import "context"

// The ports: what an architecture of the photo app implements, and what
// package httpapi serves over HTTP. The monolith's service implements all
// three; the event-driven app's ingest function implements Uploader and
// Deleter, its query function Reader. Every error is an *Error of one of
// the kinds each method lists (anything else is answered as Internal).

// Uploader accepts new photos.
type Uploader interface {
	// Upload stores data as a new photo of owner. The photo comes back
	// StatusReady when all its work was done before Upload returned (the
	// synchronous monolith), StatusPending when it goes on in the
	// background. Errors: Invalid (empty, truncated or undecodable),
	// TooLarge, Unsupported, TooManyPixels, Unavailable (a dependency
	// failed; nothing was kept).
	Upload(ctx context.Context, owner string, data []byte) (Photo, error)
}

// Reader reads a user's photos; another user's photos do not exist for it.
type Reader interface {
	// Get returns one photo. Errors: NotFound (none, another user's, or
	// deleted), Unavailable.
	Get(ctx context.Context, owner, id string) (Photo, error)
	// List returns a page of q.Owner's photos, newest first. Errors:
	// Invalid (a malformed cursor), Unavailable.
	List(ctx context.Context, q ListQuery) (Page, error)
	// Thumbnail returns one rendition of a ready photo. Errors: NotFound
	// (no such photo, or not ready yet), Unavailable.
	Thumbnail(ctx context.Context, owner, id string, size Size) (Rendition, error)
}

// Rendition is a thumbnail's content: its JPEG bytes, or, when URL is
// set, a short-lived URL the client fetches them from instead.
type Rendition struct {
	Bytes []byte
	URL   string
}

// Deleter removes photos.
type Deleter interface {
	// Delete removes one of owner's photos. Errors: NotFound (none, or
	// another user's), Unavailable.
	Delete(ctx context.Context, owner, id string) (Deletion, error)
}

// Deletion says how far a successful Delete went.
type Deletion int

const (
	// Deleted: nothing of the photo is left.
	Deleted Deletion = iota
	// DeletionPending: the photo is gone for its owner's reads of the
	// original, and the rest of it is removed in the background.
	DeletionPending
)
