package httpapi

import (
	"context"
	"net/http"

	"github.com/photobench/photobench/auth"
)

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
