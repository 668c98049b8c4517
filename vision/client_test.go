package vision_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/internal/synth"
	"github.com/photobench/photobench/photo"
	"github.com/photobench/photobench/vision"
)

// fast are client options that keep the tests quick: Retry-After and
// backoffs are capped at a millisecond.
var fast = vision.ClientOptions{Retries: 2, Backoff: time.Millisecond, MaxBackoff: time.Millisecond}

func TestClientAnalyze(t *testing.T) {
	s := newService(t, vision.Profile{})
	c := vision.NewClient(s.URL+"/", vision.ClientOptions{})
	a, err := c.Analyze(context.Background(), synth.JPEG(synth.Options{Seed: 4, Width: 300, Height: 200}))
	if err != nil {
		t.Fatal(err)
	}
	if a.Width != 300 || a.Height != 200 || !slices.Contains(a.Tags, "landscape") || len(a.Hash) != 16 {
		t.Errorf("analysis %+v", a)
	}
}

func TestClientDefaults(t *testing.T) {
	got := vision.NewClient("http://127.0.0.1:1", vision.ClientOptions{}).Options()
	if got.Timeout != 5*time.Second || got.Retries != 2 || got.Backoff != 100*time.Millisecond || got.MaxBackoff != 2*time.Second || got.HTTPClient == nil {
		t.Errorf("defaults %+v", got)
	}
	if got := vision.NewClient("http://127.0.0.1:1", vision.ClientOptions{Retries: -1}).Options(); got.Retries != 0 {
		t.Errorf("Retries -1 gave %d retries, want 0", got.Retries)
	}
}

func TestClientRefusedImagesAreNotRetried(t *testing.T) {
	s := newService(t, vision.Profile{})
	c := vision.NewClient(s.URL, fast)
	tests := []struct {
		name string
		data []byte
		kind photo.Kind
	}{
		{"empty", nil, photo.Invalid},
		{"text", []byte("hello"), photo.Unsupported},
		{"too many pixels", bombPNG(100_000, 100_000), photo.TooManyPixels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Analyze(context.Background(), tt.data)
			var perr *photo.Error
			if !errors.As(err, &perr) || perr.Kind != tt.kind || perr.Message == "" {
				t.Fatalf("got %v, want a *photo.Error of kind %s", err, tt.kind)
			}
			if v, _ := s.metric(t, `photobench_vision_requests_total{code="`+strconv.Itoa(httpapi.Status(tt.kind))+`"}`); v != 1 {
				t.Errorf("%v requests with status %d, want 1 (no retries)", v, httpapi.Status(tt.kind))
			}
		})
	}
}

func TestClientRetriesThenUnavailable(t *testing.T) {
	tests := []struct {
		name, profile, faultSeries string
		wantRetryAfter             time.Duration
	}{
		{"errors", `{"error_rate":1,"retry_after_seconds":3}`, `photobench_vision_requests_total{code="503"}`, 3 * time.Second},
		{"outage", `{"outage":"fail"}`, `photobench_vision_requests_total{code="503"}`, time.Second},
		{"rate limited", `{"rate_limit_rps":0.01,"retry_after_seconds":9}`, `photobench_vision_requests_total{code="429"}`, 9 * time.Second},
	}
	img := synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newService(t, vision.Profile{})
			s.patch(t, tt.profile)
			if tt.name == "rate limited" {
				s.analyze(t, img) // takes the bucket's only token
			}
			_, err := vision.NewClient(s.URL, fast).Analyze(context.Background(), img)
			if photo.KindOf(err) != photo.Unavailable {
				t.Fatalf("got %v, want Unavailable", err)
			}
			if ra := photo.RetryAfterOf(err); ra != tt.wantRetryAfter {
				t.Errorf("RetryAfter %v, want %v", ra, tt.wantRetryAfter)
			}
			if errors.Unwrap(err) == nil {
				t.Error("no cause")
			}
			if v, _ := s.metric(t, tt.faultSeries); v != 3 {
				t.Errorf("%s = %v, want 3 (1 attempt + 2 retries)", tt.faultSeries, v)
			}
		})
	}
}

// failFirst answers the first n requests 503 without Retry-After, then
// hands the rest to next.
func failFirst(n int32, next http.Handler) (http.Handler, *atomic.Int32) {
	var calls atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= n {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":{"code":"unavailable","message":"try again"}}`))
			return
		}
		next.ServeHTTP(w, r)
	}), &calls
}

func TestClientRecoversFromTransientErrors(t *testing.T) {
	remote, err := vision.NewRemote(vision.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	h, calls := failFirst(2, newHandler(t, remote))
	srv := httptest.NewServer(h)
	defer srv.Close()
	a, err := vision.NewClient(srv.URL, fast).Analyze(context.Background(), synth.PNG(synth.Options{Seed: 1, Width: 64, Height: 48}))
	if err != nil {
		t.Fatalf("after two 503s: %v", err)
	}
	if len(a.Tags) == 0 || calls.Load() != 3 {
		t.Errorf("analysis %+v after %d calls, want tags after 3", a, calls.Load())
	}
}

func TestClientTimeout(t *testing.T) {
	s := newService(t, vision.Profile{Latency: vision.Latency{Distribution: vision.LatencyFixed, FixedMS: 60_000}})
	opts := fast
	opts.Timeout = 50 * time.Millisecond
	opts.Retries = 1
	_, err := vision.NewClient(s.URL, opts).Analyze(context.Background(), synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48}))
	if photo.KindOf(err) != photo.Unavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want Unavailable caused by a deadline", err)
	}
	if ra := photo.RetryAfterOf(err); ra != time.Second {
		t.Errorf("RetryAfter %v, want the 1s default", ra)
	}
	s.waitMetric(t, `photobench_vision_requests_total{code="499"}`, 2)
}

func TestClientGivesUpWithItsContext(t *testing.T) {
	s := newService(t, vision.Profile{Outage: vision.OutageHang})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := vision.NewClient(s.URL, vision.ClientOptions{}).Analyze(ctx, synth.JPEG(synth.Options{Seed: 1, Width: 64, Height: 48}))
		done <- err
	}()
	s.waitMetric(t, `photobench_vision_faults_total{kind="outage_hang"}`, 1)
	cancel()
	err := <-done
	if photo.KindOf(err) != photo.Unavailable || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want Unavailable caused by cancellation", err)
	}
	if v, _ := s.metric(t, `photobench_vision_faults_total{kind="outage_hang"}`); v != 1 {
		t.Errorf("%v attempts, want 1: no retries after the caller gave up", v)
	}
}

func TestClientConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	_, err := vision.NewClient(url, fast).Analyze(context.Background(), []byte("x"))
	if photo.KindOf(err) != photo.Unavailable {
		t.Errorf("got %v, want Unavailable", err)
	}
}

func TestClientWrongURLIsInternal(t *testing.T) {
	s := newService(t, vision.Profile{})
	_, err := vision.NewClient(s.URL+"/wrong", fast).Analyze(context.Background(), []byte("x"))
	if photo.KindOf(err) != photo.Internal {
		t.Errorf("got %v, want Internal", err)
	}
}
