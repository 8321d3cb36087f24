package core

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func TestErrorCodeAndMessage(t *testing.T) {
	const secret = "dial tcp 10.0.0.1:443: token=sk-SECRET"
	plain := errors.New(secret)
	userErr := Errorf(EINVALID, "The prompt is %d characters long.", 2001)
	for _, tc := range []struct {
		name    string
		err     error
		code    string
		msg     string // exact, unless generic
		generic bool
	}{
		{"nil", nil, "", "", false},
		{"*Error", userErr, EINVALID, "The prompt is 2001 characters long.", false},
		{"wrapped *Error", fmt.Errorf("submit job 42: %w", Errorf(EUNAVAILABLE, "Model %q is unavailable.", "x")), EUNAVAILABLE, `Model "x" is unavailable.`, false},
		{"twice wrapped *Error", fmt.Errorf("a: %w", fmt.Errorf("b: %w", Errorf(ENOCREDITS, "You have 5 credits."))), ENOCREDITS, "You have 5 credits.", false},
		{"joined", errors.Join(plain, Errorf(ERATELIMITED, "Slow down.")), ERATELIMITED, "Slow down.", false},
		{"temporary *Error", Temporary(Errorf(EUNAVAILABLE, "Provider busy.")), EUNAVAILABLE, "Provider busy.", false},
		{"plain", plain, EINTERNAL, "", true},
		{"wrapped plain", fmt.Errorf("store: %w", plain), EINTERNAL, "", true},
		{"plain wrapping text only", fmt.Errorf("ctx: %v", userErr), EINTERNAL, "", true},
		{"temporary plain", Temporary(plain), EINTERNAL, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorCode(tc.err); got != tc.code {
				t.Errorf("ErrorCode = %q, want %q", got, tc.code)
			}
			msg := ErrorMessage(tc.err)
			if !tc.generic {
				if msg != tc.msg {
					t.Errorf("ErrorMessage = %q, want %q", msg, tc.msg)
				}
				return
			}
			if msg == "" {
				t.Error("generic ErrorMessage is empty")
			}
			for _, leak := range []string{secret, "SECRET", "10.0.0.1", "dial tcp", "2001", "store:"} {
				if strings.Contains(msg, leak) {
					t.Errorf("ErrorMessage %q leaks %q", msg, leak)
				}
			}
			if msg != ErrorMessage(errors.New("something else")) {
				t.Errorf("generic message %q differs between errors", msg)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := Errorf(ENOTFOUND, "No job %s.", "j1")
	if e.Code != ENOTFOUND || e.Message != "No job j1." {
		t.Fatalf("Errorf = %+v", e)
	}
	if s := e.Error(); !strings.Contains(s, ENOTFOUND) || !strings.Contains(s, "No job j1.") {
		t.Errorf("Error() = %q, want code and message", s)
	}
	var target *Error
	if !errors.As(fmt.Errorf("x: %w", e), &target) || target != e {
		t.Error("errors.As does not find the *Error")
	}
	// The codes are distinct.
	seen := map[string]bool{}
	for _, c := range []string{EINVALID, ENOCREDITS, ERATELIMITED, EUNAVAILABLE, ENOTFOUND, EFORBIDDEN, EINTERNAL} {
		if c == "" || seen[c] {
			t.Errorf("code %q empty or repeated", c)
		}
		seen[c] = true
	}
}

func TestErrorTemporary(t *testing.T) {
	base := errors.New("HTTP 503")
	if Temporary(nil) != nil {
		t.Error("Temporary(nil) != nil")
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", base, false},
		{"*Error", Errorf(EUNAVAILABLE, "down"), false},
		{"temporary", Temporary(base), true},
		{"temporary *Error", Temporary(Errorf(EUNAVAILABLE, "down")), true},
		{"wrapped temporary", fmt.Errorf("poll: %w", Temporary(base)), true},
		{"twice wrapped temporary", fmt.Errorf("a: %w", fmt.Errorf("b: %w", Temporary(base))), true},
		{"joined temporary", errors.Join(io.EOF, Temporary(base)), true},
		{"temporary text only", fmt.Errorf("poll: %v", Temporary(base)), false},
		{"temporary temporary", Temporary(Temporary(base)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsTemporary(tc.err); got != tc.want {
				t.Errorf("IsTemporary = %v, want %v", got, tc.want)
			}
		})
	}
	tmp := Temporary(base)
	if tmp.Error() != base.Error() {
		t.Errorf("Temporary changes the text: %q", tmp.Error())
	}
	if !errors.Is(tmp, base) || !errors.Is(fmt.Errorf("x: %w", tmp), base) {
		t.Error("Temporary hides the wrapped error from errors.Is")
	}
	if !errors.Is(Temporary(io.EOF), io.EOF) {
		t.Error("errors.Is(Temporary(io.EOF), io.EOF) is false")
	}
}

func TestErrorRetryAfter(t *testing.T) {
	base := Temporary(Errorf(EUNAVAILABLE, "busy"))
	if WithRetryAfter(nil, time.Second) != nil {
		t.Error("WithRetryAfter(nil) != nil")
	}
	if err := WithRetryAfter(base, 0); err != base {
		t.Errorf("WithRetryAfter(err, 0) = %v, want err unchanged", err)
	}
	if _, ok := RetryAfter(base); ok {
		t.Error("RetryAfter of an error without a wait reports one")
	}
	err := fmt.Errorf("status 1: %w", WithRetryAfter(base, 3*time.Second))
	if d, ok := RetryAfter(err); !ok || d != 3*time.Second {
		t.Errorf("RetryAfter = %v, %v; want 3s", d, ok)
	}
	if !IsTemporary(err) || ErrorCode(err) != EUNAVAILABLE || ErrorMessage(err) != "busy" {
		t.Errorf("the wait hides the error: temporary %v, code %q, message %q", IsTemporary(err), ErrorCode(err), ErrorMessage(err))
	}
	if err.Error() != "status 1: "+base.Error() {
		t.Errorf("the wait changes the text: %q", err.Error())
	}
}
