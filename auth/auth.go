// Package auth mints and verifies the photo app's bearer tokens (package
// httpapi carries the authenticated user through requests).
//
// A token is a JWT signed with HMAC-SHA256 (HS256) under a secret shared by
// every process that serves the public API and by whoever mints tokens (the
// load generator, the conformance suite, `photobench token`). Its claims are
// sub (the user id), iat, exp and iss ("photobench"). Verification accepts
// HS256 only: "none" and every other algorithm are refused, as are tokens
// without exp, iat or the right issuer, subjects that are not user ids,
// tokens issued (iat) or valid from (nbf) later than now beyond the
// verifier's clock-skew leeway, and tokens that live longer than
// MaxLifetime (exp - iat): a token that leaks is good for a day at most.
package auth

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/photobench/photobench/internal/brief"
	"github.com/photobench/photobench/photo"
)

// IssuerName is the iss claim of every token.
const IssuerName = "photobench"

// MinSecretLen is the shortest accepted signing secret, in bytes.
const MinSecretLen = 16

// MaxLifetime is the longest a token may be valid (exp - iat). Issuers
// refuse longer ttls and Verify refuses longer-lived tokens. The longest
// client run (the full bench, about 80 minutes, each run minting its own
// tokens) stays far below it.
const MaxLifetime = 24 * time.Hour

// MaxTokenLen bounds the length of a token Verify looks at; longer ones are
// malformed without being parsed. Minted tokens are about 200 bytes.
const MaxTokenLen = 4096

// validUser is the shape of a user id (the sub claim).
var validUser = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ValidUser reports whether s is a well-formed user id: 1 to 64 ASCII
// letters, digits, '_' or '-'. It is the one rule for user ids: token
// subjects, and the owners that name object keys and file paths, which is
// why an owner can never climb out of its directory.
func ValidUser(s string) bool { return validUser.MatchString(s) }

// CheckUser returns an Invalid error for a malformed user id.
func CheckUser(s string) error {
	if !ValidUser(s) {
		return photo.Errorf(photo.Invalid, "malformed user id %q (want 1-64 of A-Z a-z 0-9 _ -)", brief.Clip(s, 80))
	}
	return nil
}

