package conformance

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"strings"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/synth"
)

// The suite's refused bodies. Each is built to be refused for exactly one
// reason.

// truncatedJPEG is the first half of a valid JPEG: its header is whole
// (so the dimensions read fine), its image data is cut.
func truncatedJPEG() []byte {
	data := synth.JPEG(synth.Options{Seed: 901, Width: 640, Height: 480})
	return data[:len(data)/2]
}

// textFile is a plain text body.
func textFile() []byte {
	return []byte(strings.Repeat("This is a text file, not a photo.\n", 20))
}

// tinyGIF is a valid 4x4 GIF.
func tinyGIF() []byte {
	img := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White})
	for i := range img.Pix {
		img.Pix[i] = uint8(i % 2)
	}
	var b bytes.Buffer
	if err := gif.Encode(&b, img, nil); err != nil {
		panic(err) // writing to memory cannot fail
	}
	return b.Bytes()
}

// overByteLimit is lim.MaxBytes+1 bytes starting with a valid JPEG (so
// only its size is wrong), padded with zeros.
func overByteLimit(lim imaging.Limits) []byte {
	data := make([]byte, lim.MaxBytes+1)
	copy(data, synth.JPEG(synth.Options{Seed: 902, Width: 64, Height: 48}))
	return data
}

// pngBomb is a tiny PNG (signature, IHDR with a correct CRC, IEND) whose
// header announces a square image of more than lim.MaxPixels pixels: at
// least 100000x100000. A server must refuse it from the header alone.
func pngBomb(lim imaging.Limits) []byte {
	side := int64(100_000)
	for side*side <= lim.MaxPixels && side < 1<<30 {
		side *= 2
	}
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(side))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(side))
	ihdr[8] = 8  // bit depth
	ihdr[9] = 2  // colour type: truecolour
	ihdr[10] = 0 // compression: deflate
	ihdr[11] = 0 // filter: adaptive
	ihdr[12] = 0 // interlace: none
	writeChunk(&b, "IHDR", ihdr)
	writeChunk(&b, "IEND", nil)
	return b.Bytes()
}

func writeChunk(b *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	b.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	b.Write(n[:])
}
