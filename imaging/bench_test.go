package imaging_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/synth"
)

// The pipeline benchmarks behind BENCHMARKS.md:
//
//	go test -run='^$' -bench='BenchmarkProcess|BenchmarkStage' -benchmem -count=5 -cpu=2 ./imaging

var processCases = []struct {
	name string
	data func() []byte
}{
	{"jpeg-1MP", func() []byte { return synth.JPEG(synth.Options{Seed: 1, Width: 1152, Height: 864}) }},
	// The side-by-side benchmark's photos (eventdriven/bench_test.go).
	{"jpeg-2MP", func() []byte { return synth.JPEG(synth.Options{Seed: 900, Width: 1600, Height: 1200}) }},
	{"jpeg-4MP", func() []byte { return synth.JPEG(synth.Options{Seed: 4, Width: 2304, Height: 1728}) }},
	{"jpeg-12MP", func() []byte { return synth.JPEG(synth.Options{Seed: 12, Width: 4000, Height: 3000}) }},
	{"png-4MP", func() []byte { return synth.PNG(synth.Options{Seed: 5, Width: 2304, Height: 1728}) }},
}

// BenchmarkProcess is one upload through the whole pipeline (Inspect,
// Decode, Thumbnails) on one goroutine: its ns/op is the latency of the
// image work in a request.
func BenchmarkProcess(b *testing.B) {
	for _, c := range processCases {
		data := c.data()
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := imaging.Process(context.Background(), data, imaging.DefaultLimits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProcessParallel runs the pipeline on every P (-cpu) at once:
// 1e9/(ns/op) is the in-process ceiling in photos per second with all
// those cores busy.
func BenchmarkProcessParallel(b *testing.B) {
	for _, c := range processCases {
		data := c.data()
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := imaging.Process(context.Background(), data, imaging.DefaultLimits); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "photos/s")
		})
	}
}

// BenchmarkStage splits the pipeline's time between its stages.
func BenchmarkStage(b *testing.B) {
	for _, c := range processCases {
		data := c.data()
		info, img := inspectDecode(b, data)
		b.Run(fmt.Sprintf("%s/inspect", c.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := imaging.Inspect(data, imaging.DefaultLimits); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("%s/decode", c.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, release, err := imaging.Decode(context.Background(), data, info)
				if err != nil {
					b.Fatal(err)
				}
				release()
			}
		})
		b.Run(fmt.Sprintf("%s/thumbnails", c.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := imaging.Thumbnails(img, info.Orientation); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
