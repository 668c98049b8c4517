package loadgen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/loadgen"
)

func TestParsePhotos(t *testing.T) {
	head := "mix: {upload: 1}\nphases: [{name: p, duration: 1s, pacer: {type: constant, rate: 1}}]\n"
	tests := []struct {
		name    string
		photos  string
		want    loadgen.PhotoSpec
		wantErr string
	}{
		{name: "default", want: loadgen.DefaultPhotoSpec()},
		{name: "given", photos: "photos: {count: 3, sizes: [{megapixels: 0.5, weight: 2}, {megapixels: 1}]}",
			want: loadgen.PhotoSpec{Count: 3, Sizes: []loadgen.PhotoSize{{Megapixels: 0.5, Weight: 2}, {Megapixels: 1, Weight: 1}}}},
		{name: "zero count", photos: "photos: {count: 0}", wantErr: "photos.count: must be between 1 and 1000"},
		{name: "no megapixels", photos: "photos: {sizes: [{weight: 1}]}", wantErr: "photos.sizes[0].megapixels: is required"},
		{name: "too big", photos: "photos: {sizes: [{megapixels: 41}]}", wantErr: "photos.sizes[0].megapixels: must be above 0 and at most 40"},
		{name: "negative weight", photos: "photos: {sizes: [{megapixels: 1, weight: -1}]}", wantErr: "photos.sizes[0].weight: must be a non-negative number"},
		{name: "unknown field", photos: "photos: {colour: red}", wantErr: "photos.colour: unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := loadgen.ParseScenario([]byte(head + tt.photos + "\n"))
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Photos.Count != tt.want.Count || len(s.Photos.Sizes) != len(tt.want.Sizes) {
				t.Fatalf("photos = %+v, want %+v", s.Photos, tt.want)
			}
			for i := range tt.want.Sizes {
				if s.Photos.Sizes[i] != tt.want.Sizes[i] {
					t.Errorf("sizes[%d] = %+v, want %+v", i, s.Photos.Sizes[i], tt.want.Sizes[i])
				}
			}
		})
	}
}

func TestLoadPhotosDeterministicAndCached(t *testing.T) {
	spec := loadgen.PhotoSpec{Count: 4, Sizes: []loadgen.PhotoSize{{Megapixels: 0.1, Weight: 1}, {Megapixels: 0.3, Weight: 1}}}
	cache := t.TempDir()
	a, err := loadgen.LoadPhotos(spec, 7, cache)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadgen.LoadPhotos(spec, 7, "") // no cache: generated again
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 4 || b.Len() != 4 || a.Bytes() != b.Bytes() {
		t.Fatalf("sets differ: %d/%d photos, %d/%d bytes", a.Len(), b.Len(), a.Bytes(), b.Bytes())
	}
	for i := range uint64(4) {
		if !bytes.Equal(a.Pick(i), b.Pick(i)) {
			t.Errorf("photo %d differs between the cached and the generated set", i)
		}
		info, err := imaging.Inspect(a.Pick(i), imaging.DefaultLimits)
		if err != nil {
			t.Fatalf("photo %d: %v", i, err)
		}
		if mp := float64(info.Width*info.Height) / 1e6; info.Format != "jpeg" || (mp < 0.09 || mp > 0.11) && (mp < 0.29 || mp > 0.31) {
			t.Errorf("photo %d: %s %dx%d, want a 0.1 or 0.3 MP JPEG", i, info.Format, info.Width, info.Height)
		}
	}
	files, _ := filepath.Glob(filepath.Join(cache, loadgen.PhotoCacheKey(spec, 7), "photo-*.jpg"))
	if len(files) != 4 {
		t.Fatalf("cache holds %d photos, want 4", len(files))
	}
	// A cached file is what the next run sends.
	if err := os.WriteFile(files[0], []byte("cached"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := loadgen.LoadPhotos(spec, 7, cache)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Pick(0)) != "cached" {
		t.Errorf("photo 0 was not read from the cache")
	}
	if loadgen.PhotoCacheKey(spec, 8) == loadgen.PhotoCacheKey(spec, 7) {
		t.Errorf("another seed has the same cache key")
	}
	if _, err := loadgen.LoadPhotos(loadgen.PhotoSpec{Count: -1, Sizes: spec.Sizes}, 7, ""); err == nil || !strings.Contains(err.Error(), "photos.count") {
		t.Errorf("bad spec: err = %v", err)
	}
}
