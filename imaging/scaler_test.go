package imaging_test

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/synth"
)

// The scaler comparison behind SCALER.md. Run the speed side with
//
//	go test -run='^$' -bench=BenchmarkScale -benchmem -count=5 -cpu=1 ./imaging
//
// and the quality side with
//
//	go test ./imaging -run=TestScalerQuality -v -args -scalers
var fullScalerReport = flag.Bool("scalers", false, "TestScalerQuality: compare every candidate scaler at 12 MP")

// strategy is one way to make a thumbnail from a bigger image.
type strategy struct {
	name  string
	scale func(dst *image.RGBA, src image.Image)
}

func direct(s xdraw.Scaler) func(dst *image.RGBA, src image.Image) {
	return func(dst *image.RGBA, src image.Image) {
		s.Scale(dst, dst.Bounds(), src, src.Bounds(), xdraw.Src, nil)
	}
}

// boxThen box-shrinks src by the integer factor that leaves it at least
// gap times dst's size, then scales the rest with s.
func boxThen(s xdraw.Scaler, gap int) func(dst *image.RGBA, src image.Image) {
	return func(dst *image.RGBA, src image.Image) {
		sb, db := src.Bounds(), dst.Bounds()
		k := min(sb.Dx()/db.Dx(), sb.Dy()/db.Dy()) / gap
		if r, ok := boxShrink(src, k); ok {
			src = r
		}
		s.Scale(dst, db, src, src.Bounds(), xdraw.Src, nil)
	}
}

var strategies = []strategy{
	{"x.NearestNeighbor", direct(xdraw.NearestNeighbor)},
	{"x.ApproxBiLinear", direct(xdraw.ApproxBiLinear)},
	{"x.BiLinear", direct(xdraw.BiLinear)},
	{"x.CatmullRom", direct(xdraw.CatmullRom)},
	{"Box+x.ApproxBiLinear", boxThen(xdraw.ApproxBiLinear, 1)},
	{"Box+x.CatmullRom", boxThen(xdraw.CatmullRom, 1)},
	{"Area", filtered(imaging.Area)},
	{"Triangle", filtered(imaging.Triangle)},
	{"CatmullRom", filtered(imaging.CatmullRom)},
	{"production", imaging.Resize},
}

func filtered(f imaging.Filter) func(dst *image.RGBA, src image.Image) {
	return func(dst *image.RGBA, src image.Image) { imaging.ResampleFilter(dst, src, f) }
}

const (
	srcW, srcH     = 4000, 3000 // 12 MP, 4:3 like most cameras
	largeW, largeH = 1024, 768
	smallW, smallH = 256, 192
)

// photo12MP is a 12 MP synthetic photo as the pipeline sees it: decoded
// from a JPEG, so a 4:2:0 *image.YCbCr.
var photo12MP = sync.OnceValue(func() image.Image {
	img, err := jpeg.Decode(bytes.NewReader(synth.JPEG(synth.Options{Seed: 12, Width: srcW, Height: srcH})))
	if err != nil {
		panic(err)
	}
	return img
})

func BenchmarkScale(b *testing.B) {
	src := photo12MP()
	for _, s := range strategies {
		large := image.NewRGBA(image.Rect(0, 0, largeW, largeH))
		s.scale(large, src)
		steps := []struct {
			name string
			src  image.Image
			w, h int
		}{
			{"12MP-1024", src, largeW, largeH},
			{"1024-256", large, smallW, smallH},
			{"12MP-256", src, smallW, smallH},
		}
		for _, st := range steps {
			b.Run(s.name+"/"+st.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					dst := image.NewRGBA(image.Rect(0, 0, st.w, st.h))
					s.scale(dst, st.src)
				}
			})
		}
	}
}

