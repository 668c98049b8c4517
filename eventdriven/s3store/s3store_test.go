package s3store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	miniogo "github.com/minio/minio-go/v7"

	"github.com/photobench/photobench/eventdriven"
	"github.com/photobench/photobench/eventdriven/s3store"
	"github.com/photobench/photobench/internal/minio"
	"github.com/photobench/photobench/internal/stacktest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
)

// newStore returns a Store on the stack's MinIO and a fresh owner, whose
// objects (those of ids passed to track) are removed when the test ends.
func newStore(t *testing.T) (*s3store.Store, string, func(id string)) {
	t.Helper()
	env := stacktest.Load(t)
	s, err := s3store.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	owner := randomOwner(t)
	var ids []string
	t.Cleanup(func() {
		ctx := context.Background()
		for _, id := range ids {
			if err := s.RemoveOriginal(ctx, owner, id); err != nil {
				t.Errorf("cleanup: %v", err)
			}
			if err := s.RemoveThumbnails(ctx, owner, id); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})
	return s, owner, func(id string) { ids = append(ids, id) }
}

func randomOwner(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	return "test-s3store-" + hex.EncodeToString(b)
}

// deadStore is a Store whose endpoint refuses connections.
func deadStore(t *testing.T) *s3store.Store {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s, err := s3store.New("http://"+addr, "x", "y", nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantKind(t *testing.T, err error, kind photo.Kind) {
	t.Helper()
	if photo.KindOf(err) != kind {
		t.Fatalf("error %v: kind %q, want %q", err, photo.KindOf(err), kind)
	}
}

func TestOriginalRoundTrip(t *testing.T) {
	s, owner, track := newStore(t)
	ctx := context.Background()
	id := photo.NewID()
	track(id)
	data := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	created := time.Now().UTC().Truncate(time.Microsecond)

	if err := s.PutOriginal(ctx, owner, id, data, "image/jpeg", created); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOriginal(ctx, owner, id, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("GetOriginal: %d bytes, want the %d put", len(got), len(data))
	}
	info, err := s.StatOriginal(ctx, owner, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(data)) || info.ContentType != "image/jpeg" || info.Owner != owner || !info.CreatedAt.Equal(created) {
		t.Errorf("StatOriginal = %+v, want size %d, image/jpeg, owner %s, created %v", info, len(data), owner, created)
	}
	if info.LastModified.IsZero() || info.LastModified.Sub(created).Abs() > time.Minute {
		t.Errorf("LastModified = %v, want about %v", info.LastModified, created)
	}

	if err := s.RemoveOriginal(ctx, owner, id); err != nil {
		t.Fatal(err)
	}
	_, err = s.StatOriginal(ctx, owner, id)
	wantKind(t, err, photo.NotFound)
	_, err = s.GetOriginal(ctx, owner, id, 1<<20)
	wantKind(t, err, photo.NotFound)
	if err := s.RemoveOriginal(ctx, owner, id); err != nil {
		t.Errorf("removing a missing original: %v", err)
	}
}

func TestOtherOwnerNotFound(t *testing.T) {
	s, owner, track := newStore(t)
	ctx := context.Background()
	id := photo.NewID()
	track(id)
	if err := s.PutOriginal(ctx, owner, id, synth.PNG(synth.Options{Seed: 2, Width: 8, Height: 8}), "image/png", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err := s.StatOriginal(ctx, randomOwner(t), id)
	wantKind(t, err, photo.NotFound)
}

func TestMissing(t *testing.T) {
	s, owner, _ := newStore(t)
	ctx := context.Background()
	id := photo.NewID()
	tests := []struct {
		name string
		call func() error
	}{
		{"GetOriginal", func() error { _, err := s.GetOriginal(ctx, owner, id, 1<<20); return err }},
		{"StatOriginal", func() error { _, err := s.StatOriginal(ctx, owner, id); return err }},
		{"GetThumbnail", func() error { _, err := s.GetThumbnail(ctx, owner, id, photo.SizeSmall); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantKind(t, tt.call(), photo.NotFound)
		})
	}
	if err := s.RemoveThumbnails(ctx, owner, id); err != nil {
		t.Errorf("RemoveThumbnails of missing thumbnails: %v", err)
	}
}

func TestThumbnails(t *testing.T) {
	s, owner, track := newStore(t)
	ctx := context.Background()
	id := photo.NewID()
	track(id)
	thumbs := map[photo.Size][]byte{
		photo.SizeSmall: synth.JPEG(synth.Options{Seed: 3, Width: 32, Height: 32}),
		photo.SizeLarge: synth.JPEG(synth.Options{Seed: 4, Width: 128, Height: 128}),
	}
	for size, b := range thumbs {
		if err := s.PutThumbnail(ctx, owner, id, size, b); err != nil {
			t.Fatal(err)
		}
	}
	for size, want := range thumbs {
		got, err := s.GetThumbnail(ctx, owner, id, size)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("thumbnail %s: got %d bytes, want %d", size, len(got), len(want))
		}
	}
	// Writing again replaces.
	if err := s.PutThumbnail(ctx, owner, id, photo.SizeSmall, thumbs[photo.SizeLarge]); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetThumbnail(ctx, owner, id, photo.SizeSmall); !bytes.Equal(got, thumbs[photo.SizeLarge]) {
		t.Error("PutThumbnail did not replace the small thumbnail")
	}
	if err := s.RemoveThumbnails(ctx, owner, id); err != nil {
		t.Fatal(err)
	}
	for _, size := range photo.Sizes {
		_, err := s.GetThumbnail(ctx, owner, id, size)
		wantKind(t, err, photo.NotFound)
	}
}

// scratchStore returns a Store whose originals and thumbnails are in a
// bucket of the test's own, without notifications: what is put there sets
// no function of the stack going.
func scratchStore(t *testing.T) *s3store.Store {
	t.Helper()
	env := stacktest.Load(t)
	bucket := stacktest.FreshBucket(t, env, "pbtest-s3store-")
	mc, err := minio.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(context.Background(), bucket, miniogo.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := s3store.New(env.S3Endpoint, env.S3AccessKey, env.S3SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.WithBuckets(bucket, bucket)
}

// postForm uploads data with a presigned POST form and returns MinIO's
// status and body.
func postForm(t *testing.T, p s3store.PresignedPost, data []byte) (int, string) {
	t.Helper()
	req, err := s3store.PostForm(context.Background(), p.URL.String(), p.Fields, data)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestPresignPost(t *testing.T) {
	s := scratchStore(t)
	ctx := context.Background()
	const limit = 4096
	owner := randomOwner(t)

	t.Run("within the limit", func(t *testing.T) {
		id := photo.NewID()
		p, err := s.PresignPost(ctx, owner, id, limit, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		data := bytes.Repeat([]byte{7}, limit)
		if code, body := postForm(t, p, data); code/100 != 2 {
			t.Fatalf("POST form: %d %s", code, body)
		}
		info, err := s.StatOriginal(ctx, owner, id)
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != limit || info.Owner != "" || !info.CreatedAt.IsZero() || info.LastModified.IsZero() {
			t.Errorf("StatOriginal after presigned POST = %+v, want size %d, no owner or created-at metadata, a LastModified", info, limit)
		}
	})
	t.Run("one byte over is refused by MinIO", func(t *testing.T) {
		id := photo.NewID()
		p, err := s.PresignPost(ctx, owner, id, limit, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		code, body := postForm(t, p, bytes.Repeat([]byte{7}, limit+1))
		if code != http.StatusBadRequest || !strings.Contains(body, "EntityTooLarge") {
			t.Errorf("POST form of limit+1 bytes: %d %s, want 400 EntityTooLarge", code, body)
		}
		_, err = s.StatOriginal(ctx, owner, id)
		wantKind(t, err, photo.NotFound)
	})
	t.Run("the form is for its key only", func(t *testing.T) {
		id, other := photo.NewID(), photo.NewID()
		p, err := s.PresignPost(ctx, owner, id, limit, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		fields := map[string]string{}
		for k, v := range p.Fields {
			fields[k] = v
		}
		fields["key"] = "users/" + owner + "/" + other
		if code, body := postForm(t, s3store.PresignedPost{URL: p.URL, Fields: fields}, []byte("x")); code/100 == 2 {
			t.Errorf("POST form with another key: %d %s, want refused", code, body)
		}
		_, err = s.StatOriginal(ctx, owner, other)
		wantKind(t, err, photo.NotFound)
	})
}

func TestGetOriginalOverTheLimit(t *testing.T) {
	s := scratchStore(t)
	ctx := context.Background()
	owner, id := randomOwner(t), photo.NewID()
	data := bytes.Repeat([]byte{1}, 1000)
	if err := s.PutOriginal(ctx, owner, id, data, "image/jpeg", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetOriginal(ctx, owner, id, 1000); err != nil || len(got) != 1000 {
		t.Errorf("at the limit: %d bytes, %v", len(got), err)
	}
	_, err := s.GetOriginal(ctx, owner, id, 999)
	wantKind(t, err, photo.TooLarge)
	if !strings.Contains(err.Error(), "1000 bytes") {
		t.Errorf("error %q does not give the size", err)
	}
}

func TestEventError(t *testing.T) {
	s := scratchStore(t)
	ctx := context.Background()
	env := stacktest.Load(t)
	denied, err := s3store.New(env.S3Endpoint, env.S3AccessKey, "wrong-secret", nil)
	if err != nil {
		t.Fatal(err)
	}
	owner, id := randomOwner(t), photo.NewID()
	if err := s.PutOriginal(ctx, owner, id, []byte("0123456789"), "image/jpeg", time.Now()); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name      string
		err       error
		transient bool
	}{
		{"unreachable", func() error { _, err := deadStore(t).GetOriginal(ctx, owner, id, 100); return err }(), true},
		{"context ended", func() error { _, err := s.GetOriginal(cancelled, owner, id, 100); return err }(), true},
		{"access denied (403)", func() error { _, err := denied.GetOriginal(ctx, owner, id, 100); return err }(), false},
		{"no such bucket (404)", func() error {
			_, err := s.WithBuckets("pbtest-no-such-bucket", "pbtest-no-such-bucket").GetOriginal(ctx, owner, id, 100)
			return err
		}(), false},
		{"over the limit", func() error { _, err := s.GetOriginal(ctx, owner, id, 5); return err }(), false},
		{"malformed id", func() error { _, err := s.GetOriginal(ctx, owner, "../x", 100); return err }(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil {
				t.Fatal("no error")
			}
			got := s3store.EventError(tt.err)
			if eventdriven.IsTransient(got) != tt.transient || eventdriven.IsPermanent(got) == tt.transient {
				t.Errorf("EventError(%v): transient %v, permanent %v; want transient %v", tt.err, eventdriven.IsTransient(got), eventdriven.IsPermanent(got), tt.transient)
			}
		})
	}
}

func TestPresignGetThumbnail(t *testing.T) {
	s, owner, track := newStore(t)
	ctx := context.Background()
	id := photo.NewID()
	track(id)
	data := synth.JPEG(synth.Options{Seed: 6, Width: 16, Height: 16})
	if err := s.PutThumbnail(ctx, owner, id, photo.SizeLarge, data); err != nil {
		t.Fatal(err)
	}
	u, err := s.PresignGetThumbnail(ctx, owner, id, photo.SizeLarge, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || !bytes.Equal(got, data) {
		t.Errorf("GET presigned thumbnail: %s, %s, %d bytes; want 200, image/jpeg, %d bytes", resp.Status, resp.Header.Get("Content-Type"), len(got), len(data))
	}
}

func TestInvalidKeys(t *testing.T) {
	s, owner, _ := newStore(t)
	ctx := context.Background()
	id := photo.NewID()
	tests := []struct {
		name string
		call func() error
	}{
		{"owner with slash", func() error { _, err := s.StatOriginal(ctx, "a/b", id); return err }},
		{"empty owner", func() error { return s.PutOriginal(ctx, "", id, []byte("x"), "image/jpeg", time.Now()) }},
		{"malformed id", func() error { _, err := s.GetOriginal(ctx, owner, "../x", 1<<20); return err }},
		{"unknown size", func() error { _, err := s.GetThumbnail(ctx, owner, id, photo.Size("medium")); return err }},
		{"presign malformed id", func() error { _, err := s.PresignPost(ctx, owner, "nope", 1<<20, time.Minute); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantKind(t, tt.call(), photo.Invalid)
		})
	}
}

func TestPing(t *testing.T) {
	s, _, _ := newStore(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestUnavailable(t *testing.T) {
	s := deadStore(t)
	ctx := context.Background()
	id := photo.NewID()
	tests := []struct {
		name string
		call func() error
	}{
		{"Ping", func() error { return s.Ping(ctx) }},
		{"PutOriginal", func() error { return s.PutOriginal(ctx, "someone", id, []byte("x"), "image/jpeg", time.Now()) }},
		{"StatOriginal", func() error { _, err := s.StatOriginal(ctx, "someone", id); return err }},
		{"GetThumbnail", func() error { _, err := s.GetThumbnail(ctx, "someone", id, photo.SizeSmall); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			wantKind(t, err, photo.Unavailable)
			if photo.RetryAfterOf(err) <= 0 {
				t.Errorf("no RetryAfter on %v", err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, endpoint string
		ok             bool
	}{
		{"http", "http://127.0.0.1:19000", true},
		{"https with slash", "https://minio.example:9000/", true},
		{"no scheme", "127.0.0.1:19000", false},
		{"other scheme", "ftp://127.0.0.1:19000", false},
		{"path", "http://127.0.0.1:19000/bucket", false},
		{"garbage", "http://[::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s3store.New(tt.endpoint, "a", "b", nil)
			if (err == nil) != tt.ok {
				t.Errorf("New(%q) error = %v, want ok=%v", tt.endpoint, err, tt.ok)
			}
		})
	}
}
