package sorapro

import (
	"encoding/json"
	"strings"

	"sorabot/core/provider/internal/wire"
)

// envelope is every reply's outer shape, read loosely (see wire).
type envelope struct {
	Code    json.RawMessage `json:"code"`
	Message json.RawMessage `json:"message"`
	Msg     json.RawMessage `json:"msg"`
	Error   json.RawMessage `json:"error"`
	Data    json.RawMessage `json:"data"`
}

// ok reports whether the code says success (0, "0" or absent).
func (e *envelope) ok() bool {
	if wire.Absent(e.Code) {
		return true
	}
	n, isNum := wire.Num(e.Code)
	if isNum {
		return n == 0
	}
	s := strings.ToLower(wire.Str(e.Code))
	return s == "ok" || s == "success"
}

// text is the envelope's message.
func (e *envelope) text() string {
	for _, raw := range []json.RawMessage{e.Message, e.Msg, e.Error} {
		if s := wire.Text(raw); s != "" {
			return s
		}
	}
	return ""
}
