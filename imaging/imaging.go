// Package imaging is the photo app's image pipeline, shared by both
// architectures: validate an upload before decoding it, decode it honouring
// EXIF orientation, and make the JPEG thumbnails.
//
// Validation never decodes pixels: it checks the byte limit, recognises the
// format by its magic bytes, and reads the dimensions from the header (its
// own parse of the JPEG frame header and PNG IHDR first, then the standard
// library's), so a decompression bomb (a small file announcing a huge
// image) is refused before any pixel memory is allocated, even when nothing
// follows its header.
//
// Decoding is bounded in memory as well as in pixels: Inspect estimates
// from the header what decoding and thumbnailing will take (Info.DecodeBytes;
// estimate.go), and Decode reserves that in the process's decode budget
// (budget.go) until the caller releases it. 16-bit PNGs are decoded
// straight to 8 bits (png16.go).
//
// Thumbnails are resampled by the package's own separable fixed-point
// Catmull-Rom filter, run on the decoded image's planes (JPEG chroma at its
// subsampled resolution); the small thumbnail is made from the large one.
// Chosen by benchmark (SCALER.md; median of 5 runs, 2-core AMD EPYC,
// go1.26.8, 12 MP 4:2:0 source): 44 ms [43.8-44.2] to 1024x768 against
// 16 ms for x/image ApproxBiLinear, which aliases (a 1-px checkerboard
// keeps 15.5 dB of ripple against 59.9 dB here), and 251 ms and 102 MB
// allocated for x/image CatmullRom, whose quality it matches (photo PSNR
// against an exact area average: 53.4 dB against 52.0). The cascade's
// small thumbnail is as good as a direct one (50.7 against 50.5 dB) for
// 6.8 ms instead of 27 ms.
//
// The whole pipeline (Process) takes 38 ms for a 1 MP JPEG and 138 ms for
// a 12 MP one on one core; with both cores of that machine busy it tops out
// at about 51 and 13.6 photos/s (BENCHMARKS.md).
package imaging

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"sync"

	"github.com/photobench/photobench/photo"
)

// Limits bound what an upload may be.
type Limits struct {
	// MaxBytes is the largest accepted encoded size.
	MaxBytes int64
	// MaxPixels is the largest accepted width x height.
	MaxPixels int64
}

// DefaultLimits are 20 MiB and 40 megapixels.
var DefaultLimits = Limits{MaxBytes: 20 << 20, MaxPixels: 40_000_000}

// Info is what validation learns from an image's header.
type Info struct {
	Format photo.Format
	// Width and Height are as displayed: for a JPEG whose EXIF orientation
	// rotates by 90 or 270 degrees they are the stored ones swapped.
	Width, Height int
	// Orientation is the EXIF orientation, 1 (as stored) to 8.
	Orientation int
	// Bytes is the encoded size.
	Bytes int64
	// DecodeBytes is the estimated peak memory of decoding the image and
	// making its thumbnails, from its header (estimate.go): what Decode
	// reserves in the process's decode budget.
	DecodeBytes int64
}

// ReadBody reads an upload of at most lim.MaxBytes bytes. A longer body is
// a TooLarge error, noticed after reading at most one byte past the limit.
func ReadBody(r io.Reader, lim Limits) ([]byte, error) {
	var b bytes.Buffer
	n, err := b.ReadFrom(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(lim)
		}
		return nil, &photo.Error{Kind: photo.Invalid, Message: "could not read the request body", Err: err}
	}
	if n > lim.MaxBytes {
		return nil, tooLarge(lim)
	}
	return b.Bytes(), nil
}

func tooLarge(lim Limits) error {
	return photo.Errorf(photo.TooLarge, "image is larger than the limit of %d bytes", lim.MaxBytes)
}

var (
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
	magicGIF  = []byte("GIF8")
)

var (
	jpegEOI = []byte{0xFF, 0xD9}
	pngIEND = []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82}
)

// Complete reports whether an image that Inspect accepted ends as a whole
// file of its format does: a JPEG with the EOI marker (after any zero
// padding some encoders append), a PNG with the IEND chunk. It reads only
// the last bytes, so an app that answers before decoding (the event-driven
// ingest, the asynchronous monolith) refuses a truncated upload (a cut-off
// transfer) with 400 at once rather than storing it and failing it later;
// a complete but corrupt image still passes and fails in the decode.
func Complete(data []byte, info Info) bool {
	switch info.Format {
	case photo.FormatJPEG:
		return bytes.HasSuffix(bytes.TrimRight(data, "\x00"), jpegEOI)
	case photo.FormatPNG:
		return bytes.HasSuffix(data, pngIEND)
	}
	return false
}

