package s3event_test

import (
	"os"
	"testing"

	"github.com/photobench/photobench/eventdriven/s3event"
)

// The testdata files are records captured from the native stack's MinIO for
// the key "users/u 1/photo+one.jpg": a space and a plus sign show the
// URL-encoding MinIO applies.
func TestParseCapturedRecords(t *testing.T) {
	tests := []struct {
		file                string
		wantEvent           string
		wantCreated         bool
		wantRemoved         bool
		wantSize            int64
		wantOwner           string
		wantSequencerNonNil bool
	}{
		{"minio-put.json", "s3:ObjectCreated:Put", true, false, 5, "u 1", true},
		{"minio-delete.json", "s3:ObjectRemoved:Delete", false, true, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			m, err := s3event.Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if m.EventName != tt.wantEvent || len(m.Records) != 1 {
				t.Fatalf("got event %q with %d records, want %q with 1", m.EventName, len(m.Records), tt.wantEvent)
			}
			r := m.Records[0]
			if r.S3.Bucket.Name != "originals" {
				t.Errorf("bucket = %q, want originals", r.S3.Bucket.Name)
			}
			if r.S3.Object.Key != "users/u 1/photo+one.jpg" {
				t.Errorf("decoded key = %q, want %q (encoded %q)", r.S3.Object.Key, "users/u 1/photo+one.jpg", r.S3.Object.EncodedKey)
			}
			if r.Created() != tt.wantCreated || r.Removed() != tt.wantRemoved {
				t.Errorf("Created()=%v Removed()=%v, want %v %v", r.Created(), r.Removed(), tt.wantCreated, tt.wantRemoved)
			}
			if r.S3.Object.Size != tt.wantSize {
				t.Errorf("size = %d, want %d", r.S3.Object.Size, tt.wantSize)
			}
			if got := r.S3.Object.UserMetadata["X-Amz-Meta-Owner"]; got != tt.wantOwner {
				t.Errorf("owner metadata = %q, want %q", got, tt.wantOwner)
			}
			if r.S3.Object.Sequencer == "" {
				t.Error("sequencer is empty")
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := map[string]string{
		"not JSON":   `{"Records": [`,
		"no records": `{"EventName":"s3:ObjectCreated:Put","Records":[]}`,
		"bad key":    `{"Records":[{"eventName":"s3:ObjectCreated:Put","s3":{"object":{"key":"users%2"}}}]}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := s3event.Parse([]byte(in)); err == nil {
				t.Fatal("Parse accepted it, want an error")
			}
		})
	}
}

func TestSequencerOrder(t *testing.T) {
	b, _ := os.ReadFile("testdata/minio-put.json")
	put, _ := s3event.Parse(b)
	b, _ = os.ReadFile("testdata/minio-delete.json")
	del, _ := s3event.Parse(b)
	p, d := put.Records[0].S3.Object.Sequencer, del.Records[0].S3.Object.Sequencer
	if !s3event.Later(d, p) || s3event.Later(p, d) {
		t.Errorf("the delete (%s) must order after the put (%s)", d, p)
	}
	tests := []struct {
		a, b string
		want bool
	}{
		{"10", "F", true},
		{"0F", "10", false},
		{"ab", "AA", true},
		{"AA", "AA", false},
	}
	for _, tt := range tests {
		if got := s3event.Later(tt.a, tt.b); got != tt.want {
			t.Errorf("Later(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