// TestScalerQuality checks that the production scaler keeps thumbnails
// close to an exact area average on a photo and free of aliasing on
// patterns that make cheap scalers moire. With -scalers it logs the
// comparison of every candidate at 12 MP (the numbers in SCALER.md).
func TestScalerQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: scales 12 MP images")
	}
	w, h := srcW, srcH
	if !*fullScalerReport {
		w, h = srcW/2, srcH/2 // a quarter of the work
	}
	// The photo stays a decoded JPEG (YCbCr), as in the pipeline.
	photo := photo12MP()
	if !*fullScalerReport {
		photo = mustDecodeJPEG(t, synth.JPEG(synth.Options{Seed: 12, Width: w, Height: h}))
	}
	// The thumbnail bounds shrink with the source, so the ratios (which is
	// what the quality depends on) stay those of 12 MP -> 1024 and 256.
	lw, lh := imaging.Fit(w, h, 1024*w/srcW)
	sw, sh := imaging.Fit(w, h, 256*w/srcW)
	rgba := toRGBA(photo)
	refLarge, refSmall := areaResize(rgba, lw, lh), areaResize(rgba, sw, sh)
	// Patterns whose every frequency is above the thumbnails' Nyquist
	// limit: a correct downscale of them is flat grey, so what remains is
	// aliasing (and leakage), measured against the result's own mean.
	patterns := []struct {
		name string
		img  *image.RGBA
	}{
		{"checker", checkerboard(w, h)},
		{"stripes3", stripes(w, h, 3)},
		{"stripes6", stripes(w, h, 6)},
	}
	type row struct {
		photo   [3]float64 // large, cascaded small, direct small
		flat    [][2]float64
		skipped bool
	}
	results := map[string]*row{}
	scale := func(s strategy, src image.Image) (large, cascade, small *image.RGBA) {
		large = image.NewRGBA(image.Rect(0, 0, lw, lh))
		s.scale(large, src)
		cascade = image.NewRGBA(image.Rect(0, 0, sw, sh))
		s.scale(cascade, large)
		small = image.NewRGBA(image.Rect(0, 0, sw, sh))
		s.scale(small, src)
		return large, cascade, small
	}
	for _, s := range strategies {
		r := &row{}
		results[s.name] = r
		if !*fullScalerReport && s.name != "production" {
			r.skipped = true
			continue
		}
		large, cascade, small := scale(s, photo)
		r.photo = [3]float64{psnr(large, refLarge), psnr(cascade, refSmall), psnr(small, refSmall)}
		for _, p := range patterns {
			large, cascade, _ := scale(s, p.img)
			r.flat = append(r.flat, [2]float64{flatness(large), flatness(cascade)})
		}
	}
	if *fullScalerReport {
		t.Logf("%dx%d source, large %dx%d, small %dx%d", w, h, lw, lh, sw, sh)
		t.Logf("photo: PSNR (dB) against an exact area average; cascade = small made from large, direct = small made from the source")
		t.Logf("patterns: 20*log10(255/RMS ripple) (dB) of large / cascaded small; higher = less aliasing")
		head := fmt.Sprintf("%-22s %-22s", "", "photo large/casc/dir")
		for _, p := range patterns {
			head += fmt.Sprintf(" %-14s", p.name)
		}
		t.Log(head)
		for _, s := range strategies {
			r := results[s.name]
			line := fmt.Sprintf("%-22s %6.1f %6.1f %6.1f   ", s.name, r.photo[0], r.photo[1], r.photo[2])
			for _, f := range r.flat {
				line += fmt.Sprintf(" %6.1f %6.1f ", f[0], f[1])
			}
			t.Log(line)
		}
	}
	// The floors sit a few dB under what the chosen scaler achieves (see
	// SCALER.md) and far above what the aliasing ones do.
	prod := results["production"]
	if prod.photo[0] < 45 || prod.photo[1] < 42 {
		t.Errorf("photo: production PSNR large %.1f dB, small %.1f dB; want >= 45, 42", prod.photo[0], prod.photo[1])
	}
	// stripes6 (1/6 cycle per pixel) sits in every kernel's transition
	// band at the large size's ratio (Nyquist 1/7.8): some leakage there
	// is the price of a short kernel; nearest and approximate bilinear
	// score about 9 dB.
	floors := map[string]float64{"checker": 40, "stripes3": 30, "stripes6": 20}
	for i, p := range patterns {
		if f := prod.flat[i]; f[0] < floors[p.name] || f[1] < floors[p.name] {
			t.Errorf("%s: production ripple large %.1f dB, small %.1f dB; want >= %.0f dB (no moire)", p.name, f[0], f[1], floors[p.name])
		}
	}
}

