// Package httpapi is the photo app's public HTTP API, in one place for every
// architecture: the routes (NewServer), bearer-token authentication
// (Authenticate), the JSON in and out (Encode, Decode) and the map from
// error kinds to status codes with the API's JSON error body
//
//	{"error":{"code":"<photo.Kind>","message":"<client-safe text>"}}
//
// The monolith mounts the whole API over its service; the event-driven app's
// ingest function mounts the write half (photo.Uploader, photo.Deleter) and
// its query function the read half (photo.Reader), so all of them answer
// alike. The vision service and the runtime's activator answer their errors
// with the same body.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/imaging"
	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/internal/httpmetrics"
	"github.com/photobench/photobench/photo"
)

// Config is what every server of the photo API needs.
type Config struct {
	Log      *slog.Logger
	Verifier *auth.Verifier
	// Metrics measures every request; Gatherer is served on /metrics.
	Metrics  *httpmetrics.Metrics
	Gatherer prometheus.Gatherer
	// Health lists the dependencies /healthz checks, in order.
	Health []Check
}

// Check is one dependency of a server: /healthz answers 503 with
// "<Name> unavailable" (and Retry-After) when Ping fails.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Photos are the ports a server mounts; a nil port's routes are not
// mounted (they answer 404 or 405 like any unknown route).
type Photos struct {
	Uploader photo.Uploader
	Reader   photo.Reader
	Deleter  photo.Deleter
	// Limits bound an upload's body (imaging.DefaultLimits when zero).
	Limits imaging.Limits
	// AdmitUpload, when set, is called once an upload's body has been read
	// whole, before the Uploader gets it: it waits for the server to take
	// the upload (the monolith admits a bounded number at once) and
	// returns the function that gives the slot back, or an error (the
	// request ended first). Reading the body first means a client that
	// sends it slowly holds a connection and at most Limits.MaxBytes of
	// memory, never a slot that a complete upload could use.
	AdmitUpload func(ctx context.Context) (release func(), err error)
	// BodyTimeout, when positive, bounds the time an upload's body may
	// take to arrive, from the start of the handler: a read deadline on the
	// connection, whatever the server's own ReadTimeout. A body cut off by
	// it is refused (400).
	BodyTimeout time.Duration
}

// NewServer returns the photo API over the ports in p:
//
//	POST   /v1/photos                   Uploader: 201 ready or 202 pending
//	GET    /v1/photos?tag=&limit=&cursor= Reader: a page, newest first
//	GET    /v1/photos/{id}              Reader
//	GET    /v1/photos/{id}/thumbnail    Reader: JPEG bytes, or a 307 redirect
//	DELETE /v1/photos/{id}              Deleter: 204 deleted or 202 pending
//	GET    /healthz, /metrics
//
// Every /v1 route needs a bearer token (Authenticate); every error is the
// JSON error body with the status of its kind (Status). Callers may add
// routes to the returned router (ingest adds POST /v1/uploads).
func NewServer(cfg Config, p Photos) *chi.Mux {
	if p.Limits.MaxBytes <= 0 || p.Limits.MaxPixels <= 0 {
		p.Limits = imaging.DefaultLimits
	}
	r := chi.NewRouter()
	r.Use(cfg.Metrics.Middleware)
	r.NotFound(NotFoundHandler())
	r.MethodNotAllowed(MethodNotAllowedHandler())
	r.Get("/healthz", handleHealth(cfg))
	r.Handle("/metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	r.Route("/v1/photos", func(r chi.Router) {
		r.Use(Authenticate(cfg.Verifier))
		if p.Uploader != nil {
			r.Post("/", handleUpload(cfg.Log, p))
		}
		if p.Reader != nil {
			r.Get("/", handleList(cfg.Log, p.Reader))
			r.Get("/{id}", handleGet(cfg.Log, p.Reader))
			r.Get("/{id}/thumbnail", handleThumbnail(cfg.Log, p.Reader))
		}
		if p.Deleter != nil {
			r.Delete("/{id}", handleDelete(cfg.Log, p.Deleter))
		}
	})
	return r
}

