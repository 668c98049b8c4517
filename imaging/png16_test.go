package imaging_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/imaging/imagingtest"
	"github.com/photobench/photobench/photo"
)

// noisyPNG16 is a w x h 16-bit PNG of colour type ct with random samples
// (a few in tRNS's colour, if given), each row under a different filter
// type, interlaced or not: what the standard encoder cannot write.
func noisyPNG16(seed uint64, w, h int, ct byte, interlaced bool, trns []byte) []byte {
	rng := rand.New(rand.NewPCG(seed, 16))
	channels := map[byte]int{0: 1, 2: 3, 4: 2, 6: 4}[ct]
	bpp := 2 * channels
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, ct
	if interlaced {
		ihdr[12] = 1
	}
	imagingtest.WriteChunk(&b, "IHDR", ihdr)
	if trns != nil {
		imagingtest.WriteChunk(&b, "tRNS", trns)
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	passes := [][4]int{{0, 0, 1, 1}}
	if interlaced {
		passes = imagingtest.Adam7[:]
	}
	row := 0
	for _, p := range passes {
		pw, ph := (w-p[0]+p[2]-1)/p[2], (h-p[1]+p[3]-1)/p[3]
		if pw <= 0 || ph <= 0 {
			continue
		}
		prev := make([]byte, pw*bpp)
		for range ph {
			cur := make([]byte, pw*bpp)
			for i := range cur {
				cur[i] = byte(rng.Uint32())
			}
			if trns != nil && rng.IntN(3) == 0 { // a transparent pixel
				copy(cur[bpp*rng.IntN(pw):], trns)
			}
			ft := byte(row % 5)
			row++
			_, _ = zw.Write(append([]byte{ft}, filterRow(ft, cur, prev, bpp)...))
			prev = cur
		}
	}
	_ = zw.Close()
	imagingtest.WriteChunk(&b, "IDAT", z.Bytes())
	imagingtest.WriteChunk(&b, "IEND", nil)
	return b.Bytes()
}

// filterRow applies PNG filter ft to row cur (previous row prev).
func filterRow(ft byte, cur, prev []byte, bpp int) []byte {
	out := make([]byte, len(cur))
	for i := range cur {
		var a, c int
		if i >= bpp {
			a, c = int(cur[i-bpp]), int(prev[i-bpp])
		}
		up := int(prev[i])
		var pred int
		switch ft {
		case 1:
			pred = a
		case 2:
			pred = up
		case 3:
			pred = (a + up) / 2
		case 4:
			p := a + up - c
			pa, pb, pc := abs(p-a), abs(p-up), abs(p-c)
			switch {
			case pa <= pb && pa <= pc:
				pred = a
			case pb <= pc:
				pred = up
			default:
				pred = c
			}
		}
		out[i] = cur[i] - byte(pred)
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestDecodePNG16 checks the 16-bit PNG decoder against the standard one:
// every colour type, with and without tRNS, interlaced or not, odd sizes
// (Adam7 passes of one pixel or none), every filter type. The pixels, as
// the thumbnails see them (converted to RGBA), must be the same.
func TestDecodePNG16(t *testing.T) {
	trns := map[byte][]byte{0: {0x12, 0x34}, 2: {1, 2, 3, 4, 5, 6}}
	sizes := [][2]int{{1, 1}, {3, 2}, {9, 1}, {1, 9}, {17, 13}, {64, 33}}
	for _, ct := range []byte{0, 2, 4, 6} {
		for _, interlaced := range []bool{false, true} {
			for _, withTRNS := range []bool{false, true} {
				if withTRNS && trns[ct] == nil {
					continue
				}
				for i, sz := range sizes {
					name := fmt.Sprintf("type%d/interlaced=%v/trns=%v/%dx%d", ct, interlaced, withTRNS, sz[0], sz[1])
					t.Run(name, func(t *testing.T) {
						var tr []byte
						if withTRNS {
							tr = trns[ct]
						}
						data := noisyPNG16(uint64(i), sz[0], sz[1], ct, interlaced, tr)
						want, err := png.Decode(bytes.NewReader(data))
						if err != nil {
							t.Fatalf("standard decoder: %v", err)
						}
						got := decode(t, data)
						if g, w := toRGBA(got), toRGBA(want); !bytes.Equal(g.Pix, w.Pix) {
							t.Errorf("pixels differ from the standard decoder's:\n got %v\nwant %v", g.Pix[:min(16, len(g.Pix))], w.Pix[:min(16, len(w.Pix))])
						}
					})
				}
			}
		}
	}
	// The standard encoder's own 16-bit files (adaptive filters).
	src := image.NewNRGBA64(image.Rect(0, 0, 50, 30))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range src.Pix {
		src.Pix[i] = byte(rng.Uint32())
	}
	for name, img := range map[string]image.Image{"NRGBA64": src, "RGBA64": toRGBA64(src), "Gray16": toGray16(src)} {
		t.Run("encoded "+name, func(t *testing.T) {
			var b bytes.Buffer
			if err := png.Encode(&b, img); err != nil {
				t.Fatal(err)
			}
			want, err := png.Decode(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if g, w := toRGBA(decode(t, b.Bytes())), toRGBA(want); !bytes.Equal(g.Pix, w.Pix) {
				t.Error("pixels differ from the standard decoder's")
			}
		})
	}
}

func toRGBA64(img image.Image) image.Image {
	out := image.NewRGBA64(img.Bounds())
	draw.Draw(out, out.Rect, img, image.Point{}, draw.Src)
	return out
}

func toGray16(img image.Image) image.Image {
	out := image.NewGray16(img.Bounds())
	draw.Draw(out, out.Rect, img, image.Point{}, draw.Src)
	return out
}

// decode runs Inspect and Decode on data, which must succeed.
func decode(tb testing.TB, data []byte) image.Image {
	_, img := inspectDecode(tb, data)
	return img
}

// inspectDecode runs Inspect and Decode on data, which must succeed (its
// decode budget released at once).
func inspectDecode(tb testing.TB, data []byte) (imaging.Info, image.Image) {
	tb.Helper()
	info, err := imaging.Inspect(data, imaging.DefaultLimits)
	if err != nil {
		tb.Fatal(err)
	}
	img, release, err := imaging.Decode(context.Background(), data, info)
	if err != nil {
		tb.Fatal(err)
	}
	release()
	return info, img
}

// TestDecodePNG16Damaged: a damaged 16-bit PNG is Invalid, never a panic
// or an image: truncated anywhere, a byte changed anywhere (every chunk
// has a CRC, the image data an Adler-32), a bad filter type.
func TestDecodePNG16Damaged(t *testing.T) {
	data := noisyPNG16(7, 23, 11, 6, true, nil)
	try := func(what string, d []byte) {
		t.Helper()
		info, err := imaging.Inspect(d, imaging.DefaultLimits)
		if err != nil {
			return // refused before decoding: fine
		}
		if _, _, err := imaging.Decode(context.Background(), d, info); photo.KindOf(err) != photo.Invalid {
			t.Errorf("%s: %v, want Invalid", what, err)
		}
	}
	for n := 33; n < len(data); n += 7 {
		try(fmt.Sprintf("cut at %d", n), data[:n])
	}
	for i := 8; i < len(data); i += 5 {
		d := bytes.Clone(data)
		d[i] ^= 0x40
		try(fmt.Sprintf("byte %d changed", i), d)
	}
	// A filter type of 5, with valid checksums.
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write([]byte{5, 0, 0, 0, 0, 0, 0, 0, 0})
	_ = zw.Close()
	var b bytes.Buffer
	b.Write(pngHeaderOf(1, 1, 16, 6, false)[:33])
	imagingtest.WriteChunk(&b, "IDAT", z.Bytes())
	imagingtest.WriteChunk(&b, "IEND", nil)
	try("filter type 5", b.Bytes())
}
