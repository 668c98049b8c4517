package imaging

import "encoding/binary"

// jpegHeader is what Inspect reads from a JPEG's marker segments itself.
type jpegHeader struct {
	// width and height are those of the first SOFn segment; 0 when there
	// is none before the scan data (or it is cut short).
	width, height int
	// orientation is the EXIF orientation, 1..8 (1 when absent or
	// malformed).
	orientation int
	// What the decode will cost depends on these (estimate.go): whether
	// the frame is progressive (SOF2, SOF6, SOF10, SOF14), its components'
	// identifiers and sampling factors (h<<4 | v), and whether an Adobe
	// APP14 segment says "transform 0" (RGB or CMYK, not YCbCr).
	progressive bool
	ids         []byte
	sampling    []byte
	adobeRaw    bool
}

// scanJPEG walks a JPEG's marker segments up to the first scan. It reads
// only what it needs and bounds-checks every offset: the input is
// untrusted. It exists because jpeg.DecodeConfig, for a file without a
// JFIF segment, reads on past the frame header to the scan and fails on a
// file cut short there, and a decompression bomb need not be more than the
// header that announces it; and because the standard library ignores EXIF.
func scanJPEG(data []byte) jpegHeader {
	h := jpegHeader{orientation: 1}
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return h
	}
	oriented := false
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return h
		}
		marker := data[i+1]
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 || marker == 0xFF {
			i++ // markers without a length (and fill bytes)
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan / end: no metadata after
			return h
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 {
			return h
		}
		end := min(i+2+n, len(data))
		seg := data[i+4 : end]
		switch {
		case isSOF(marker) && h.width == 0 && h.height == 0 && len(seg) >= 5:
			// precision, height, width: enough for the pixel limit even
			// when the rest of the file is missing.
			h.height = int(binary.BigEndian.Uint16(seg[1:]))
			h.width = int(binary.BigEndian.Uint16(seg[3:]))
			h.progressive = marker&3 == 2
			if len(seg) >= 6 {
				comps := seg[6:]
				for c := 0; c < int(seg[5]) && 3*c+1 < len(comps); c++ {
					h.ids = append(h.ids, comps[3*c])
					h.sampling = append(h.sampling, comps[3*c+1])
				}
			}
		case marker == 0xEE && len(seg) >= 12 && string(seg[:5]) == "Adobe":
			h.adobeRaw = seg[11] == 0
		case marker == 0xE1 && !oriented && end == i+2+n && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00":
			if o := tiffOrientation(seg[6:]); o != 0 {
				h.orientation = o
				oriented = true
			}
		}
		i += 2 + n
	}
	return h
}

// isSOF reports whether marker starts a frame (SOF0..SOF15 less DHT, JPG
// and DAC, which share the range).
func isSOF(marker byte) bool {
	return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure; 0 when
// absent or malformed.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return 0
	}
	count := int(bo.Uint16(t[off:]))
	for k := 0; k < count; k++ {
		e := int(off) + 2 + 12*k
		if e+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		if bo.Uint16(t[e+2:]) != 3 || bo.Uint32(t[e+4:]) == 0 { // SHORT, value inline
			return 0
		}
		v := int(bo.Uint16(t[e+8:]))
		if v >= 1 && v <= 8 {
			return v
		}
		return 0
	}
	return 0
}