func handleHealth(cfg Config) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		for _, c := range cfg.Health {
			if err := c.Ping(ctx); err != nil {
				Error(w, r, cfg.Log, &photo.Error{Kind: photo.Unavailable, Message: c.Name + " unavailable", RetryAfter: time.Second, Err: err})
				return
			}
		}
		w.Write([]byte("ok\n")) //nolint:errcheck // the client went away
	}
}

func handleUpload(log *slog.Logger, ports Photos) http.HandlerFunc {
	lim := ports.Limits
	return func(w http.ResponseWriter, r *http.Request) {
		if ports.BodyTimeout > 0 {
			// Not every ResponseWriter can (a test's recorder): the
			// server's ReadTimeout is the bound then.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(ports.BodyTimeout))
		}
		data, err := imaging.ReadBody(http.MaxBytesReader(w, r.Body, lim.MaxBytes+1), lim)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		if ports.AdmitUpload != nil {
			release, err := ports.AdmitUpload(r.Context())
			if err != nil {
				Error(w, r, log, err)
				return
			}
			defer release()
		}
		p, err := ports.Uploader.Upload(r.Context(), owner(r), data)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		status := http.StatusAccepted
		if p.Status == photo.StatusReady {
			status = http.StatusCreated
		}
		w.Header().Set("Location", "/v1/photos/"+p.ID)
		Encode(w, status, nonNil(p))
	}
}

func handleGet(log *slog.Logger, rd photo.Reader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := photo.ParseID(chi.URLParam(r, "id"))
		if err != nil {
			Error(w, r, log, err)
			return
		}
		p, err := rd.Get(r.Context(), owner(r), id)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		Encode(w, http.StatusOK, nonNil(p))
	}
}

func handleThumbnail(log *slog.Logger, rd photo.Reader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		size, err := photo.ParseSize(r.URL.Query().Get("size"))
		if err != nil {
			Error(w, r, log, err)
			return
		}
		id, err := photo.ParseID(chi.URLParam(r, "id"))
		if err != nil {
			Error(w, r, log, err)
			return
		}
		t, err := rd.Thumbnail(r.Context(), owner(r), id, size)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		if t.URL != "" {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, t.URL, http.StatusTemporaryRedirect)
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		w.Header().Set("Content-Length", strconv.Itoa(len(t.Bytes)))
		w.Header().Set("Cache-Control", "private, max-age=3600")
		w.Write(t.Bytes) //nolint:errcheck // the client went away
	}
}

func handleList(log *slog.Logger, rd photo.Reader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := r.URL.Query()
		q, err := photo.ParseListQuery(owner(r), v.Get("tag"), v.Get("limit"), v.Get("cursor"))
		if err != nil {
			Error(w, r, log, err)
			return
		}
		page, err := rd.List(r.Context(), q)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		if page.Photos == nil {
			page.Photos = []photo.Photo{}
		}
		for i, p := range page.Photos {
			page.Photos[i] = nonNil(p)
		}
		Encode(w, http.StatusOK, page)
	}
}

func handleDelete(log *slog.Logger, del photo.Deleter) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := photo.ParseID(chi.URLParam(r, "id"))
		if err != nil {
			Error(w, r, log, err)
			return
		}
		d, err := del.Delete(r.Context(), owner(r), id)
		if err != nil {
			Error(w, r, log, err)
			return
		}
		if d == photo.DeletionPending {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// nonNil gives a photo empty tags and thumbnails where it has none, so the
// JSON says [] and {}, never null, whatever the port returned.
func nonNil(p photo.Photo) photo.Photo {
	if p.Tags == nil {
		p.Tags = []string{}
	}
	if p.Thumbnails == nil {
		p.Thumbnails = map[photo.Size]photo.Thumbnail{}
	}
	return p
}

// userKey is the context key of the authenticated user.
type userKey struct{}

// WithUser returns a copy of ctx carrying user as the authenticated user.
// Authenticate uses it; tests use it to call handlers without tokens.
func WithUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}

// UserFrom returns the authenticated user in ctx, if any.
func UserFrom(ctx context.Context) (string, bool) {
	u, ok := ctx.Value(userKey{}).(string)
	return u, ok && u != ""
}

