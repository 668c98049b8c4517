package s3_test

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/photobench/photobench/internal/outbound"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/monolith/s3"
	"github.com/photobench/photobench/photo"
)

// open returns a Store on a fresh bucket of the stack's MinIO, which Open
// creates, the bucket's name, and the store's request counter.
func open(t *testing.T) (*s3.Store, string, *prometheus.Registry) {
	t.Helper()
	env := stacktest.Load(t)
	bucket := stacktest.FreshBucket(t, env, "pbtest-s3-")
	reg := prometheus.NewRegistry()
	st, err := s3.Open(context.Background(), env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, bucket, outbound.New(reg))
	if err != nil {
		t.Fatal(err)
	}
	return st, bucket, reg
}

func wantKind(t *testing.T, err error, kind photo.Kind) {
	t.Helper()
	if photo.KindOf(err) != kind {
		t.Fatalf("error %v: kind %q, want %q", err, photo.KindOf(err), kind)
	}
}

func TestRoundTrip(t *testing.T) {
	st, bucket, _ := open(t)
	env := stacktest.Load(t)
	id := photo.NewID()
	orig, err := st.OriginalPath("alice", id)
	if err != nil {
		t.Fatal(err)
	}
	small, err := st.ThumbnailPath("alice", id, photo.SizeSmall)
	if err != nil {
		t.Fatal(err)
	}
	if want := "originals/alice/" + id; orig != want {
		t.Errorf("OriginalPath = %q, want %q", orig, want)
	}
	if want := "thumbnails/alice/" + id + "-small.jpg"; small != want {
		t.Errorf("ThumbnailPath = %q, want %q", small, want)
	}
	data := map[string][]byte{
		orig:  synth.JPEG(synth.Options{Seed: 1, Width: 640, Height: 480}),
		small: synth.JPEG(synth.Options{Seed: 2, Width: 64, Height: 48}),
	}
	for key, b := range data {
		if err := st.Write(key, b, true); err != nil {
			t.Fatal(err)
		}
	}
	for key, want := range data {
		got, err := st.Read(key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Read(%s): %d bytes, want the %d written", key, len(got), len(want))
		}
	}
	// Writing again replaces.
	if err := st.Write(small, data[orig], false); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Read(small); !bytes.Equal(got, data[orig]) {
		t.Error("Write did not replace the object")
	}
	if keys := stacktest.Objects(t, env, bucket); len(keys) != 2 {
		t.Errorf("bucket holds %v, want the 2 written", keys)
	}

	if err := st.Remove(orig, small); err != nil {
		t.Fatal(err)
	}
	for key := range data {
		_, err := st.Read(key)
		wantKind(t, err, photo.NotFound)
	}
	if keys := stacktest.Objects(t, env, bucket); len(keys) != 0 {
		t.Errorf("objects left after Remove: %v", keys)
	}
	if err := st.Remove(orig, small); err != nil {
		t.Errorf("removing missing objects: %v", err)
	}
}

func TestReadMissing(t *testing.T) {
	st, _, _ := open(t)
	key, _ := st.OriginalPath("bob", photo.NewID())
	_, err := st.Read(key)
	wantKind(t, err, photo.NotFound)
}

func TestUnsafeKeysRefused(t *testing.T) {
	st, _, _ := open(t)
	id := photo.NewID()
	tests := []struct {
		name string
		call func() (string, error)
	}{
		{"owner with slash", func() (string, error) { return st.OriginalPath("a/b", id) }},
		{"owner dot-dot", func() (string, error) { return st.OriginalPath("..", id) }},
		{"empty owner", func() (string, error) { return st.ThumbnailPath("", id, photo.SizeSmall) }},
		{"id with slash", func() (string, error) { return st.OriginalPath("alice", "../x") }},
		{"malformed id", func() (string, error) { return st.ThumbnailPath("alice", "nope", photo.SizeLarge) }},
		{"unknown size", func() (string, error) { return st.ThumbnailPath("alice", id, photo.Size("medium")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if key, err := tt.call(); err == nil {
				t.Errorf("key %q, want an error", key)
			}
		})
	}
}

// A PUT cut off in the middle leaves no object: S3 makes an object visible
// only when its PUT completes, so a failed Write needs no clean-up.
func TestFailedWriteLeavesNoObject(t *testing.T) {
	_, bucket, _ := open(t) // makes the bucket
	env := stacktest.Load(t)
	cut := stacktest.NewRelay(t, strings.TrimPrefix(env.S3Endpoint, "http://"), 64<<10)
	st, err := s3.Open(context.Background(), "http://"+cut.Addr, env.S3AccessKey, env.S3SecretKey, bucket, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := st.OriginalPath("carol", photo.NewID())
	big := synth.JPEG(synth.Options{Seed: 3, Width: 2400, Height: 1800})
	if len(big) < 4*64<<10 {
		t.Fatalf("test image of %d bytes is too small to be cut off", len(big))
	}
	if err := st.Write(key, big, true); err == nil {
		t.Fatal("Write through a connection cut after 64 KiB succeeded")
	}
	if keys := stacktest.Objects(t, env, bucket); len(keys) != 0 {
		t.Errorf("objects left by a failed Write: %v", keys)
	}
}

func TestOpenCreatesBucketAndPings(t *testing.T) {
	st, bucket, _ := open(t)
	if st.Bucket() != bucket {
		t.Errorf("Bucket() = %q, want %q", st.Bucket(), bucket)
	}
	if err := st.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	env := stacktest.Load(t)
	if _, err := s3.Open(context.Background(), env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, bucket, nil); err != nil {
		t.Errorf("opening an existing bucket: %v", err)
	}
}

func TestUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = s3.Open(context.Background(), "http://"+addr, "x", "y", "monolith", nil)
	wantKind(t, err, photo.Unavailable)
}

// Each call is the requests the report's hop table counts: a PUT per
// Write, a GET per Read, a DELETE per object removed.
func TestRequestsCounted(t *testing.T) {
	st, _, reg := open(t)
	count := func(op string) float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				lbl := map[string]string{}
				for _, l := range m.GetLabel() {
					lbl[l.GetName()] = l.GetValue()
				}
				if lbl["target"] == outbound.TargetMinIO && lbl["op"] == op {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	before := map[string]float64{}
	for _, op := range []string{"PUT", "GET", "DELETE", "HEAD", "POST"} {
		before[op] = count(op)
	}
	id := photo.NewID()
	orig, _ := st.OriginalPath("dave", id)
	thumb, _ := st.ThumbnailPath("dave", id, photo.SizeLarge)
	for _, key := range []string{orig, thumb} {
		if err := st.Write(key, []byte("bytes of "+key), true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Read(thumb); err != nil {
		t.Fatal(err)
	}
	if err := st.Remove(orig, thumb); err != nil {
		t.Fatal(err)
	}
	for op, want := range map[string]float64{"PUT": 2, "GET": 1, "DELETE": 2, "HEAD": 0, "POST": 0} {
		if got := count(op) - before[op]; got != want {
			t.Errorf("%s requests: %v, want %v", op, got, want)
		}
	}
}
