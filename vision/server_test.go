package vision_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/vision"
)

func TestAnalyzeEndpoint(t *testing.T) {
	s := newService(t, vision.Profile{})
	tests := []struct {
		name string
		data []byte
	}{
		{"jpeg", synth.JPEG(synth.Options{Seed: 1, Width: 640, Height: 480})},
		{"png", synth.PNG(synth.Options{Seed: 2, Width: 640, Height: 480})},
		{"gray jpeg", synth.JPEG(synth.Options{Seed: 3, Width: 640, Height: 480, Gray: true})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.analyze(t, tt.data)
			if r.Status != http.StatusOK {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var a vision.Analysis
			if err := json.Unmarshal(r.Body, &a); err != nil {
				t.Fatal(err)
			}
			if len(a.Tags) == 0 || !slices.Contains(a.Tags, "landscape") {
				t.Errorf("tags %q: want landscape among them", a.Tags)
			}
			if a.Width != 640 || a.Height != 480 || len(a.Hash) != 16 || len(a.Colors) == 0 {
				t.Errorf("analysis %+v", a)
			}
			if tt.name == "gray jpeg" && !slices.Contains(a.Tags, "monochrome") {
				t.Errorf("gray photo's tags %q lack monochrome", a.Tags)
			}
		})
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	lim := imaging.Limits{MaxBytes: 64 << 10, MaxPixels: 2_000_000}
	s := newService(t, vision.Profile{}, vision.WithLimits(lim))
	jpg := synth.JPEG(synth.Options{Seed: 1, Width: 200, Height: 150})
	big := synth.PNG(synth.Options{Seed: 1, Width: 600, Height: 400})
	if int64(len(big)) <= lim.MaxBytes {
		t.Fatalf("test image of %d bytes is not over the limit", len(big))
	}
	tests := []struct {
		name   string
		body   []byte
		status int
		code   string
	}{
		{"empty", nil, 400, "invalid"},
		{"text", []byte("hello, this is not an image\n"), 415, "unsupported_media_type"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), 415, "unsupported_media_type"},
		{"truncated jpeg", jpg[:len(jpg)/2], 400, "invalid"},
		{"too large", big, 413, "too_large"},
		{"too many pixels", bombPNG(100_000, 100_000), 422, "too_many_pixels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.analyze(t, tt.body)
			if r.Status != tt.status || r.errorCode() != tt.code {
				t.Errorf("got %d %s, want %d with code %q", r.Status, r.Body, tt.status, tt.code)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestProfileAdmin(t *testing.T) {
	s := newService(t, vision.Profile{})
	r := s.must(t, http.MethodGet, "/admin/profile", nil)
	var p vision.Profile
	if err := json.Unmarshal(r.Body, &p); err != nil || r.Status != 200 {
		t.Fatalf("GET: %d %s %v", r.Status, r.Body, err)
	}
	want := vision.Profile{Latency: vision.Latency{Distribution: "none"}, RetryAfterSeconds: 1, Outage: "off"}
	if p != want {
		t.Errorf("default profile %+v, want %+v", p, want)
	}

	// PATCH merges; PUT replaces (absent fields: defaults).
	s.patch(t, `{"error_rate":0.5}`)
	s.patch(t, `{"latency":{"distribution":"lognormal","median_ms":50,"p99_ms":400},"outage":"fail"}`)
	if got := s.Remote.Profile(); got.ErrorRate != 0.5 || got.Latency.MedianMS != 50 || got.Outage != vision.OutageFail {
		t.Errorf("after PATCHes: %+v", got)
	}
	r = s.must(t, http.MethodPut, "/admin/profile", []byte(`{"max_concurrency":3}`))
	if r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	want = vision.Profile{Latency: vision.Latency{Distribution: "none"}, MaxConcurrency: 3, RetryAfterSeconds: 1, Outage: "off"}
	if got := s.Remote.Profile(); got != want {
		t.Errorf("after PUT: %+v, want %+v", got, want)
	}
}

func TestProfileValidation(t *testing.T) {
	s := newService(t, vision.Profile{})
	tests := []struct {
		name, body string
		mention    []string
	}{
		{"malformed", `{"error_rate":`, []string{"malformed JSON"}},
		{"unknown field", `{"eror_rate":0.5}`, []string{"eror_rate"}},
		{"wrong type", `{"error_rate":"high"}`, []string{"error_rate"}},
		{"trailing data", `{} {}`, []string{"after the object"}},
		{"error rate", `{"error_rate":1.5}`, []string{"error_rate"}},
		{"distribution", `{"latency":{"distribution":"gaussian"}}`, []string{"latency.distribution"}},
		{"lognormal without median", `{"latency":{"distribution":"lognormal","p99_ms":10}}`, []string{"median_ms"}},
		{"p99 below median", `{"latency":{"distribution":"lognormal","median_ms":100,"p99_ms":10}}`, []string{"p99_ms"}},
		{"negative latency", `{"latency":{"distribution":"fixed","fixed_ms":-1}}`, []string{"fixed_ms"}},
		{"every problem at once", `{"error_rate":-1,"max_concurrency":-2,"rate_limit_rps":-3,"retry_after_seconds":-4,"outage":"maybe"}`,
			[]string{"error_rate", "max_concurrency", "rate_limit_rps", "retry_after_seconds", "outage"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, method := range []string{http.MethodPut, http.MethodPatch} {
				r := s.must(t, method, "/admin/profile", []byte(tt.body))
				if r.Status != 400 || r.errorCode() != "invalid" {
					t.Errorf("%s: got %d %s, want 400 invalid", method, r.Status, r.Body)
				}
				for _, m := range tt.mention {
					if !strings.Contains(string(r.Body), m) {
						t.Errorf("%s: error %s does not mention %q", method, r.Body, m)
					}
				}
			}
			if p := s.Remote.Profile(); p.ErrorRate != 0 || p.Outage != vision.OutageOff {
				t.Errorf("a refused profile changed the profile: %+v", p)
			}
		})
	}
}

func TestFixedLatency(t *testing.T) {
	s := newService(t, vision.Profile{Latency: vision.Latency{Distribution: vision.LatencyFixed, FixedMS: 200}})
	img := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	start := time.Now()
	r := s.analyze(t, img)
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("took %v, want at least the injected 200ms", took)
	}
	if r.Status != 200 {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	s.waitMetric(t, "photobench_vision_injected_latency_seconds_sum", 0.2)
}

func TestLogNormalLatency(t *testing.T) {
	remote, err := vision.NewRemote(vision.Profile{Latency: vision.Latency{Distribution: vision.LatencyLogNormal, MedianMS: 100, P99MS: 1000}}, vision.WithSeed(42))
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	var draws []time.Duration
	for range n {
		draws = append(draws, vision.DrawLatency(remote))
	}
	slices.Sort(draws)
	median, p99 := draws[n/2], draws[n*99/100]
	if median < 90*time.Millisecond || median > 110*time.Millisecond {
		t.Errorf("median %v, want about 100ms", median)
	}
	if p99 < 850*time.Millisecond || p99 > 1150*time.Millisecond {
		t.Errorf("p99 %v, want about 1s", p99)
	}
	// Seeded: the same draws again.
	again, _ := vision.NewRemote(remote.Profile(), vision.WithSeed(42))
	other, _ := vision.NewRemote(remote.Profile(), vision.WithSeed(42))
	for range 10 {
		if a, b := vision.DrawLatency(again), vision.DrawLatency(other); a != b {
			t.Fatalf("same seed, draws %v and %v", a, b)
		}
	}
}

func TestErrorRate(t *testing.T) {
	s := newService(t, vision.Profile{ErrorRate: 1, RetryAfterSeconds: 7})
	img := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	for range 5 {
		r := s.analyze(t, img)
		if r.Status != 503 || r.errorCode() != "unavailable" || r.Header.Get("Retry-After") != "7" {
			t.Fatalf("got %d %s Retry-After %q, want 503 unavailable Retry-After 7", r.Status, r.Body, r.Header.Get("Retry-After"))
		}
	}
	s.waitMetric(t, `photobench_vision_faults_total{kind="error"}`, 5)
	s.waitMetric(t, `photobench_vision_requests_total{code="503"}`, 5)
	// Half: some of each, deterministic for the seed.
	s.patch(t, `{"error_rate":0.5}`)
	got := map[int]int{}
	for range 40 {
		got[s.analyze(t, img).Status]++
	}
	if got[200] == 0 || got[503] == 0 || got[200]+got[503] != 40 {
		t.Errorf("error rate 0.5: statuses %v", got)
	}
}

func TestRateLimit(t *testing.T) {
	// A bucket of one token refilled every 100 s: the first request passes.
	s := newService(t, vision.Profile{RateLimitRPS: 0.01, RetryAfterSeconds: 2})
	img := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	if r := s.analyze(t, img); r.Status != 200 {
		t.Fatalf("first request: %d %s", r.Status, r.Body)
	}
	r := s.analyze(t, img)
	if r.Status != 429 || r.Header.Get("Retry-After") != "2" || r.errorCode() != "rate_limited" {
		t.Errorf("second request: %d %s Retry-After %q, want 429 with Retry-After 2", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	s.waitMetric(t, `photobench_vision_faults_total{kind="rate_limit"}`, 1)
	// Lifting the limit takes effect at once.
	s.patch(t, `{"rate_limit_rps":0}`)
	if r := s.analyze(t, img); r.Status != 200 {
		t.Errorf("after lifting the limit: %d %s", r.Status, r.Body)
	}
}

func TestMaxConcurrency(t *testing.T) {
	s := newService(t, vision.Profile{MaxConcurrency: 1, Latency: vision.Latency{Distribution: vision.LatencyFixed, FixedMS: 60_000}})
	img := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.do(ctx, t, http.MethodPost, "/v1/analyze", img)
		done <- err
	}()
	// The slow request holds the only slot once its latency is drawn.
	s.waitMetric(t, "photobench_vision_injected_latency_seconds_count", 1)
	r := s.analyze(t, img)
	if r.Status != 429 || r.Header.Get("Retry-After") != "1" {
		t.Errorf("second request: %d %s Retry-After %q, want 429 with Retry-After 1", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	s.waitMetric(t, `photobench_vision_faults_total{kind="concurrency"}`, 1)
	// The client gives up: its slot comes free, and the service records 499.
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("slow request: %v, want context.Canceled", err)
	}
	s.waitMetric(t, `photobench_vision_requests_total{code="499"}`, 1)
	s.patch(t, `{"latency":{"distribution":"none"}}`)
	if r := s.analyze(t, img); r.Status != 200 {
		t.Errorf("after the slot came free: %d %s", r.Status, r.Body)
	}
}

func TestOutageFail(t *testing.T) {
	s := newService(t, vision.Profile{})
	img := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	s.patch(t, `{"outage":"fail","retry_after_seconds":5}`)
	r := s.analyze(t, img)
	if r.Status != 503 || r.Header.Get("Retry-After") != "5" || r.errorCode() != "unavailable" {
		t.Errorf("during the outage: %d %s Retry-After %q", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if v, _ := s.metric(t, "photobench_vision_profile_outage"); v != 1 {
		t.Errorf("profile_outage gauge %v, want 1", v)
	}
	s.waitMetric(t, `photobench_vision_faults_total{kind="outage_fail"}`, 1)
	s.patch(t, `{"outage":"off"}`)
	if r := s.analyze(t, img); r.Status != 200 {
		t.Errorf("after the outage: %d %s", r.Status, r.Body)
	}
	if v, _ := s.metric(t, "photobench_vision_profile_outage"); v != 0 {
		t.Errorf("profile_outage gauge %v, want 0", v)
	}
}

func TestOutageHang(t *testing.T) {
	tests := []struct {
		name       string
		switchTo   string
		wantStatus int
	}{
		{"switched off: the request goes on", "off", 200},
		{"switched to fail: the request fails", "fail", 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t, vision.Profile{Outage: vision.OutageHang})
			if v, _ := s.metric(t, "photobench_vision_profile_outage"); v != 2 {
				t.Errorf("profile_outage gauge %v, want 2", v)
			}
			img := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
			done := make(chan response, 1)
			go func() {
				r, err := s.do(context.Background(), t, http.MethodPost, "/v1/analyze", img)
				if err != nil {
					t.Error(err)
				}
				done <- r
			}()
			s.waitMetric(t, `photobench_vision_faults_total{kind="outage_hang"}`, 1)
			s.waitMetric(t, "photobench_vision_in_flight_requests", 1)
			select {
			case r := <-done:
				t.Fatalf("answered %d during a hang outage", r.Status)
			default:
			}
			s.patch(t, `{"outage":"`+tt.switchTo+`"}`)
			if r := <-done; r.Status != tt.wantStatus {
				t.Errorf("after switching to %s: %d %s, want %d", tt.switchTo, r.Status, r.Body, tt.wantStatus)
			}
		})
	}
}

func TestOutageHangClientGivesUp(t *testing.T) {
	s := newService(t, vision.Profile{Outage: vision.OutageHang})
	img := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.do(ctx, t, http.MethodPost, "/v1/analyze", img)
		done <- err
	}()
	s.waitMetric(t, `photobench_vision_faults_total{kind="outage_hang"}`, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
	s.waitMetric(t, `photobench_vision_requests_total{code="499"}`, 1)
	if v, _ := s.metric(t, "photobench_vision_in_flight_requests"); v != 0 {
		t.Errorf("in flight %v after the client left", v)
	}
}

func TestMetrics(t *testing.T) {
	s := newService(t, vision.Profile{})
	s.analyze(t, synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48}))
	s.analyze(t, synth.PNG(synth.Options{Seed: 2, Width: 64, Height: 48}))
	s.analyze(t, []byte("not an image"))
	s.must(t, http.MethodGet, "/healthz", nil)
	tests := []struct {
		series string
		want   float64
	}{
		{`photobench_vision_requests_total{code="200"}`, 2},
		{`photobench_vision_requests_total{code="415"}`, 1},
		{`photobench_vision_request_duration_seconds_count{code="200"}`, 2},
		{`photobench_vision_injected_latency_seconds_count`, 3}, // the text too: latency comes before validation
		{`photobench_vision_faults_total{kind="error"}`, 0},
		{`photobench_vision_faults_total{kind="rate_limit"}`, 0},
		{`photobench_vision_faults_total{kind="concurrency"}`, 0},
		{`photobench_vision_faults_total{kind="outage_fail"}`, 0},
		{`photobench_vision_faults_total{kind="outage_hang"}`, 0},
		{`photobench_vision_in_flight_requests`, 0},
		{`photobench_vision_profile_outage`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.series, func(t *testing.T) {
			v, ok := s.metric(t, tt.series)
			if !ok || v != tt.want {
				t.Errorf("%s = %v (present %v), want %v", tt.series, v, ok, tt.want)
			}
		})
	}
}

func TestHealthzAndUnknownRoutes(t *testing.T) {
	s := newService(t, vision.Profile{})
	if r := s.must(t, http.MethodGet, "/healthz", nil); r.Status != 200 {
		t.Errorf("healthz: %d", r.Status)
	}
	if r := s.must(t, http.MethodGet, "/nope", nil); r.Status != 404 || r.errorCode() != "not_found" {
		t.Errorf("unknown path: %d %s", r.Status, r.Body)
	}
	if r := s.must(t, http.MethodGet, "/v1/analyze", nil); r.Status != 405 {
		t.Errorf("GET /v1/analyze: %d %s", r.Status, r.Body)
	}
}
