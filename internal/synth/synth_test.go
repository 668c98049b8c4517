package synth_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/photobench/photobench/internal/synth"
)

func TestDeterministic(t *testing.T) {
	o := synth.Options{Seed: 42, Width: 64, Height: 48}
	tests := []struct {
		name string
		make func(synth.Options) []byte
	}{
		{"jpeg", synth.JPEG},
		{"png", synth.PNG},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.make(o), tt.make(o)
			if !bytes.Equal(a, b) {
				t.Error("the same options gave different bytes")
			}
			other := o
			other.Seed++
			if bytes.Equal(a, tt.make(other)) {
				t.Error("different seeds gave the same bytes")
			}
		})
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		name   string
		data   []byte
		decode func([]byte) (image.Image, error)
		w, h   int
	}{
		{"jpeg", synth.JPEG(synth.Options{Seed: 1, Width: 33, Height: 17}), decodeJPEG, 33, 17},
		{"png", synth.PNG(synth.Options{Seed: 1, Width: 17, Height: 33}), decodePNG, 17, 33},
		{"one pixel", synth.PNG(synth.Options{Seed: 1, Width: 1, Height: 1}), decodePNG, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := tt.decode(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
				t.Errorf("bounds %v, want %dx%d", b, tt.w, tt.h)
			}
		})
	}
}

func decodeJPEG(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
func decodePNG(b []byte) (image.Image, error)  { return png.Decode(bytes.NewReader(b)) }

func TestImage(t *testing.T) {
	t.Run("opaque with structure", func(t *testing.T) {
		img := synth.Image(synth.Options{Seed: 7, Width: 100, Height: 80})
		colours := map[[3]uint8]bool{}
		for i := 0; i < len(img.Pix); i += 4 {
			if img.Pix[i+3] != 255 {
				t.Fatalf("alpha %d at pixel %d", img.Pix[i+3], i/4)
			}
			colours[[3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]}] = true
		}
		if len(colours) < 100 {
			t.Errorf("only %d distinct colours", len(colours))
		}
	})
	t.Run("gray", func(t *testing.T) {
		img := synth.Image(synth.Options{Seed: 7, Width: 100, Height: 80, Gray: true})
		for i := 0; i < len(img.Pix); i += 4 {
			if p := img.Pix[i : i+3]; p[0] != p[1] || p[1] != p[2] {
				t.Fatalf("pixel %d is %v, not grey", i/4, p)
			}
		}
	})
}
