package imaging_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/imaging/imagingtest"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
)

// acquired starts Acquire(n) in a goroutine and returns the channel its
// result arrives on.
func acquired(ctx context.Context, b *imaging.Budget, n int64) <-chan error {
	c := make(chan error, 1)
	go func() { c <- b.Acquire(ctx, n) }()
	return c
}

// pending checks that an Acquire has not returned yet. It cannot prove
// that it never will; the tests check the release that must unblock it.
func pending(t *testing.T, c <-chan error, what string) {
	t.Helper()
	select {
	case err := <-c:
		t.Fatalf("%s returned (%v), want it waiting", what, err)
	case <-time.After(50 * time.Millisecond):
	}
}

// done waits (boundedly) for an Acquire to return and checks its error.
func done(t *testing.T, c <-chan error, want error, what string) {
	t.Helper()
	select {
	case err := <-c:
		if !errors.Is(err, want) {
			t.Fatalf("%s: %v, want %v", what, err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still waiting", what)
	}
}

func mustAcquire(t *testing.T, b *imaging.Budget, n int64) {
	t.Helper()
	if err := b.Acquire(context.Background(), n); err != nil {
		t.Fatalf("acquire %d: %v", n, err)
	}
}

func TestBudgetAdmitsWhatFits(t *testing.T) {
	ctx := context.Background()
	b := imaging.NewBudget(100)
	mustAcquire(t, b, 60)
	if err := b.Acquire(ctx, 40); err != nil {
		t.Fatalf("60 + 40 of 100: %v", err)
	}
	third := acquired(ctx, b, 1)
	pending(t, third, "a third over the budget")
	b.Release(40)
	done(t, third, nil, "the third after a release")
	b.Release(60)
	b.Release(1)
	if err := b.Acquire(ctx, 100); err != nil {
		t.Fatalf("the whole budget once all is released: %v", err)
	}
}

// A large decode waiting is not overtaken by smaller ones that would fit:
// otherwise a stream of small uploads starves it.
func TestBudgetFirstComeFirstServed(t *testing.T) {
	ctx := context.Background()
	b := imaging.NewBudget(100)
	mustAcquire(t, b, 50)
	big := acquired(ctx, b, 80)
	pending(t, big, "80 with 50 held")
	small := acquired(ctx, b, 10)
	pending(t, small, "10 queued behind 80")
	b.Release(50)
	done(t, big, nil, "80 after the release")
	done(t, small, nil, "10 after 80")
}

func TestBudgetCancel(t *testing.T) {
	b := imaging.NewBudget(100)
	mustAcquire(t, b, 50)
	ctx, cancel := context.WithCancel(context.Background())
	big := acquired(ctx, b, 80)
	pending(t, big, "80 beside 50")
	small := acquired(context.Background(), b, 30)
	pending(t, small, "30 queued behind 80")
	cancel()
	done(t, big, context.Canceled, "a cancelled wait")
	// The cancelled waiter no longer holds the queue: 30 fits beside 50.
	done(t, small, nil, "30 once the wait before it is cancelled")
	b.Release(30)
	b.Release(50)
	mustAcquire(t, b, 100) // and it reserved nothing
}

func TestBudgetRefusesMoreThanItHolds(t *testing.T) {
	b := imaging.NewBudget(100 << 20)
	err := b.Acquire(context.Background(), 101<<20)
	checkError(t, err, photo.TooManyPixels, "would take about 101 MB to decode, over this server's decode budget of 100 MB")
}

// Decode reserves the estimate in the process's budget until release;
// an image whose estimate is over the whole budget is TooManyPixels (422).
func TestDecodeBudget(t *testing.T) {
	data := synth.JPEG(synth.Options{Seed: 3, Width: 640, Height: 480})
	info, err := imaging.Inspect(data, imaging.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Cleanup(func() { imaging.SetDecodeBudget(imaging.NewBudget(imaging.DefaultDecodeBudget)) })

	imaging.SetDecodeBudget(imaging.NewBudget(info.DecodeBytes - 1))
	_, _, err = imaging.Decode(ctx, data, info)
	checkError(t, err, photo.TooManyPixels, "over this server's decode budget")
	_, err = imaging.Process(ctx, data, imaging.DefaultLimits)
	checkError(t, err, photo.TooManyPixels, "over this server's decode budget")

	b := imaging.NewBudget(info.DecodeBytes)
	imaging.SetDecodeBudget(b)
	_, release, err := imaging.Decode(ctx, data, info)
	if err != nil {
		t.Fatal(err)
	}
	// The budget is held: a second decode waits, until its context ends.
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := imaging.Decode(wctx, data, info); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second decode with the budget held: %v, want the context's error", err)
	}
	release()
	release() // idempotent
	if err := b.Acquire(ctx, info.DecodeBytes); err != nil {
		t.Fatalf("the whole budget after release: %v", err)
	}
	b.Release(info.DecodeBytes)
	// A truncated image gives its reservation back too.
	if _, _, err := imaging.Decode(ctx, data[:len(data)/2], info); photo.KindOf(err) != photo.Invalid {
		t.Fatalf("truncated: %v", err)
	}
	if err := b.Acquire(ctx, info.DecodeBytes); err != nil {
		t.Fatalf("the whole budget after a failed decode: %v", err)
	}
}

func TestParseDecodeBudget(t *testing.T) {
	for _, tt := range []struct {
		value string
		want  int64
		err   bool
	}{
		{"", imaging.DefaultDecodeBudget, false},
		{"512", 512 << 20, false},
		{"0", 0, true},
		{"-3", 0, true},
		{"1.5", 0, true},
		{"lots", 0, true},
	} {
		t.Run(strconv.Quote(tt.value), func(t *testing.T) {
			got, err := imaging.ParseDecodeBudget(func(k string) string {
				if k == imaging.DecodeBudgetEnv {
					return tt.value
				}
				return ""
			})
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("= %d, %v; want %d, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

// The default budget admits every image the default limits accept:
// headers of every PNG kind and JPEG layout, in random shapes at the pixel
// limit, have estimates within it (the default is the estimate at the
// extreme shapes; this checks that nothing between costs more).
func TestDefaultDecodeBudgetAdmitsTheLimits(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 5))
	p := imaging.DefaultLimits.MaxPixels
	check := func(what string, data []byte) {
		t.Helper()
		info, err := imaging.Inspect(data, imaging.DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if info.DecodeBytes > imaging.DefaultDecodeBudget {
			t.Errorf("%s: estimate %d MB over the default budget of %d MB", what, info.DecodeBytes>>20, imaging.DefaultDecodeBudget>>20)
		}
	}
	for range 40 {
		w := 1 + rng.Int64N(p)
		h := max(1, p/w)
		for _, ct := range []int{imagingtest.PNGGray, imagingtest.PNGRGB, imagingtest.PNGPaletted, 4, imagingtest.PNGRGBA} {
			for _, interlaced := range []bool{false, true} {
				check(fmt.Sprintf("png %dx%d type %d interlaced %v", w, h, ct, interlaced), pngHeaderOf(uint32(w), uint32(h), 16, byte(ct), interlaced))
			}
		}
		jw := 1 + rng.Int64N(65535)
		jh := min(65535, p/jw)
		for name, sampling := range map[string][]byte{"444": imagingtest.JPEG444, "420": imagingtest.JPEG420, "cmyk": imagingtest.JPEGCMYK, "cmyk 2112": {0x22, 0x11, 0x11, 0x22}} {
			check(fmt.Sprintf("jpeg %dx%d %s", jw, jh, name), imagingtest.FlatProgressiveJPEG(int(jw), int(jh), sampling, true))
		}
	}
	t.Logf("default decode budget %d MB", imaging.DefaultDecodeBudget>>20)
}

// pngHeaderOf is a PNG signature, an IHDR chunk, a palette for a
// paletted one and a tRNS chunk: enough for Inspect.
func pngHeaderOf(w, h uint32, depth, colorType byte, interlaced bool) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = depth, colorType
	if colorType == imagingtest.PNGPaletted {
		ihdr[8] = 8
	}
	if interlaced {
		ihdr[12] = 1
	}
	imagingtest.WriteChunk(&b, "IHDR", ihdr)
	if colorType == imagingtest.PNGPaletted {
		imagingtest.WriteChunk(&b, "PLTE", make([]byte, 3))
	}
	imagingtest.WriteChunk(&b, "tRNS", make([]byte, 6))
	return b.Bytes()
}
