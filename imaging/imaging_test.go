package imaging_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
)

// checkError fails unless err is a *photo.Error of the kind, with a
// message containing msg.
func checkError(t *testing.T, err error, kind photo.Kind, msg string) {
	t.Helper()
	var pe *photo.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v (%T), want a *photo.Error of kind %s", err, err, kind)
	}
	if pe.Kind != kind || !strings.Contains(pe.Message, msg) {
		t.Fatalf("error = %s %q, want %s with a message containing %q", pe.Kind, pe.Message, kind, msg)
	}
}

// withSOF returns a copy of a JPEG whose first frame header announces
// w x h instead: a whole, well-formed file that is a bomb.
func withSOF(t *testing.T, jpg []byte, w, h uint16) []byte {
	t.Helper()
	out := append([]byte{}, jpg...)
	i := bytes.Index(out, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 segment")
	}
	out[i+5], out[i+6] = byte(h>>8), byte(h)
	out[i+7], out[i+8] = byte(w>>8), byte(w)
	return out
}

func TestInspect(t *testing.T) {
	jpg := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	png := synth.PNG(synth.Options{Seed: 2, Width: 48, Height: 64})
	small := imaging.Limits{MaxBytes: 1 << 20, MaxPixels: 1_000_000}
	tests := []struct {
		name string
		data []byte
		lim  imaging.Limits
		want imaging.Info
		kind photo.Kind // "" when accepted
		msg  string     // part of the message
	}{
		{name: "jpeg", data: jpg, want: imaging.Info{Format: photo.FormatJPEG, Width: 64, Height: 48, Orientation: 1, Bytes: int64(len(jpg))}},
		{name: "png", data: png, want: imaging.Info{Format: photo.FormatPNG, Width: 48, Height: 64, Orientation: 1, Bytes: int64(len(png))}},
		{name: "exactly the byte limit", data: jpg, lim: imaging.Limits{MaxBytes: int64(len(jpg)), MaxPixels: 64 * 48},
			want: imaging.Info{Format: photo.FormatJPEG, Width: 64, Height: 48, Orientation: 1, Bytes: int64(len(jpg))}},
		{name: "empty", data: nil, kind: photo.Invalid, msg: "empty body"},
		{name: "empty slice", data: []byte{}, kind: photo.Invalid, msg: "empty body"},
		{name: "text", data: []byte("hello, this is not an image\n"), kind: photo.Unsupported, msg: "not a JPEG or PNG"},
		{name: "one byte", data: []byte{0xFF}, kind: photo.Unsupported, msg: "not a JPEG or PNG"},
		{name: "gif", data: []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"), kind: photo.Unsupported, msg: "GIF is not supported"},
		{name: "gif87a", data: []byte("GIF87a"), kind: photo.Unsupported, msg: "GIF is not supported"},
		{name: "over the byte limit", data: jpg, lim: imaging.Limits{MaxBytes: 100, MaxPixels: 1 << 30}, kind: photo.TooLarge, msg: "larger than the limit of 100 bytes"},
		{name: "png bomb header", data: pngHeader(100000, 100000), kind: photo.TooManyPixels, msg: "100000x100000 = 10000000000 pixels, over the limit of 40000000"},
		{name: "png bomb, bad CRC", data: flipLastByte(pngHeader(100000, 100000)), kind: photo.TooManyPixels, msg: "100000x100000"},
		{name: "png one pixel over", data: pngHeader(1001, 1000), lim: small, kind: photo.TooManyPixels, msg: "1001x1000 = 1001000 pixels, over the limit of 1000000"},
		{name: "png header at the limit", data: pngHeader(1000, 1000), lim: small,
			want: imaging.Info{Format: photo.FormatPNG, Width: 1000, Height: 1000, Orientation: 1, Bytes: 33}},
		{name: "jpeg bomb header", data: jpegHeader(65535, 65535), kind: photo.TooManyPixels, msg: "65535x65535 = 4294836225 pixels"},
		{name: "jpeg bomb, whole file", data: withSOF(t, jpg, 50000, 40000), kind: photo.TooManyPixels, msg: "50000x40000"},
		{name: "jpeg one pixel over", data: withSOF(t, jpg, 1001, 1000), lim: small, kind: photo.TooManyPixels, msg: "1001x1000"},
		{name: "jpeg header only", data: jpegHeader(100, 100), kind: photo.Invalid, msg: "cannot read the jpeg header"},
		{name: "jpeg magic only", data: []byte{0xFF, 0xD8, 0xFF}, kind: photo.Invalid, msg: "cannot read the jpeg header"},
		{name: "png signature only", data: []byte("\x89PNG\r\n\x1a\n"), kind: photo.Invalid, msg: "cannot read the png header"},
		{name: "png zero width", data: pngHeader(0, 10), kind: photo.Invalid, msg: "cannot read the png header"},
		{name: "png bad CRC", data: flipLastByte(pngHeader(10, 10)), kind: photo.Invalid, msg: "cannot read the png header"},
		{name: "jpeg zero height", data: withSOF(t, jpg, 64, 0), kind: photo.Invalid, msg: ""},
		{name: "jpeg zero width", data: withSOF(t, jpg, 0, 48), kind: photo.Invalid, msg: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := tt.lim
			if lim == (imaging.Limits{}) {
				lim = imaging.DefaultLimits
			}
			info, err := imaging.Inspect(tt.data, lim)
			if tt.kind != "" {
				checkError(t, err, tt.kind, tt.msg)
				if info != (imaging.Info{}) {
					t.Errorf("info = %+v with an error, want zero", info)
				}
				return
			}
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.DecodeBytes <= 0 {
				t.Errorf("DecodeBytes = %d, want an estimate", info.DecodeBytes)
			}
			info.DecodeBytes = 0 // TestDecodeEstimate checks it
			if info != tt.want {
				t.Errorf("info = %+v, want %+v", info, tt.want)
			}
		})
	}
}

