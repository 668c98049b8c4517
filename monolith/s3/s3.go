// Package s3 stores the monolith's originals and thumbnails as objects in
// one MinIO bucket of its own (--storage s3), with the key layout of the
// disk store:
//
//	originals/<owner>/<id>
//	thumbnails/<owner>/<id>-<size>.jpg
//
// It is the monolith's side of storage parity: the same object store the
// event-driven app uses, so that a comparison of the two can hold storage
// constant. The bucket is never one of the event-driven app's, whose
// object notifications would otherwise set its functions going.
//
// Its methods are those of monolith.Files, which take no context: each
// request is bounded by requestTimeout instead. Errors are *photo.Error
// where a kind applies: NotFound for a missing object, Unavailable (with
// a RetryAfter) when MinIO cannot be reached or answers 5xx.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	miniogo "github.com/minio/minio-go/v7"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/internal/minio"
	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/monolith/disk"
	"github.com/photobench/photobench/photo"
)

// DefaultBucket is the bucket the monolith uses unless told otherwise.
const DefaultBucket = "monolith"

// requestTimeout bounds each call (minio-go's own retries included), since
// monolith.Files passes no context to cancel with.
const requestTimeout = 10 * time.Second

// Store is a bucket of photo objects. It is safe for concurrent use.
type Store struct {
	client *miniogo.Client
	bucket string
}

// Open returns a Store on bucket at the MinIO server at endpoint (a URL
// such as http://127.0.0.1:19000), creating the bucket if it is missing.
// sent, if not nil, counts every request sent to MinIO.
func Open(ctx context.Context, endpoint, accessKey, secretKey, bucket string, sent *outbound.Counter) (*Store, error) {
	client, err := minio.New(endpoint, accessKey, secretKey, sent)
	if err != nil {
		return nil, fmt.Errorf("open s3 store: %w", err)
	}
	ok, err := client.BucketExists(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("open s3 store: bucket %s: %w", bucket, minio.Err(err, "bucket"))
	}
	if !ok {
		err := client.MakeBucket(ctx, bucket, miniogo.MakeBucketOptions{})
		var resp miniogo.ErrorResponse
		if err != nil && !(errors.As(err, &resp) && resp.Code == "BucketAlreadyOwnedByYou") {
			return nil, fmt.Errorf("open s3 store: make bucket %s: %w", bucket, minio.Err(err, "bucket"))
		}
	}
	return &Store{client: client, bucket: bucket}, nil
}

// Bucket is the store's bucket.
func (s *Store) Bucket() string { return s.bucket }

// OriginalPath is the key of a photo's original.
func (s *Store) OriginalPath(owner, id string) (string, error) {
	if !auth.ValidUser(owner) || !photo.ValidID(id) {
		return "", fmt.Errorf("s3 key: unsafe owner %q or id %q", owner, id)
	}
	return path.Join("originals", owner, id), nil
}

// ThumbnailPath is the key of a photo's thumbnail of one size.
func (s *Store) ThumbnailPath(owner, id string, size photo.Size) (string, error) {
	if !auth.ValidUser(owner) || !photo.ValidID(id) || size.Bound() == 0 {
		return "", fmt.Errorf("s3 key: unsafe owner %q, id %q or size %q", owner, id, size)
	}
	return path.Join("thumbnails", owner, id+"-"+string(size)+".jpg"), nil
}

// Write stores data under key (from OriginalPath or ThumbnailPath) in one
// PUT of exactly len(data) bytes, never multipart: S3 makes an object
// visible only once its PUT completes, so a failed Write leaves no partial
// object behind (and a replaced one stays whole until then).
//
// sync asks nothing of MinIO, which has no per-request durability
// setting: what its 200 means is the server's own, for every PUT.
// MinIO's erasure backend, which since RELEASE.2022-06-02 also serves a
// single drive (zero parity; MinIO's documentation, "Deploy MinIO:
// Single-Node Single-Drive"), writes an object's data in
// cmd/xl-storage.go writeAllDirect: through O_DIRECT where the drive
// supports it (MinIO supports no file system without it:
// minio/minio#17165), then fdatasync before close (minio/minio#9947).
// An object whose shard is at most 128 KiB (storageclass ShouldInline:
// the small thumbnails) is inlined in its xl.meta, written with O_DSYNC,
// or O_DIRECT and fdatasync (writeAllInternal with sync;
// minio/minio#11615). So by the PUT's 200 the bytes are on stable
// storage, as with the disk store's fsync of an original. The rename that
// puts an object in place is synced too only with drive sync on
// (MINIO_FS_OSYNC; "Drive Sync" in minio's docs/config/README.md), which
// the native stack leaves off; the disk store, which syncs its directory
// after the rename, promises a little more there.
func (s *Store) Write(key string, data []byte, sync bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)), miniogo.PutObjectOptions{
		ContentType:      contentType(key),
		DisableMultipart: true,
	})
	if err != nil {
		return fmt.Errorf("put %s: %w", key, minio.Err(err, "photo"))
	}
	return nil
}

// Read returns an object's content in one GET; a missing object is a
// photo.NotFound error.
func (s *Store) Read(key string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	b, err := minio.Get(ctx, s.client, s.bucket, key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, minio.Err(err, "photo"))
	}
	return b, nil
}

// Remove deletes objects, one DELETE each; missing ones are not an error
// (S3 semantics).
func (s *Store) Remove(keys ...string) error {
	var errs []error
	for _, key := range keys {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		err := s.client.RemoveObject(ctx, s.bucket, key, miniogo.RemoveObjectOptions{})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", key, minio.Err(err, "photo")))
		}
	}
	return errors.Join(errs...)
}

// Walk calls fn for every photo object in the bucket (originals and
// thumbnails, by the layout's keys; anything else is skipped) with its
// key, owner, photo id and last-modified time, until fn returns an error,
// which Walk returns. It lists the bucket (1000 keys a request).
func (s *Store) Walk(ctx context.Context, fn func(key, owner, id string, modTime time.Time) error) error {
	for _, prefix := range []string{"originals/", "thumbnails/"} {
		for obj := range s.client.ListObjects(ctx, s.bucket, miniogo.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			if obj.Err != nil {
				return fmt.Errorf("list %s: %w", prefix, minio.Err(obj.Err, "bucket"))
			}
			owner, id, ok := disk.ParseName(obj.Key)
			if !ok {
				continue
			}
			if err := fn(obj.Key, owner, id, obj.LastModified); err != nil {
				return err
			}
		}
	}
	return nil
}

// Ping checks that MinIO answers and the bucket exists, for /healthz.
func (s *Store) Ping(ctx context.Context) error {
	return minio.Ping(ctx, s.client, s.bucket)
}

// contentType is what GETs of key answer with: thumbnails are JPEG; an
// original's format is in its row, not its key.
func contentType(key string) string {
	if strings.HasSuffix(key, ".jpg") {
		return "image/jpeg"
	}
	return "application/octet-stream"
}
