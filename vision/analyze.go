// Package vision is the stand-in for a cloud vision API that both
// architectures call: an HTTP service that analyses a photo's pixels
// (dominant colours, brightness, orientation, a perceptual hash,
// deterministic tags) behind a configurable remote-API profile (latency
// distribution, error rate, rate and concurrency limits, an outage switch
// flipped at run time), and the client the apps call it with.
package vision

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"

	"github.com/photobench/photobench/imaging"
)

// Analysis is what the vision service says about a photo. The same pixels
// always give the same Analysis.
type Analysis struct {
	// Tags are sorted and distinct: an orientation (landscape, portrait,
	// square, plus panorama when one side is at least twice the other), a
	// brightness (dark, dim, bright; none for mid-tones), a contrast
	// (high-contrast, low-contrast; none for ordinary contrast), a
	// colourfulness (monochrome, muted, colourful) and the names of the
	// dominant colours (see ColorNames).
	Tags []string `json:"tags"`
	// Colors are up to three dominant colours as #rrggbb, most dominant
	// first: the mean colour of each of the most frequent named colours.
	Colors []string `json:"colors"`
	// Hash is a 64-bit difference hash (dHash) of the grayscale image as 16
	// hex digits: visually equal photos have equal or nearly equal hashes
	// (compare by Hamming distance).
	Hash string `json:"hash"`
	// Width and Height are as displayed (after the EXIF orientation).
	Width  int `json:"width"`
	Height int `json:"height"`
	// Brightness is the mean luma, 0 (black) to 1 (white).
	Brightness float64 `json:"brightness"`
}

// ColorNames are the named colours the analysis sorts pixels into; the
// dominant ones become tags.
var ColorNames = []string{"red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink", "brown", "black", "white", "gray"}

// Analysis thresholds. A colour name becomes a tag when at least
// colorTagShare of the pixels have it; a colour enters Colors at
// colorListShare.
const (
	sampleSide     = 64   // the analysis works on at most 64x64 cells
	samplesPerCell = 4    // each cell averages up to 4x4 sample points
	colorTagShare  = 0.15 // share of pixels for a colour-name tag
	colorListShare = 0.05 // share of pixels for an entry in Colors
	maxColors      = 3
	chromaticMin   = 0.12 // chroma (max-min of RGB, 0..1) of a chromatic pixel
)

// Analyze analyses an image as stored (EXIF orientation 1). It looks at a
// downsample of at most 64x64 cells (16 sample points each), so a large
// photo costs little beyond decoding it.
func Analyze(img image.Image) Analysis { return AnalyzeOriented(img, 1) }

// AnalyzeOriented analyses an image as displayed after the EXIF orientation
// (1..8) that imaging.Inspect reported: width, height, orientation tags and
// hash are those of the upright photo.
func AnalyzeOriented(img image.Image, orientation int) Analysis {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	small := imaging.Orient(downsample(img), orientation)
	if orientation >= 5 && orientation <= 8 {
		w, h = h, w
	}
	a := Analysis{Width: w, Height: h}
	if w <= 0 || h <= 0 {
		a.Tags, a.Colors, a.Hash = []string{}, []string{}, fmt.Sprintf("%016x", 0)
		return a
	}
	st := measure(small)
	a.Brightness = math.Round(st.brightness*1000) / 1000
	a.Hash = fmt.Sprintf("%016x", dHash(small))

	tags := []string{orientationTag(w, h)}
	if max(w, h) >= 2*min(w, h) {
		tags = append(tags, "panorama")
	}
	switch {
	case st.brightness < 0.25:
		tags = append(tags, "dark")
	case st.brightness < 0.45:
		tags = append(tags, "dim")
	case st.brightness >= 0.7:
		tags = append(tags, "bright")
	}
	switch {
	case st.contrast >= 0.25:
		tags = append(tags, "high-contrast")
	case st.contrast < 0.06:
		tags = append(tags, "low-contrast")
	}
	switch {
	case st.chromaticShare < 0.05:
		tags = append(tags, "monochrome")
	case st.meanChroma >= 0.25:
		tags = append(tags, "colourful")
	default:
		tags = append(tags, "muted")
	}
	a.Colors = []string{}
	for i, c := range st.colors {
		if i < maxColors && c.share >= colorTagShare {
			tags = append(tags, c.name)
		}
		if i < maxColors && (c.share >= colorListShare || i == 0) {
			a.Colors = append(a.Colors, c.hex)
		}
	}
	sort.Strings(tags)
	a.Tags = tags
	return a
}

