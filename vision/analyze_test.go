package vision_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/vision"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func solid(w, h int, c color.Color) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	return img
}

func TestAnalyzeIsDeterministic(t *testing.T) {
	o := synth.Options{Seed: 7, Width: 640, Height: 480}
	a, b := vision.Analyze(synth.Image(o)), vision.Analyze(synth.Image(o))
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same pixels, different analyses:\n%+v\n%+v", a, b)
	}
	// The same pixels through PNG (lossless) and another image type.
	img, err := png.Decode(bytes.NewReader(synth.PNG(o)))
	if err != nil {
		t.Fatal(err)
	}
	if c := vision.Analyze(img); !reflect.DeepEqual(a, c) {
		t.Errorf("PNG round trip changed the analysis:\n%+v\n%+v", a, c)
	}
}

func TestAnalyzeTags(t *testing.T) {
	tests := []struct {
		name     string
		img      image.Image
		want     []string
		dontWant []string
	}{
		{"gray photo", synth.Image(synth.Options{Seed: 3, Width: 640, Height: 480, Gray: true}), []string{"monochrome", "landscape"}, []string{"colourful", "red", "blue", "green"}},
		{"portrait", synth.Image(synth.Options{Seed: 3, Width: 300, Height: 500}), []string{"portrait"}, []string{"landscape", "square"}},
		{"square", synth.Image(synth.Options{Seed: 3, Width: 400, Height: 390}), []string{"square"}, []string{"landscape", "portrait"}},
		{"panorama", synth.Image(synth.Options{Seed: 3, Width: 1000, Height: 400}), []string{"landscape", "panorama"}, nil},
		{"solid red", solid(64, 48, color.RGBA{220, 20, 30, 255}), []string{"red", "colourful", "low-contrast", "landscape"}, []string{"monochrome", "blue"}},
		{"solid blue", solid(48, 64, color.RGBA{30, 60, 220, 255}), []string{"blue", "colourful", "portrait"}, []string{"red"}},
		{"black", solid(10, 10, color.Black), []string{"black", "dark", "monochrome", "square"}, []string{"bright"}},
		{"white", solid(10, 10, color.White), []string{"white", "bright", "monochrome"}, []string{"dark"}},
		{"mid gray", solid(10, 10, color.Gray{128}), []string{"gray", "monochrome"}, []string{"dark", "bright", "white", "black"}},
		{"one pixel", solid(1, 1, color.RGBA{250, 220, 30, 255}), []string{"yellow", "square"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := vision.Analyze(tt.img)
			for _, w := range tt.want {
				if !slices.Contains(a.Tags, w) {
					t.Errorf("tags %q lack %q", a.Tags, w)
				}
			}
			for _, w := range tt.dontWant {
				if slices.Contains(a.Tags, w) {
					t.Errorf("tags %q have %q", a.Tags, w)
				}
			}
			if !slices.IsSorted(a.Tags) || len(slices.Compact(slices.Clone(a.Tags))) != len(a.Tags) {
				t.Errorf("tags %q are not sorted and distinct", a.Tags)
			}
		})
	}
}

func TestAnalyzeFields(t *testing.T) {
	a := vision.Analyze(synth.Image(synth.Options{Seed: 11, Width: 320, Height: 200}))
	if a.Width != 320 || a.Height != 200 {
		t.Errorf("size %dx%d, want 320x200", a.Width, a.Height)
	}
	if len(a.Hash) != 16 || strings.Trim(a.Hash, "0123456789abcdef") != "" {
		t.Errorf("hash %q: want 16 hex digits", a.Hash)
	}
	if len(a.Colors) < 1 || len(a.Colors) > 3 {
		t.Errorf("colors %q: want 1 to 3", a.Colors)
	}
	for _, c := range a.Colors {
		if !hexColor.MatchString(c) {
			t.Errorf("color %q is not #rrggbb", c)
		}
	}
	if a.Brightness <= 0 || a.Brightness >= 1 {
		t.Errorf("brightness %v: want within (0, 1) for a photo", a.Brightness)
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tags", "colors", "hash", "width", "height", "brightness"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON %s lacks %q", b, k)
		}
	}
}

