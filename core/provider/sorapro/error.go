package sorapro

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"sorabot/core"
)

// User-safe messages (the core shows them as they are).
const (
	msgPolicy      = "The video service refused this prompt or image under its content policy. Please rephrase the prompt or use another image."
	msgModel       = "This model is unavailable right now. Please try another model."
	msgBusy        = "The video service is busy right now. Please try again later."
	msgCreate      = "The video service could not take this request."
	msgFailed      = "The video service could not make this video."
	msgUnreachable = "The video service is not answering right now."
)

// providerError is a failure the provider reported: Err is what the user
// may see, detail the provider's own words for the logs.
type providerError struct {
	err      *core.Error
	status   int // HTTP status, 0 when there was no answer
	detail   string
	operator bool // the operator must act (key, account credit)
}

func (e *providerError) Error() string {
	return fmt.Sprintf("sorapro: %s (HTTP %d: %s)", e.err.Code, e.status, e.detail)
}

func (e *providerError) Unwrap() error { return e.err }

func fail(status int, detail string, ce *core.Error, operator bool) *providerError {
	return &providerError{err: ce, status: status, detail: clip(detail), operator: operator}
}

// classify maps the provider's words to a user-safe error; generic is the
// message when nothing specific matches. account says the words answer a
// call (not a task's failure), so they may be about the operator's account;
// operator reports that the account is at fault.
func classify(msg, generic string, account bool) (ce *core.Error, operator bool) {
	m := strings.ToLower(msg)
	switch {
	case hasAny(m, "content polic", "moderation", "moderated", "violat", "inappropriate", "nsfw",
		"sensitive", "prohibited", "unsafe", "safety", "flagged"):
		return core.Errorf(core.EINVALID, msgPolicy), false
	case account && hasAny(m, "insufficient", "credit", "balance", "quota", "top up", "recharge", "payment",
		"api key", "apikey", "unauthorized", "invalid token", "authentication"):
		return core.Errorf(core.EUNAVAILABLE, msgBusy), true
	case hasAny(m, "paused", "suspended", "maintenance", "offline", "deprecated", "retired", "disabled"),
		strings.Contains(m, "model") && hasAny(m, "unknown", "not support", "unsupported", "not found",
			"not exist", "invalid", "unavailable", "not available"):
		return core.Errorf(core.EUNAVAILABLE, msgModel), false
	}
	return core.Errorf(core.EUNAVAILABLE, "%s", generic), false
}

func hasAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// clip keeps log details short and on one line.
func clip(s string) string {
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