func orientationTag(w, h int) string {
	// Within 5% counts as square: a 1000x990 crop is square to the eye.
	if d := w - h; d*20 <= max(w, h) && -d*20 <= max(w, h) {
		return "square"
	}
	if w > h {
		return "landscape"
	}
	return "portrait"
}

// rgbAt reads one pixel as non-premultiplied 8-bit RGB. The decoders'
// image types are read directly: the generic At path allocates a
// color.Color per pixel, which dominated the service's allocations.
func rgbAt(img image.Image, x, y int) (r, g, b uint8) {
	switch m := img.(type) {
	case *image.YCbCr:
		yi, ci := m.YOffset(x, y), m.COffset(x, y)
		return color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
	case *image.Gray:
		v := m.Pix[m.PixOffset(x, y)]
		return v, v, v
	case *image.RGBA:
		if i := m.PixOffset(x, y); m.Pix[i+3] == 0xff {
			return m.Pix[i], m.Pix[i+1], m.Pix[i+2]
		}
	}
	c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	return c.R, c.G, c.B
}

// downsample box-averages img into at most sampleSide x sampleSide cells,
// aspect ratio kept, reading at most samplesPerCell^2 points per cell.
func downsample(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	sw, sh := imaging.Fit(max(w, 1), max(h, 1), sampleSide)
	out := image.NewRGBA(image.Rect(0, 0, sw, sh))
	if w <= 0 || h <= 0 {
		return out
	}
	for cy := 0; cy < sh; cy++ {
		y0, y1 := cy*h/sh, (cy+1)*h/sh
		ny := min(samplesPerCell, max(y1-y0, 1))
		for cx := 0; cx < sw; cx++ {
			x0, x1 := cx*w/sw, (cx+1)*w/sw
			nx := min(samplesPerCell, max(x1-x0, 1))
			var r, g, bl, n uint64
			for j := 0; j < ny; j++ {
				// Stratified: the middle of each of ny equal strips.
				y := y0 + ((2*j+1)*(y1-y0))/(2*ny)
				for i := 0; i < nx; i++ {
					x := x0 + ((2*i+1)*(x1-x0))/(2*nx)
					cr, cg, cb := rgbAt(img, b.Min.X+x, b.Min.Y+y)
					r += uint64(cr)
					g += uint64(cg)
					bl += uint64(cb)
					n++
				}
			}
			o := out.PixOffset(cx, cy)
			out.Pix[o+0] = uint8((r + n/2) / n)
			out.Pix[o+1] = uint8((g + n/2) / n)
			out.Pix[o+2] = uint8((bl + n/2) / n)
			out.Pix[o+3] = 255
		}
	}
	return out
}

type colorShare struct {
	name  string
	share float64
	hex   string
}

type stats struct {
	brightness     float64 // mean luma 0..1
	contrast       float64 // standard deviation of luma 0..1
	chromaticShare float64 // share of pixels with chroma >= chromaticMin
	meanChroma     float64 // mean chroma 0..1
	colors         []colorShare
}

