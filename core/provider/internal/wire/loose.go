// Package wire holds what the provider clients (sorapro, videocreate) share
// on the wire: the HTTP exchange with its key scrubbing and capped reply, the
// reading of transport errors and HTTP statuses, the failure type that
// carries a user-safe error beside the provider's own words, and the loose
// reading of JSON values. Each protocol's own mapping (status words, error
// envelopes, user messages) stays in its client.
package wire

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// The provider's JSON is read loosely: a field of a surprising type reads
// as absent, never as an error.

// Absent reports whether a raw value is missing or null.
func Absent(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// Num reads a number or a numeric string ("35", " 35.5 ", "35%").
func Num(raw json.RawMessage) (float64, bool) {
	if Absent(raw) {
		return 0, false
	}
	var f float64
	if json.Unmarshal(raw, &f) == nil {
		return f, true
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0, false
	}
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// Str reads a string, or a number's text; anything else is "".
func Str(raw json.RawMessage) string {
	if Absent(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// Text reads a message: a string, or an object's message/msg/error.
func Text(raw json.RawMessage) string {
	if s := Str(raw); s != "" {
		return s
	}
	var obj struct {
		Message json.RawMessage `json:"message"`
		Msg     json.RawMessage `json:"msg"`
		Error   json.RawMessage `json:"error"`
	}
	if Absent(raw) || json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	for _, r := range []json.RawMessage{obj.Message, obj.Msg, obj.Error} {
		if s := Str(r); s != "" {
			return s
		}
	}
	return ""
}

// CleanURL trims the spaces, quotes and backticks some providers leave around links.
func CleanURL(s string) string {
	return strings.Trim(s, " \t\r\n`'\"")
}
