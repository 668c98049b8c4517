// Package imagingtest builds the hostile image corpus: the inputs that
// cost the most memory to decode while passing every upload limit (20 MiB,
// 40 megapixels). Each is a flat image, so the file is a few hundred KB
// while a decoder allocates for every pixel; they are built in memory
// rather than checked in. The imaging package measures each one's peak
// memory against its decode estimate; the apps' tests upload them.
package imagingtest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
)

// The corpus's dimensions: exactly the default pixel limit.
const (
	W, H   = 8000, 5000
	Pixels = W * H
)

// Input is one crafted worst case.
type Input struct {
	Name string
	// Make builds the file (up to a few seconds: it compresses up to
	// 320 MB of samples).
	Make func() []byte
}

// Corpus is the crafted worst cases, by family.
var Corpus = []Input{
	{"png-rgba16", func() []byte { return FlatPNG(W, H, 16, PNGRGBA, false) }},
	{"png-rgba16-adam7", func() []byte { return FlatPNG(W, H, 16, PNGRGBA, true) }},
	{"png-rgb16", func() []byte { return FlatPNG(W, H, 16, PNGRGB, false) }},
	{"png-gray16", func() []byte { return FlatPNG(W, H, 16, PNGGray, false) }},
	{"png-rgba8", func() []byte { return FlatPNG(W, H, 8, PNGRGBA, false) }},
	{"png-paletted8", func() []byte { return FlatPNG(W, H, 8, PNGPaletted, false) }},
	// One row or one column: the decoder's raw rows and the resampler's
	// tap tables grow with a side, not with the area.
	{"png-rgba16-wide", func() []byte { return FlatPNG(Pixels, 1, 16, PNGRGBA, false) }},
	{"png-rgba16-tall", func() []byte { return FlatPNG(1, Pixels, 16, PNGRGBA, false) }},
	{"jpeg-progressive-444", func() []byte { return FlatProgressiveJPEG(W, H, JPEG444, false) }},
	{"jpeg-progressive-420", func() []byte { return FlatProgressiveJPEG(W, H, JPEG420, false) }},
	// Adobe "transform 0" with three components is RGB: converted to RGBA.
	{"jpeg-progressive-rgb", func() []byte { return FlatProgressiveJPEG(W, H, JPEG444, true) }},
	{"jpeg-progressive-cmyk", func() []byte { return FlatProgressiveJPEG(W, H, JPEGCMYK, true) }},
	// The widest JPEG under the pixel limit (a JPEG side is at most 65535).
	{"jpeg-progressive-cmyk-wide", func() []byte { return FlatProgressiveJPEG(65535, Pixels/65535, JPEGCMYK, true) }},
}

// Find is the corpus input of that name; it panics if there is none (a
// test's typo).
func Find(name string) Input {
	for _, in := range Corpus {
		if in.Name == name {
			return in
		}
	}
	panic("imagingtest: no corpus input " + name)
}

// PNG colour types.
const (
	PNGGray     = 0
	PNGRGB      = 2
	PNGPaletted = 3
	PNGRGBA     = 6
)

// Adam7 is the interlace pattern: each pass's x and y offsets and steps.
var Adam7 = [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}

// FlatPNG is a w x h PNG of one colour (all samples zero, palette of one
// entry), streamed into zlib row by row so that building it costs no pixel
// memory.
func FlatPNG(w, h, depth, colorType int, interlaced bool) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = byte(depth), byte(colorType)
	if interlaced {
		ihdr[12] = 1
	}
	WriteChunk(&b, "IHDR", ihdr)
	if colorType == PNGPaletted {
		WriteChunk(&b, "PLTE", []byte{0x20, 0x40, 0x60})
	}
	channels := map[int]int{PNGGray: 1, PNGRGB: 3, PNGPaletted: 1, PNGRGBA: 4}[colorType]
	rowBytes := func(pw int) int { return 1 + pw*channels*depth/8 } // filter byte first
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zeros := make([]byte, 1<<20)
	writeRows := func(pw, ph int) {
		if pw == 0 || ph == 0 {
			return
		}
		for range ph {
			for n := rowBytes(pw); n > 0; n -= min(n, len(zeros)) {
				_, _ = zw.Write(zeros[:min(n, len(zeros))])
			}
		}
	}
	if interlaced {
		for _, p := range Adam7 {
			writeRows((w-p[0]+p[2]-1)/p[2], (h-p[1]+p[3]-1)/p[3])
		}
	} else {
		writeRows(w, h)
	}
	_ = zw.Close()
	WriteChunk(&b, "IDAT", z.Bytes())
	WriteChunk(&b, "IEND", nil)
	return b.Bytes()
}

// JPEG component layouts: sampling factors (h<<4 | v) per component.
var (
	JPEG444  = []byte{0x11, 0x11, 0x11}
	JPEG420  = []byte{0x22, 0x11, 0x11}
	JPEGCMYK = []byte{0x11, 0x11, 0x11, 0x11}
)

// FlatProgressiveJPEG is a w x h progressive JPEG (SOF2) of one colour with
// the given components, and with adobe an APP14 segment saying
// "transform 0" (three components are then RGB, four CMYK): a single DC scan
// of all components in which every block's DC difference is zero (one bit
// each), and no AC scan. A decoder keeps every coefficient of a
// progressive image until the end, so this costs what a real progressive
// photo of that size does.
func FlatProgressiveJPEG(w, h int, sampling []byte, adobe bool) []byte {
	var b bytes.Buffer
	seg := func(marker byte, data []byte) {
		b.Write([]byte{0xFF, marker})
		_ = binary.Write(&b, binary.BigEndian, uint16(len(data)+2))
		b.Write(data)
	}
	b.Write([]byte{0xFF, 0xD8})
	if adobe {
		// APP14 "Adobe", version 100, no flags, transform 0 (CMYK).
		seg(0xEE, []byte{'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0})
	}
	seg(0xDB, append([]byte{0}, bytes.Repeat([]byte{1}, 64)...)) // quantisation table 0, all ones
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(len(sampling))}
	hmax, vmax, blocksPerMCU := 1, 1, 0
	for i, s := range sampling {
		sof = append(sof, byte(i+1), s, 0)
		hmax, vmax = max(hmax, int(s>>4)), max(vmax, int(s&15))
		blocksPerMCU += int(s>>4) * int(s&15)
	}
	seg(0xC2, sof)
	// DC table 0: one code, "0", for category 0 (a difference of zero).
	seg(0xC4, append([]byte{0x00, 1}, append(make([]byte, 15), 0)...))
	sos := []byte{byte(len(sampling))}
	for i := range sampling {
		sos = append(sos, byte(i+1), 0x00)
	}
	seg(0xDA, append(sos, 0, 0, 0)) // spectral selection 0..0, no approximation
	mcus := ((w + 8*hmax - 1) / (8 * hmax)) * ((h + 8*vmax - 1) / (8 * vmax))
	bits := mcus * blocksPerMCU
	b.Write(make([]byte, bits/8))
	if r := bits % 8; r != 0 {
		b.WriteByte(byte(1<<(8-r) - 1)) // pad the last byte with ones
	}
	b.Write([]byte{0xFF, 0xD9})
	return b.Bytes()
}

// WriteChunk appends a PNG chunk, with its CRC, to b.
func WriteChunk(b *bytes.Buffer, typ string, data []byte) {
	_ = binary.Write(b, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	_ = binary.Write(b, binary.BigEndian, crc.Sum32())
}
