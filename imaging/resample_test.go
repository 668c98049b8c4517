package imaging_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"testing"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/synth"
)

// toYCbCr converts img to a YCbCr image with the given subsampling (each
// chroma sample taken from the top-left pixel it covers).
func toYCbCr(img *image.RGBA, ratio image.YCbCrSubsampleRatio) *image.YCbCr {
	b := img.Bounds()
	out := image.NewYCbCr(b, ratio)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.RGBAAt(x, y)
			yy, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
			out.Y[out.YOffset(x, y)] = yy
			out.Cb[out.COffset(x, y)] = cb
			out.Cr[out.COffset(x, y)] = cr
		}
	}
	return out
}

func convert(img image.Image, dst draw.Image) image.Image {
	draw.Draw(dst, dst.Bounds(), img, img.Bounds().Min, draw.Src)
	return dst
}

// TestResampleFormats scales every kind of image the decoders return (and
// sub-images not at the origin) and compares with the exact area average
// of the same image converted to RGBA: the plane-wise fast paths must
// agree with the generic one.
func TestResampleFormats(t *testing.T) {
	src := synth.Image(synth.Options{Seed: 9, Width: 601, Height: 401})
	b := src.Bounds()
	sources := map[string]image.Image{
		"RGBA":          src,
		"NRGBA":         convert(src, image.NewNRGBA(b)),
		"RGBA64":        convert(src, image.NewRGBA64(b)),
		"Gray":          convert(src, image.NewGray(b)),
		"Paletted":      convert(src, image.NewPaletted(b, palette.WebSafe)),
		"CMYK":          convert(src, image.NewCMYK(b)),
		"RGBA sub":      src.SubImage(image.Rect(3, 5, 600, 400)),
		"YCbCr420 sub":  toYCbCr(src, image.YCbCrSubsampleRatio420).SubImage(image.Rect(3, 5, 600, 400)),
		"Gray sub":      convert(src, image.NewGray(b)).(*image.Gray).SubImage(image.Rect(1, 1, 600, 400)),
		"YCbCr444":      toYCbCr(src, image.YCbCrSubsampleRatio444),
		"YCbCr422":      toYCbCr(src, image.YCbCrSubsampleRatio422),
		"YCbCr420":      toYCbCr(src, image.YCbCrSubsampleRatio420),
		"YCbCr440":      toYCbCr(src, image.YCbCrSubsampleRatio440),
		"YCbCr411":      toYCbCr(src, image.YCbCrSubsampleRatio411),
		"YCbCr410":      toYCbCr(src, image.YCbCrSubsampleRatio410),
		"YCbCr420 odd":  toYCbCr(synth.Image(synth.Options{Seed: 9, Width: 333, Height: 211}), image.YCbCrSubsampleRatio420),
		"tiny RGBA 3x3": synth.Image(synth.Options{Seed: 9, Width: 3, Height: 3}),
		// Hard colour edges, where a misaligned chroma plane shows.
		"quadrants YCbCr420":     toYCbCr(quadrantImage(600, 400), image.YCbCrSubsampleRatio420),
		"quadrants YCbCr420 sub": toYCbCr(quadrantImage(601, 401), image.YCbCrSubsampleRatio420).SubImage(image.Rect(1, 3, 598, 400)),
		"quadrants YCbCr411":     toYCbCr(quadrantImage(600, 400), image.YCbCrSubsampleRatio411),
	}
	sizes := [][2]int{{150, 100}, {37, 23}, {1, 1}, {599, 399}}
	for name, img := range sources {
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", name, sz[0], sz[1]), func(t *testing.T) {
				w, h := min(sz[0], img.Bounds().Dx()), min(sz[1], img.Bounds().Dy())
				dst := image.NewRGBA(image.Rect(0, 0, w, h))
				imaging.Resize(dst, img)
				ref := areaResize(toRGBA(img), w, h)
				// Catmull-Rom is sharper than an area average, and 4:1:0
				// chroma is coarse: the floor allows for both, and sits
				// far above what a misaligned plane or a wrong offset
				// scores (under 25 dB on this image).
				if p := psnr(dst, ref); p < 30 {
					t.Errorf("PSNR %.1f dB against the area average, want >= 30", p)
				}
				for i := 3; i < len(dst.Pix); i += 4 {
					if dst.Pix[i] != 0xff {
						t.Fatalf("alpha %d at byte %d of an opaque image", dst.Pix[i], i)
					}
				}
			})
		}
	}
}

