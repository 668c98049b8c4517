// Package s3store is the event-driven app's object store: MinIO, reached
// with minio-go. It is the one place that knows the buckets and the key
// layout (eventdriven.ObjectKey, eventdriven.ThumbnailKey).
//
// In the choreography the store is where work starts and ends: ingest puts
// an original (or hands the client a presigned PUT URL), and MinIO's
// s3:ObjectCreated notification on Kafka is what sets the thumbnailer, the
// tagger and the catalog going; the thumbnailer writes the thumbnails back
// here and query serves them (as bytes, or as presigned GET URLs). Deleting
// is the same in reverse: ingest removes the original, and the
// s3:ObjectRemoved notification drives the rest.
//
// Errors are *photo.Error where a kind applies: NotFound for a missing
// object, Invalid for a malformed owner or photo id, Unavailable (with a
// RetryAfter) when MinIO cannot be reached or answers 5xx, so HTTP
// functions answer 503 and event functions retry without limit.
package s3store

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	miniogo "github.com/minio/minio-go/v7"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/deploy"
	"github.com/photobench/photobench/internal/minio"
	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/photo"
)

// Store reads and writes originals and thumbnails. It is safe for
// concurrent use.
type Store struct {
	client     *miniogo.Client
	originals  string
	thumbnails string
}

// New returns a Store for the MinIO server at endpoint, a URL such as
// http://127.0.0.1:19000 (https for TLS). It does not contact the server;
// see Ping.
//
// sent, if not nil, counts every request sent to MinIO (retries included).
func New(endpoint, accessKey, secretKey string, sent *outbound.Counter) (*Store, error) {
	client, err := minio.New(endpoint, accessKey, secretKey, sent)
	if err != nil {
		return nil, fmt.Errorf("new s3 store: %w", err)
	}
	return &Store{client: client, originals: deploy.BucketOriginals, thumbnails: deploy.BucketThumbnails}, nil
}

// WithBuckets returns a copy of s that keeps originals and thumbnails in
// the named buckets instead of the app's (tests use buckets of their own,
// without notifications).
func (s *Store) WithBuckets(originals, thumbnails string) *Store {
	c := *s
	c.originals, c.thumbnails = originals, thumbnails
	return &c
}

// ObjectInfo describes a stored original.
type ObjectInfo struct {
	Size        int64
	ContentType string
	// Owner is the owner metadata ingest sets; empty for presigned uploads.
	Owner string
	// CreatedAt is the created-at metadata ingest sets; zero for presigned
	// uploads (or unparseable metadata).
	CreatedAt time.Time
	// LastModified is when MinIO stored the object.
	LastModified time.Time
	// ETag is the object's entity tag.
	ETag string
}

// PutOriginal stores a photo's original under users/<owner>/<id> with the
// owner and created-at metadata, replacing any object there. Its
// s3:ObjectCreated notification starts the pipeline.
func (s *Store) PutOriginal(ctx context.Context, owner, id string, data []byte, contentType string, createdAt time.Time) error {
	key, err := originalKey(owner, id)
	if err != nil {
		return fmt.Errorf("put original: %w", err)
	}
	_, err = s.client.PutObject(ctx, s.originals, key, bytes.NewReader(data), int64(len(data)), miniogo.PutObjectOptions{
		ContentType: contentType,
		UserMetadata: map[string]string{
			eventdriven.MetaOwner:     owner,
			eventdriven.MetaCreatedAt: createdAt.UTC().Format(time.RFC3339Nano),
		},
	})
	if err != nil {
		return fmt.Errorf("put original %s: %w", key, minio.Err(err, "original"))
	}
	return nil
}

// GetOriginal returns a photo's original bytes; NotFound when there is
// none.
func (s *Store) GetOriginal(ctx context.Context, owner, id string) ([]byte, error) {
	key, err := originalKey(owner, id)
	if err != nil {
		return nil, fmt.Errorf("get original: %w", err)
	}
	b, err := minio.Get(ctx, s.client, s.originals, key)
	if err != nil {
		return nil, fmt.Errorf("get original %s: %w", key, minio.Err(err, "photo"))
	}
	return b, nil
}