func TestAnalyzeSeedsDiffer(t *testing.T) {
	tagSets, hashes := map[string]bool{}, map[string]bool{}
	const n = 12
	for seed := uint64(1); seed <= n; seed++ {
		a := vision.Analyze(synth.Image(synth.Options{Seed: seed, Width: 400, Height: 300}))
		tagSets[strings.Join(a.Tags, ",")] = true
		hashes[a.Hash] = true
	}
	if len(tagSets) < n/2 {
		t.Errorf("%d seeds gave only %d different tag sets", n, len(tagSets))
	}
	if len(hashes) != n {
		t.Errorf("%d seeds gave only %d different hashes", n, len(hashes))
	}
}

// A JPEG re-encoding changes pixels slightly but not what the photo shows:
// the hash stays within a small Hamming distance.
func TestHashSurvivesJPEG(t *testing.T) {
	o := synth.Options{Seed: 5, Width: 800, Height: 600}
	img, err := jpeg.Decode(bytes.NewReader(synth.JPEG(o)))
	if err != nil {
		t.Fatal(err)
	}
	a, b := vision.Analyze(synth.Image(o)), vision.Analyze(img)
	if d := hamming(t, a.Hash, b.Hash); d > 6 {
		t.Errorf("hashes %s and %s differ in %d bits after JPEG", a.Hash, b.Hash, d)
	}
	other := vision.Analyze(synth.Image(synth.Options{Seed: 6, Width: 800, Height: 600}))
	if d := hamming(t, a.Hash, other.Hash); d < 10 {
		t.Errorf("different photos' hashes %s and %s differ in only %d bits", a.Hash, other.Hash, d)
	}
}

func hamming(t *testing.T, a, b string) int {
	t.Helper()
	x, err := strconv.ParseUint(a, 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	y, err := strconv.ParseUint(b, 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for v := x ^ y; v != 0; v &= v - 1 {
		n++
	}
	return n
}

func TestAnalyzeOriented(t *testing.T) {
	img := synth.Image(synth.Options{Seed: 9, Width: 600, Height: 400})
	up := vision.AnalyzeOriented(img, 1)
	turned := vision.AnalyzeOriented(img, 6) // stored sideways, shown rotated 90 degrees
	if turned.Width != 400 || turned.Height != 600 {
		t.Errorf("orientation 6: size %dx%d, want 400x600", turned.Width, turned.Height)
	}
	if !slices.Contains(turned.Tags, "portrait") || !slices.Contains(up.Tags, "landscape") {
		t.Errorf("tags %q (6) and %q (1): want portrait and landscape", turned.Tags, up.Tags)
	}
	if turned.Hash == up.Hash {
		t.Errorf("the hash %s ignores the orientation", up.Hash)
	}
	if !reflect.DeepEqual(vision.Analyze(img), up) {
		t.Error("Analyze differs from AnalyzeOriented(img, 1)")
	}
}

// The analysis of fixed synthetic photos is pinned in a golden file: a
// change of tags is a change of what the benchmarks search for, so it
// should be deliberate (go test ./vision -run Golden -update).
func TestAnalyzeGolden(t *testing.T) {
	var got []vision.Analysis
	for seed := uint64(1); seed <= 8; seed++ {
		got = append(got, vision.Analyze(synth.Image(synth.Options{Seed: seed, Width: 320, Height: 240, Gray: seed == 8})))
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "analyze.golden.json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("analysis differs from %s (run with -update if intended):\n%s", path, b)
	}
}

func BenchmarkAnalyze12MP(b *testing.B) {
	img, err := jpeg.Decode(bytes.NewReader(synth.JPEG(synth.Options{Seed: 1, Width: 4000, Height: 3000})))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		vision.Analyze(img)
	}
}
