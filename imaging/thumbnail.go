package imaging

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"

	"github.com/photobench/photobench/photo"
)

// Thumb is one encoded thumbnail.
type Thumb struct {
	Size photo.Size
	// Width and Height are as displayed (oriented).
	Width, Height int
	// JPEG is the encoded thumbnail, quality ThumbnailQuality.
	JPEG []byte
}

// ThumbnailQuality is the JPEG quality of thumbnails.
const ThumbnailQuality = 80

// thumbFilter resamples images for thumbnails: Catmull-Rom, widened to
// the scale, on the image's own planes; SCALER.md says why.
var thumbFilter = catmullRom

// Fit returns the size of a w x h image (w, h >= 1) scaled to fit in a
// bound x bound square: aspect ratio kept (each side rounded to the
// nearest pixel), never upscaled, at least 1x1.
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
// orientation (EXIF, 1..8), smallest first. The large one is scaled from
// the original, the smaller from the large one, which is much cheaper and
// measured as good (SCALER.md). An empty image is an Invalid error.
func Thumbnails(img image.Image, orientation int) ([]Thumb, error) {
	return thumbnails(img, orientation, func(photo.Size) bool { return true })
}

// SmallThumbnail makes only the small thumbnail, with the same pixels and
// bytes as Thumbnails' small one (it goes through the same large
// intermediate, without encoding it). The event-driven tagger uses it to
// send the vision service the rendition the monolith sends.
func SmallThumbnail(img image.Image, orientation int) (Thumb, error) {
	ts, err := thumbnails(img, orientation, func(s photo.Size) bool { return s == photo.SizeSmall })
	if err != nil {
		return Thumb{}, err
	}
	return ts[0], nil
}

func thumbnails(img image.Image, orientation int, want func(photo.Size) bool) ([]Thumb, error) {
	b := img.Bounds()
	if b.Empty() {
		return nil, photo.Errorf(photo.Invalid, "image has no pixels")
	}
	sw, sh := b.Dx(), b.Dy() // as stored
	var thumbs []Thumb
	src := img
	for i := len(photo.Sizes) - 1; i >= 0; i-- {
		size := photo.Sizes[i]
		// Scale as stored, then orient: Fit is symmetric in w and h, so
		// this is the size that fits once turned, and orienting the small
		// result is cheaper than orienting the original.
		dw, dh := Fit(sw, sh, size.Bound())
		dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
		resize(dst, src)
		src = dst
		if !want(size) {
			continue
		}
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
// (or img itself for 1 and for values out of range).
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
	if w == 0 || h == 0 {
		return out
	}
	// Source pixel (x, y) lands at byte base + x*xs + y*ys of out: the
	// orientation tells where the stored first row and column go (EXIF
	// 2.3, tag 0x0112).
	os := out.Stride
	var base, xs, ys int
	switch orientation {
	case 2: // mirrored: first column on the right
		base, xs, ys = 4*(w-1), -4, os
	case 3: // rotated 180
		base, xs, ys = 4*(w-1)+os*(h-1), -4, -os
	case 4: // flipped: first row at the bottom
		base, xs, ys = os*(h-1), 4, -os
	case 5: // transposed: first row on the left, first column at the top
		base, xs, ys = 0, os, 4
	case 6: // rotated 90 clockwise: first row on the right
		base, xs, ys = 4*(h-1), os, -4
	case 7: // transverse: first row on the right, first column at the bottom
		base, xs, ys = 4*(h-1)+os*(w-1), -os, -4
	case 8: // rotated 90 counter-clockwise: first row on the left, first column at the bottom
		base, xs, ys = os*(w-1), -os, 4
	}
	for y := 0; y < h; y++ {
		src := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):]
		src = src[:4*w]
		d := base + y*ys
		for x := 0; x < w; x++ {
			copy(out.Pix[d:d+4], src[4*x:4*x+4])
			d += xs
		}
	}
	return out
}

// Result is what Process makes of an upload.
type Result struct {
	Info   Info
	Thumbs []Thumb
}

// Process runs the whole pipeline on an upload: Inspect, Decode (within
// the process's decode budget, so it may wait; see Decode), Thumbnails.
func Process(ctx context.Context, data []byte, lim Limits) (Result, error) {
	info, err := Inspect(data, lim)
	if err != nil {
		return Result{}, err
	}
	img, release, err := Decode(ctx, data, info)
	if err != nil {
		return Result{}, err
	}
	defer release()
	thumbs, err := Thumbnails(img, info.Orientation)
	if err != nil {
		return Result{}, err
	}
	return Result{Info: info, Thumbs: thumbs}, nil
}

// resize scales src to fill dst: a copy when the sizes match, otherwise
// the thumbnail filter (see SCALER.md).
func resize(dst *image.RGBA, src image.Image) {
	sb, db := src.Bounds(), dst.Bounds()
	if sb.Dx() == db.Dx() && sb.Dy() == db.Dy() {
		draw.Draw(dst, db, src, sb.Min, draw.Src)
		return
	}
	resampleFilter(dst, src, thumbFilter)
}
