package imaging

import "image"

// Internals exposed to the external tests and benchmarks.
var (
	Resize     = resize
	Triangle   = triangle
	CatmullRom = catmullRom
	Area       = area
)

// ResampleFilter scales src to fill dst with the filter f.
func ResampleFilter(dst *image.RGBA, src image.Image, f filter) { resampleFilter(dst, src, f) }

// Filter is a resampling kernel.
type Filter = filter

// SetMaxTapBytes sets the largest tap table kept, until the test ends.
func SetMaxTapBytes(t interface{ Cleanup(func()) }, n int64) {
	old := maxTapBytes
	maxTapBytes = n
	t.Cleanup(func() { maxTapBytes = old })
}

// WorstDecodeBytes is the largest estimate of any image under lim.
var WorstDecodeBytes = worstDecodeBytes
