package vision

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/photo"
)

// server holds the dependencies of the handlers.
type server struct {
	log     *slog.Logger
	remote  *Remote
	metrics *Metrics
	limits  imaging.Limits
}

// Option tunes the server NewServer builds.
type Option func(*server)

// WithLimits bounds the images the server accepts (default
// imaging.DefaultLimits): a longer body is 413, more pixels 422.
func WithLimits(lim imaging.Limits) Option {
	return func(s *server) { s.limits = lim }
}

// NewServer returns the vision service's HTTP handler (routes in
// routes.go): analyze requests go through remote, which applies the
// remote-API profile; metrics are recorded in metrics.
func NewServer(log *slog.Logger, remote *Remote, metrics *Metrics, opts ...Option) http.Handler {
	s := &server{
		log:     log.With("component", "vision"),
		remote:  remote,
		metrics: metrics,
		limits:  imaging.DefaultLimits,
	}
	for _, o := range opts {
		o(s)
	}
	remote.watch(func(p Profile) { metrics.setOutage(p.Outage) })
	return s.routes()
}

// codeRateLimited is the error code of 429 answers, which no photo.Kind has.
const codeRateLimited = "rate_limited"

// decode reads one JSON value of at most maxBytes into v, refusing unknown
// fields and trailing data. Errors are photo.Invalid.
func decode(w http.ResponseWriter, r *http.Request, maxBytes int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &photo.Error{Kind: photo.Invalid, Message: "malformed JSON: " + err.Error(), Err: err}
	}
	if dec.More() {
		return photo.Errorf(photo.Invalid, "malformed JSON: data after the object")
	}
	return nil
}

// writeError answers err as its photo.Kind says (package httpapi's status
// map and body) and returns the status.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) int {
	httpapi.Error(w, r, s.log, err)
	return httpapi.Status(photo.KindOf(err))
}

// recoverer turns a panic into a logged 500 with a JSON body.
func (s *server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			s.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			httpapi.WriteError(w, http.StatusInternalServerError, string(photo.Internal), "internal error", 0)
		}()
		next.ServeHTTP(w, r)
	})
}