// owner is the authenticated user of a request behind Authenticate.
func owner(r *http.Request) string {
	u, _ := UserFrom(r.Context())
	return u
}

// Authenticate is middleware that authenticates every request with v: it
// reads the "Authorization: Bearer <token>" header and on success calls next
// with the user in the request context (see UserFrom). On failure it answers
// 401 with the JSON error body (see Error) and a WWW-Authenticate challenge,
// and does not call next.
func Authenticate(v *auth.Verifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, err := auth.Authenticate(v, r.Header.Get("Authorization"))
			if err != nil {
				challenge := `Bearer realm="photobench"`
				if !auth.IsMissing(err) {
					challenge += `, error="invalid_token"`
				}
				w.Header().Set("WWW-Authenticate", challenge)
				Error(w, r, nil, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), user)))
		})
	}
}

// MaxDecodeBytes bounds a JSON request body Decode reads.
const MaxDecodeBytes = 1 << 20

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: Code is a photo.Kind (or
// "method_not_allowed"), Message is safe to show to users.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Encode writes v as a JSON response with the given status. v is encoded
// before anything is written, so an unencodable value becomes a clean 500
// instead of a truncated body.
func Encode[T any](w http.ResponseWriter, status int, v T) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		WriteError(w, http.StatusInternalServerError, string(photo.Internal), "internal error", 0)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b.Bytes()) //nolint:errcheck // the client went away; nothing to do
}

// Validator is a decoded request body that can check itself. Valid returns
// the problems found, keyed by field name; none (an empty or nil map) means
// the value is valid.
type Validator interface {
	Valid(ctx context.Context) map[string]string
}

// Decode reads a JSON request body of at most MaxDecodeBytes into a T and
// validates it. Errors are *photo.Error: Invalid for an empty or malformed
// body, unknown fields, trailing data or validation problems (listed in the
// message, sorted by field), TooLarge for a body over MaxDecodeBytes (or
// over the limit of an http.MaxBytesReader the caller wrapped it in).
func Decode[T Validator](r *http.Request) (T, error) {
	var v T
	if r.Body == nil {
		return v, photo.Errorf(photo.Invalid, "empty body: send a JSON object")
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxDecodeBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return v, &photo.Error{Kind: photo.TooLarge, Message: fmt.Sprintf("body is larger than the limit of %d bytes", mbe.Limit), Err: err}
		}
		return v, &photo.Error{Kind: photo.Invalid, Message: "could not read the request body", Err: err}
	}
	if len(data) > MaxDecodeBytes {
		return v, photo.Errorf(photo.TooLarge, "body is larger than the limit of %d bytes", MaxDecodeBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return v, decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return v, photo.Errorf(photo.Invalid, "malformed JSON body: data after the JSON value")
	}
	if problems := v.Valid(r.Context()); len(problems) > 0 {
		return v, &photo.Error{Kind: photo.Invalid, Message: "invalid request: " + listProblems(problems)}
	}
	return v, nil
}

func decodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		unmarshal *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, io.EOF):
		return photo.Errorf(photo.Invalid, "empty body: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &photo.Error{Kind: photo.Invalid, Message: "malformed JSON body: truncated", Err: err}
	case errors.As(err, &syntax):
		return &photo.Error{Kind: photo.Invalid, Message: fmt.Sprintf("malformed JSON body at byte %d", syntax.Offset), Err: err}
	case errors.As(err, &unmarshal):
		field := unmarshal.Field
		if field == "" {
			field = "body"
		}
		return &photo.Error{Kind: photo.Invalid, Message: fmt.Sprintf("malformed JSON body: %s must be %s", field, unmarshal.Type), Err: err}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return &photo.Error{Kind: photo.Invalid, Message: "malformed JSON body: " + strings.TrimPrefix(err.Error(), "json: "), Err: err}
	}
	return &photo.Error{Kind: photo.Invalid, Message: "malformed JSON body", Err: err}
}

func listProblems(problems map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(problems)) {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: %s", k, problems[k])
	}
	return b.String()
}

