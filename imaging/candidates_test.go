package imaging_test

import (
	"image"
	"image/color"
)

// boxShrink is a rejected candidate kept for the scaler comparison: it
// reduces src by the integer factor k, each output pixel the mean of a
// k x k block (partial blocks at the right and bottom edges average what
// they cover). Followed by a kernel scaler for the remaining ratio it is
// cheap, but the partial edge blocks stretch the geometry by up to k-1
// source pixels, which costs several dB (SCALER.md). ok is false for k < 2
// and for types other than 4:2:0 YCbCr and RGBA.
func boxShrink(src image.Image, k int) (dst *image.RGBA, ok bool) {
	b := src.Bounds()
	if k < 2 || b.Min != (image.Point{}) {
		return nil, false
	}
	ow, oh := (b.Dx()+k-1)/k, (b.Dy()+k-1)/k
	dst = image.NewRGBA(image.Rect(0, 0, ow, oh))
	var px func(x, y int) (r, g, b uint32)
	switch s := src.(type) {
	case *image.YCbCr:
		if s.SubsampleRatio != image.YCbCrSubsampleRatio420 {
			return nil, false
		}
		px = func(x, y int) (uint32, uint32, uint32) {
			ci := (y/2)*s.CStride + x/2
			return uint32(s.Y[y*s.YStride+x]), uint32(s.Cb[ci]), uint32(s.Cr[ci])
		}
	case *image.RGBA:
		px = func(x, y int) (uint32, uint32, uint32) {
			p := s.Pix[y*s.Stride+4*x:]
			return uint32(p[0]), uint32(p[1]), uint32(p[2])
		}
	default:
		return nil, false
	}
	_, isYCbCr := src.(*image.YCbCr)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			var s0, s1, s2, n uint32
			for y := oy * k; y < min((oy+1)*k, b.Dy()); y++ {
				for x := ox * k; x < min((ox+1)*k, b.Dx()); x++ {
					a, b, c := px(x, y)
					s0, s1, s2, n = s0+a, s1+b, s2+c, n+1
				}
			}
			v0, v1, v2 := uint8((s0+n/2)/n), uint8((s1+n/2)/n), uint8((s2+n/2)/n)
			if isYCbCr {
				v0, v1, v2 = color.YCbCrToRGB(v0, v1, v2)
			}
			i := dst.PixOffset(ox, oy)
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = v0, v1, v2, 255
		}
	}
	return dst, true
}
