package imaging

import (
	"encoding/binary"
	"math"

	"github.com/photobench/photobench/photo"
)

// The decode memory estimate: an upper bound, from the header alone, of
// the peak memory that Decode and Thumbnails take together, for the
// budget to reserve. Each term is what the standard decoders and this
// package's resampler allocate for an image of that kind (read from their
// code), and the whole is checked against the peak RSS measured on the
// hostile corpus (TestDecodeEstimateCoversPeak; the figures are in the
// README's "Decode memory").

// slack covers what the estimate does not itemise: the garbage collector
// lets the heap grow past the live bytes, and the runtime and the encoded
// thumbnails take a few MB.
const (
	slackPercent = 10
	slackBytes   = 24 << 20
)

// pngHeader is what the estimate reads from a PNG: its IHDR fields, and
// whether a tRNS chunk comes before the image data (the decoder then
// returns an image with alpha).
type pngHeader struct {
	depth, colorType byte
	interlaced       bool
	transparent      bool
}

// scanPNG reads a PNG's IHDR and the chunk types before its first IDAT,
// bounds-checking every offset. Inspect has checked the signature.
func scanPNG(data []byte) pngHeader {
	var h pngHeader
	if len(data) >= 29 && string(data[12:16]) == "IHDR" {
		h.depth, h.colorType, h.interlaced = data[24], data[25], data[28] == 1
	}
	for off := 8; off+8 <= len(data); {
		n := int64(binary.BigEndian.Uint32(data[off:]))
		switch string(data[off+4 : off+8]) {
		case "IDAT", "IEND":
			return h
		case "tRNS":
			h.transparent = true
		}
		next := int64(off) + 12 + n
		if next > int64(len(data)) {
			return h
		}
		off = int(next)
	}
	return h
}

// pngCost is the estimate for a stored w x h PNG: the decoded image (for
// 16 bits, decodePNG16's Gray or RGBA; otherwise the standard decoder's
// type for that colour type and depth, for an interlaced file with its
// seven pass images, garbage after the merge but not yet collected), the
// decoder's two raw rows, and the resampler's row of RGBA for any image
// type it does not filter in place.
func pngCost(h pngHeader, w, ht int64) int64 {
	var bpp, channels int64 // decoded bytes a pixel; raw channels
	switch h.colorType {
	case 0: // grey: Gray or Gray16, NRGBA(64) with tRNS
		bpp, channels = 1, 1
		if h.transparent {
			bpp = 4
		}
	case 2: // RGB: RGBA or RGBA64, NRGBA(64) with tRNS
		bpp, channels = 4, 3
	case 3: // paletted
		bpp, channels = 1, 1
	case 4: // grey and alpha: NRGBA(64)
		bpp, channels = 4, 2
	default: // RGBA: NRGBA(64)
		bpp, channels = 4, 4
	}
	rawRow := (channels*int64(max(h.depth, 8))/8)*w + 1
	if h.depth == 16 { // decodePNG16: to Gray or RGBA, row by row
		if h.colorType != 0 || h.transparent {
			bpp = 4
		}
		return bpp*w*ht + 2*rawRow + resampleCost(w, ht, false)
	}
	decoded := bpp * w * ht
	if h.interlaced {
		decoded *= 2
	}
	return decoded + 2*rawRow + 4*w + resampleCost(w, ht, false)
}

// jpegCost is the estimate for a stored w x h JPEG: its planes (each
// component at its sampling, padded to whole MCUs), for a progressive one
// 4 bytes a sample of coefficients kept until the last scan, and the 4
// bytes a pixel of the RGBA or CMYK image the decoder converts to for an
// RGB or four-component file. Gray and YCbCr results are filtered in
// place.
func jpegCost(h jpegHeader, w, ht int64) int64 {
	hmax, vmax, blocks := int64(1), int64(1), int64(0)
	for _, s := range h.sampling {
		hmax, vmax = max(hmax, int64(s>>4)), max(vmax, int64(s&15))
		blocks += int64(s>>4) * int64(s&15)
	}
	if len(h.sampling) == 0 { // not read: assume the worst layout
		blocks, h.sampling = 4, make([]byte, 4)
	}
	mw, mh := 8*hmax, 8*vmax
	mcus := ((w + mw - 1) / mw) * ((ht + mh - 1) / mh)
	samples := mcus * blocks * 64 // in every component's plane
	cost := samples
	if h.progressive {
		cost += 4 * samples
	}
	rgb := len(h.sampling) == 3 && (h.adobeRaw || string(h.ids) == "RGB")
	if len(h.sampling) == 4 || rgb {
		cost += 4 * mcus * mw * mh
		cost += 4 * w // the resampler's RGBA row
	}
	return cost + resampleCost(w, ht, len(h.sampling) == 3 && !rgb)
}

