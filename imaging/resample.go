package imaging

import (
	"image"
	"image/color"
	"image/draw"
	"math"
)

// A separable, fixed-point resampler for thumbnails. It filters each 8-bit
// plane of the decoded image on its own grid (for a JPEG, the full
// resolution Y plane and the subsampled Cb and Cr planes) and converts to
// RGB only at the destination size, so the work per source pixel is a few
// integer multiply-adds and the scratch memory is a few destination rows.
// SCALER.md explains why this and not golang.org/x/image/draw.

// filter is a resampling kernel. Weights are taken at the distance x (in
// source pixels) between a source pixel's centre and the destination
// pixel's centre, with s source pixels per destination pixel (s >= 1:
// when enlarging, the kernel interpolates between source pixels).
type filter struct {
	name string
	// support is the kernel's radius in destination pixels.
	support float64
	// weight is the kernel.
	weight func(x, s float64) float64
}

// The filters. triangle is the tent filter widened to the scale (what
// x/image/draw calls BiLinear); catmullRom the cubic of that name, also
// widened; area the exact area average ("box" with fractional coverage).
var (
	triangle = filter{"Triangle", 1, func(x, s float64) float64 {
		return max(0, 1-math.Abs(x)/s)
	}}
	catmullRom = filter{"CatmullRom", 2, func(x, s float64) float64 {
		t := math.Abs(x) / s
		switch {
		case t < 1:
			return (1.5*t-2.5)*t*t + 1
		case t < 2:
			return ((-0.5*t+2.5)*t-4)*t + 2
		}
		return 0
	}}
	area = filter{"Area", 1, func(x, s float64) float64 {
		// Overlap of the source pixel [x-0.5, x+0.5] with the destination
		// pixel's footprint [-s/2, s/2].
		return max(0, min(x+0.5, s/2)-max(x-0.5, -s/2))
	}}
)

// weightBits is the fixed-point precision of the weights: each
// destination sample's weights sum to 1<<weightBits.
const weightBits = 14

// taps holds, for each destination sample d, the n consecutive source
// samples start[d].. that it is made of and their weights w[d*n:(d+1)*n].
// A table larger than maxTapBytes (a source side of millions of samples:
// about 4 taps per source sample, whatever the destination) is not kept:
// gen computes destination d's taps on demand instead, into a buffer of
// n, and start and w are nil.
type taps struct {
	dn, n int
	start []int
	w     []int32
	gen   func(d int, w []int32) (start int)
}

// maxTapBytes bounds a kept tap table. Only a source side of more than
// about half a million samples (never a photo's) goes over it.
var maxTapBytes int64 = 8 << 20

// at returns destination d's first source sample and weights; buf (n
// long) holds computed ones.
func (t *taps) at(d int, buf []int32) (int, []int32) {
	if t.gen == nil {
		return t.start[d], t.w[d*t.n : (d+1)*t.n]
	}
	return t.gen(d, buf), buf
}

// makeTaps computes the taps of dn destination samples over sn source
// samples, where destination sample d is centred on source coordinate
// (d+0.5)*scale (coordinates in source samples, 0 at the left edge of
// sample 0).
func makeTaps(f filter, dn, sn int, scale float64) taps {
	return makeTapsOffset(f, dn, sn, scale, 0)
}

// makeTapsOffset is makeTaps with destination centres shifted by off
// source samples. Near the edges the kernel is cut and the weights
// renormalised, so an edge is not darkened.
func makeTapsOffset(f filter, dn, sn int, scale, off float64) taps {
	s := max(scale, 1) // kernel scale: at least one source sample
	radius := f.support * s
	n := min(int(math.Ceil(2*radius))+1, sn)
	fw := make([]float64, n)
	gen := func(d int, w []int32) int {
		c := (float64(d)+0.5)*scale + off // centre, in source coordinates
		start := int(math.Floor(c - radius))
		start = max(0, min(start, sn-n))
		var sum float64
		for j := range fw {
			fw[j] = f.weight(float64(start+j)+0.5-c, s)
			sum += fw[j]
		}
		if sum == 0 { // cannot happen for the filters above; be safe
			clear(w)
			w[min(max(int(c)-start, 0), n-1)] = 1 << weightBits
			return start
		}
		var isum int32
		big := 0
		for j := range w {
			w[j] = int32(math.Round(fw[j] / sum * (1 << weightBits)))
			isum += w[j]
			if w[j] > w[big] {
				big = j
			}
		}
		w[big] += 1<<weightBits - isum // exact unit sum
		return start
	}
	if int64(dn)*int64(n)*4 > maxTapBytes {
		return taps{dn: dn, n: n, gen: gen}
	}
	t := taps{dn: dn, n: n, start: make([]int, dn), w: make([]int32, dn*n)}
	for d := 0; d < dn; d++ {
		t.start[d] = gen(d, t.w[d*n:(d+1)*n])
	}
	return t
}

