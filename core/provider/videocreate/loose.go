package videocreate

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// The provider's JSON is read loosely: a field of a surprising type reads
// as absent, never as an error.

func absent(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

// looseNum reads a number or a numeric string ("35", " 35.5 ", "35%").
func looseNum(raw json.RawMessage) (float64, bool) {
	if absent(raw) {
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

// looseStr reads a string, or a number's text; anything else is "".
func looseStr(raw json.RawMessage) string {
	if absent(raw) {
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

// looseText reads a message: a string, or an object's message/msg/error.
func looseText(raw json.RawMessage) string {
	if s := looseStr(raw); s != "" {
		return s
	}
	var obj struct {
		Message json.RawMessage `json:"message"`
		Msg     json.RawMessage `json:"msg"`
		Error   json.RawMessage `json:"error"`
	}
	if absent(raw) || json.Unmarshal(raw, &obj) != nil {
		return ""
	}
	for _, r := range []json.RawMessage{obj.Message, obj.Msg, obj.Error} {
		if s := looseStr(r); s != "" {
			return s
		}
	}
	return ""
}

// cleanURL trims the spaces, quotes and backticks some providers leave around links.
func cleanURL(s string) string {
	return strings.Trim(s, " \t\r\n`'\"")
}
