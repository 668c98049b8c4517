package vision

import (
	"net/http"
	"strconv"
	"time"

	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/sleep"
	"github.com/photobench/photobench/photo"
)

// statusClientGone is recorded (never sent) when the client gave up before
// the answer, as nginx logs it.
const statusClientGone = 499

// maxProfileBytes bounds a profile document.
const maxProfileBytes = 64 << 10

// handleAnalyze answers POST /v1/analyze: it reads the body (bounded by
// the limits), applies the remote-API profile (outage, rate limit,
// concurrency limit, error rate, then the injected latency), validates and
// decodes the image and answers its Analysis.
func (s *server) handleAnalyze() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.metrics.inFlight.Inc()
		status := s.analyze(w, r)
		s.metrics.inFlight.Dec()
		code := strconv.Itoa(status)
		s.metrics.requests.WithLabelValues(code).Inc()
		s.metrics.duration.WithLabelValues(code).Observe(time.Since(start).Seconds())
	})
}

// analyze serves one analyze request and returns the status it answered.
func (s *server) analyze(w http.ResponseWriter, r *http.Request) int {
	ctx := r.Context()
	if r.ContentLength > s.limits.MaxBytes {
		return s.writeError(w, r, photo.Errorf(photo.TooLarge, "image is larger than the limit of %d bytes", s.limits.MaxBytes))
	}
	// The body is read before the profile applies, so a refused client
	// gets its answer rather than a reset connection mid-upload, and a
	// hung request notices when the client goes away.
	data, err := imaging.ReadBody(http.MaxBytesReader(w, r.Body, s.limits.MaxBytes), s.limits)
	if err != nil {
		return s.writeError(w, r, err)
	}
	adm, err := s.remote.admit(ctx, func() {
		s.metrics.faults.WithLabelValues(string(faultOutageHang)).Inc()
	})
	if err != nil {
		s.log.DebugContext(ctx, "client gave up during a hang outage", "err", err)
		httpapi.WriteError(w, http.StatusServiceUnavailable, string(photo.Unavailable), "request abandoned", adm.retryAfter)
		return statusClientGone
	}
	if adm.fault != faultNone {
		s.metrics.faults.WithLabelValues(string(adm.fault)).Inc()
		status, code, msg := http.StatusServiceUnavailable, string(photo.Unavailable), "the vision service is unavailable"
		switch adm.fault {
		case faultRateLimit:
			status, code, msg = http.StatusTooManyRequests, codeRateLimited, "rate limit exceeded"
		case faultConcurrency:
			status, code, msg = http.StatusTooManyRequests, codeRateLimited, "too many concurrent requests"
		}
		httpapi.WriteError(w, status, code, msg, adm.retryAfter)
		return status
	}
	defer adm.release()
	s.metrics.injected.Observe(adm.delay.Seconds())
	if !sleep.For(ctx, adm.delay) {
		httpapi.WriteError(w, http.StatusServiceUnavailable, string(photo.Unavailable), "request abandoned", adm.retryAfter)
		return statusClientGone
	}
	info, err := imaging.Inspect(data, s.limits)
	if err != nil {
		return s.writeError(w, r, err)
	}
	img, release, err := imaging.Decode(ctx, data, info)
	if err != nil {
		return s.writeError(w, r, err)
	}
	defer release()
	httpapi.Encode(w, http.StatusOK, AnalyzeOriented(img, info.Orientation))
	return http.StatusOK
}

// handleGetProfile answers GET /admin/profile with the current profile.
func (s *server) handleGetProfile() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.Encode(w, http.StatusOK, s.remote.Profile())
	})
}

// handleSetProfile answers PUT /admin/profile (merge false: the body is
// the whole profile, absent fields take their defaults) and PATCH (merge
// true: the body's fields replace the current profile's). An invalid
// profile is 400 listing every problem; the current one stays.
func (s *server) handleSetProfile(merge bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		old := s.remote.Profile()
		var p Profile
		if merge {
			p = old
		}
		if err := decode(w, r, maxProfileBytes, &p); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := s.remote.SetProfile(p); err != nil {
			s.writeError(w, r, &photo.Error{Kind: photo.Invalid, Message: "invalid profile: " + err.Error(), Err: err})
			return
		}
		p = s.remote.Profile()
		s.log.InfoContext(r.Context(), "profile changed", "old", old, "new", p)
		httpapi.Encode(w, http.StatusOK, p)
	})
}

// handleHealthz answers GET /healthz.
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.Encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}