func mustDecodeJPEG(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok {
		return r
	}
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	return out
}

// checkerboard is a 1-pixel black and white checkerboard: all its energy
// is at the source's Nyquist frequency, so any correct downscale is a flat
// mid grey and everything else is aliasing.
func checkerboard(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8(255 * ((x + y) & 1))
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
		}
	}
	return img
}

// stripes are vertical sine stripes with the given period in pixels.
func stripes(w, h int, period float64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		v := uint8(math.Round(127.5 + 127.5*math.Cos(2*math.Pi*float64(x)/period)))
		for y := 0; y < h; y++ {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v, 255
		}
	}
	return img
}

// flatness is 20*log10(255/RMS) of img's deviation from its own mean grey
// (99 for a flat image): on an image that should be flat, the ripple is
// aliasing.
func flatness(img *image.RGBA) float64 {
	var sum, sq float64
	n := 0
	for y := 0; y < img.Rect.Dy(); y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			v := float64(img.Pix[img.PixOffset(x, y)+1]) // green; the patterns are grey
			sum += v
			sq += v * v
			n++
		}
	}
	mean := sum / float64(n)
	rms := math.Sqrt(max(0, sq/float64(n)-mean*mean))
	if rms < 1e-9 {
		return 99
	}
	return 20 * math.Log10(255/rms)
}

// areaResize is the quality reference: each output pixel is the exact
// area-weighted mean of the source pixels it covers, in float64.
func areaResize(src *image.RGBA, dw, dh int) *image.RGBA {
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	type tap struct {
		i int
		w float64
	}
	taps := func(dn, sn int) [][]tap {
		scale := float64(sn) / float64(dn)
		out := make([][]tap, dn)
		for d := range out {
			lo, hi := float64(d)*scale, float64(d+1)*scale
			for s := int(lo); s < sn && float64(s) < hi; s++ {
				ov := math.Min(hi, float64(s+1)) - math.Max(lo, float64(s))
				if ov > 0 {
					out[d] = append(out[d], tap{s, ov / scale})
				}
			}
		}
		return out
	}
	xt, yt := taps(dw, sw), taps(dh, sh)
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	row := make([]float64, 4*sw)
	for dy := 0; dy < dh; dy++ {
		clear(row)
		for _, ty := range yt[dy] {
			p := src.Pix[src.PixOffset(src.Rect.Min.X, src.Rect.Min.Y+ty.i):]
			for i := range row {
				row[i] += ty.w * float64(p[i])
			}
		}
		for dx := 0; dx < dw; dx++ {
			var acc [4]float64
			for _, tx := range xt[dx] {
				for c := 0; c < 4; c++ {
					acc[c] += tx.w * row[4*tx.i+c]
				}
			}
			i := dst.PixOffset(dx, dy)
			for c := 0; c < 4; c++ {
				dst.Pix[i+c] = uint8(math.Round(math.Min(255, acc[c])))
			}
		}
	}
	return dst
}

// psnr is the peak signal-to-noise ratio of a against b over the RGB
// channels, in dB (capped at 99 for identical images).
func psnr(a, b *image.RGBA) float64 {
	var se float64
	var n int
	for y := 0; y < a.Rect.Dy(); y++ {
		pa, pb := a.Pix[y*a.Stride:], b.Pix[y*b.Stride:]
		for x := 0; x < a.Rect.Dx(); x++ {
			for c := 0; c < 3; c++ {
				d := float64(pa[4*x+c]) - float64(pb[4*x+c])
				se += d * d
				n++
			}
		}
	}
	if se == 0 {
		return 99
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}
