package imaging

import (
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"io"
)

// A decoder for 16-bit PNGs that keeps 8 bits a sample. The standard
// decoder returns them at 16 bits (8 bytes a pixel for RGBA, and for an
// interlaced file as much again in pass images), which the thumbnails
// then reduce to 8 bits anyway: this one converts each row as it is
// unfiltered, into the RGBA (premultiplied, as draw.Draw converts) or
// Gray image the resampler filters in place, so a 16-bit PNG costs what
// an 8-bit one does: 4 bytes a pixel, or 1 for grey. The pixels are those
// of the standard decoder's image converted to RGBA (TestDecodePNG16).

// png16 is what decodePNG16 needs of the header.
type png16 struct {
	w, h        int
	colorType   byte
	interlaced  bool
	transparent []byte // the tRNS chunk, if any
}

// errPNG16 is wrapped by every error of decodePNG16.
var errPNG16 = errors.New("png")

// decodePNG16 decodes a 16-bit PNG (colour type 0, 2, 4 or 6). data has
// passed Inspect.
func decodePNG16(data []byte) (image.Image, error) {
	var p png16
	ch := chunks{data: data, off: 8}
	// Header chunks, up to the first IDAT.
	for {
		typ, body, err := ch.next()
		if err != nil {
			return nil, err
		}
		switch typ {
		case "IHDR":
			if len(body) != 13 || body[8] != 16 || body[10] != 0 || body[11] != 0 || body[12] > 1 {
				return nil, fmt.Errorf("%w: unsupported IHDR", errPNG16)
			}
			p.w, p.h = int(binary.BigEndian.Uint32(body)), int(binary.BigEndian.Uint32(body[4:]))
			p.colorType, p.interlaced = body[9], body[12] == 1
		case "tRNS":
			p.transparent = body
		case "IDAT":
			ch.off = ch.last // read it again, as image data
		case "IEND":
			return nil, fmt.Errorf("%w: no image data", errPNG16)
		}
		if typ == "IDAT" {
			break
		}
	}
	channels := map[byte]int{0: 1, 2: 3, 4: 2, 6: 4}[p.colorType]
	if channels == 0 || p.w <= 0 || p.h <= 0 {
		return nil, fmt.Errorf("%w: unsupported colour type %d", errPNG16, p.colorType)
	}
	if want := map[byte]int{0: 2, 2: 6}[p.colorType]; p.transparent != nil && len(p.transparent) != want {
		return nil, fmt.Errorf("%w: bad tRNS length", errPNG16)
	}
	zr, err := zlib.NewReader(&idat{chunks: &ch})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errPNG16, err)
	}
	var (
		gray *image.Gray
		rgba *image.RGBA
		img  image.Image
	)
	if p.colorType == 0 && p.transparent == nil {
		gray = image.NewGray(image.Rect(0, 0, p.w, p.h))
		img = gray
	} else {
		rgba = image.NewRGBA(image.Rect(0, 0, p.w, p.h))
		img = rgba
	}
	bpp := 2 * channels
	cr := make([]byte, 1+bpp*p.w) // filter byte, then the row
	pr := make([]byte, 1+bpp*p.w)
	passes := [][4]int{{0, 0, 1, 1}}
	if p.interlaced {
		passes = adam7[:]
	}
	for _, ps := range passes {
		pw, ph := (p.w-ps[0]+ps[2]-1)/ps[2], (p.h-ps[1]+ps[3]-1)/ps[3]
		if pw <= 0 || ph <= 0 {
			continue
		}
		n := 1 + bpp*pw
		clear(pr[:n])
		for y := range ph {
			if _, err := io.ReadFull(zr, cr[:n]); err != nil {
				return nil, fmt.Errorf("%w: not enough pixel data: %v", errPNG16, err)
			}
			if err := unfilter(cr[:n], pr[:n], bpp); err != nil {
				return nil, err
			}
			dy := ps[1] + y*ps[3]
			row := cr[1:n]
			if gray != nil {
				o := gray.PixOffset(ps[0], dy)
				for x := range pw {
					gray.Pix[o+x*ps[2]] = row[2*x]
				}
			} else {
				convert16(rgba.Pix[rgba.PixOffset(ps[0], dy):], 4*ps[2], row, pw, p)
			}
			cr, pr = pr, cr
		}
	}
	// The zlib stream must end here (its checksum is checked at the
	// end), and the file with IEND.
	if n, err := io.ReadFull(zr, cr[:1]); n != 0 || (err != io.EOF && err != io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%w: too much pixel data, or a bad checksum (%v)", errPNG16, err)
	}
	for {
		typ, _, err := ch.next()
		if err != nil {
			return nil, err
		}
		if typ == "IEND" {
			return img, nil
		}
	}
}