// StatOriginal describes a photo's original without reading it; NotFound
// when there is none.
func (s *Store) StatOriginal(ctx context.Context, owner, id string) (ObjectInfo, error) {
	key, err := originalKey(owner, id)
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("stat original: %w", err)
	}
	oi, err := s.client.StatObject(ctx, s.originals, key, miniogo.StatObjectOptions{})
	if err != nil {
		return ObjectInfo{}, fmt.Errorf("stat original %s: %w", key, minio.Err(err, "photo"))
	}
	info := ObjectInfo{
		Size:         oi.Size,
		ContentType:  oi.ContentType,
		Owner:        userMeta(oi, eventdriven.MetaOwner),
		LastModified: oi.LastModified.UTC(),
		ETag:         oi.ETag,
	}
	if v := userMeta(oi, eventdriven.MetaCreatedAt); v != "" {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			info.CreatedAt = t.UTC()
		}
	}
	return info, nil
}

// Listed is an original found by ListOriginals.
type Listed struct {
	Owner, ID    string
	LastModified time.Time
}

// ListOriginals calls fn, in key order, with every original of the app
// (key users/<owner>/<id>) that MinIO last modified before cutoff; other
// keys are skipped. An error from fn stops the listing and is returned.
// MinIO answers up to 1000 keys per request.
func (s *Store) ListOriginals(ctx context.Context, cutoff time.Time, fn func(Listed) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn fails
	for oi := range s.client.ListObjects(ctx, s.originals, miniogo.ListObjectsOptions{Prefix: "users/", Recursive: true}) {
		if oi.Err != nil {
			return fmt.Errorf("list originals: %w", minio.Err(oi.Err, "bucket"))
		}
		if !oi.LastModified.Before(cutoff) {
			continue
		}
		owner, id, err := eventdriven.ParseObjectKey(oi.Key)
		if err != nil {
			continue
		}
		if err := fn(Listed{Owner: owner, ID: id, LastModified: oi.LastModified.UTC()}); err != nil {
			return err
		}
	}
	return nil
}

// RemoveOriginal removes a photo's original; its s3:ObjectRemoved
// notification drives the rest of the deletion. Removing a missing
// original is not an error (S3 semantics).
func (s *Store) RemoveOriginal(ctx context.Context, owner, id string) error {
	key, err := originalKey(owner, id)
	if err != nil {
		return fmt.Errorf("remove original: %w", err)
	}
	if err := s.client.RemoveObject(ctx, s.originals, key, miniogo.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("remove original %s: %w", key, minio.Err(err, "photo"))
	}
	return nil
}

// PutThumbnail stores one of a photo's thumbnails (JPEG), replacing any
// previous one of that size: the key is deterministic, so a replayed
// thumbnailer writes the same object again.
func (s *Store) PutThumbnail(ctx context.Context, owner, id string, size photo.Size, jpeg []byte) error {
	key, err := thumbnailKey(owner, id, size)
	if err != nil {
		return fmt.Errorf("put thumbnail: %w", err)
	}
	_, err = s.client.PutObject(ctx, s.thumbnails, key, bytes.NewReader(jpeg), int64(len(jpeg)), miniogo.PutObjectOptions{
		ContentType: "image/jpeg",
	})
	if err != nil {
		return fmt.Errorf("put thumbnail %s: %w", key, minio.Err(err, "thumbnail"))
	}
	return nil
}

// GetThumbnail returns one of a photo's thumbnails; NotFound when there is
// none.
func (s *Store) GetThumbnail(ctx context.Context, owner, id string, size photo.Size) ([]byte, error) {
	key, err := thumbnailKey(owner, id, size)
	if err != nil {
		return nil, fmt.Errorf("get thumbnail: %w", err)
	}
	b, err := minio.Get(ctx, s.client, s.thumbnails, key)
	if err != nil {
		return nil, fmt.Errorf("get thumbnail %s: %w", key, minio.Err(err, "thumbnail"))
	}
	return b, nil
}

