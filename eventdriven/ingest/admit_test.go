package ingest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/photobench/photobench/photo"
)

// TestAdmitUploads: at most n at once; one more waits up to the wait and
// is refused as Unavailable with a Retry-After; a request that ends while
// waiting is refused at once; a slot given back within the wait admits
// the one waiting.
func TestAdmitUploads(t *testing.T) {
	admit := admitUploads(1, 200*time.Millisecond)
	ctx := context.Background()
	release, err := admit(ctx)
	if err != nil {
		t.Fatalf("first upload: %v", err)
	}
	_, err = admit(ctx)
	var pe *photo.Error
	if !errors.As(err, &pe) || pe.Kind != photo.Unavailable || pe.RetryAfter != time.Second {
		t.Fatalf("second upload while the slot is taken: %v, want Unavailable with a 1 s Retry-After", err)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := admit(ended); photo.KindOf(err) != photo.Unavailable {
		t.Fatalf("an ended request: %v, want Unavailable", err)
	}
	go func() { time.Sleep(20 * time.Millisecond); release() }()
	release, err = admit(ctx)
	if err != nil {
		t.Fatalf("a slot given back within the wait: %v", err)
	}
	release()
}
