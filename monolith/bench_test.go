package monolith_test

import (
	"bytes"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/photobench/photobench/internal/synth"
)

// BenchmarkUploadSaturation drives the monolith's POST /v1/photos over
// loopback HTTP from parallel clients, with the vision service in-process
// at zero added latency, and reports photos/s at saturation. Compare with
// imaging's BenchmarkProcessParallel (the in-process ceiling) at the same
// size. Each size runs with each storage: files on local disk, and objects
// in the stack's MinIO (a fresh bucket per run). Needs the stack's
// PostgreSQL and MinIO (make up).
//
//	go test -run '^$' -bench UploadSaturation -benchtime 200x -count 5 ./monolith/
func BenchmarkUploadSaturation(b *testing.B) {
	for _, sz := range []struct {
		name string
		w, h int
	}{{"1MP", 1152, 864}, {"4MP", 2304, 1728}, {"12MP", 4000, 3000}} {
		for _, storage := range storages {
			b.Run(sz.name+"/"+storage, func(b *testing.B) { benchUploads(b, storage, sz.w, sz.h) })
		}
	}
}

// benchUploads measures saturated uploads of w x h JPEGs with storage.
func benchUploads(b *testing.B, storage string, w, h int) {
	a := newApp(b, appOptions{storage: storage})
	tok := token(b, "bench")
	imgs := make([][]byte, 8)
	for i := range imgs {
		imgs[i] = synth.JPEG(synth.Options{Seed: uint64(i + 1), Width: w, Height: h})
	}
	b.SetBytes(int64(len(imgs[0])))
	b.SetParallelism(4) // 4 x GOMAXPROCS clients: enough to keep every upload slot busy
	var seq, failed atomic.Int64
	var firstFailure atomic.Value // string: what the first failed upload said
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			img := imgs[seq.Add(1)%int64(len(imgs))]
			req, _ := http.NewRequest("POST", a.URL+"/v1/photos", bytes.NewReader(img))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			switch {
			case err != nil:
				failed.Add(1)
				firstFailure.CompareAndSwap(nil, err.Error())
			case resp.StatusCode != http.StatusCreated:
				failed.Add(1)
				body, _ := io.ReadAll(resp.Body)
				firstFailure.CompareAndSwap(nil, resp.Status+" "+string(body))
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d uploads failed; the first: %v", n, b.N, firstFailure.Load())
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "photos/s")
}
