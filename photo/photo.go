// Package photo is the photo app's shared domain: the types both
// architectures (the monolith and the event-driven functions) store and
// serve, their statuses, and the error kinds their HTTP layers map to
// status codes. It holds types and small pure functions only; packages that
// talk to a dependency live elsewhere and are named after it.
package photo

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/photobench/photobench/internal/brief"
)

// Status is where a photo is in its life: every photo starts pending and
// ends ready or failed; nothing else moves.
//
// Where this is enforced: the monolith processes an upload before
// answering and stores the photo ready, so it makes no transitions. The
// event-driven catalog (eventdriven/catalog) makes each one in a single SQL
// statement that changes only a pending row (WHERE status = 'pending'), so
// that concurrent events of one photo cannot both move it; a replay
// matches no row. Reading the status, checking it in Go and then writing
// would race.
type Status string

// The statuses of a photo.
const (
	StatusPending Status = "pending"
	StatusReady   Status = "ready"
	StatusFailed  Status = "failed"
)

// Format is the encoding of an original photo.
type Format string

// The accepted formats.
const (
	FormatJPEG Format = "jpeg"
	FormatPNG  Format = "png"
)

// ContentType is the format's media type.
func (f Format) ContentType() string { return "image/" + string(f) }

// Size names a thumbnail size.
type Size string

// The thumbnail sizes: each fits in a square of Bound() pixels.
const (
	SizeSmall Size = "small"
	SizeLarge Size = "large"
)

// Sizes lists every thumbnail size, smallest first.
var Sizes = []Size{SizeSmall, SizeLarge}

// Bound is the side of the square a thumbnail of this size fits in.
func (s Size) Bound() int {
	switch s {
	case SizeSmall:
		return 256
	case SizeLarge:
		return 1024
	}
	return 0
}

// ParseSize reads a size name; an unknown name is an Invalid error.
func ParseSize(s string) (Size, error) {
	switch Size(s) {
	case SizeSmall, SizeLarge:
		return Size(s), nil
	}
	return "", Errorf(Invalid, "unknown thumbnail size %q (want small or large)", s)
}

// Thumbnail describes one stored thumbnail (always JPEG).
type Thumbnail struct {
	Width  int   `json:"width"`
	Height int   `json:"height"`
	Bytes  int64 `json:"bytes"`
}

// Photo is one user's photo as both architectures store and serve it.
type Photo struct {
	ID     string `json:"id"`
	Owner  string `json:"owner"`
	Status Status `json:"status"`
	// FailureReason says why a photo failed; empty otherwise.
	FailureReason string `json:"failure_reason,omitempty"`
	Format        Format `json:"format,omitempty"`
	Width         int    `json:"width"`
	Height        int    `json:"height"`
	// Bytes is the size of the original.
	Bytes int64 `json:"bytes"`
	// Tags are the vision service's tags, sorted.
	Tags []string `json:"tags"`
	// Colors are the dominant colours as #rrggbb, most dominant first.
	Colors []string `json:"colors,omitempty"`
	// Hash is the perceptual hash (hex), equal for visually equal photos.
	Hash       string             `json:"hash,omitempty"`
	Thumbnails map[Size]Thumbnail `json:"thumbnails"`
	// CreatedAt is when the upload was accepted: its original stored.
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// The stage times, on the server's clock, each set once: a photo's
	// timeline is CreatedAt, then ThumbnailedAt and TaggedAt, then ReadyAt.
	// ThumbnailedAt is when its thumbnails were stored, TaggedAt when the
	// vision service's tags were (in either order: the event-driven tagger
	// works on the stored small thumbnail). A ready photo has both; a
	// failed one those of the stages it completed; a pending one those
	// recorded so far (the event-driven catalog records each stage as its
	// event arrives, the asynchronous monolith all of them with the
	// outcome). Neither comes before CreatedAt or after ReadyAt.
	ThumbnailedAt *time.Time `json:"thumbnailed_at,omitempty"`
	TaggedAt      *time.Time `json:"tagged_at,omitempty"`
	// ReadyAt is when the photo became ready (or failed).
	ReadyAt *time.Time `json:"ready_at,omitempty"`
}

// InUTC returns p with every time in UTC, as the API answers them (a
// timestamp read back from the database comes in the local time zone).
func (p Photo) InUTC() Photo {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	p.ThumbnailedAt, p.TaggedAt, p.ReadyAt = utc(p.ThumbnailedAt), utc(p.TaggedAt), utc(p.ReadyAt)
	return p
}

// NewID returns a new photo id: a UUIDv7, so ids sort by creation time.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// ParseID returns the canonical form of a photo id: a UUID in its
// 36-character form, in lower case. A client may send the hex digits in
// upper case (UUIDs compare without regard to case), so every id that comes
// in goes through ParseID at the edge, and everything past it (queries,
// file paths, object keys) sees the canonical form only: a path made from
// the raw string would name a file that does not exist. An id of any other
// form is an Invalid error.
func ParseID(s string) (string, error) {
	if len(s) == 36 {
		if u, err := uuid.Parse(s); err == nil {
			return u.String(), nil
		}
	}
	return "", Errorf(Invalid, "malformed photo id %q", brief.Clip(s, 64))
}

// ValidID reports whether s is a photo id in its canonical form (ParseID
// returns it unchanged): the form ids are stored, named and keyed in.
func ValidID(s string) bool {
	c, err := ParseID(s)
	return err == nil && c == s
}

// CheckID returns an Invalid error for an id not in its canonical form.
// Ids from clients go through ParseID instead, which accepts upper case.
func CheckID(s string) error {
	if !ValidID(s) {
		return Errorf(Invalid, "malformed photo id %q", brief.Clip(s, 64))
	}
	return nil
}

// ListQuery selects a page of one user's photos, newest first.
type ListQuery struct {
	Owner string
	// Tag, when set, keeps only photos with this tag.
	Tag string
	// Limit is the page size, 1..MaxListLimit (DefaultListLimit when 0).
	Limit int
	// Cursor continues after the last photo of the previous page; empty
	// for the first page.
	Cursor string
}

// Page limits of ListQuery.
const (
	DefaultListLimit = 20
	MaxListLimit     = 100
)

// Page is one page of a listing.
type Page struct {
	Photos []Photo `json:"photos"`
	// NextCursor continues the listing; empty on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// String renders a photo briefly for logs.
func (p Photo) String() string {
	return fmt.Sprintf("photo %s (%s, %dx%d, %s)", p.ID, p.Owner, p.Width, p.Height, p.Status)
}
