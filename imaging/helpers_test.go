package imaging_test

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/photobench/photobench/imaging/imagingtest"
)

// Crafted inputs. Each builds the few bytes a test needs, so no binary
// fixture has to be checked in.

// pngHeader is a PNG signature and an IHDR chunk (8-bit truecolour) with
// a valid CRC announcing a w x h image: enough for png.DecodeConfig, and
// nothing else.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // bit depth, colour type RGB
	imagingtest.WriteChunk(&b, "IHDR", ihdr)
	return b.Bytes()
}

// jpegHeader is an SOI marker and a baseline SOF0 segment (three
// components, 4:2:0) announcing a w x h image, and nothing after it.
func jpegHeader(w, h uint16) []byte {
	b := []byte{0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8}
	b = binary.BigEndian.AppendUint16(b, h)
	b = binary.BigEndian.AppendUint16(b, w)
	return append(b, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
}

// exifSegment is an APP1 Exif segment whose IFD0 holds one Orientation
// entry, in the byte order "II" (little-endian) or "MM" (big-endian).
func exifSegment(order string, orientation uint16) []byte {
	return app1(tiffOrientation(order, 0x0112, 3, 1, orientation))
}

// tiffOrientation is a TIFF structure with one IFD0 entry.
func tiffOrientation(order string, tag, typ uint16, count uint32, value uint16) []byte {
	var bo binary.AppendByteOrder = binary.BigEndian
	if order == "II" {
		bo = binary.LittleEndian
	}
	t := []byte(order)
	t = bo.AppendUint16(t, 42)
	t = bo.AppendUint32(t, 8) // IFD0 right after the header
	t = bo.AppendUint16(t, 1) // one entry
	t = bo.AppendUint16(t, tag)
	t = bo.AppendUint16(t, typ)
	t = bo.AppendUint32(t, count)
	t = bo.AppendUint16(t, value)
	t = bo.AppendUint16(t, 0)    // padding of the 4-byte value field
	return bo.AppendUint32(t, 0) // no IFD1
}

// app1 wraps a TIFF structure in an APP1 Exif segment.
func app1(tiff []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xFF, 0xE1}
	seg = binary.BigEndian.AppendUint16(seg, uint16(len(payload)+2))
	return append(seg, payload...)
}

// afterSOI inserts a segment right after a JPEG's SOI marker, where
// cameras put their APP1 Exif segment.
func afterSOI(jpg, seg []byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// The quadrant colours of quadrantImage, by initial.
var quadrantColors = map[byte]color.RGBA{
	'R': {255, 0, 0, 255},
	'G': {0, 255, 0, 255},
	'B': {0, 0, 255, 255},
	'W': {255, 255, 255, 255},
}

// quadrantImage is a w x h image whose top-left quadrant is red, top-right
// green, bottom-left blue and bottom-right white: where they end up shows
// how an image was turned or mirrored.
func quadrantImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := quadrantColors["RGBW"[2*(2*y/h)+2*x/w]]
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// quadrants names the colours at the centres of img's four quadrants, as
// "TL TR / BL BR" initials like "RG/BW".
func quadrants(img image.Image) string {
	b := img.Bounds()
	var s []byte
	for qy := 0; qy < 2; qy++ {
		if qy == 1 {
			s = append(s, '/')
		}
		for qx := 0; qx < 2; qx++ {
			x := b.Min.X + (2*qx+1)*b.Dx()/4
			y := b.Min.Y + (2*qy+1)*b.Dy()/4
			s = append(s, nearestQuadrantColor(img.At(x, y)))
		}
	}
	return string(s)
}

func nearestQuadrantColor(c color.Color) byte {
	r, g, b, _ := c.RGBA()
	best, bestD := byte('?'), int64(1)<<62
	for name, q := range quadrantColors {
		dr, dg, db := int64(r>>8)-int64(q.R), int64(g>>8)-int64(q.G), int64(b>>8)-int64(q.B)
		if d := dr*dr + dg*dg + db*db; d < bestD {
			best, bestD = name, d
		}
	}
	return best
}
