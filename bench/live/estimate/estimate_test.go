package estimate_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/bench"
	"github.com/photobench/photobench/bench/cost"
	"github.com/photobench/photobench/bench/live/estimate"
	"github.com/photobench/photobench/bench/results"
	"github.com/photobench/photobench/internal/stack"
	"github.com/photobench/photobench/internal/stacktest"
)

// setup returns the running stack's environment and configuration, and
// the price sheets.
func setup(t *testing.T) (stacktest.Env, stack.Config, []cost.Sheet) {
	t.Helper()
	env := stacktest.Load(t)
	cfg, err := stack.LoadConfig(os.Getenv, env.StackDir)
	if err != nil {
		t.Fatal(err)
	}
	sheets, err := cost.Sheets()
	if err != nil {
		t.Fatal(err)
	}
	return env, cfg, sheets
}

// photo is a small JPEG, different for each i.
func photo(t *testing.T, i int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := 0; y < 240; y++ {
		for x := 0; x < 320; x++ {
			img.Set(x, y, color.RGBA{uint8(x + i*37), uint8(y + i*11), uint8(i * 53), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload sends n photos to the app at base as user and returns the
// uploads answered 2xx.
func upload(t *testing.T, base, token string, n int) uint64 {
	t.Helper()
	var ok uint64
	for i := range n {
		req, err := http.NewRequest(http.MethodPost, base+"/v1/photos", bytes.NewReader(photo(t, i)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "image/jpeg")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("upload to %s: %v", base, err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			ok++
		} else {
			t.Logf("upload to %s: %s", base, resp.Status)
		}
	}
	return ok
}

// The estimate of each variant of the running stack, after a few uploads
// to each at once: CPU measured, a cost per million photos, and
// PostgreSQL's CPU counted once over the three.
func TestEstimateOfTheStacksVariants(t *testing.T) {
	env, cfg, sheets := setup(t)
	env.Apps(t)
	exp, err := estimate.Export(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exp.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	est := estimate.ForStack(cfg, sheets, exp)
	// Before the exporter's first sample, a window would count the
	// servers' whole past CPU as the window's: not measured yet.
	early, err := est.Estimate(ctx, results.Monolith, time.Now().Add(-time.Minute), time.Now(), estimate.LoadCounts{Uploads: 10})
	if err != nil || !math.IsNaN(early.CPUCores) || early.OK || !strings.Contains(early.CPUNote, "not measured yet") {
		t.Errorf("before the exporter was scraped: %+v, %v; want not measured yet", early, err)
	}
	if err := exp.WaitScraped(ctx); err != nil {
		t.Fatal(err)
	}
	iss, err := auth.NewIssuer([]byte(env.AuthSecret))
	if err != nil {
		t.Fatal(err)
	}
	token, err := iss.Mint(fmt.Sprintf("live-estimate-%d", time.Now().UnixNano()%1e9), time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	from := time.Now()
	time.Sleep(2 * time.Second) // a baseline sample of every counter inside the window
	urls := map[string]string{results.Monolith: env.MonolithURL, results.MonolithAsync: env.MonolithAsyncURL, results.EventDriven: env.EventDrivenURL}
	counts := map[string]estimate.LoadCounts{}
	for round := 0; round < 4; round++ { // the three at once, as in a live session
		for _, arch := range results.Archs {
			n := upload(t, urls[arch], token, 3)
			c := counts[arch]
			c.Uploads += n
			c.Requests += n
			c.Sent += 3
			counts[arch] = c
		}
	}
	time.Sleep(10 * time.Second) // the asynchronous variants finish their photos
	to := time.Now()
	if err := exp.WaitScraped(ctx); err != nil { // past the window's end
		t.Fatal(err)
	}

	pgTotal, shares := 0.0, 0.0
	for _, arch := range results.Archs {
		if counts[arch].Uploads == 0 {
			t.Fatalf("%s: no upload answered ok", arch)
		}
		start := time.Now()
		e, err := est.Estimate(ctx, arch, from, to, counts[arch])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (estimated in %s): %.3f cores (%s); %s USD %.4g per million photos (ok %v): %s", arch, time.Since(start).Round(time.Millisecond), e.CPUCores, e.CPUNote, e.Option, e.PerMillionUSD, e.OK, e.Note)
		if !(e.CPUCores > 0) || math.IsInf(e.CPUCores, 0) {
			t.Errorf("%s: CPU %g cores, want > 0 (%s)", arch, e.CPUCores, e.CPUNote)
		}
		if !e.OK || !(e.PerMillionUSD > 0) || math.IsInf(e.PerMillionUSD, 0) {
			t.Errorf("%s: cost per million %g (ok %v), want a finite figure > 0 (%s)", arch, e.PerMillionUSD, e.OK, e.Note)
		}
		if e.Option != cost.OptionName(cost.OptionsOf(arch)[0]) {
			t.Errorf("%s: option %q, want the reference option %q", arch, e.Option, cost.OptionName(cost.OptionsOf(arch)[0]))
		}
		if !strings.Contains(e.CPUNote, "backends used") {
			t.Errorf("%s: note %q: want PostgreSQL shared by its backends' CPU", arch, e.CPUNote)
		}
		pgTotal += e.PostgreSQLCores
		shares += e.PostgreSQLShare
	}

	// The three shares of PostgreSQL add up to the server's CPU, as
	// exported: counted once, not three times.
	if math.Abs(shares-1) > 1e-9 {
		t.Errorf("the variants' shares of PostgreSQL add up to %g, want 1", shares)
	}
	_, ss, err := bench.QueryRange(ctx, env.PrometheusURL, `sum by (component, instance) (photobench_component_cpu_seconds_total{component="postgresql",instance="`+exp.Addr+`"})`,
		from.Add(-results.CaptureMargin), to, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	server := 0.0
	for _, s := range ss {
		server += s.Increase(from, to)
	}
	server /= to.Sub(from).Seconds()
	if !(server > 0) || math.Abs(pgTotal-server) > 1e-9*max(1, server) {
		t.Errorf("the variants' PostgreSQL cores add up to %g, the server used %g", pgTotal, server)
	}
}

// With no photo in the window there is CPU but no cost per photo.
func TestEstimateWithoutPhotosIsNotAFigure(t *testing.T) {
	_, cfg, sheets := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	to := time.Now()
	e, err := estimate.ForStack(cfg, sheets, nil).Estimate(ctx, results.MonolithAsync, to.Add(-30*time.Second), to, estimate.LoadCounts{})
	if err != nil {
		t.Fatal(err)
	}
	if e.OK || !math.IsNaN(e.PerMillionUSD) || e.Note != "no photos in the window" {
		t.Errorf("no photos: ok %v, %g USD per million, note %q; want not ok, NaN, %q", e.OK, e.PerMillionUSD, e.Note, "no photos in the window")
	}
	if math.IsNaN(e.CPUCores) {
		t.Errorf("no photos: CPU not measured (%s); the async monolith's process runs all the same", e.CPUNote)
	}
}

// Without price sheets there is no price: not a figure, and the note says
// why.
func TestEstimateWithoutPricesIsNotAFigure(t *testing.T) {
	_, cfg, _ := setup(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	to := time.Now()
	e, err := estimate.ForStack(cfg, nil, nil).Estimate(ctx, results.Monolith, to.Add(-30*time.Second), to, estimate.LoadCounts{Uploads: 30, Requests: 30, Sent: 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("no prices: %s", e.Note)
	if e.OK || !math.IsNaN(e.PerMillionUSD) || !strings.HasPrefix(e.Note, "not priced") || strings.Contains(e.Note, "idle") {
		t.Errorf("no prices: ok %v, %g USD per million, note %q; want not ok, NaN, not priced and why", e.OK, e.PerMillionUSD, e.Note)
	}
}
