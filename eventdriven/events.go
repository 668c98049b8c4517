// Package eventdriven is the photo app built as small stateless functions
// choreographed over Kafka, with photos in MinIO:
//
//	client -> ingest --PUT--> MinIO originals --s3:ObjectCreated--> photos.objects
//	    photos.objects -> thumbnailer --> MinIO thumbnails, photo.thumbnailed (or photo.failed)
//	    photos.objects -> tagger --vision--> photo.tagged
//	    photos.objects, photo.thumbnailed, photo.tagged -> catalog --> its PostgreSQL database
//	client -> query <-- catalog database, MinIO thumbnails
//
// No function calls another; each reacts to events and owns its outputs.
// This package holds what they share: the domain events' types and names,
// and the object key layout. The functions live in the subpackages.
package eventdriven

import (
	"fmt"
	"strings"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven/s3event"
	"github.com/photobench/photobench/photo"
)

// CloudEvents types of the domain events.
const (
	// TypeThumbnailed: the thumbnailer stored both thumbnails of a photo.
	TypeThumbnailed = "photo.thumbnailed"
	// TypeFailed: the thumbnailer found the original is not a valid image
	// and removed it. Published on the thumbnailed topic.
	TypeFailed = "photo.failed"
	// TypeTagged: the tagger has the vision service's analysis.
	TypeTagged = "photo.tagged"
)

// Metadata keys ingest sets on an original (MinIO reports them in its
// event records as X-Amz-Meta-<Key>).
const (
	MetaOwner     = "owner"
	MetaCreatedAt = "created-at"
)

// Thumbnailed is the data of a photo.thumbnailed event.
type Thumbnailed struct {
	ID         string                         `json:"id"`
	Owner      string                         `json:"owner"`
	Format     photo.Format                   `json:"format"`
	Width      int                            `json:"width"`
	Height     int                            `json:"height"`
	Bytes      int64                          `json:"bytes"`
	Thumbnails map[photo.Size]photo.Thumbnail `json:"thumbnails"`
	CreatedAt  time.Time                      `json:"created_at"`
}

// Failed is the data of a photo.failed event.
type Failed struct {
	ID     string `json:"id"`
	Owner  string `json:"owner"`
	Reason string `json:"reason"`
}

// Tagged is the data of a photo.tagged event.
type Tagged struct {
	ID        string    `json:"id"`
	Owner     string    `json:"owner"`
	Tags      []string  `json:"tags"`
	Colors    []string  `json:"colors"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// ObjectKey is the key of a photo's original in the originals bucket.
func ObjectKey(owner, id string) string { return "users/" + owner + "/" + id }

// ThumbnailKey is the key of one of a photo's thumbnails in the thumbnails
// bucket. It is deterministic, so writing it again replaces, never adds.
func ThumbnailKey(owner, id string, size photo.Size) string {
	return "users/" + owner + "/" + id + "/" + string(size) + ".jpg"
}

// ParseObjectKey reads owner and photo id from an originals key; keys not
// of that shape (written by someone else) are an error.
func ParseObjectKey(key string) (owner, id string, err error) {
	parts := strings.Split(key, "/")
	if len(parts) != 3 || parts[0] != "users" || !auth.ValidUser(parts[1]) || !photo.ValidID(parts[2]) {
		return "", "", fmt.Errorf("object key %q is not users/<owner>/<photo id>", key)
	}
	return parts[1], parts[2], nil
}

// EventID makes a deterministic CloudEvents id: the same input (event
// type, photo, and the version of the original it was made from) gives the
// same id, so a replayed handler republishes an identical event that
// consumers recognise as a duplicate.
func EventID(typ, photoID, version string) string {
	return typ + ":" + photoID + ":" + version
}

// Object is one MinIO record about an app's original.
type Object struct {
	Record    s3event.Record
	Owner, ID string
	// CreatedAt is when the photo was uploaded: the created-at metadata
	// ingest sets, or MinIO's event time for a presigned upload.
	CreatedAt time.Time
	// Version identifies the object event (its sequencer), for
	// deterministic event ids.
	Version string
}

// Originals parses a photos.objects message and returns its records about
// originals of the app (bucket originals, key users/<owner>/<id>); records
// about other buckets or keys are left out. Malformed JSON is an error.
func Originals(value []byte, originalsBucket string) ([]Object, error) {
	msg, err := s3event.Parse(value)
	if err != nil {
		return nil, err
	}
	var objs []Object
	for _, rec := range msg.Records {
		if rec.S3.Bucket.Name != originalsBucket {
			continue
		}
		owner, id, err := ParseObjectKey(rec.S3.Object.Key)
		if err != nil {
			continue
		}
		objs = append(objs, Object{Record: rec, Owner: owner, ID: id, CreatedAt: createdAt(rec), Version: rec.S3.Object.Sequencer})
	}
	return objs, nil
}

func createdAt(rec s3event.Record) time.Time {
	for k, v := range rec.S3.Object.UserMetadata {
		if strings.EqualFold(k, "X-Amz-Meta-"+MetaCreatedAt) || strings.EqualFold(k, MetaCreatedAt) {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return t.UTC().Truncate(time.Microsecond)
			}
		}
	}
	return rec.EventTime.UTC().Truncate(time.Microsecond)
}