func flipLastByte(b []byte) []byte {
	out := append([]byte{}, b...)
	out[len(out)-1] ^= 0xFF
	return out
}

func TestInspectOrientation(t *testing.T) {
	jpg := synth.JPEG(synth.Options{Seed: 3, Width: 40, Height: 20})
	for _, order := range []string{"II", "MM"} {
		for o := 1; o <= 8; o++ {
			t.Run(order+"/"+string(rune('0'+o)), func(t *testing.T) {
				info, err := imaging.Inspect(afterSOI(jpg, exifSegment(order, uint16(o))), imaging.DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				w, h := 40, 20
				if o >= 5 { // turned by 90 or 270 degrees
					w, h = 20, 40
				}
				if info.Orientation != o || info.Width != w || info.Height != h {
					t.Errorf("orientation %d, %dx%d; want %d, %dx%d", info.Orientation, info.Width, info.Height, o, w, h)
				}
			})
		}
	}
}

func TestInspectOrientationMalformed(t *testing.T) {
	jpg := synth.JPEG(synth.Options{Seed: 3, Width: 40, Height: 20})
	good := tiffOrientation("MM", 0x0112, 3, 1, 6)
	tests := []struct {
		name string
		segs [][]byte // inserted after SOI, in order
		want int
	}{
		{"none", nil, 1},
		{"zero", [][]byte{exifSegment("II", 0)}, 1},
		{"nine", [][]byte{exifSegment("MM", 9)}, 1},
		{"big value", [][]byte{exifSegment("II", 0x0600)}, 1},
		{"LONG type", [][]byte{app1(tiffOrientation("II", 0x0112, 4, 1, 6))}, 1},
		{"zero count", [][]byte{app1(tiffOrientation("II", 0x0112, 3, 0, 6))}, 1},
		{"other tag only", [][]byte{app1(tiffOrientation("MM", 0x0110, 3, 1, 6))}, 1},
		{"byte order XX", [][]byte{app1(append([]byte("XX"), good[2:]...))}, 1},
		{"wrong magic", [][]byte{app1(append([]byte("MM\x00\x2b"), good[4:]...))}, 1},
		{"IFD offset past the end", [][]byte{app1(append([]byte("MM\x00\x2a\x7f\xff\xff\xff"), good[8:]...))}, 1},
		{"IFD offset into the header", [][]byte{app1(append([]byte("MM\x00\x2a\x00\x00\x00\x02"), good[8:]...))}, 1},
		{"entry cut short", [][]byte{app1(good[:16])}, 1},
		{"header cut short", [][]byte{app1(good[:6])}, 1},
		{"not Exif", [][]byte{append([]byte{0xFF, 0xE1, 0, 8}, "XMP\x00\x00\x00"...)}, 1},
		{"second APP1 counts when the first has none", [][]byte{exifSegment("II", 0), exifSegment("MM", 8)}, 8},
		{"the first orientation wins", [][]byte{exifSegment("II", 3), exifSegment("MM", 8)}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := jpg
			for i := len(tt.segs) - 1; i >= 0; i-- {
				data = afterSOI(data, tt.segs[i])
			}
			info, err := imaging.Inspect(data, imaging.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if info.Orientation != tt.want {
				t.Errorf("orientation = %d, want %d", info.Orientation, tt.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	jpg := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	png := synth.PNG(synth.Options{Seed: 2, Width: 48, Height: 64})
	gray := synth.JPEG(synth.Options{Seed: 3, Width: 30, Height: 20, Gray: true})
	tests := []struct {
		name   string
		data   []byte
		w, h   int
		kind   photo.Kind
		inspct bool // whether Inspect accepts it
	}{
		{name: "jpeg", data: jpg, w: 64, h: 48, inspct: true},
		{name: "png", data: png, w: 48, h: 64, inspct: true},
		{name: "gray jpeg", data: gray, w: 30, h: 20, inspct: true},
		{name: "truncated jpeg", data: jpg[:len(jpg)/2], kind: photo.Invalid, inspct: true},
		{name: "jpeg without EOI", data: jpg[:len(jpg)-2], kind: photo.Invalid, inspct: true},
		{name: "truncated png", data: png[:len(png)/2], kind: photo.Invalid, inspct: true},
		{name: "png without IEND", data: png[:len(png)-12], kind: photo.Invalid, inspct: true},
		{name: "png header only", data: pngHeader(10, 10), kind: photo.Invalid, inspct: true},
		{name: "corrupt png data", data: corruptMiddle(png), kind: photo.Invalid, inspct: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := imaging.Inspect(tt.data, imaging.DefaultLimits)
			if (err == nil) != tt.inspct {
				t.Fatalf("Inspect: %v, want accepted = %v", err, tt.inspct)
			}
			img, release, err := imaging.Decode(context.Background(), tt.data, info)
			if tt.kind != "" {
				checkError(t, err, tt.kind, "the "+string(info.Format)+" data is truncated or corrupt")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			if b := img.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
				t.Errorf("bounds %v, want %dx%d", b, tt.w, tt.h)
			}
		})
	}
	t.Run("unknown format", func(t *testing.T) {
		_, _, err := imaging.Decode(context.Background(), jpg, imaging.Info{Format: "gif"})
		checkError(t, err, photo.Unsupported, `format "gif" is not supported`)
	})
}

// corruptMiddle flips bytes in the middle of a file (for a PNG: inside
// the IDAT chunk, so its CRC no longer matches).
func corruptMiddle(b []byte) []byte {
	out := append([]byte{}, b...)
	for i := len(out) / 2; i < len(out)/2+8; i++ {
		out[i] ^= 0x5A
	}
	return out
}

func TestReadBody(t *testing.T) {
	lim := imaging.Limits{MaxBytes: 10, MaxPixels: 100}
	tests := []struct {
		name string
		r    func() io.Reader
		want string
		kind photo.Kind
		msg  string
	}{
		{name: "empty", r: func() io.Reader { return strings.NewReader("") }, want: ""},
		{name: "under the limit", r: func() io.Reader { return strings.NewReader("123") }, want: "123"},
		{name: "at the limit", r: func() io.Reader { return strings.NewReader("0123456789") }, want: "0123456789"},
		{name: "one byte over", r: func() io.Reader { return strings.NewReader("0123456789A") }, kind: photo.TooLarge, msg: "larger than the limit of 10 bytes"},
		{name: "far over", r: func() io.Reader { return strings.NewReader(strings.Repeat("x", 1<<20)) }, kind: photo.TooLarge, msg: "larger than the limit of 10 bytes"},
		{name: "one byte at a time, over", r: func() io.Reader { return iotest.OneByteReader(strings.NewReader("0123456789AB")) }, kind: photo.TooLarge},
		{name: "MaxBytesReader", r: func() io.Reader {
			return http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader("0123456789")), 5)
		}, kind: photo.TooLarge, msg: "larger than the limit"},
		{name: "MaxBytesReader within its limit", r: func() io.Reader {
			return http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader("01234")), 5)
		}, want: "01234"},
		{name: "read error", r: func() io.Reader { return iotest.ErrReader(errors.New("connection reset")) }, kind: photo.Invalid, msg: "could not read the request body"},
		{name: "read error after data", r: func() io.Reader {
			return io.MultiReader(strings.NewReader("012"), iotest.ErrReader(io.ErrUnexpectedEOF))
		}, kind: photo.Invalid, msg: "could not read the request body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := imaging.ReadBody(tt.r(), lim)
			if tt.kind != "" {
				checkError(t, err, tt.kind, tt.msg)
				if got != nil {
					t.Errorf("body = %q with an error, want nil", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("body = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadBodyKeepsCause(t *testing.T) {
	cause := errors.New("connection reset")
	_, err := imaging.ReadBody(iotest.ErrReader(cause), imaging.DefaultLimits)
	if !errors.Is(err, cause) {
		t.Errorf("error %v does not wrap its cause", err)
	}
}

func TestFit(t *testing.T) {
	tests := []struct {
		name         string
		w, h, bound  int
		wantW, wantH int
	}{
		{"smaller stays", 100, 50, 256, 100, 50},
		{"exactly the bound", 256, 256, 256, 256, 256},
		{"one side at the bound", 256, 10, 256, 256, 10},
		{"landscape 4:3", 4000, 3000, 1024, 1024, 768},
		{"portrait 3:4", 3000, 4000, 1024, 768, 1024},
		{"square", 5000, 5000, 256, 256, 256},
		{"rounds to nearest", 1000, 333, 256, 256, 85}, // 85.248
		{"rounds half up", 1024, 2, 256, 256, 1},       // 0.5
		{"thin keeps 1 px", 100000, 1, 256, 256, 1},
		{"tall keeps 1 px", 1, 100000, 256, 1, 256},
		{"one pixel", 1, 1, 256, 1, 1},
		{"one over", 1025, 1024, 1024, 1024, 1023}, // 1023.0009
		{"16:9", 1920, 1080, 1024, 1024, 576},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, h := imaging.Fit(tt.w, tt.h, tt.bound)
			if w != tt.wantW || h != tt.wantH {
				t.Fatalf("Fit(%d, %d, %d) = %dx%d, want %dx%d", tt.w, tt.h, tt.bound, w, h, tt.wantW, tt.wantH)
			}
			checkFits(t, tt.w, tt.h, w, h, tt.bound)
		})
	}
}

// checkFits checks the properties every thumbnail size has: within the
// bound, not upscaled, at least 1x1, aspect ratio kept within a pixel.
func checkFits(t *testing.T, w, h, tw, th, bound int) {
	t.Helper()
	if tw > bound || th > bound {
		t.Errorf("%dx%d exceeds %d", tw, th, bound)
	}
	if tw > w || th > h {
		t.Errorf("%dx%d upscales %dx%d", tw, th, w, h)
	}
	if tw < 1 || th < 1 {
		t.Errorf("%dx%d is empty", tw, th)
	}
	if w <= bound && h <= bound && (tw != w || th != h) {
		t.Errorf("%dx%d resized though it fits as %dx%d", w, h, tw, th)
	}
	// The short side follows from the long one.
	long, short, tlong, tshort := w, h, tw, th
	if h > w {
		long, short, tlong, tshort = h, w, th, tw
	}
	if d := float64(tlong)*float64(short)/float64(long) - float64(tshort); d > 1 || d < -1 {
		t.Errorf("%dx%d from %dx%d: aspect ratio off by %.2f px", tw, th, w, h, d)
	}
}

func TestThumbnails(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		gray bool
		png  bool
	}{
		{name: "4:3", w: 2000, h: 1500},
		{name: "3:4", w: 1500, h: 2000},
		{name: "png", w: 1300, h: 700, png: true},
		{name: "gray", w: 1100, h: 1100, gray: true},
		{name: "between the sizes", w: 600, h: 400},
		{name: "small stays small", w: 100, h: 50},
		{name: "exactly large", w: 1024, h: 768},
		{name: "thin", w: 2000, h: 10},
		{name: "one pixel", w: 1, h: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := synth.Options{Seed: 7, Width: tt.w, Height: tt.h, Gray: tt.gray}
			data := synth.JPEG(o)
			if tt.png {
				data = synth.PNG(o)
			}
			res, err := imaging.Process(context.Background(), data, imaging.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if res.Info.Width != tt.w || res.Info.Height != tt.h {
				t.Errorf("info %dx%d, want %dx%d", res.Info.Width, res.Info.Height, tt.w, tt.h)
			}
			if len(res.Thumbs) != len(photo.Sizes) {
				t.Fatalf("%d thumbnails, want %d", len(res.Thumbs), len(photo.Sizes))
			}
			for i, th := range res.Thumbs {
				if th.Size != photo.Sizes[i] {
					t.Errorf("thumbnail %d is %s, want %s", i, th.Size, photo.Sizes[i])
				}
				img, format, err := image.Decode(bytes.NewReader(th.JPEG))
				if err != nil || format != "jpeg" {
					t.Fatalf("%s: decode: %v (format %q)", th.Size, err, format)
				}
				if b := img.Bounds(); b.Dx() != th.Width || b.Dy() != th.Height {
					t.Errorf("%s: JPEG is %v, Thumb says %dx%d", th.Size, b, th.Width, th.Height)
				}
				checkFits(t, tt.w, tt.h, th.Width, th.Height, th.Size.Bound())
			}
		})
	}
}

func TestThumbnailsEmpty(t *testing.T) {
	_, err := imaging.Thumbnails(image.NewRGBA(image.Rect(0, 0, 0, 5)), 1)
	checkError(t, err, photo.Invalid, "no pixels")
}

// TestThumbnailsOrientation turns a photo whose quadrants are red, green,
// blue and white (top-left, top-right, bottom-left, bottom-right as
// stored) by each EXIF orientation and checks where the colours land. The
// expectations follow the EXIF definitions ("the 0th row is the visual
// right-hand side...") directly, not the code.
func TestThumbnailsOrientation(t *testing.T) {
	want := map[int]string{
		1: "RG/BW", // as stored
		2: "GR/WB", // mirrored left to right
		3: "WB/GR", // turned 180
		4: "BW/RG", // mirrored top to bottom
		5: "RB/GW", // transposed: first row on the left, first column on top
		6: "BR/WG", // turned 90 clockwise: first row on the right
		7: "WG/BR", // transverse: first row on the right, first column at the bottom
		8: "GW/RB", // turned 90 counter-clockwise: first row on the left
	}
	stored := encodeJPEG(t, quadrantImage(400, 200))
	for _, order := range []string{"II", "MM"} {
		for o := 1; o <= 8; o++ {
			t.Run(order+"/"+string(rune('0'+o)), func(t *testing.T) {
				res, err := imaging.Process(context.Background(), afterSOI(stored, exifSegment(order, uint16(o))), imaging.DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				w, h := 400, 200
				if o >= 5 {
					w, h = 200, 400
				}
				if res.Info.Orientation != o || res.Info.Width != w || res.Info.Height != h {
					t.Errorf("info %+v, want orientation %d, %dx%d", res.Info, o, w, h)
				}
				for _, th := range res.Thumbs {
					img, err := jpegDecode(th.JPEG)
					if err != nil {
						t.Fatal(err)
					}
					tw, thh := imaging.Fit(w, h, th.Size.Bound())
					if b := img.Bounds(); b.Dx() != tw || b.Dy() != thh {
						t.Errorf("%s: %v, want %dx%d", th.Size, b, tw, thh)
					}
					if got := quadrants(img); got != want[o] {
						t.Errorf("%s: quadrants %s, want %s", th.Size, got, want[o])
					}
				}
			})
		}
	}
}

func jpegDecode(b []byte) (image.Image, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	return img, err
}

// TestOrient checks the exact pixel mapping on a 3x2 image with a
// distinct value per pixel:
//
//	a b c
//	d e f
func TestOrient(t *testing.T) {
	want := map[int][]string{
		1: {"abc", "def"},
		2: {"cba", "fed"},
		3: {"fed", "cba"},
		4: {"def", "abc"},
		5: {"ad", "be", "cf"},
		6: {"da", "eb", "fc"},
		7: {"fc", "eb", "da"},
		8: {"cf", "be", "ad"},
		0: {"abc", "def"}, // out of range: unchanged
		9: {"abc", "def"},
	}
	src := image.NewRGBA(image.Rect(10, 20, 13, 22)) // not at the origin
	for i, c := range "abcdef" {
		src.Pix[src.PixOffset(10+i%3, 20+i/3)] = byte(c)
	}
	for o, rows := range want {
		t.Run(string(rune('0'+o)), func(t *testing.T) {
			out := imaging.Orient(src, o)
			b := out.Bounds()
			var got []string
			for y := b.Min.Y; y < b.Max.Y; y++ {
				var row []byte
				for x := b.Min.X; x < b.Max.X; x++ {
					row = append(row, out.Pix[out.PixOffset(x, y)])
				}
				got = append(got, string(row))
			}
			if strings.Join(got, "/") != strings.Join(rows, "/") {
				t.Errorf("got %s, want %s", strings.Join(got, "/"), strings.Join(rows, "/"))
			}
		})
	}
}

func TestProcessErrors(t *testing.T) {
	jpg := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	tests := []struct {
		name string
		data []byte
		kind photo.Kind
	}{
		{"empty", nil, photo.Invalid},
		{"text", []byte("plain text"), photo.Unsupported},
		{"bomb", pngHeader(100000, 100000), photo.TooManyPixels},
		{"truncated", jpg[:len(jpg)*2/3], photo.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := imaging.Process(context.Background(), tt.data, imaging.DefaultLimits)
			if k := photo.KindOf(err); k != tt.kind {
				t.Errorf("kind %q (%v), want %q", k, err, tt.kind)
			}
			if res.Thumbs != nil {
				t.Errorf("thumbnails with an error")
			}
		})
	}
}

func TestSmallThumbnailMatchesThumbnails(t *testing.T) {
	for _, o := range []int{1, 6} {
		data := synth.JPEG(synth.Options{Seed: 11, Width: 1500, Height: 1000})
		img := decode(t, data)
		all, err := imaging.Thumbnails(img, o)
		if err != nil {
			t.Fatal(err)
		}
		small, err := imaging.SmallThumbnail(img, o)
		if err != nil {
			t.Fatal(err)
		}
		if small.Size != photo.SizeSmall || !bytes.Equal(small.JPEG, all[0].JPEG) {
			t.Errorf("orientation %d: SmallThumbnail differs from Thumbnails' small one", o)
		}
	}
}
func TestComplete(t *testing.T) {
	jpeg := synth.JPEG(synth.Options{Seed: 10, Width: 16, Height: 16})
	png := synth.PNG(synth.Options{Seed: 11, Width: 16, Height: 16})
	jpegInfo := imaging.Info{Format: photo.FormatJPEG}
	pngInfo := imaging.Info{Format: photo.FormatPNG}
	tests := []struct {
		name string
		data []byte
		info imaging.Info
		want bool
	}{
		{"jpeg", jpeg, jpegInfo, true},
		{"jpeg zero padded", append(bytes.Clone(jpeg), 0, 0), jpegInfo, true},
		{"jpeg truncated", jpeg[:len(jpeg)-1], jpegInfo, false},
		{"jpeg trailing junk", append(bytes.Clone(jpeg), 'x'), jpegInfo, false},
		{"jpeg all zeros", make([]byte, 16), jpegInfo, false},
		{"png", png, pngInfo, true},
		{"png truncated", png[:len(png)-1], pngInfo, false},
		{"png trailing zero", append(bytes.Clone(png), 0), pngInfo, false},
		{"unknown format", jpeg, imaging.Info{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := imaging.Complete(tt.data, tt.info); got != tt.want {
				t.Errorf("complete = %v, want %v", got, tt.want)
			}
		})
	}
}
