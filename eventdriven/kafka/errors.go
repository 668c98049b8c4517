package kafka

import "errors"

// Transient marks err as a dependency being unavailable (the vision service
// down, MinIO or PostgreSQL unreachable): the message is fine, the world is
// not. The consumer retries it without limit, with exponential backoff
// capped at ConsumerConfig.TransientMaxBackoff, holding its partition (the
// backlog waits behind it, in order), and never dead-letters it. Transient
// returns nil for a nil err.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transientError{err}
}

// Permanent marks err as one that retrying cannot fix (a malformed event,
// an object that is not an image): the consumer dead-letters the message at
// once. Permanent returns nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsTransient reports whether err was marked with Transient. When an error
// carries both marks, the outermost one decides.
func IsTransient(err error) bool { return classify(err) == kindTransient }

// IsPermanent reports whether err was marked with Permanent. When an error
// carries both marks, the outermost one decides.
func IsPermanent(err error) bool { return classify(err) == kindPermanent }

type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

type errKind int

const (
	kindOther errKind = iota
	kindTransient
	kindPermanent
)

// classify walks err's tree depth-first and returns the first mark found,
// which for a simple chain of %w wraps is the outermost one.
func classify(err error) errKind {
	for err != nil {
		switch e := err.(type) {
		case *transientError:
			return kindTransient
		case *permanentError:
			return kindPermanent
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				if k := classify(inner); k != kindOther {
					return k
				}
			}
			return kindOther
		}
		err = errors.Unwrap(err)
	}
	return kindOther
}