func measure(img *image.RGBA) stats {
	type bin struct {
		n       int
		r, g, b int
	}
	bins := make(map[string]*bin, len(ColorNames))
	var st stats
	// Integer sums (luma scaled by 1000 * 255): exact, so the result does
	// not depend on floating-point contraction on some architectures.
	var sumY, sumY2, sumC int64
	chromatic, n := 0, 0
	for i := 0; i+3 < len(img.Pix); i += 4 {
		r, g, b := img.Pix[i], img.Pix[i+1], img.Pix[i+2]
		y := 299*int64(r) + 587*int64(g) + 114*int64(b)
		sumY += y
		sumY2 += y * y
		c := int64(max(r, g, b) - min(r, g, b))
		sumC += c
		if float64(c)/255 >= chromaticMin {
			chromatic++
		}
		name := colorName(r, g, b)
		bn := bins[name]
		if bn == nil {
			bn = &bin{}
			bins[name] = bn
		}
		bn.n++
		bn.r += int(r)
		bn.g += int(g)
		bn.b += int(b)
		n++
	}
	if n == 0 {
		return st
	}
	const yScale = 1000 * 255
	fn := float64(n)
	st.brightness = float64(sumY) / fn / yScale
	mean := float64(sumY) / fn
	// The explicit conversion rounds the product, which forbids fusing it
	// with the subtraction.
	variance := (float64(sumY2)/fn - float64(mean*mean)) / (yScale * yScale)
	st.contrast = math.Sqrt(max(variance, 0))
	st.chromaticShare = float64(chromatic) / fn
	st.meanChroma = float64(sumC) / fn / 255
	for name, bn := range bins {
		st.colors = append(st.colors, colorShare{
			name:  name,
			share: float64(bn.n) / fn,
			hex:   fmt.Sprintf("#%02x%02x%02x", (bn.r+bn.n/2)/bn.n, (bn.g+bn.n/2)/bn.n, (bn.b+bn.n/2)/bn.n),
		})
	}
	sort.Slice(st.colors, func(i, j int) bool {
		if st.colors[i].share != st.colors[j].share {
			return st.colors[i].share > st.colors[j].share
		}
		return st.colors[i].name < st.colors[j].name
	})
	return st
}

// colorName sorts a pixel into one of ColorNames by hue, saturation and
// value.
func colorName(r8, g8, b8 uint8) string {
	r, g, b := float64(r8)/255, float64(g8)/255, float64(b8)/255
	hi, lo := max(r, g, b), min(r, g, b)
	v, c := hi, hi-lo
	s := 0.0
	if hi > 0 {
		s = c / hi
	}
	switch {
	case v < 0.18:
		return "black"
	case c < chromaticMin || s < 0.15:
		if v > 0.85 {
			return "white"
		}
		if v < 0.25 {
			return "black"
		}
		return "gray"
	}
	var hue float64
	switch hi {
	case r:
		hue = math.Mod((g-b)/c, 6)
	case g:
		hue = (b-r)/c + 2
	default:
		hue = (r-g)/c + 4
	}
	hue *= 60
	if hue < 0 {
		hue += 360
	}
	switch {
	case hue < 15 || hue >= 345:
		if v < 0.55 && s > 0.3 {
			return "brown"
		}
		if s < 0.45 && v > 0.7 {
			return "pink"
		}
		return "red"
	case hue < 45:
		if v < 0.6 {
			return "brown"
		}
		return "orange"
	case hue < 70:
		return "yellow"
	case hue < 165:
		return "green"
	case hue < 195:
		return "cyan"
	case hue < 255:
		return "blue"
	case hue < 290:
		return "purple"
	default:
		return "pink"
	}
}

// dHash is the difference hash: the upright image's luma box-averaged to
// 9x8, one bit per horizontally adjacent pair (1 when the left is
// brighter), row by row, most significant bit first.
func dHash(img *image.RGBA) uint64 {
	const gw, gh = 9, 8
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var grid [gh][gw]int64
	if w == 0 || h == 0 {
		return 0
	}
	for gy := 0; gy < gh; gy++ {
		y0, y1 := gy*h/gh, max((gy+1)*h/gh, gy*h/gh+1)
		for gx := 0; gx < gw; gx++ {
			x0, x1 := gx*w/gw, max((gx+1)*w/gw, gx*w/gw+1)
			var sum, n int64
			for y := y0; y < min(y1, h); y++ {
				for x := x0; x < min(x1, w); x++ {
					o := img.PixOffset(b.Min.X+x, b.Min.Y+y)
					sum += 299*int64(img.Pix[o]) + 587*int64(img.Pix[o+1]) + 114*int64(img.Pix[o+2])
					n++
				}
			}
			if n > 0 {
				grid[gy][gx] = sum * 64 / n // *64 keeps fractions of the mean
			}
		}
	}
	var hash uint64
	for gy := 0; gy < gh; gy++ {
		for gx := 0; gx < gw-1; gx++ {
			hash <<= 1
			if grid[gy][gx] > grid[gy][gx+1] {
				hash |= 1
			}
		}
	}
	return hash
}
