package imaging

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"

	xdraw "golang.org/x/image/draw"

	"github.com/photobench/photobench/photo"
)

// Thumb is one encoded thumbnail.
type Thumb struct {
	Size          photo.Size
	Width, Height int
	JPEG          []byte
}

// ThumbnailQuality is the JPEG quality of thumbnails.
const ThumbnailQuality = 80

// scaler resamples images for thumbnails; see the package benchmarks for
// why this one.
var scaler xdraw.Scaler = xdraw.ApproxBiLinear

// Fit returns the size of a w x h image scaled to fit in a bound x bound
// square, aspect ratio kept, never upscaled, at least 1x1.
func Fit(w, h, bound int) (int, int) {
	if w <= bound && h <= bound {
		return w, h
	}
	if w >= h {
		return bound, max(1, (h*bound+w/2)/w)
	}
	return max(1, (w*bound+h/2)/h), bound
}

// Thumbnails makes every size's thumbnail of img (as stored), oriented by
// orientation (EXIF, 1..8). The large one is scaled from the original, the
// smaller from the large one, which is much cheaper and, at that ratio,
// indistinguishable.
func Thumbnails(img image.Image, orientation int) ([]Thumb, error) {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy() // as stored
	var thumbs []Thumb
	src := img
	for i := len(photo.Sizes) - 1; i >= 0; i-- {
		size := photo.Sizes[i]
		// Fit in displayed orientation: swap for 90/270 degree turns.
		dw, dh := Fit(sw, sh, size.Bound())
		if orientation >= 5 {
			h, w := Fit(sh, sw, size.Bound())
			dw, dh = w, h
		}
		dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
		if dw == src.Bounds().Dx() && dh == src.Bounds().Dy() {
			draw.Draw(dst, dst.Bounds(), src, src.Bounds().Min, draw.Src)
		} else {
			scaler.Scale(dst, dst.Bounds(), src, src.Bounds(), xdraw.Src, nil)
		}
		src = dst
		out := Orient(dst, orientation)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: ThumbnailQuality}); err != nil {
			return nil, fmt.Errorf("encode %s thumbnail: %w", size, err)
		}
		ob := out.Bounds()
		thumbs = append([]Thumb{{Size: size, Width: ob.Dx(), Height: ob.Dy(), JPEG: buf.Bytes()}}, thumbs...)
	}
	return thumbs, nil
}

// Orient applies an EXIF orientation (1..8) to img, returning a new image
// (or img itself for 1).
func Orient(img *image.RGBA, orientation int) *image.RGBA {
	if orientation <= 1 || orientation > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if orientation >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch orientation {
			case 2: // mirror horizontal
				dx, dy = w-1-x, y
			case 3: // rotate 180
				dx, dy = w-1-x, h-1-y
			case 4: // mirror vertical
				dx, dy = x, h-1-y
			case 5: // transpose
				dx, dy = y, x
			case 6: // rotate 90 clockwise
				dx, dy = h-1-y, x
			case 7: // transverse
				dx, dy = h-1-y, w-1-x
			case 8: // rotate 270 clockwise
				dx, dy = y, w-1-x
			}
			si := img.PixOffset(b.Min.X+x, b.Min.Y+y)
			di := out.PixOffset(dx, dy)
			copy(out.Pix[di:di+4], img.Pix[si:si+4])
		}
	}
	return out
}

// Result is what Process makes of an upload.
type Result struct {
	Info   Info
	Thumbs []Thumb
}

// Process runs the whole pipeline on an upload: Inspect, Decode,
// Thumbnails.
func Process(data []byte, lim Limits) (Result, error) {
	info, err := Inspect(data, lim)
	if err != nil {
		return Result{}, err
	}
	img, err := Decode(data, info)
	if err != nil {
		return Result{}, err
	}
	thumbs, err := Thumbnails(img, info.Orientation)
	if err != nil {
		return Result{}, err
	}
	return Result{Info: info, Thumbs: thumbs}, nil
}
