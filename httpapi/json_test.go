package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/photobench/photobench/httpapi"
	"github.com/photobench/photobench/photo"
)

// greeting is a request body for Decode.
type greeting struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func (g greeting) Valid(context.Context) map[string]string {
	p := map[string]string{}
	if g.Name == "" {
		p["name"] = "required"
	}
	if g.Count < 0 {
		p["count"] = "must not be negative"
	}
	return p
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		want     greeting
		wantKind photo.Kind
		wantMsg  string
	}{
		{"valid", `{"name":"ann","count":2}`, greeting{"ann", 2}, "", ""},
		{"valid with trailing space", "{\"name\":\"ann\"}\n ", greeting{Name: "ann"}, "", ""},
		{"empty", ``, greeting{}, photo.Invalid, "empty body"},
		{"truncated", `{"name":"ann"`, greeting{}, photo.Invalid, "truncated"},
		{"syntax", `{"name":}`, greeting{}, photo.Invalid, "malformed JSON body at byte"},
		{"wrong type", `{"name":"ann","count":"two"}`, greeting{}, photo.Invalid, "count must be int"},
		{"unknown field", `{"name":"ann","colour":1}`, greeting{}, photo.Invalid, `unknown field "colour"`},
		{"trailing data", `{"name":"ann"} {}`, greeting{}, photo.Invalid, "data after the JSON value"},
		{"problems sorted", `{"count":-1}`, greeting{}, photo.Invalid, "invalid request: count: must not be negative; name: required"},
		{"too large", `{"name":"` + strings.Repeat("a", httpapi.MaxDecodeBytes) + `"}`, greeting{}, photo.TooLarge, "larger than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tt.body))
			got, err := httpapi.Decode[greeting](r)
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got != tt.want {
					t.Errorf("Decode = %+v, want %+v", got, tt.want)
				}
				return
			}
			if k := photo.KindOf(err); k != tt.wantKind {
				t.Fatalf("Decode error %v: kind %q, want %q", err, k, tt.wantKind)
			}
			if msg := photo.MessageOf(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message %q lacks %q", msg, tt.wantMsg)
			}
		})
	}
}

func TestDecodeMaxBytesReader(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":"a long name"}`))
	r.Body = http.MaxBytesReader(w, r.Body, 5)
	_, err := httpapi.Decode[greeting](r)
	if photo.KindOf(err) != photo.TooLarge {
		t.Fatalf("Decode error %v, want too_large", err)
	}
}