// TestResampleFlat: a flat colour stays exactly that colour at every size
// (the weights sum to one, and edges are handled without darkening).
func TestResampleFlat(t *testing.T) {
	c := color.RGBA{200, 100, 50, 255}
	src := image.NewRGBA(image.Rect(0, 0, 997, 503))
	draw.Draw(src, src.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	for _, sz := range [][2]int{{256, 129}, {1, 1}, {996, 502}, {500, 7}} {
		dst := image.NewRGBA(image.Rect(0, 0, sz[0], sz[1]))
		imaging.Resize(dst, src)
		for i := 0; i < len(dst.Pix); i += 4 {
			if got := (color.RGBA{dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3]}); got != c {
				t.Fatalf("%dx%d: pixel %d is %v, want %v", sz[0], sz[1], i/4, got, c)
			}
		}
	}
}

// TestResampleYCbCrPlanes: filtering a YCbCr image plane by plane (chroma
// on its own subsampled grid) must match filtering it converted to RGBA.
// Hard colour edges make a misaligned chroma plane cost over 10 dB; the
// remaining difference is rounding and where the conversion clamps. The
// ratios are 4 and more: below the chroma subsampling factor the chroma
// plane is interpolated (smoothly) where the RGBA conversion replicates
// samples, a difference of method rather than an error.
func TestResampleYCbCrPlanes(t *testing.T) {
	ratios := map[string]image.YCbCrSubsampleRatio{
		"444": image.YCbCrSubsampleRatio444, "422": image.YCbCrSubsampleRatio422,
		"420": image.YCbCrSubsampleRatio420, "440": image.YCbCrSubsampleRatio440,
		"411": image.YCbCrSubsampleRatio411, "410": image.YCbCrSubsampleRatio410,
	}
	for name, ratio := range ratios {
		full := toYCbCr(quadrantImage(601, 401), ratio)
		for _, sub := range []image.Rectangle{full.Rect, image.Rect(1, 3, 598, 400), image.Rect(2, 1, 561, 390)} {
			img := full.SubImage(sub)
			for _, sz := range [][2]int{{150, 100}, {37, 23}, {128, 97}} {
				t.Run(fmt.Sprintf("%s/%v/%dx%d", name, sub, sz[0], sz[1]), func(t *testing.T) {
					planes := image.NewRGBA(image.Rect(0, 0, sz[0], sz[1]))
					imaging.Resize(planes, img)
					rgba := image.NewRGBA(planes.Rect)
					imaging.Resize(rgba, toRGBA(img))
					if p := psnr(planes, rgba); p < 44 {
						t.Errorf("PSNR %.1f dB between the plane-wise and the RGBA result, want >= 44", p)
					}
				})
			}
		}
	}
}

// TestResampleTapsOnDemand: taps computed as the resampler goes (for a
// side too long to keep its table) give the very pixels the kept table
// gives, for every plane layout.
func TestResampleTapsOnDemand(t *testing.T) {
	src := synth.Image(synth.Options{Seed: 4, Width: 700, Height: 333})
	b := src.Bounds()
	for name, img := range map[string]image.Image{
		"RGBA":     src,
		"NRGBA64":  convert(src, image.NewNRGBA64(b)),
		"Gray":     convert(src, image.NewGray(b)),
		"YCbCr420": toYCbCr(src, image.YCbCrSubsampleRatio420),
	} {
		t.Run(name, func(t *testing.T) {
			kept := image.NewRGBA(image.Rect(0, 0, 97, 61))
			imaging.ResampleFilter(kept, img, imaging.CatmullRom)
			imaging.SetMaxTapBytes(t, 0)
			computed := image.NewRGBA(kept.Rect)
			imaging.ResampleFilter(computed, img, imaging.CatmullRom)
			if !bytes.Equal(kept.Pix, computed.Pix) {
				t.Error("taps computed on demand give other pixels than the kept table")
			}
		})
	}
}
