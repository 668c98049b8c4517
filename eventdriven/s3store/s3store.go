// Package s3store is the event-driven app's object store: MinIO, reached
// with minio-go. It is the one place that knows the buckets and the key
// layout (eventdriven.ObjectKey, eventdriven.ThumbnailKey).
//
// In the choreography the store is where work starts and ends: ingest puts
// an original (or hands the client a presigned POST form, PresignPost), and MinIO's
// s3:ObjectCreated notification on Kafka is what sets the thumbnailer, the
// tagger and the catalog going; the thumbnailer writes the thumbnails back
// here and query serves them (as bytes, or as presigned GET URLs). Deleting
// is the same in reverse: ingest removes the original, and the
// s3:ObjectRemoved notification drives the rest.
//
// Nothing is read whole without a bound: an original is read only up to
// the caller's byte limit and a thumbnail up to MaxThumbnailBytes, and an
// object MinIO reports as larger is refused from the answer's headers,
// before its body is read. A presigned upload cannot exceed the limit
// either: its POST policy carries a content-length-range that MinIO
// enforces.
//
// Errors are *photo.Error where a kind applies: NotFound for a missing
// object, Invalid for a malformed owner or photo id, TooLarge for an
// object over its bound, Unavailable (with a RetryAfter) when MinIO cannot
// be reached or answers 5xx, so HTTP functions answer 503. Event functions
// classify them with EventError.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
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

// GetOriginal returns a photo's original bytes: NotFound when there is
// none, TooLarge when it has more than maxBytes. The size is taken from
// MinIO's answer before the body is read, and the body is read through a
// limit anyway, so an object of any size costs at most maxBytes of memory.
func (s *Store) GetOriginal(ctx context.Context, owner, id string, maxBytes int64) ([]byte, error) {
	key, err := originalKey(owner, id)
	if err != nil {
		return nil, fmt.Errorf("get original: %w", err)
	}
	b, err := s.get(ctx, s.originals, key, maxBytes, "photo")
	if err != nil {
		return nil, fmt.Errorf("get original %s: %w", key, err)
	}
	return b, nil
}

// MaxThumbnailBytes bounds what GetThumbnail reads. The thumbnailer's
// largest rendition (1024 px JPEG) is far below it; a larger object under
// a thumbnail key was not written by the app.
const MaxThumbnailBytes = 8 << 20

// get reads bucket/key, of at most maxBytes bytes, in one GET. An object
// larger than that is TooLarge, decided from the answer's Content-Length
// before any of the body is read (closing it ends the transfer), and
// checked again while reading, in case the length was not given.
func (s *Store) get(ctx context.Context, bucket, key string, maxBytes int64, what string) ([]byte, error) {
	body, info, _, err := miniogo.Core{Client: s.client}.GetObject(ctx, bucket, key, miniogo.GetObjectOptions{})
	if err != nil {
		return nil, minio.Err(err, what)
	}
	defer body.Close()
	if info.Size > maxBytes {
		return nil, tooLarge(what, info.Size, maxBytes)
	}
	var buf bytes.Buffer
	if info.Size > 0 {
		buf.Grow(int(info.Size))
	}
	n, err := buf.ReadFrom(io.LimitReader(body, maxBytes+1))
	if err != nil {
		return nil, minio.Err(err, what)
	}
	if n > maxBytes {
		return nil, tooLarge(what, -1, maxBytes)
	}
	return buf.Bytes(), nil
}

// tooLarge is the error about an object of size bytes (-1: unknown, more
// than maxBytes).
func tooLarge(what string, size, maxBytes int64) error {
	if size >= 0 {
		return photo.Errorf(photo.TooLarge, "%s of %d bytes is larger than the limit of %d bytes", what, size, maxBytes)
	}
	return photo.Errorf(photo.TooLarge, "%s is larger than the limit of %d bytes", what, maxBytes)
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
// none, TooLarge when it has more than MaxThumbnailBytes.
func (s *Store) GetThumbnail(ctx context.Context, owner, id string, size photo.Size) ([]byte, error) {
	key, err := thumbnailKey(owner, id, size)
	if err != nil {
		return nil, fmt.Errorf("get thumbnail: %w", err)
	}
	b, err := s.get(ctx, s.thumbnails, key, MaxThumbnailBytes, "thumbnail")
	if err != nil {
		return nil, fmt.Errorf("get thumbnail %s: %w", key, err)
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

// PresignedPost is a browser-style upload grant: POST a multipart form to
// URL with Fields, then the file (PostForm builds that request).
type PresignedPost struct {
	URL    *url.URL
	Fields map[string]string
}

// PresignPost returns a form that lets whoever holds it upload a photo's
// original, of 1 to maxBytes bytes, until expiry passes. The limit is part
// of the signed POST policy (content-length-range), so MinIO refuses a
// larger file itself (400 EntityTooLarge) and stores nothing; a presigned
// PUT URL, by contrast, admits any length. No metadata is attached: the
// pipeline takes the owner from the key and the creation time from the
// event. Presigning is local; MinIO is not contacted.
func (s *Store) PresignPost(ctx context.Context, owner, id string, maxBytes int64, expiry time.Duration) (PresignedPost, error) {
	key, err := originalKey(owner, id)
	if err != nil {
		return PresignedPost{}, fmt.Errorf("presign post: %w", err)
	}
	p := miniogo.NewPostPolicy()
	for _, err := range []error{
		p.SetBucket(s.originals),
		p.SetKey(key),
		p.SetExpires(time.Now().UTC().Add(expiry)),
		p.SetContentLengthRange(1, maxBytes),
	} {
		if err != nil {
			return PresignedPost{}, fmt.Errorf("presign post %s: %w", key, err)
		}
	}
	u, fields, err := s.client.PresignedPostPolicy(ctx, p)
	if err != nil {
		return PresignedPost{}, fmt.Errorf("presign post %s: %w", key, err)
	}
	return PresignedPost{URL: u, Fields: fields}, nil
}

// PostForm builds the request that uploads data with a presigned POST
// form: multipart/form-data with the fields first and the file last, as S3
// requires.
func PostForm(ctx context.Context, rawURL string, fields map[string]string, data []byte) (*http.Request, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			return nil, fmt.Errorf("post form: %w", err)
		}
	}
	fw, err := w.CreateFormFile("file", "upload")
	if err != nil {
		return nil, fmt.Errorf("post form: %w", err)
	}
	if _, err := fw.Write(data); err != nil {
		return nil, fmt.Errorf("post form: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("post form: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, &body)
	if err != nil {
		return nil, fmt.Errorf("post form: %w", err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return req, nil
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

// EventError says what an event function should do about an error from a
// Store that is not NotFound (a missing object is for the caller to judge:
// usually removed since, nothing to do): Unavailable (MinIO unreachable or
// answering 5xx, or a 408/429 that asks to come back) and a context that
// ended are eventdriven.Transient, retried until MinIO answers; anything
// else is eventdriven.Permanent and dead-lettered at once. That is every
// other 4xx (AccessDenied, InvalidArgument, NoSuchBucket: the same request
// gets the same answer), a malformed key and an object over its limit
// (TooLarge).
func EventError(err error) error {
	if err == nil {
		return nil
	}
	if photo.KindOf(err) == photo.Unavailable || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return eventdriven.Transient(err)
	}
	var resp miniogo.ErrorResponse
	if errors.As(err, &resp) && (resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests) {
		return eventdriven.Transient(err)
	}
	return eventdriven.Permanent(err)
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
