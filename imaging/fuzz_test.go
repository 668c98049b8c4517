package imaging_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
)

// fuzzLimits keep the fuzzers' memory small: an accepted input decodes to
// at most 4 MP.
var fuzzLimits = imaging.Limits{MaxBytes: 1 << 20, MaxPixels: 4_000_000}

// FuzzInspect feeds arbitrary bytes to Inspect and, when it accepts them,
// to Decode (and, for small images, Thumbnails). Nothing may panic;
// accepted images have positive dimensions within the pixel limit; Decode
// either agrees with Inspect on the size or says Invalid.
func FuzzInspect(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := imaging.Inspect(data, fuzzLimits)
		if err != nil {
			var pe *photo.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Inspect error %v is not a *photo.Error", err)
			}
			switch pe.Kind {
			case photo.Invalid, photo.Unsupported, photo.TooLarge, photo.TooManyPixels:
			default:
				t.Fatalf("Inspect error kind %s: %v", pe.Kind, err)
			}
			return
		}
		if info.Width <= 0 || info.Height <= 0 || int64(info.Width)*int64(info.Height) > fuzzLimits.MaxPixels {
			t.Fatalf("accepted %dx%d", info.Width, info.Height)
		}
		if info.Orientation < 1 || info.Orientation > 8 {
			t.Fatalf("orientation %d", info.Orientation)
		}
		if info.Bytes != int64(len(data)) {
			t.Fatalf("bytes %d, want %d", info.Bytes, len(data))
		}
		img, release, err := imaging.Decode(context.Background(), data, info)
		if err != nil {
			if k := photo.KindOf(err); k != photo.Invalid {
				t.Fatalf("Decode error kind %s: %v", k, err)
			}
			return
		}
		defer release()
		w, h := info.Width, info.Height
		if info.Orientation >= 5 {
			w, h = h, w // Decode returns the image as stored
		}
		if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
			t.Fatalf("decoded %v, Inspect said %dx%d (stored)", b, w, h)
		}
		if w*h <= 256*256 {
			thumbs, err := imaging.Thumbnails(img, info.Orientation)
			if err != nil {
				t.Fatalf("Thumbnails: %v", err)
			}
			for _, th := range thumbs {
				if th.Width < 1 || th.Height < 1 || th.Width > th.Size.Bound() || th.Height > th.Size.Bound() {
					t.Fatalf("%s thumbnail %dx%d", th.Size, th.Width, th.Height)
				}
			}
		}
	})
}

// exifBase is the JPEG FuzzExifOrientation puts its EXIF data in: 16x8,
// so a 90-degree orientation shows in the reported size.
var exifBase = synth.JPEG(synth.Options{Seed: 16, Width: 16, Height: 8})

// FuzzExifOrientation fuzzes the EXIF parser: its input is the TIFF
// structure of an APP1 Exif segment placed, well-formed, right after the
// SOI of a valid JPEG. Inspect must accept every such file, with an
// orientation in 1..8 and the size turned exactly when it says so.
func FuzzExifOrientation(f *testing.F) {
	f.Fuzz(func(t *testing.T, tiff []byte) {
		if len(tiff) > 0xFFFF-8 { // what fits in one segment
			tiff = tiff[:0xFFFF-8]
		}
		info, err := imaging.Inspect(afterSOI(exifBase, app1(tiff)), fuzzLimits)
		if err != nil {
			t.Fatalf("Inspect: %v", err)
		}
		w, h := 16, 8
		if info.Orientation >= 5 {
			w, h = 8, 16
		}
		if info.Orientation < 1 || info.Orientation > 8 || info.Width != w || info.Height != h {
			t.Fatalf("orientation %d, %dx%d", info.Orientation, info.Width, info.Height)
		}
	})
}

var writeSeeds = flag.Bool("write-seeds", false, "TestWriteSeeds: regenerate the fuzz seed corpus in testdata/fuzz")

// TestWriteSeeds regenerates the seed corpora in testdata/fuzz (go test
// ./imaging -run=TestWriteSeeds -args -write-seeds). The seeds are small
// crafted files, so they are checked in; they run as ordinary tests with
// every go test.
func TestWriteSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-seeds to regenerate testdata/fuzz")
	}
	jpg := synth.JPEG(synth.Options{Seed: 16, Width: 16, Height: 16})
	png := synth.PNG(synth.Options{Seed: 16, Width: 16, Height: 12})
	gray := synth.JPEG(synth.Options{Seed: 17, Width: 8, Height: 8, Gray: true})
	inspect := map[string][]byte{
		"jpeg-16x16":                   jpg,
		"png-16x12":                    png,
		"jpeg-gray-8x8":                gray,
		"jpeg-exif-6":                  afterSOI(jpg, exifSegment("MM", 6)),
		"jpeg-exif-8-II":               afterSOI(jpg, exifSegment("II", 8)),
		"jpeg-truncated":               jpg[:len(jpg)/2],
		"png-truncated":                png[:len(png)-20],
		"png-bomb-header":              pngHeader(100000, 100000),
		"png-header-only":              pngHeader(16, 16),
		"jpeg-bomb-header":             jpegHeader(65535, 65535),
		"jpeg-header-only":             jpegHeader(16, 16),
		"gif-header":                   []byte("GIF89a\x10\x00\x10\x00\x80\x00\x00"),
		"text":                         []byte("this is not an image\n"),
		"empty":                        {},
		"jpeg-soi-only":                {0xFF, 0xD8, 0xFF},
		"jpeg-zero-width-sof":          jpegHeader(0, 16),
		"png16-rgba-imagingtest.Adam7": noisyPNG16(3, 9, 7, 6, true, nil),
		"png16-gray-trns":              noisyPNG16(4, 5, 3, 0, false, []byte{0x12, 0x34}),
	}
	exif := map[string][]byte{
		"II-1":             tiffOrientation("II", 0x0112, 3, 1, 1),
		"MM-6":             tiffOrientation("MM", 0x0112, 3, 1, 6),
		"II-8":             tiffOrientation("II", 0x0112, 3, 1, 8),
		"MM-9":             tiffOrientation("MM", 0x0112, 3, 1, 9),
		"II-LONG":          tiffOrientation("II", 0x0112, 4, 1, 6),
		"MM-other-tag":     tiffOrientation("MM", 0x0110, 3, 1, 6),
		"II-cut":           tiffOrientation("II", 0x0112, 3, 1, 6)[:14],
		"MM-offset-beyond": append([]byte("MM\x00\x2a\x7f\xff\xff\xf0"), tiffOrientation("MM", 0x0112, 3, 1, 5)[8:]...),
		"empty":            {},
	}
	for name, corpus := range map[string]map[string][]byte{"FuzzInspect": inspect, "FuzzExifOrientation": exif} {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for seed, data := range corpus {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
			if err := os.WriteFile(filepath.Join(dir, seed), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
