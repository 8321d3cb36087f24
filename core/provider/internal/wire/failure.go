package wire

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"sorabot/core"
)

// Failure is a failure the provider reported: Err is what the user may see,
// Detail the provider's own words for the logs.
type Failure struct {
	Name     string // the client reporting it ("sorapro")
	Err      *core.Error
	Status   int // HTTP status, 0 when there was no answer
	Detail   string
	Operator bool // the operator must act (key, account credit or quota)
}

func (e *Failure) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d: %s)", e.Name, e.Err.Code, e.Status, e.Detail)
}

func (e *Failure) Unwrap() error { return e.Err }

// Fail returns the Failure of the client name, its detail clipped.
func Fail(name string, status int, detail string, ce *core.Error, operator bool) *Failure {
	return &Failure{Name: name, Err: ce, Status: status, Detail: Clip(detail), Operator: operator}
}

// HasAny reports whether s contains any of subs.
func HasAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// Clip keeps log details short and on one line.
func Clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		i := 300
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "…"
	}
	return s
}

// WarnOperator logs failures only the operator can fix.
func (c *Conn) WarnOperator(call string, err error) {
	var f *Failure
	if errors.As(err, &f) && f.Operator {
		c.Log.Warn(c.Name+": the provider account needs the operator's attention", "call", call, "status", f.Status, "detail", f.Detail)
	}
}

// User-facing messages both protocols give for the same failures (the
// core's, which the message catalog has in every language).
var (
	MsgPolicy      = core.MsgProviderPolicy
	MsgModel       = core.MsgProviderModel
	MsgBusy        = core.MsgProviderBusy
	MsgCreate      = core.MsgProviderCreate
	MsgFailed      = core.MsgProviderFailed
	MsgUnreachable = core.MsgProviderUnreachable
)
