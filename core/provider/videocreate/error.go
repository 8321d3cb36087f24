package videocreate

import (
	"encoding/json"
	"net/http"
	"strings"

	"sorabot/core"
	"sorabot/core/provider/internal/wire"
)

// User-facing messages of this client (in the message catalog); the shared
// ones are wire.Msg*.
var msgNoPublicURL = core.NewMsg("provider.no_public_url", "This bot cannot pass uploaded images to its video service yet: the operator must set SORABOT_PUBLIC_URL.")

// fail returns a failure the gateway reported (see wire.Failure).
func fail(status int, detail string, ce *core.Error, operator bool) *wire.Failure {
	return wire.Fail("videocreate", status, detail, ce, operator)
}

// apiError is the gateway's error, read from the OpenAI/new-api envelope
// {"error":{"message","type","code"}} or from a flatter shape.
type apiError struct {
	Message string
	Code    string
}

func readAPIError(body []byte) apiError {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message json.RawMessage `json:"message"`
		Msg     json.RawMessage `json:"msg"`
		Code    json.RawMessage `json:"code"`
	}
	if json.Unmarshal(body, &env) != nil {
		return apiError{}
	}
	var e apiError
	var inner struct {
		Message json.RawMessage `json:"message"`
		Code    json.RawMessage `json:"code"`
		Type    json.RawMessage `json:"type"`
	}
	if s := wire.Str(env.Error); s != "" {
		e.Message = s
	} else if !wire.Absent(env.Error) && json.Unmarshal(env.Error, &inner) == nil {
		e.Message, e.Code = wire.Text(inner.Message), wire.Str(inner.Code)
		if e.Code == "" {
			e.Code = wire.Str(inner.Type)
		}
	}
	if e.Message == "" {
		e.Message = wire.Text(env.Message)
	}
	if e.Message == "" {
		e.Message = wire.Text(env.Msg)
	}
	if e.Code == "" {
		e.Code = wire.Str(env.Code)
	}
	return e
}

func (e apiError) String() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Code + ": " + e.Message
}

// Kinds of failure the gateway's words can name.
const (
	kindOther = iota
	kindPolicy
	kindModel
	kindAccount
)

// kind reads what a failure is about from the gateway's code and message.
func kind(e apiError) int {
	code, m := strings.ToLower(e.Code), strings.ToLower(e.Message)
	switch {
	case wire.HasAny(code, "sensitive", "content_policy", "moderation", "safety"),
		wire.HasAny(m, "content polic", "moderation", "moderated", "violat", "inappropriate", "nsfw",
			"sensitive", "prohibited", "unsafe", "safety", "flagged"):
		return kindPolicy
	case wire.HasAny(code, "model_not_found", "model_not_supported", "model_disabled"),
		wire.HasAny(m, "paused", "suspended", "maintenance", "deprecated", "retired", "no available channel"),
		strings.Contains(m, "model") && wire.HasAny(m, "unknown", "not support", "unsupported", "not found",
			"not exist", "invalid", "unavailable", "not available", "disabled"):
		return kindModel
	case wire.HasAny(code, "quota", "insufficient", "invalid_api_key", "invalid_token", "unauthorized", "balance"),
		wire.HasAny(m, "insufficient", "quota", "balance", "credit", "top up", "recharge", "payment",
			"api key", "invalid token", "unauthorized", "令牌", "额度", "余额"):
		return kindAccount
	}
	return kindOther
}

// classifyCall maps a failed create (or query) answer to an error.
func classifyCall(status int, e apiError, body []byte) *wire.Failure {
	detail := e.String()
	if detail == "" {
		detail = string(body)
	}
	k := kind(e)
	switch {
	case k == kindPolicy:
		return fail(status, detail, wire.MsgPolicy.Err(core.EINVALID, nil), false)
	case k == kindModel:
		return fail(status, detail, wire.MsgModel.Err(core.EUNAVAILABLE, nil), false)
	case status == http.StatusUnauthorized || status == http.StatusPaymentRequired || status == http.StatusForbidden,
		k == kindAccount && !wire.RetryStatus(status),
		k == kindAccount && wire.HasAny(strings.ToLower(e.Code), "quota", "insufficient"):
		return fail(status, detail, wire.MsgBusy.Err(core.EUNAVAILABLE, nil), true)
	}
	return fail(status, detail, wire.MsgCreate.Err(core.EUNAVAILABLE, nil), false)
}

// taskFailure maps a failed task's reason to a user-safe error.
func taskFailure(e apiError) *core.Error {
	switch kind(e) {
	case kindPolicy:
		return wire.MsgPolicy.Err(core.EINVALID, nil)
	case kindModel:
		return wire.MsgModel.Err(core.EUNAVAILABLE, nil)
	}
	return wire.MsgFailed.Err(core.EUNAVAILABLE, nil)
}
