package vision

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

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

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Codes of the answers that have no photo.Kind.
const (
	codeRateLimited      = "rate_limited"
	codeMethodNotAllowed = "method_not_allowed"
)

// encode writes v as JSON with the given status.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do
}

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

// writeStatus writes an error answer; 429 and 503 carry Retry-After
// (whole seconds, at least 1).
func writeStatus(w http.ResponseWriter, status int, code, message string, retryAfter time.Duration) {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		secs := max(int64((retryAfter+time.Second-1)/time.Second), 1)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, message
	encode(w, status, body)
}

// writeError answers err as its photo.Kind says and returns the status.
// Errors of no kind are logged and answered with a generic message.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) int {
	kind := photo.KindOf(err)
	status := kind.HTTPStatus()
	if status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeStatus(w, status, string(kind), photo.MessageOf(err), photo.RetryAfterOf(err))
	return status
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
			writeStatus(w, http.StatusInternalServerError, string(photo.Internal), "internal error", 0)
		}()
		next.ServeHTTP(w, r)
	})
}
