package auth

import (
	"context"
	"errors"
	"net/http"

	"github.com/photobench/photobench/internal/rest"
	"github.com/photobench/photobench/photo"
)

// userKey is the context key of the authenticated user.
type userKey struct{}

// WithUser returns a copy of ctx carrying user as the authenticated user.
// Middleware uses it; tests use it to call handlers without tokens.
func WithUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}

// UserFrom returns the authenticated user in ctx, if any.
func UserFrom(ctx context.Context) (string, bool) {
	u, ok := ctx.Value(userKey{}).(string)
	return u, ok && u != ""
}

// Middleware authenticates every request with v: it reads the
// "Authorization: Bearer <token>" header, and on success calls next with the
// user in the request context (see UserFrom). On failure it answers 401 with
// the JSON error body (see rest.Error) and a WWW-Authenticate challenge, and
// does not call next.
func Middleware(v *Verifier) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			user, err := authenticate(v, r.Header.Get("Authorization"))
			if err != nil {
				challenge := `Bearer realm="photobench"`
				var pe *photo.Error
				if errors.As(err, &pe) && pe.Message != msgMissing {
					challenge += `, error="invalid_token"`
				}
				w.Header().Set("WWW-Authenticate", challenge)
				rest.Error(w, r, nil, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), user)))
		})
	}
}

func authenticate(v *Verifier, header string) (string, error) {
	token, err := BearerToken(header)
	if err != nil {
		return "", err
	}
	return v.Verify(token)
}
