package loadgen

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/photobench/photobench/internal/atomicfile"
	"github.com/photobench/photobench/internal/synth"
)

// PhotoSpec describes the synthetic photos uploads send: Count distinct JPEGs
// whose sizes are drawn from Sizes by weight. A zero PhotoSpec means
// DefaultPhotoSpec.
type PhotoSpec struct {
	Count int
	Sizes []PhotoSize
}

// PhotoSize is one entry of the size distribution.
type PhotoSize struct {
	Megapixels float64 // width × height / 1e6, 4:3 landscape
	Weight     float64 // >= 0; shares are Weight / sum of weights
}

// Limits of a photo spec: enough variety for caches not to matter, small enough
// to generate in seconds, and within the servers' default pixel limit.
const (
	DefaultPhotoCount = 16
	MaxPhotoCount     = 1000
	MaxPhotoMegapixel = 40
)

// DefaultPhotoSpec is a spread of phone-to-camera sizes: 0.3, 1, 2 and 4 MP,
// equally likely.
func DefaultPhotoSpec() PhotoSpec {
	return PhotoSpec{Count: DefaultPhotoCount, Sizes: []PhotoSize{
		{Megapixels: 0.3, Weight: 1}, {Megapixels: 1, Weight: 1},
		{Megapixels: 2, Weight: 1}, {Megapixels: 4, Weight: 1},
	}}
}

// Validate reports the first problem of the spec as "photos.field: problem".
func (p PhotoSpec) Validate() error {
	if p.Count <= 0 || p.Count > MaxPhotoCount {
		return fieldErr("photos.count", fmt.Sprintf("must be between 1 and %d", MaxPhotoCount))
	}
	if len(p.Sizes) == 0 {
		return fieldErr("photos.sizes", "must list at least one size")
	}
	sum := 0.0
	for i, sz := range p.Sizes {
		path := fmt.Sprintf("photos.sizes[%d]", i)
		if !(sz.Megapixels > 0 && sz.Megapixels <= MaxPhotoMegapixel) {
			return fieldErr(path+".megapixels", fmt.Sprintf("must be above 0 and at most %d", MaxPhotoMegapixel))
		}
		if sz.Weight < 0 || math.IsNaN(sz.Weight) || math.IsInf(sz.Weight, 0) {
			return fieldErr(path+".weight", "must be a non-negative number")
		}
		sum += sz.Weight
	}
	if sum <= 0 {
		return fieldErr("photos.sizes", "needs a positive weight")
	}
	return nil
}

type rawPhotos struct {
	Count *int           `yaml:"count"`
	Sizes []rawPhotoSize `yaml:"sizes"`
}

type rawPhotoSize struct {
	Megapixels *float64 `yaml:"megapixels"`
	Weight     *float64 `yaml:"weight"`
}

func (r *rawPhotos) spec() (PhotoSpec, error) {
	p := DefaultPhotoSpec()
	if r.Count != nil {
		p.Count = *r.Count
	}
	if r.Sizes != nil {
		p.Sizes = make([]PhotoSize, len(r.Sizes))
		for i, s := range r.Sizes {
			if s.Megapixels == nil {
				return PhotoSpec{}, fieldErr(fmt.Sprintf("photos.sizes[%d].megapixels", i), "is required")
			}
			w := 1.0 // default: equally likely
			if s.Weight != nil {
				w = *s.Weight
			}
			p.Sizes[i] = PhotoSize{Megapixels: *s.Megapixels, Weight: w}
		}
	}
	return p, p.Validate()
}

// A PhotoSet is the bodies uploads send, deterministic from a spec and a seed.
type PhotoSet struct {
	photos [][]byte
	bytes  int64
}

// Len returns the number of photos.
func (s *PhotoSet) Len() int { return len(s.photos) }

// Bytes returns the photos' total size.
func (s *PhotoSet) Bytes() int64 { return s.bytes }

// Pick returns photo i modulo Len. The slice is shared: do not modify it.
func (s *PhotoSet) Pick(i uint64) []byte { return s.photos[i%uint64(len(s.photos))] }

// photoDims returns the 4:3 size closest to mp megapixels.
func photoDims(mp float64) (w, h int) {
	w = max(int(math.Round(math.Sqrt(mp*1e6*4/3))), 4)
	h = max(int(math.Round(float64(w)*3/4)), 3)
	return w, h
}

// PhotoCacheKey names a spec and seed's photos: equal keys mean equal bytes.
func PhotoCacheKey(spec PhotoSpec, seed uint64) string {
	h := sha256.New()
	fmt.Fprintf(h, "photobench-loadgen-photos v1 seed=%d count=%d", seed, spec.Count)
	for _, s := range spec.Sizes {
		fmt.Fprintf(h, " %g:%g", s.Megapixels, s.Weight)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// LoadPhotos returns the spec's photos for seed (a zero spec means
// DefaultPhotoSpec), reading them from cacheRoot/<PhotoCacheKey> when an earlier
// run made them and generating and storing them there otherwise (cacheRoot ""
// disables the cache). Photo i is a synth JPEG with a size drawn by weight from a
// generator seeded by (seed, i), so a set is the same on every machine.
func LoadPhotos(spec PhotoSpec, seed uint64, cacheRoot string) (*PhotoSet, error) {
	if spec.Count == 0 && spec.Sizes == nil {
		spec = DefaultPhotoSpec()
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("load photos: %w", err)
	}
	dir := ""
	if cacheRoot != "" {
		dir = filepath.Join(cacheRoot, PhotoCacheKey(spec, seed))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("load photos: %w", err)
		}
	}
	total := 0.0
	for _, s := range spec.Sizes {
		total += s.Weight
	}
	set := &PhotoSet{photos: make([][]byte, spec.Count)}
	errs := make([]error, spec.Count)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), spec.Count) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				set.photos[i], errs[i] = photo(spec, total, seed, i, dir)
			}
		}()
	}
	for i := range spec.Count {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("load photos: %w", err)
	}
	for _, p := range set.photos {
		set.bytes += int64(len(p))
	}
	return set, nil
}

func photo(spec PhotoSpec, total float64, seed uint64, i int, dir string) ([]byte, error) {
	path := ""
	if dir != "" {
		path = filepath.Join(dir, fmt.Sprintf("photo-%04d.jpg", i))
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
			return data, nil
		}
	}
	rng := rand.New(rand.NewPCG(seed, uint64(i)))
	x := rng.Float64() * total
	mp := spec.Sizes[len(spec.Sizes)-1].Megapixels
	for _, s := range spec.Sizes {
		if x < s.Weight {
			mp = s.Megapixels
			break
		}
		x -= s.Weight
	}
	w, h := photoDims(mp)
	data := synth.JPEG(synth.Options{Seed: rng.Uint64(), Width: w, Height: h})
	if path != "" {
		if err := atomicfile.Write(path, data, 0o644); err != nil {
			return nil, err
		}
	}
	return data, nil
}