// Inspect validates an encoded image without decoding its pixels: size,
// format, header dimensions, pixel limit. Errors are *photo.Error of kind
// Invalid (empty, unreadable header, zero size), Unsupported (not JPEG or
// PNG), TooLarge or TooManyPixels.
func Inspect(data []byte, lim Limits) (Info, error) {
	if len(data) == 0 {
		return Info{}, photo.Errorf(photo.Invalid, "empty body: send the image bytes")
	}
	if int64(len(data)) > lim.MaxBytes {
		return Info{}, tooLarge(lim)
	}
	info := Info{Bytes: int64(len(data)), Orientation: 1}
	var (
		cfg image.Config
		err error
	)
	// The pixel limit is checked on the dimensions read from the frame
	// header by hand before the standard decoder looks at the file: a bomb
	// is refused as such even when nothing follows its header.
	switch {
	case bytes.HasPrefix(data, magicJPEG):
		info.Format = photo.FormatJPEG
		h := scanJPEG(data)
		if err := checkPixels(int64(h.width), int64(h.height), lim); err != nil {
			return Info{}, err
		}
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
		info.Orientation = h.orientation
		if err == nil {
			info.DecodeBytes = withSlack(jpegCost(h, int64(cfg.Width), int64(cfg.Height)))
		}
	case bytes.HasPrefix(data, magicPNG):
		info.Format = photo.FormatPNG
		if len(data) >= 24 && string(data[12:16]) == "IHDR" {
			w, h := binary.BigEndian.Uint32(data[16:]), binary.BigEndian.Uint32(data[20:])
			if err := checkPixels(int64(w), int64(h), lim); err != nil {
				return Info{}, err
			}
		}
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
		if err == nil {
			info.DecodeBytes = withSlack(pngCost(scanPNG(data), int64(cfg.Width), int64(cfg.Height)))
		}
	case bytes.HasPrefix(data, magicGIF):
		return Info{}, photo.Errorf(photo.Unsupported, "GIF is not supported: send JPEG or PNG")
	default:
		return Info{}, photo.Errorf(photo.Unsupported, "not a JPEG or PNG image")
	}
	if err != nil {
		return Info{}, &photo.Error{Kind: photo.Invalid, Message: fmt.Sprintf("cannot read the %s header", info.Format), Err: err}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return Info{}, photo.Errorf(photo.Invalid, "image has no pixels (%dx%d)", cfg.Width, cfg.Height)
	}
	if err := checkPixels(int64(cfg.Width), int64(cfg.Height), lim); err != nil {
		return Info{}, err
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if info.Orientation >= 5 {
		info.Width, info.Height = cfg.Height, cfg.Width
	}
	return info, nil
}

// checkPixels is a TooManyPixels error when a w x h image is over the
// pixel limit.
func checkPixels(w, h int64, lim Limits) error {
	if px := w * h; px > lim.MaxPixels {
		return photo.Errorf(photo.TooManyPixels, "image is %dx%d = %d pixels, over the limit of %d", w, h, px, lim.MaxPixels)
	}
	return nil
}

// Decode decodes an image that Inspect accepted, within the process's
// decode budget: it first reserves info.DecodeBytes, waiting while other
// decodes hold the budget, and the caller calls release once done with the
// image (and its thumbnails). Errors: TooManyPixels when the estimate
// alone is over the budget; Invalid for a truncated or corrupt image;
// ctx's error when ctx ends while waiting. The returned image is as
// stored; apply info.Orientation with Orient (Thumbnails does).
func Decode(ctx context.Context, data []byte, info Info) (img image.Image, release func(), err error) {
	var dec func(io.Reader) (image.Image, error)
	switch info.Format {
	case photo.FormatJPEG:
		dec = jpeg.Decode
	case photo.FormatPNG:
		dec = png.Decode
		if scanPNG(data).depth == 16 {
			dec = func(io.Reader) (image.Image, error) { return decodePNG16(data) }
		}
	default:
		return nil, nil, photo.Errorf(photo.Unsupported, "format %q is not supported", info.Format)
	}
	b, err := processBudget()
	if err != nil {
		return nil, nil, err
	}
	n := info.DecodeBytes
	if err := b.Acquire(ctx, n); err != nil {
		return nil, nil, err
	}
	var once sync.Once
	release = func() { once.Do(func() { b.Release(n) }) }
	img, err = dec(bytes.NewReader(data))
	if err != nil {
		release()
		return nil, nil, &photo.Error{Kind: photo.Invalid, Message: fmt.Sprintf("the %s data is truncated or corrupt", info.Format), Err: err}
	}
	return img, release, nil
}