func TestEncode(t *testing.T) {
	w := httptest.NewRecorder()
	httpapi.Encode(w, http.StatusCreated, greeting{Name: "ann", Count: 1})
	if w.Code != http.StatusCreated {
		t.Errorf("status %d, want 201", w.Code)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var got greeting
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got != (greeting{"ann", 1}) {
		t.Errorf("body %q: %+v, %v", w.Body.String(), got, err)
	}
}

func TestEncodeUnencodable(t *testing.T) {
	w := httptest.NewRecorder()
	httpapi.Encode(w, http.StatusOK, math.Inf(1))
	body := decodeError(t, w)
	if w.Code != http.StatusInternalServerError || body.Error.Code != "internal" {
		t.Errorf("got %d %+v, want 500 internal", w.Code, body)
	}
}

func decodeError(t *testing.T, w *httptest.ResponseRecorder) httpapi.ErrorBody {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body httpapi.ErrorBody
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		t.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	return body
}

func TestError(t *testing.T) {
	secret := "dial tcp 10.0.0.7:5432: password=hunter2"
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string
		wantRetry  string
		wantLevel  string // "" = not logged at Info or above
	}{
		{"invalid", photo.Errorf(photo.Invalid, "empty body"), 400, "invalid", "empty body", "", ""},
		{"unauthorized", photo.Errorf(photo.Unauthorized, "token expired"), 401, "unauthorized", "token expired", "", ""},
		{"not found wrapped", fmt.Errorf("get photo: %w", photo.Errorf(photo.NotFound, "no such photo")), 404, "not_found", "no such photo", "", ""},
		{"too large", photo.Errorf(photo.TooLarge, "too big"), 413, "too_large", "too big", "", ""},
		{"unsupported", photo.Errorf(photo.Unsupported, "GIF"), 415, "unsupported_media_type", "GIF", "", ""},
		{"too many pixels", photo.Errorf(photo.TooManyPixels, "bomb"), 422, "too_many_pixels", "bomb", "", ""},
		{"unavailable default retry", photo.Errorf(photo.Unavailable, "vision down"), 503, "unavailable", "vision down", "1", "ERROR"},
		{"unavailable retry rounded up", &photo.Error{Kind: photo.Unavailable, Message: "busy", RetryAfter: 1500 * time.Millisecond}, 503, "unavailable", "busy", "2", "ERROR"},
		{"unavailable sub-second retry", &photo.Error{Kind: photo.Unavailable, Message: "busy", RetryAfter: 10 * time.Millisecond}, 503, "unavailable", "busy", "1", "ERROR"},
		{"plain error hides details", errors.New(secret), 500, "internal", "internal error", "", "ERROR"},
		{"internal kind with cause", &photo.Error{Kind: photo.Internal, Message: "could not save", Err: errors.New(secret)}, 500, "internal", "could not save", "", "ERROR"},
		{"nil", nil, 500, "internal", "internal error", "", "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/v1/photos/x", nil)
			httpapi.Error(w, r, log, tt.err)
			if w.Code != tt.wantStatus {
				t.Errorf("status %d, want %d", w.Code, tt.wantStatus)
			}
			body := decodeError(t, w)
			if body.Error.Code != tt.wantCode || body.Error.Message != tt.wantMsg {
				t.Errorf("body %+v, want code %q message %q", body, tt.wantCode, tt.wantMsg)
			}
			if strings.Contains(w.Body.String(), "hunter2") {
				t.Errorf("body leaks internals: %s", w.Body.String())
			}
			if got := w.Header().Get("Retry-After"); got != tt.wantRetry {
				t.Errorf("Retry-After %q, want %q", got, tt.wantRetry)
			}
			switch {
			case tt.wantLevel == "" && logs.Len() > 0:
				t.Errorf("4xx logged above Debug: %s", logs.String())
			case tt.wantLevel != "":
				var rec map[string]any
				if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
					t.Fatalf("log %q: %v", logs.String(), err)
				}
				if rec["level"] != tt.wantLevel || rec["path"] != "/v1/photos/x" || rec["method"] != "GET" {
					t.Errorf("log record %v, want level %s with method and path", rec, tt.wantLevel)
				}
				if tt.err != nil && rec["err"] != tt.err.Error() {
					t.Errorf("log err %q, want the full error %q", rec["err"], tt.err.Error())
				}
			}
		})
	}
}

func TestErrorLogsClientErrorsAtDebug(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	httpapi.Error(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), log, photo.Errorf(photo.NotFound, "no such photo"))
	if !strings.Contains(logs.String(), `"level":"DEBUG"`) {
		t.Errorf("log %q: want one DEBUG record", logs.String())
	}
}

func TestErrorNilLoggerAndRequest(t *testing.T) {
	w := httptest.NewRecorder()
	httpapi.Error(w, nil, nil, errors.New("boom"))
	if w.Code != 500 {
		t.Errorf("status %d, want 500", w.Code)
	}
}

func TestRoutingHandlers(t *testing.T) {
	r := chi.NewRouter()
	r.NotFound(httpapi.NotFoundHandler())
	r.MethodNotAllowed(httpapi.MethodNotAllowedHandler())
	r.Route("/v1/photos", func(r chi.Router) {
		r.Get("/{id}", func(w http.ResponseWriter, r *http.Request) {})
		r.Delete("/{id}", func(w http.ResponseWriter, r *http.Request) {})
	})
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantCode           string
		wantAllow          []string
	}{
		{"unknown route", http.MethodGet, "/v2/nothing", 404, "not_found", nil},
		{"wrong method", http.MethodPut, "/v1/photos/abc", 405, "method_not_allowed", []string{"GET", "DELETE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.ServeHTTP(w, httptest.NewRequest(tt.method, tt.path, nil))
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", w.Code, tt.wantStatus)
			}
			if body := decodeError(t, w); body.Error.Code != tt.wantCode || body.Error.Message == "" {
				t.Errorf("body %+v, want code %q and a message", body, tt.wantCode)
			}
			allow := w.Header().Values("Allow")
			for _, m := range tt.wantAllow {
				if !slices.Contains(allow, m) {
					t.Errorf("Allow %v lacks %s", allow, m)
				}
			}
			if slices.Contains(allow, tt.method) {
				t.Errorf("Allow %v lists the refused method %s", allow, tt.method)
			}
		})
	}
}
