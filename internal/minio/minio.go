// Package minio is how photobench's processes reach MinIO: a minio-go
// client set up the same way for every caller (region, retries, requests
// counted by package outbound), and the kinds of its errors. The
// event-driven functions' store (eventdriven/s3store) and the monolith's
// object storage (monolith/s3) are built on it, as internal/pgdb serves
// both PostgreSQL stores.
package minio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"

	miniogo "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/photo"
)

// region is the region every request is signed for. MinIO's default is
// us-east-1; naming it saves minio-go a GetBucketLocation round trip
// before the first request to each bucket, and lets presigning work
// without any network call.
const region = "us-east-1"

// maxRetries bounds minio-go's own retries of a failed request (its default
// of 10, with backoff, keeps a request waiting for seconds when MinIO is
// down; callers have their own retry policies).
const maxRetries = 3

// RetryAfter is what Unavailable errors suggest to clients.
const RetryAfter = time.Second

// New returns a client of the MinIO server at endpoint, a URL such as
// http://127.0.0.1:19000 (https for TLS). It does not contact the server.
//
// sent, if not nil, counts every request sent to MinIO (retries included)
// as photobench_requests_sent_total{target="minio",op=<method>}.
func New(endpoint, accessKey, secretKey string, sent *outbound.Counter) (*miniogo.Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("minio client: endpoint %q: %w", endpoint, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("minio client: endpoint %q: want http(s)://host:port", endpoint)
	}
	transport, err := miniogo.DefaultTransport(u.Scheme == "https")
	if err != nil {
		return nil, fmt.Errorf("minio client: %w", err)
	}
	client, err := miniogo.New(u.Host, &miniogo.Options{
		Creds:        credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       region,
		BucketLookup: miniogo.BucketLookupPath,
		MaxRetries:   maxRetries,
		Transport:    sent.Transport(outbound.TargetMinIO, transport),
	})
	if err != nil {
		return nil, fmt.Errorf("minio client: %w", err)
	}
	return client, nil
}

// Get reads a whole object: one GET.
func Get(ctx context.Context, client *miniogo.Client, bucket, key string) ([]byte, error) {
	obj, err := client.GetObject(ctx, bucket, key, miniogo.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	return io.ReadAll(obj)
}

// Ping checks that MinIO answers and that the buckets exist, in requests
// counted as health checks (outbound.OpHealth): Unavailable when MinIO
// cannot be reached, an error of no kind when a bucket is missing.
func Ping(ctx context.Context, client *miniogo.Client, buckets ...string) error {
	ctx = outbound.Health(ctx)
	for _, b := range buckets {
		ok, err := client.BucketExists(ctx, b)
		if err != nil {
			return fmt.Errorf("ping bucket %s: %w", b, Err(err, "bucket"))
		}
		if !ok {
			return fmt.Errorf("ping: bucket %s does not exist", b)
		}
	}
	return nil
}

// Err gives minio-go errors their kind: a missing object is NotFound
// (Message "no such <what>"), an unreachable server or a 5xx answer is
// Unavailable (with RetryAfter); anything else (access denied, a missing
// bucket: a misconfiguration) stays an error of no kind. A cancelled
// context is kept as it is (the caller gave up); a deadline that passed
// while waiting for MinIO is Unavailable (errors.Is still finds
// context.DeadlineExceeded).
func Err(err error, what string) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	var resp miniogo.ErrorResponse
	if errors.As(err, &resp) && resp.Code != "" {
		switch {
		case resp.Code == miniogo.NoSuchKey || resp.StatusCode == 404 && resp.Code != miniogo.NoSuchBucket:
			return &photo.Error{Kind: photo.NotFound, Message: "no such " + what, Err: err}
		case resp.StatusCode >= 500:
			return unavailable(err)
		}
		return err
	}
	// No S3 answer at all: connection refused, reset, timeout.
	return unavailable(err)
}

func unavailable(err error) error {
	return &photo.Error{Kind: photo.Unavailable, Message: "object store unavailable", RetryAfter: RetryAfter, Err: err}
}
