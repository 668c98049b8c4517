package s3store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/photobench/photobench/eventdriven/s3store"
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
	got, err := s.GetOriginal(ctx, owner, id)
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
	_, err = s.GetOriginal(ctx, owner, id)
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
		{"GetOriginal", func() error { _, err := s.GetOriginal(ctx, owner, id); return err }},
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

func TestPresignPut(t *testing.T) {
	s, owner, track := newStore(t)
	ctx := context.Background()
	id := photo.NewID()
	track(id)
	u, err := s.PresignPut(ctx, owner, id, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	data := synth.JPEG(synth.Options{Seed: 5, Width: 40, Height: 30})
	req, _ := http.NewRequest(http.MethodPut, u.String(), bytes.NewReader(data))
	req.Header.Set("Content-Type", "image/jpeg")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT to presigned URL: %s %s", resp.Status, body)
	}
	info, err := s.StatOriginal(ctx, owner, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(data)) || info.Owner != "" || !info.CreatedAt.IsZero() || info.LastModified.IsZero() {
		t.Errorf("StatOriginal after presigned PUT = %+v, want size %d, no owner or created-at metadata, a LastModified", info, len(data))
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
		{"malformed id", func() error { _, err := s.GetOriginal(ctx, owner, "../x"); return err }},
		{"unknown size", func() error { _, err := s.GetThumbnail(ctx, owner, id, photo.Size("medium")); return err }},
		{"presign malformed id", func() error { _, err := s.PresignPut(ctx, owner, "nope", time.Minute); return err }},
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
