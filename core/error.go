package core

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. The set is closed: every error a user can see maps to one of them.
const (
	EINVALID     = "invalid"      // the request breaks a rule; Message says which
	ENOCREDITS   = "no_credits"   // the balance does not cover the price
	ERATELIMITED = "rate_limited" // too many requests or jobs in flight; try later
	EUNAVAILABLE = "unavailable"  // model, provider or platform unavailable
	ENOTFOUND    = "not_found"    // no such job, user or model
	EFORBIDDEN   = "forbidden"    // not allowed for this user
	EINTERNAL    = "internal"     // anything else; details only in logs
)

// Error is an error a user may see. ID and Args name its message in the
// catalog, which the frontends render in the user's language; Message is
// the English text, for logs (Error() and ErrorMessage). Every user-facing
// error is made by Msg.Err, so its ID is one the catalog has.
type Error struct {
	Code    string
	ID      string
	Args    Args
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("sorabot: %s: %s", e.Code, e.Message)
}

// AsError returns the first *Error in err's chain, nil when there is none.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe text for err. Errors that are not *Error
// never leak their text: they become a generic apology.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return MsgInternal.English
}

// temporary marks an error as worth retrying (timeouts, 5xx, 429, ...).
type temporary struct{ err error }

func (t temporary) Error() string { return t.err.Error() }
func (t temporary) Unwrap() error { return t.err }

// Temporary wraps err so that IsTemporary reports true: the operation may be
// retried and the job must not fail because of it.
func Temporary(err error) error {
	if err == nil {
		return nil
	}
	return temporary{err}
}

// IsTemporary reports whether err (or anything it wraps) was marked Temporary.
func IsTemporary(err error) bool {
	var t temporary
	return errors.As(err, &t)
}

// refused marks a create the provider explicitly turned down.
type refused struct{ err error }

func (r refused) Error() string { return r.err.Error() }
func (r refused) Unwrap() error { return r.err }

// Refused wraps a create error that is the provider's explicit refusal for
// its own reasons (its account's credit or key, the model unavailable
// there): it certainly made no task, so another provider may take the job.
// Content-policy refusals are the request's fault and never Refused.
func Refused(err error) error {
	if err == nil {
		return nil
	}
	return refused{err}
}

// IsRefused reports whether err (or anything it wraps) was marked Refused.
func IsRefused(err error) bool {
	var r refused
	return errors.As(err, &r)
}

// retryAfter carries the wait a provider asked for before the next call.
type retryAfter struct {
	err error
	d   time.Duration
}

func (r retryAfter) Error() string { return r.err.Error() }
func (r retryAfter) Unwrap() error { return r.err }

// WithRetryAfter wraps err with the wait the provider asked for (a 429's
// Retry-After); the service makes its next call to that provider for the
// same job no sooner. A non-positive d leaves err as it is.
func WithRetryAfter(err error, d time.Duration) error {
	if err == nil || d <= 0 {
		return err
	}
	return retryAfter{err, d}
}

// RetryAfter returns the wait err (or anything it wraps) asks for.
func RetryAfter(err error) (time.Duration, bool) {
	var r retryAfter
	if errors.As(err, &r) {
		return r.d, true
	}
	return 0, false
}

// ErrTooBig is returned by a Deliverer whose platform refused a file as too
// large; the service then delivers a link instead.
var ErrTooBig = errors.New("sorabot: file too big for this platform")
