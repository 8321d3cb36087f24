package sorapro

import (
	"strings"

	"sorabot/core"
	"sorabot/core/provider/internal/wire"
)

// fail returns a failure the provider reported (see wire.Failure).
func fail(status int, detail string, ce *core.Error, operator bool) *wire.Failure {
	return wire.Fail("sorapro", status, detail, ce, operator)
}

// classify maps the provider's words to a user-safe error; generic is the
// message when nothing specific matches. account says the words answer a
// call (not a task's failure), so they may be about the operator's account;
// operator reports that the account is at fault.
func classify(msg string, generic *core.Msg, account bool) (ce *core.Error, operator bool) {
	m := strings.ToLower(msg)
	switch {
	case wire.HasAny(m, "content polic", "moderation", "moderated", "violat", "inappropriate", "nsfw",
		"sensitive", "prohibited", "unsafe", "safety", "flagged"):
		return wire.MsgPolicy.Err(core.EINVALID, nil), false
	case account && wire.HasAny(m, "insufficient", "credit", "balance", "quota", "top up", "recharge", "payment",
		"api key", "apikey", "unauthorized", "invalid token", "authentication"):
		return wire.MsgBusy.Err(core.EUNAVAILABLE, nil), true
	case wire.HasAny(m, "paused", "suspended", "maintenance", "offline", "deprecated", "retired", "disabled"),
		strings.Contains(m, "model") && wire.HasAny(m, "unknown", "not support", "unsupported", "not found",
			"not exist", "invalid", "unavailable", "not available"):
		return wire.MsgModel.Err(core.EUNAVAILABLE, nil), false
	}
	return generic.Err(core.EUNAVAILABLE, nil), false
}