func checkSecret(secret []byte) error {
	if len(secret) < MinSecretLen {
		return fmt.Errorf("auth secret is %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	return nil
}

// Issuer mints tokens. It is safe for concurrent use.
type Issuer struct {
	secret []byte
}

// NewIssuer returns an Issuer signing with secret (at least MinSecretLen
// bytes; the slice is copied).
func NewIssuer(secret []byte) (*Issuer, error) {
	if err := checkSecret(secret); err != nil {
		return nil, fmt.Errorf("new issuer: %w", err)
	}
	return &Issuer{secret: append([]byte(nil), secret...)}, nil
}

// Mint returns a token naming user, valid from now for ttl (> 0, at most
// MaxLifetime). A malformed user id is an Invalid error.
func (i *Issuer) Mint(user string, ttl time.Duration) (string, error) {
	return i.MintAt(user, time.Now(), ttl)
}

// MintAt is Mint as if the time were now: the token is issued at now and
// expires at now+ttl. Tests use it to mint tokens that have already expired.
func (i *Issuer) MintAt(user string, now time.Time, ttl time.Duration) (string, error) {
	if err := CheckUser(user); err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	if ttl <= 0 || ttl > MaxLifetime {
		return "", fmt.Errorf("mint token: ttl %v is not in (0, %v]", ttl, MaxLifetime)
	}
	claims := jwt.RegisteredClaims{
		Issuer:    IssuerName,
		Subject:   user,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(i.secret)
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	return s, nil
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	secret []byte
	parser *jwt.Parser
}

// NewVerifier returns a Verifier for tokens signed with secret (at least
// MinSecretLen bytes; the slice is copied). leeway (>= 0) tolerates clock
// skew between the minting and the verifying machine, on exp, iat and nbf.
func NewVerifier(secret []byte, leeway time.Duration) (*Verifier, error) {
	if err := checkSecret(secret); err != nil {
		return nil, fmt.Errorf("new verifier: %w", err)
	}
	if leeway < 0 {
		return nil, fmt.Errorf("new verifier: negative leeway %v", leeway)
	}
	return &Verifier{
		secret: append([]byte(nil), secret...),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(IssuerName),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithStrictDecoding(),
		),
	}, nil
}

// The client-safe messages of Verify's errors.
const (
	msgMissing   = "missing bearer token"
	msgMalformed = "malformed token"
	msgAlg       = "unsupported token algorithm (want HS256)"
	msgSignature = "invalid token signature"
	msgExpired   = "token expired"
	msgLifetime  = "token lifetime over the maximum"
	msgNotYet    = "token not valid yet"
	msgClaims    = "invalid token claims"
	msgSubject   = "token subject is not a valid user id"
)

// Verify checks token (the part after "Bearer ") and returns the user it
// names. Every failure is an Unauthorized *photo.Error whose message says
// briefly what is wrong (missing, malformed, algorithm, signature, expired,
// lifetime, not yet valid, claims, subject) and whose Err holds the details
// for logs.
func (v *Verifier) Verify(token string) (string, error) {
	if token == "" {
		return "", unauthorized(msgMissing, nil)
	}
	if len(token) > MaxTokenLen {
		return "", unauthorized(msgMalformed, fmt.Errorf("token is %d bytes, over %d", len(token), MaxTokenLen))
	}
	var claims jwt.RegisteredClaims
	tok, err := v.parser.ParseWithClaims(token, &claims, v.key)
	if err != nil {
		return "", unauthorized(classify(tok, err), err)
	}
	if claims.IssuedAt == nil {
		return "", unauthorized(msgClaims, errors.New("token has no iat claim"))
	}
	if life := claims.ExpiresAt.Sub(claims.IssuedAt.Time); life > MaxLifetime {
		return "", unauthorized(msgLifetime, fmt.Errorf("token lives %v (iat %v, exp %v), over %v",
			life, claims.IssuedAt.Time, claims.ExpiresAt.Time, MaxLifetime))
	}
	if !ValidUser(claims.Subject) {
		return "", unauthorized(msgSubject, fmt.Errorf("subject %q", brief.Clip(claims.Subject, 80)))
	}
	return claims.Subject, nil
}

// key is the jwt.Keyfunc: the secret, for HS256 tokens only. The parser
// checks the algorithm too (WithValidMethods); this is the second lock.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	if t.Method != jwt.SigningMethodHS256 {
		return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
	}
	return v.secret, nil
}

// classify picks the client message for a parser error.
func classify(tok *jwt.Token, err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return msgMalformed
	case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if tok == nil || tok.Method != jwt.SigningMethodHS256 {
			return msgAlg
		}
		return msgSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return msgExpired
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued), errors.Is(err, jwt.ErrTokenNotValidYet):
		return msgNotYet
	}
	return msgClaims
}

func unauthorized(msg string, err error) error {
	return &photo.Error{Kind: photo.Unauthorized, Message: msg, Err: err}
}

// BearerToken extracts the token from an Authorization header value of the
// form "Bearer <token>" (scheme case-insensitive). An empty header is a
// "missing" Unauthorized error, any other shape a "malformed" one.
func BearerToken(header string) (string, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return "", unauthorized(msgMissing, nil)
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", unauthorized("malformed Authorization header (want: Bearer <token>)", nil)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", unauthorized(msgMissing, nil)
	}
	return token, nil
}

// Authenticate returns the user an "Authorization: Bearer <token>" header
// value names, verified by v. Errors are photo.Unauthorized; see IsMissing.
func Authenticate(v *Verifier, header string) (string, error) {
	token, err := BearerToken(header)
	if err != nil {
		return "", err
	}
	return v.Verify(token)
}

// IsMissing reports whether err says that no bearer token was sent at all,
// as opposed to a bad one: RFC 6750 names no error in that challenge.
func IsMissing(err error) bool {
	var pe *photo.Error
	return errors.As(err, &pe) && pe.Message == msgMissing
}