// plane is an 8-bit image of nc interleaved channels (1, or 4 for RGBA):
// channel c of sample (x, y) is pix[y*stride+x*nc+c], or, when row is
// set, row(y)[x*nc+c].
type plane struct {
	pix        []uint8
	stride, nc int
	w, h       int
	// row, when set, makes source row y (asked for once each, in order)
	// into a buffer valid until the next call: an image of another type
	// is converted a row at a time rather than copied whole.
	row func(y int) []uint8
}

// resamplePlane filters src into a dense dw x dh plane (stride dw*nc) with
// the given taps. It runs the horizontal pass on each source row once,
// keeping only the rows the vertical taps still need in a ring of tv.n
// rows, so the scratch memory is a few destination rows.
func resamplePlane(src plane, th, tv taps) []uint8 {
	dw, dh, nc := th.dn, tv.dn, src.nc
	rw := dw * nc // values in a destination row
	out := make([]uint8, rw*dh)
	ring := make([]int32, tv.n*rw)
	acc := make([]int64, rw)
	var vbuf, hbuf []int32 // weights computed on demand
	if tv.gen != nil {
		vbuf = make([]int32, tv.n)
	}
	if th.gen != nil {
		hbuf = make([]int32, th.n)
	}
	next := 0 // next source row to filter horizontally
	for dy := 0; dy < dh; dy++ {
		y0, wv := tv.at(dy, vbuf)
		for ; next < y0+tv.n; next++ {
			var row []uint8
			if src.row != nil {
				row = src.row(next)
			} else {
				row = src.pix[next*src.stride : next*src.stride+src.w*nc]
			}
			r := ring[(next%tv.n)*rw : (next%tv.n+1)*rw]
			if th.gen != nil {
				horizontalOnDemand(r, row, th, hbuf, nc)
			} else {
				horizontal(r, row, th, nc)
			}
		}
		clear(acc)
		for j, wt := range wv {
			if wt == 0 {
				continue
			}
			r := ring[((y0+j)%tv.n)*rw : ((y0+j)%tv.n+1)*rw]
			r = r[:len(acc)]
			w := int64(wt)
			for i, v := range r {
				acc[i] += w * int64(v)
			}
		}
		o := out[dy*rw : (dy+1)*rw]
		o = o[:len(acc)]
		for i, a := range acc {
			o[i] = clamp8((a + 1<<(2*weightBits-1)) >> (2 * weightBits))
		}
	}
	return out
}

// horizontal filters one source row into r (dw*nc values, weights not yet
// divided out).
func horizontal(r []int32, row []uint8, th taps, nc int) {
	n := th.n
	if nc == 1 {
		for dx := range r {
			w := th.w[dx*n : (dx+1)*n]
			seg := row[th.start[dx]:]
			seg = seg[:len(w)]
			var a int32
			for j, wt := range w {
				a += wt * int32(seg[j])
			}
			r[dx] = a
		}
		return
	}
	for dx := 0; dx < len(r)/4; dx++ {
		w := th.w[dx*n : (dx+1)*n]
		seg := row[4*th.start[dx]:]
		seg = seg[:4*len(w)]
		var a0, a1, a2, a3 int32
		for j, wt := range w {
			p := seg[4*j : 4*j+4 : 4*j+4]
			a0 += wt * int32(p[0])
			a1 += wt * int32(p[1])
			a2 += wt * int32(p[2])
			a3 += wt * int32(p[3])
		}
		q := r[4*dx : 4*dx+4 : 4*dx+4]
		q[0], q[1], q[2], q[3] = a0, a1, a2, a3
	}
}

// horizontalOnDemand is horizontal with taps computed for each
// destination sample as it goes: slower, for a row too long to keep its
// taps.
func horizontalOnDemand(r []int32, row []uint8, th taps, buf []int32, nc int) {
	for dx := 0; dx < len(r)/nc; dx++ {
		start, w := th.at(dx, buf)
		for c := 0; c < nc; c++ {
			var a int32
			for j, wt := range w {
				a += wt * int32(row[(start+j)*nc+c])
			}
			r[dx*nc+c] = a
		}
	}
}