// statuses is the API's status map: the HTTP status of each error kind.
var statuses = map[photo.Kind]int{
	photo.Invalid:       http.StatusBadRequest,
	photo.Unauthorized:  http.StatusUnauthorized,
	photo.NotFound:      http.StatusNotFound,
	photo.TooLarge:      http.StatusRequestEntityTooLarge,
	photo.Unsupported:   http.StatusUnsupportedMediaType,
	photo.TooManyPixels: http.StatusUnprocessableEntity,
	photo.Unavailable:   http.StatusServiceUnavailable,
}

// Status is the HTTP status code of an error kind (500 for Internal and
// any kind the map does not know).
func Status(k photo.Kind) int {
	if s, ok := statuses[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error answers err: the status is Status(photo.KindOf(err)), the body
// an ErrorBody with the kind as code and photo.MessageOf(err) as message, so
// errors without a kind become a bare 500 "internal error" and nothing but a
// *photo.Error's client-safe message ever reaches the client. Unavailable
// errors also set Retry-After (whole seconds, at least 1). Internal errors
// and every other 5xx are logged at Error level with the full error, 4xx at
// Debug level. log may be nil (no logging); r may be nil.
func Error(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if err == nil {
		err = errors.New("httpapi: Error called with a nil error")
	}
	kind := photo.KindOf(err)
	status := Status(kind)
	msg := photo.MessageOf(err)
	if msg == "" {
		msg = strings.ToLower(http.StatusText(status))
	}
	if log != nil {
		ctx := context.Background()
		attrs := []any{"status", status, "code", string(kind), "err", err.Error()}
		if r != nil {
			ctx = r.Context()
			attrs = append(attrs, "method", r.Method, "path", r.URL.Path)
		}
		if kind == photo.Internal || status >= 500 {
			log.ErrorContext(ctx, "request failed", attrs...)
		} else {
			log.DebugContext(ctx, "request refused", attrs...)
		}
	}
	WriteError(w, status, string(kind), msg, photo.RetryAfterOf(err))
}

// WriteError writes an error answer with the JSON error body. 429 and 503
// answers carry Retry-After: retryAfter in whole seconds, rounded up, at
// least 1 (also when zero). Error is the way to answer an error of a
// photo.Kind; WriteError is for the codes no kind has (the vision
// service's rate_limited, routing's method_not_allowed).
func WriteError(w http.ResponseWriter, status int, code, msg string, retryAfter time.Duration) {
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(retryAfter)))
	}
	b, _ := json.Marshal(ErrorBody{Error: ErrorDetail{Code: code, Message: msg}}) // strings always encode
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n')) //nolint:errcheck // the client went away; nothing to do
}

// retryAfterSeconds is d rounded up to whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	s := math.Ceil(d.Seconds())
	if s < 1 {
		return 1
	}
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(s)
}

// NotFoundHandler answers 404 with a not_found JSON error: give it to chi's
// r.NotFound so unknown routes answer like unknown photos.
func NotFoundHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, http.StatusNotFound, string(photo.NotFound), "no such route: "+r.Method+" "+brief.Clip(r.URL.Path, 100), 0)
	}
}

// CodeMethodNotAllowed is the error code of 405 answers (no photo.Kind
// maps to 405: only routing produces it).
const CodeMethodNotAllowed = "method_not_allowed"

// notAllowedProbe are the methods MethodNotAllowedHandler probes to fill
// the Allow header.
var notAllowedProbe = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// MethodNotAllowedHandler answers 405 with a method_not_allowed JSON error:
// give it to chi's r.MethodNotAllowed. Under chi it also sets the Allow
// header (chi sets it only for its own default handler).
func MethodNotAllowedHandler() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if rctx := chi.RouteContext(r.Context()); rctx != nil && rctx.Routes != nil {
			for _, m := range notAllowedProbe {
				if rctx.Routes.Match(chi.NewRouteContext(), m, r.URL.Path) {
					w.Header().Add("Allow", m)
				}
			}
		}
		WriteError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method "+brief.Clip(r.Method, 20)+" is not allowed on "+brief.Clip(r.URL.Path, 100), 0)
	}
}
