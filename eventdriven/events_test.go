package eventdriven_test

import (
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/photo"
)

const id = "0190f0e2-1234-7000-8000-00000000abcd"

func record(bucket, key, event, meta string) string {
	return fmt.Sprintf(`{"EventName":%q,"Records":[{"eventName":%q,"eventTime":"2026-11-25T10:00:00.123456789Z",
		"s3":{"bucket":{"name":%q},"object":{"key":%q,"size":42,"sequencer":"18EB6","userMetadata":{%s}}}}]}`,
		event, event, bucket, url.QueryEscape(key), meta)
}

func TestOriginals(t *testing.T) {
	tests := []struct {
		name        string
		value       string
		wantObjects int
		wantCreated time.Time
	}{
		{"ingest upload with created-at metadata", record("originals", "users/alice/"+id, "s3:ObjectCreated:Put", `"X-Amz-Meta-Created-At":"2026-11-25T09:59:59.5Z"`), 1, time.Date(2026, 11, 25, 9, 59, 59, 500000000, time.UTC)},
		{"presigned upload: MinIO's event time", record("originals", "users/alice/"+id, "s3:ObjectCreated:Put", ``), 1, time.Date(2026, 11, 25, 10, 0, 0, 123456000, time.UTC)},
		{"another bucket", record("thumbnails", "users/alice/"+id+"/small.jpg", "s3:ObjectCreated:Put", ``), 0, time.Time{}},
		{"a foreign key", record("originals", "elsewhere/file.txt", "s3:ObjectCreated:Put", ``), 0, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := eventdriven.Originals([]byte(tt.value), "originals")
			if err != nil {
				t.Fatal(err)
			}
			if len(objs) != tt.wantObjects {
				t.Fatalf("%d objects, want %d", len(objs), tt.wantObjects)
			}
			if tt.wantObjects == 0 {
				return
			}
			o := objs[0]
			if o.Owner != "alice" || o.ID != id || o.Version != "18EB6" || !o.Record.Created() {
				t.Errorf("object %+v", o)
			}
			if !o.CreatedAt.Equal(tt.wantCreated) {
				t.Errorf("created %v, want %v", o.CreatedAt, tt.wantCreated)
			}
		})
	}
	if _, err := eventdriven.Originals([]byte("{nope"), "originals"); err == nil {
		t.Error("malformed JSON accepted")
	}
}

func TestKeys(t *testing.T) {
	if k := eventdriven.ObjectKey("bob", id); k != "users/bob/"+id {
		t.Errorf("ObjectKey = %q", k)
	}
	if k := eventdriven.ThumbnailKey("bob", id, photo.SizeLarge); k != "users/bob/"+id+"/large.jpg" {
		t.Errorf("ThumbnailKey = %q", k)
	}
	for _, bad := range []string{"users/bob", "users/b b/" + id, "people/bob/" + id, "users/bob/not-an-id", "users/bob/" + id + "/x"} {
		if _, _, err := eventdriven.ParseObjectKey(bad); err == nil {
			t.Errorf("ParseObjectKey(%q) accepted", bad)
		}
	}
	if a, b := eventdriven.EventID("photo.tagged", id, "1"), eventdriven.EventID("photo.tagged", id, "1"); a != b {
		t.Error("EventID is not deterministic")
	}
}

func TestErrorKinds(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name                 string
		err                  error
		transient, permanent bool
	}{
		{"plain", base, false, false},
		{"nil", nil, false, false},
		{"transient", eventdriven.Transient(base), true, false},
		{"permanent", eventdriven.Permanent(base), false, true},
		{"wrapped transient", fmt.Errorf("store: %w", eventdriven.Transient(base)), true, false},
		{"wrapped permanent", fmt.Errorf("parse: %w", eventdriven.Permanent(base)), false, true},
		{"outermost wins", eventdriven.Permanent(fmt.Errorf("x: %w", eventdriven.Transient(base))), false, true},
		{"joined", errors.Join(base, eventdriven.Transient(base)), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eventdriven.IsTransient(tt.err); got != tt.transient {
				t.Errorf("IsTransient = %v, want %v", got, tt.transient)
			}
			if got := eventdriven.IsPermanent(tt.err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v", got, tt.permanent)
			}
			if tt.err != nil && !errors.Is(tt.err, base) {
				t.Errorf("%v does not wrap the original error", tt.err)
			}
		})
	}
	if eventdriven.Transient(nil) != nil || eventdriven.Permanent(nil) != nil {
		t.Error("marking a nil error must give nil")
	}
}