// RemoveThumbnails removes both of a photo's thumbnails; missing ones are
// not an error.
func (s *Store) RemoveThumbnails(ctx context.Context, owner, id string) error {
	for _, size := range photo.Sizes {
		key, err := thumbnailKey(owner, id, size)
		if err != nil {
			return fmt.Errorf("remove thumbnails: %w", err)
		}
		if err := s.client.RemoveObject(ctx, s.thumbnails, key, miniogo.RemoveObjectOptions{}); err != nil {
			return fmt.Errorf("remove thumbnail %s: %w", key, minio.Err(err, "thumbnail"))
		}
	}
	return nil
}

// PresignPut returns a URL that lets whoever holds it PUT a photo's
// original (any bytes, any Content-Type) until expiry passes. No metadata
// is attached: the pipeline takes the owner from the key and the creation
// time from the event. Presigning is local; MinIO is not contacted.
func (s *Store) PresignPut(ctx context.Context, owner, id string, expiry time.Duration) (*url.URL, error) {
	key, err := originalKey(owner, id)
	if err != nil {
		return nil, fmt.Errorf("presign put: %w", err)
	}
	u, err := s.client.PresignedPutObject(ctx, s.originals, key, expiry)
	if err != nil {
		return nil, fmt.Errorf("presign put %s: %w", key, err)
	}
	return u, nil
}

// PresignGetThumbnail returns a URL to GET one of a photo's thumbnails
// until expiry passes. It does not check that the thumbnail exists.
func (s *Store) PresignGetThumbnail(ctx context.Context, owner, id string, size photo.Size, expiry time.Duration) (*url.URL, error) {
	key, err := thumbnailKey(owner, id, size)
	if err != nil {
		return nil, fmt.Errorf("presign get thumbnail: %w", err)
	}
	u, err := s.client.PresignedGetObject(ctx, s.thumbnails, key, expiry, nil)
	if err != nil {
		return nil, fmt.Errorf("presign get thumbnail %s: %w", key, err)
	}
	return u, nil
}

// Ping checks that MinIO answers and both buckets exist: Unavailable when
// MinIO cannot be reached, an error of no kind when a bucket is missing
// (the stack was not set up).
func (s *Store) Ping(ctx context.Context) error {
	return minio.Ping(ctx, s.client, s.originals, s.thumbnails)
}

// originalKey checks owner and id before they become a key, so that no
// caller can address a key outside users/<owner>/.
func originalKey(owner, id string) (string, error) {
	if err := checkOwnerID(owner, id); err != nil {
		return "", err
	}
	return eventdriven.ObjectKey(owner, id), nil
}

func thumbnailKey(owner, id string, size photo.Size) (string, error) {
	if err := checkOwnerID(owner, id); err != nil {
		return "", err
	}
	if _, err := photo.ParseSize(string(size)); err != nil {
		return "", err
	}
	return eventdriven.ThumbnailKey(owner, id, size), nil
}

// checkOwnerID returns an Invalid error when owner is not a well-formed
// user id (auth's rule: the token names the owner) or id not a photo id.
func checkOwnerID(owner, id string) error {
	if err := auth.CheckUser(owner); err != nil {
		return err
	}
	return photo.CheckID(id)
}

// userMeta reads user metadata key (as set, e.g. "created-at") from a stat
// result. minio-go reports keys canonicalised ("Created-At" in
// UserMetadata, "X-Amz-Meta-Created-At" in Metadata), so match without
// regard to case and look in both.
func userMeta(oi miniogo.ObjectInfo, key string) string {
	for k, v := range oi.UserMetadata {
		if strings.EqualFold(k, key) || strings.EqualFold(k, "X-Amz-Meta-"+key) {
			return v
		}
	}
	return oi.Metadata.Get("X-Amz-Meta-" + key)
}

// FromArgs reads MinIO's endpoint and credentials from a function's
// environment now (a collects what is missing) and returns the
// constructor of its Store, for once the process has its request counter.
func FromArgs(a *deploy.Args) func(sent *outbound.Counter) (*Store, error) {
	endpoint, key, secret := a.S3()
	return func(sent *outbound.Counter) (*Store, error) { return New(endpoint, key, secret, sent) }
}
