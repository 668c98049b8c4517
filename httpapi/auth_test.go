package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/photobench/photobench/auth"
	"github.com/photobench/photobench/httpapi"
)

var testSecret = []byte("photobench-httpapi-test-secret-0123")

func mustIssuer(t testing.TB) *auth.Issuer {
	t.Helper()
	iss, err := auth.NewIssuer(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func mustVerifier(t testing.TB) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(testSecret, 0)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMiddleware(t *testing.T) {
	iss := mustIssuer(t)
	good, err := iss.Mint("ann", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := iss.MintAt("ann", time.Now().Add(-2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var reached bool
	h := httpapi.Authenticate(mustVerifier(t))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		user, ok := httpapi.UserFrom(r.Context())
		if !ok {
			t.Error("no user in the context")
		}
		w.Write([]byte(user))
	}))
	tests := []struct {
		name, header string
		wantStatus   int
		wantBody     string
		wantInvalid  bool // WWW-Authenticate says invalid_token
	}{
		{"valid", "Bearer " + good, 200, "ann", false},
		{"lower-case scheme", "bearer " + good, 200, "ann", false},
		{"missing", "", 401, "missing", false},
		{"other scheme", "Basic " + good, 401, "malformed", true},
		{"expired", "Bearer " + expired, 401, "expired", true},
		{"garbage", "Bearer x.y.z", 401, "malformed", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached = false
			r := httptest.NewRequest(http.MethodGet, "/v1/photos", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.wantStatus, w.Body.String())
			}
			if tt.wantStatus == 200 {
				if w.Body.String() != tt.wantBody {
					t.Errorf("body %q, want %q", w.Body.String(), tt.wantBody)
				}
				return
			}
			if reached {
				t.Error("the handler ran for an unauthenticated request")
			}
			var body httpapi.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", w.Body.String(), err)
			}
			if body.Error.Code != "unauthorized" || !strings.Contains(body.Error.Message, tt.wantBody) {
				t.Errorf("error %+v, want unauthorized mentioning %q", body.Error, tt.wantBody)
			}
			challenge := w.Header().Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, "Bearer ") || strings.Contains(challenge, "invalid_token") != tt.wantInvalid {
				t.Errorf("WWW-Authenticate %q (want invalid_token: %v)", challenge, tt.wantInvalid)
			}
		})
	}
}

func TestContextUser(t *testing.T) {
	if _, ok := httpapi.UserFrom(context.Background()); ok {
		t.Error("UserFrom found a user in an empty context")
	}
	ctx := httpapi.WithUser(context.Background(), "bob")
	if u, ok := httpapi.UserFrom(ctx); !ok || u != "bob" {
		t.Errorf("UserFrom = %q, %v; want bob", u, ok)
	}
	// A plain string key with the same text must not collide.
	ctx = context.WithValue(context.Background(), "user", "mallory") //nolint:staticcheck // the point of the test
	if _, ok := httpapi.UserFrom(ctx); ok {
		t.Error("UserFrom read an untyped context key")
	}
}
