// Package synth makes synthetic photos: deterministic from a seed (the same
// seed, size and format give the same bytes), with enough structure
// (gradients, shapes, colour regions) that real image work on them costs what
// it costs on photos and gives them different tags.
package synth

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
)

// Options shape a synthetic photo.
type Options struct {
	Seed          uint64
	Width, Height int
	// Gray makes a monochrome photo.
	Gray bool
}

// Image draws the photo described by o.
func Image(o Options) *image.RGBA {
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	img := image.NewRGBA(image.Rect(0, 0, o.Width, o.Height))
	// A diagonal gradient between two seeded colours as the background.
	c0, c1 := randColor(r), randColor(r)
	w, h := o.Width, o.Height
	den := max(w+h-2, 1)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			t := (x + y) * 256 / den
			i := x * 4
			row[i+0] = lerp(c0.R, c1.R, t)
			row[i+1] = lerp(c0.G, c1.G, t)
			row[i+2] = lerp(c0.B, c1.B, t)
			row[i+3] = 255
		}
	}
	// Rectangles and discs of seeded colours, sizes relative to the image.
	for n := 3 + r.IntN(6); n > 0; n-- {
		c := randColor(r)
		cw, ch := 1+r.IntN(max(w/2, 1)), 1+r.IntN(max(h/2, 1))
		x0, y0 := r.IntN(max(w, 1)), r.IntN(max(h, 1))
		disc := r.IntN(2) == 0
		for y := y0; y < min(y0+ch, h); y++ {
			row := img.Pix[y*img.Stride:]
			for x := x0; x < min(x0+cw, w); x++ {
				if disc {
					dx, dy := 2*(x-x0)-cw, 2*(y-y0)-ch
					if dx*dx*ch*ch+dy*dy*cw*cw > cw*cw*ch*ch {
						continue
					}
				}
				i := x * 4
				row[i+0], row[i+1], row[i+2] = c.R, c.G, c.B
			}
		}
	}
	// Light seeded noise, so encoders see texture as in real photos.
	for i := 0; i < len(img.Pix); i += 4 {
		d := uint8(r.IntN(9))
		for k := 0; k < 3; k++ {
			img.Pix[i+k] = addClamp(img.Pix[i+k], d)
		}
	}
	if o.Gray {
		for i := 0; i < len(img.Pix); i += 4 {
			y := uint8((299*int(img.Pix[i]) + 587*int(img.Pix[i+1]) + 114*int(img.Pix[i+2])) / 1000)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = y, y, y
		}
	}
	return img
}

// JPEG encodes the photo as a JPEG of quality 85.
func JPEG(o Options) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, Image(o), &jpeg.Options{Quality: 85}); err != nil {
		panic(err) // writing to memory cannot fail
	}
	return b.Bytes()
}

// PNG encodes the photo as a PNG.
func PNG(o Options) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, Image(o)); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func randColor(r *rand.Rand) color.RGBA {
	return color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
}

func lerp(a, b uint8, t int) uint8 { return uint8((int(a)*(256-t) + int(b)*t) / 256) }

func addClamp(v, d uint8) uint8 {
	if int(v)+int(d) > 255 {
		return 255
	}
	return v + d
}
