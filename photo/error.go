package photo

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error for clients. The HTTP API maps kinds to status
// codes (package httpapi); everything else about an error stays in logs.
type Kind string

// The error kinds.
const (
	// Invalid: the request is malformed (empty body, undecodable image,
	// malformed id or cursor).
	Invalid Kind = "invalid"
	// Unauthorized: no token, a malformed one, a bad signature, or expired.
	Unauthorized Kind = "unauthorized"
	// NotFound: no such photo for this user (another user's photo too).
	NotFound Kind = "not_found"
	// TooLarge: the body exceeds the byte limit.
	TooLarge Kind = "too_large"
	// Unsupported: not a JPEG or PNG.
	Unsupported Kind = "unsupported_media_type"
	// TooManyPixels: the header announces more pixels than the limit; the
	// image is refused without decoding (decompression bombs).
	TooManyPixels Kind = "too_many_pixels"
	// Unavailable: a dependency (the vision service, the database) failed
	// or timed out; try again after RetryAfter.
	Unavailable Kind = "unavailable"
	// Internal: a bug or an unexpected failure.
	Internal Kind = "internal"
)

// Error is an error with a kind and a message safe to show to clients.
type Error struct {
	Kind    Kind
	Message string
	// RetryAfter, for Unavailable, suggests when to try again.
	RetryAfter time.Duration
	// Err is the underlying cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of the first *Error in err's chain, Internal when
// there is none, and "" for nil.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// MessageOf returns the client-safe message of err: its *Error's message,
// or a generic one for errors of no kind (whose text may hold internals).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// RetryAfterOf returns the RetryAfter of err's *Error, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