// resampleCost is what Thumbnails allocates for a stored w x h image:
// per size, the destination, the filtered plane and the tap tables of
// both passes (which grow with the source: about 4 taps a source sample),
// and the ring of horizontally filtered rows; for a YCbCr image (chroma)
// its chroma planes' as well.
func resampleCost(w, h int64, chroma bool) int64 {
	var cost int64
	sw, sh := w, h
	for i := len(photo.Sizes) - 1; i >= 0; i-- {
		w, h := Fit(int(sw), int(sh), photo.Sizes[i].Bound())
		dw, dh := int64(w), int64(h)
		cost += 2*4*dw*dh + tapsCost(dw, sw) + tapsCost(dh, sh)
		n := min(int64(math.Ceil(4*max(float64(sh)/float64(dh), 1)))+1, sh)
		cost += 4*n*4*dw + 8*4*dw // ring and accumulator
		sw, sh = dw, dh
	}
	if chroma { // at most as much again
		return 2 * cost
	}
	return cost
}

// tapsCost is what makeTaps keeps for dn samples from sn: its table, or
// only its buffers when the table would be over maxTapBytes.
func tapsCost(dn, sn int64) int64 {
	n := min(int64(math.Ceil(4*max(float64(sn)/float64(dn), 1)))+1, sn)
	if dn*n*4 > maxTapBytes {
		return n * (8 + 4)
	}
	return dn*n*4 + dn*8 + n*8
}

// withSlack adds the slack to an itemised estimate.
func withSlack(n int64) int64 { return n + n*slackPercent/100 + slackBytes }

// worstDecodeBytes is the largest estimate of any image under lim: every
// PNG colour type, depth and interlace, every JPEG layout (progressive or
// not, grey, YCbCr, RGB, CMYK, with the largest MCU's padding), each at
// the pixel limit as a square and as the longest row and column its
// format allows. The estimate grows with the area and with each side
// separately, so its maximum is at one of those shapes. The JPEG layouts
// are those the standard decoder takes with the most samples a pixel and
// the largest MCU.
func worstDecodeBytes(lim Limits) int64 {
	p := lim.MaxPixels
	side := int64(math.Sqrt(float64(p)))
	var worst int64
	for _, ct := range []byte{0, 2, 3, 4, 6} {
		for _, depth := range []byte{8, 16} {
			for _, interlaced := range []bool{false, true} {
				h := pngHeader{depth: depth, colorType: ct, interlaced: interlaced, transparent: true}
				for _, wh := range [][2]int64{{side, side}, {p, 1}, {1, p}} {
					worst = max(worst, withSlack(pngCost(h, wh[0], wh[1])))
				}
			}
		}
	}
	const jpegSide = 65535
	layouts := []jpegHeader{
		{sampling: []byte{0x11}},
		{sampling: []byte{0x11, 0x11, 0x11}},
		{sampling: []byte{0x22, 0x11, 0x11}},
		{sampling: []byte{0x11, 0x11, 0x11}, adobeRaw: true},
		{sampling: []byte{0x11, 0x11, 0x11, 0x11}},
		{sampling: []byte{0x22, 0x11, 0x11, 0x22}},
	}
	for _, h := range layouts {
		for _, progressive := range []bool{false, true} {
			h.progressive = progressive
			long := min(p, jpegSide)
			for _, wh := range [][2]int64{{side, side}, {long, p / long}, {p / long, long}} {
				worst = max(worst, withSlack(jpegCost(h, wh[0], wh[1])))
			}
		}
	}
	return worst
}