func clamp8(v int64) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// resampleFilter scales src to fill dst with the filter f.
func resampleFilter(dst *image.RGBA, src image.Image, f filter) {
	sb, db := src.Bounds(), dst.Bounds()
	sw, sh, dw, dh := sb.Dx(), sb.Dy(), db.Dx(), db.Dy()
	if sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 {
		return
	}
	sx, sy := float64(sw)/float64(dw), float64(sh)/float64(dh)
	lumaH, lumaV := makeTaps(f, dw, sw, sx), makeTaps(f, dh, sh, sy)
	switch s := src.(type) {
	case *image.YCbCr:
		if hs, vs, ok := chromaShift(s.SubsampleRatio); ok {
			cw, ch := chromaSize(sb, hs, vs)
			chromaH := makeChromaTaps(f, dw, cw, sx, sb.Min.X, hs)
			chromaV := makeChromaTaps(f, dh, ch, sy, sb.Min.Y, vs)
			y := resamplePlane(plane{pix: s.Y[s.YOffset(sb.Min.X, sb.Min.Y):], stride: s.YStride, nc: 1, w: sw, h: sh}, lumaH, lumaV)
			co := s.COffset(sb.Min.X, sb.Min.Y)
			cb := resamplePlane(plane{pix: s.Cb[co:], stride: s.CStride, nc: 1, w: cw, h: ch}, chromaH, chromaV)
			cr := resamplePlane(plane{pix: s.Cr[co:], stride: s.CStride, nc: 1, w: cw, h: ch}, chromaH, chromaV)
			for j := 0; j < dh; j++ {
				p := dst.Pix[dst.PixOffset(db.Min.X, db.Min.Y+j):]
				p = p[:4*dw]
				for i := 0; i < dw; i++ {
					k := j*dw + i
					p[4*i], p[4*i+1], p[4*i+2] = color.YCbCrToRGB(y[k], cb[k], cr[k])
					p[4*i+3] = 0xff
				}
			}
			return
		}
	case *image.Gray:
		g := resamplePlane(plane{pix: s.Pix[s.PixOffset(sb.Min.X, sb.Min.Y):], stride: s.Stride, nc: 1, w: sw, h: sh}, lumaH, lumaV)
		for j := 0; j < dh; j++ {
			p := dst.Pix[dst.PixOffset(db.Min.X, db.Min.Y+j):]
			p = p[:4*dw]
			for i, v := range g[j*dw : (j+1)*dw] {
				p[4*i], p[4*i+1], p[4*i+2], p[4*i+3] = v, v, v, 0xff
			}
		}
		return
	}
	var p plane
	if rgba, ok := src.(*image.RGBA); ok {
		p = plane{pix: rgba.Pix[rgba.PixOffset(sb.Min.X, sb.Min.Y):], stride: rgba.Stride, nc: 4, w: sw, h: sh}
	} else {
		// Anything else (16-bit, paletted, CMYK, NRGBA): filter
		// premultiplied RGBA, converted a row at a time, so that the
		// conversion costs one row and not another 4 bytes per pixel.
		buf := image.NewRGBA(image.Rect(0, 0, sw, 1))
		p = plane{nc: 4, w: sw, h: sh, row: func(y int) []uint8 {
			draw.Draw(buf, buf.Rect, src, image.Pt(sb.Min.X, sb.Min.Y+y), draw.Src)
			return buf.Pix
		}}
	}
	out := resamplePlane(p, lumaH, lumaV)
	for j := 0; j < dh; j++ {
		copy(dst.Pix[dst.PixOffset(db.Min.X, db.Min.Y+j):], out[j*4*dw:(j+1)*4*dw])
	}
}

// chromaShift returns log2 of the horizontal and vertical chroma
// subsampling of a YCbCr ratio.
func chromaShift(r image.YCbCrSubsampleRatio) (h, v uint, ok bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return 0, 0, true
	case image.YCbCrSubsampleRatio422:
		return 1, 0, true
	case image.YCbCrSubsampleRatio420:
		return 1, 1, true
	case image.YCbCrSubsampleRatio440:
		return 0, 1, true
	case image.YCbCrSubsampleRatio411:
		return 2, 0, true
	case image.YCbCrSubsampleRatio410:
		return 2, 1, true
	}
	return 0, 0, false
}

// chromaSize is the size of the chroma planes of a YCbCr image with bounds
// b, as image.NewYCbCr lays them out.
func chromaSize(b image.Rectangle, hs, vs uint) (w, h int) {
	return ceilShift(b.Max.X, hs) - floorShift(b.Min.X, hs), ceilShift(b.Max.Y, vs) - floorShift(b.Min.Y, vs)
}

func floorShift(v int, s uint) int { return v >> s }

func ceilShift(v int, s uint) int { return (v + 1<<s - 1) >> s }

// makeChromaTaps is makeTaps for a chroma plane subsampled by 1<<shift
// whose first sample covers luma coordinates from floorShift(min)<<shift:
// destination sample d is centred on the same point of the picture as in
// the luma plane, and the kernel has the same size on the picture.
func makeChromaTaps(f filter, dn, cn int, scale float64, min int, shift uint) taps {
	if shift == 0 {
		return makeTaps(f, dn, cn, scale)
	}
	k := float64(int(1) << shift)
	off := float64(min-floorShift(min, shift)<<shift) / k // luma origin in chroma coordinates
	return makeTapsOffset(f, dn, cn, scale/k, off)
}
