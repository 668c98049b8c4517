// Package imaging is the photo app's image pipeline, shared by both
// architectures: validate an upload before decoding it, decode it honouring
// EXIF orientation, and make the JPEG thumbnails.
//
// Validation never decodes pixels: it checks the byte limit, recognises the
// format by its magic bytes, and reads the dimensions from the header, so a
// decompression bomb (a small file announcing a huge image) is refused
// before any pixel memory is allocated.
package imaging

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"

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
	switch {
	case bytes.HasPrefix(data, magicJPEG):
		info.Format = photo.FormatJPEG
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
		if err == nil {
			info.Orientation = exifOrientation(data)
		}
	case bytes.HasPrefix(data, magicPNG):
		info.Format = photo.FormatPNG
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
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
	if px := int64(cfg.Width) * int64(cfg.Height); px > lim.MaxPixels {
		return Info{}, photo.Errorf(photo.TooManyPixels, "image is %dx%d = %d pixels, over the limit of %d", cfg.Width, cfg.Height, px, lim.MaxPixels)
	}
	info.Width, info.Height = cfg.Width, cfg.Height
	if info.Orientation >= 5 {
		info.Width, info.Height = cfg.Height, cfg.Width
	}
	return info, nil
}

// Decode decodes an image that Inspect accepted. A truncated or corrupt
// image is an Invalid error. The returned image is as stored; apply
// info.Orientation with Orient (Thumbnails does).
func Decode(data []byte, info Info) (image.Image, error) {
	var (
		img image.Image
		err error
	)
	switch info.Format {
	case photo.FormatJPEG:
		img, err = jpeg.Decode(bytes.NewReader(data))
	case photo.FormatPNG:
		img, err = png.Decode(bytes.NewReader(data))
	default:
		return nil, photo.Errorf(photo.Unsupported, "format %q is not supported", info.Format)
	}
	if err != nil {
		return nil, &photo.Error{Kind: photo.Invalid, Message: fmt.Sprintf("the %s data is truncated or corrupt", info.Format), Err: err}
	}
	return img, nil
}