// adam7 is the interlace pattern: each pass's x and y offsets and steps.
var adam7 = [7][4]int{{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8}, {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2}, {0, 1, 1, 2}}

// convert16 writes n pixels of an unfiltered 16-bit row into RGBA pixels
// step bytes apart: premultiplied as color.NRGBA64's RGBA method does,
// then cut to 8 bits as color.RGBAModel does, a tRNS match transparent.
func convert16(dst []byte, step int, row []byte, n int, p png16) {
	s := func(i int) uint32 { return uint32(row[2*i])<<8 | uint32(row[2*i+1]) }
	for x := range n {
		var r, g, b, a uint32
		switch p.colorType {
		case 0:
			r = s(x)
			g, b, a = r, r, 0xffff
			if p.transparent != nil && string(row[2*x:2*x+2]) == string(p.transparent) {
				a = 0
			}
		case 2:
			r, g, b, a = s(3*x), s(3*x+1), s(3*x+2), 0xffff
			if p.transparent != nil && string(row[6*x:6*x+6]) == string(p.transparent) {
				a = 0
			}
		case 4:
			r, a = s(2*x), s(2*x+1)
			g, b = r, r
		case 6:
			r, g, b, a = s(4*x), s(4*x+1), s(4*x+2), s(4*x+3)
		}
		d := dst[x*step : x*step+4 : x*step+4]
		d[0], d[1], d[2], d[3] = uint8(r*a/0xffff>>8), uint8(g*a/0xffff>>8), uint8(b*a/0xffff>>8), uint8(a>>8)
	}
}

// unfilter undoes a row's PNG filter (cr[0]) in place, given the previous
// row pr (zeros for the first), bpp bytes a pixel.
func unfilter(cr, pr []byte, bpp int) error {
	cdat, pdat := cr[1:], pr[1:]
	switch cr[0] {
	case 0:
	case 1: // sub
		for i := bpp; i < len(cdat); i++ {
			cdat[i] += cdat[i-bpp]
		}
	case 2: // up
		for i, p := range pdat {
			cdat[i] += p
		}
	case 3: // average
		for i := range bpp {
			cdat[i] += pdat[i] / 2
		}
		for i := bpp; i < len(cdat); i++ {
			cdat[i] += uint8((int(cdat[i-bpp]) + int(pdat[i])) / 2)
		}
	case 4: // Paeth
		for i := range cdat {
			var a, c int
			if i >= bpp {
				a, c = int(cdat[i-bpp]), int(pdat[i-bpp])
			}
			cdat[i] += paeth(a, int(pdat[i]), c)
		}
	default:
		return fmt.Errorf("%w: bad filter type %d", errPNG16, cr[0])
	}
	return nil
}

// paeth is the Paeth predictor of a (left), b (up) and c (up left).
func paeth(a, b, c int) uint8 {
	p := a + b - c
	pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
	if pa <= pb && pa <= pc {
		return uint8(a)
	}
	if pb <= pc {
		return uint8(b)
	}
	return uint8(c)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// chunks walks a PNG's chunks, checking each one's bounds and CRC.
type chunks struct {
	data      []byte
	off, last int // the next chunk; the one next returned
}

// next returns the next chunk's type and data.
func (c *chunks) next() (string, []byte, error) {
	if c.off+8 > len(c.data) {
		return "", nil, fmt.Errorf("%w: truncated", errPNG16)
	}
	n := int64(binary.BigEndian.Uint32(c.data[c.off:]))
	end := int64(c.off) + 12 + n
	if n > 1<<31-1 || end > int64(len(c.data)) {
		return "", nil, fmt.Errorf("%w: truncated chunk", errPNG16)
	}
	typ, body := c.data[c.off+4:c.off+8], c.data[c.off+8:end-4]
	crc := crc32.NewIEEE()
	crc.Write(typ)
	crc.Write(body)
	if crc.Sum32() != binary.BigEndian.Uint32(c.data[end-4:]) {
		return "", nil, fmt.Errorf("%w: %s chunk: bad checksum", errPNG16, typ)
	}
	c.last, c.off = c.off, int(end)
	return string(typ), body, nil
}

// idat reads the data of consecutive IDAT chunks as one stream.
type idat struct {
	chunks *chunks
	cur    []byte
	done   bool
}

func (r *idat) Read(b []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.done {
			return 0, io.EOF
		}
		typ, body, err := r.chunks.next()
		if err != nil {
			return 0, err
		}
		if typ != "IDAT" {
			r.chunks.off = r.chunks.last // not image data: leave it for after
			r.done = true
			return 0, io.EOF
		}
		r.cur = body
	}
	n := copy(b, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
