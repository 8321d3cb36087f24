package telegramtest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// The Bot API description (methods, types, fields, required flags), scraped
// from the official documentation; MIT, see spec/telegram-bot-api.LICENSE.
//
//go:embed spec/telegram-bot-api.json
var specJSON []byte

type specField struct {
	Name        string   `json:"name"`
	Types       []string `json:"types"`
	Required    bool     `json:"required"`
	Description string   `json:"description"`
}

type specEntry struct {
	Name     string      `json:"name"`
	Fields   []specField `json:"fields"`
	Subtypes []string    `json:"subtypes"`
}

type apiSpec struct {
	Version string                `json:"version"`
	Methods map[string]*specEntry `json:"methods"`
	Types   map[string]*specEntry `json:"types"`

	byLower map[string]*specEntry // method names are case-insensitive
}

var (
	specOnce   sync.Once
	parsedSpec *apiSpec
)

// loadSpec parses the embedded description once.
func loadSpec() *apiSpec {
	specOnce.Do(func() {
		var sp apiSpec
		if err := json.Unmarshal(specJSON, &sp); err != nil {
			panic("telegramtest: embedded spec: " + err.Error())
		}
		sp.byLower = make(map[string]*specEntry, len(sp.Methods))
		for name, m := range sp.Methods {
			sp.byLower[strings.ToLower(name)] = m
		}
		parsedSpec = &sp
	})
	return parsedSpec
}

func (sp *apiSpec) method(name string) *specEntry { return sp.byLower[strings.ToLower(name)] }

func (e *specEntry) field(name string) *specField {
	for i := range e.Fields {
		if e.Fields[i].Name == name {
			return &e.Fields[i]
		}
	}
	return nil
}

// validate checks a request against the method's description. Unknown fields
// are not an error (Telegram ignores them) but are returned as warnings.
func (sp *apiSpec) validate(m *specEntry, req *request) (warnings []string, err *apiError) {
	for name := range req.params {
		if m.field(name) == nil {
			warnings = append(warnings, fmt.Sprintf("%s: unknown field %q", m.Name, name))
		}
	}
	for name := range req.files {
		if m.field(name) != nil || req.attached(name) {
			continue
		}
		warnings = append(warnings, fmt.Sprintf("%s: unknown file field %q", m.Name, name))
	}
	for _, f := range m.Fields {
		v, ok := req.params[f.Name]
		_, isFile := req.files[f.Name]
		if !isFile && (!ok || v == "") {
			if f.Required {
				return warnings, badRequest(f.Name + " is required")
			}
			continue
		}
		if isFile {
			if !hasType(f.Types, "InputFile") {
				return warnings, badRequest("can't parse " + f.Name + ": a file was uploaded for a field that is not an InputFile")
			}
			continue
		}
		w, e := sp.checkParam(m.Name, f, v, req)
		warnings = append(warnings, w...)
		if e != nil {
			return warnings, e
		}
	}
	return warnings, nil
}

func hasType(types []string, t string) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// checkParam checks one form value against the field's possible types.
func (sp *apiSpec) checkParam(method string, f specField, v string, req *request) ([]string, *apiError) {
	var firstErr string
	for _, t := range f.Types {
		switch t {
		case "String":
			return nil, nil
		case "InputFile":
			if name, ok := strings.CutPrefix(v, "attach://"); ok && req.files[name] != nil {
				return nil, nil
			}
			if firstErr == "" {
				firstErr = "there is no file uploaded for " + f.Name
			}
			continue
		case "Integer", "Float", "Boolean":
			if scalarOK(t, v) {
				return nil, nil
			}
			if firstErr == "" {
				firstErr = fmt.Sprintf("%s must be of type %s", f.Name, t)
			}
			continue
		}
		var val any
		if err := json.Unmarshal([]byte(v), &val); err != nil {
			if firstErr == "" {
				firstErr = fmt.Sprintf("can't parse %s JSON object", f.Name)
			}
			continue
		}
		var w []string
		if err := sp.checkJSON(val, t, f.Name, &w); err != nil {
			if firstErr == "" {
				firstErr = fmt.Sprintf("can't parse %s: %v", f.Name, err)
			}
			continue
		}
		for i := range w {
			w[i] = method + ": " + w[i]
		}
		return w, nil
	}
	return nil, badRequest(firstErr)
}

func scalarOK(t, v string) bool {
	switch t {
	case "Integer":
		_, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return err == nil
	case "Float":
		_, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return err == nil
	case "Boolean":
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "false", "1", "0":
			return true
		}
	}
	return false
}

var discriminatorRE = regexp.MustCompile(`(?:must be|always) "?([a-z_0-9]+)"?`)

// checkJSON checks a decoded JSON value against a spec type expression such
// as "Integer", "Array of MessageEntity" or "InlineKeyboardMarkup". Unknown
// object fields are appended to warn.
func (sp *apiSpec) checkJSON(v any, typ, path string, warn *[]string) error {
	if elem, ok := strings.CutPrefix(typ, "Array of "); ok {
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s must be an array", path)
		}
		for i, x := range arr {
			if err := sp.checkJSON(x, elem, fmt.Sprintf("%s[%d]", path, i), warn); err != nil {
				return err
			}
		}
		return nil
	}
	switch typ {
	case "Integer":
		n, ok := v.(float64)
		if !ok || n != float64(int64(n)) {
			return fmt.Errorf("%s must be an integer", path)
		}
		return nil
	case "Float":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s must be a number", path)
		}
		return nil
	case "Boolean", "True":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s must be a boolean", path)
		}
		return nil
	case "String", "InputFile":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s must be a string", path)
		}
		return nil
	}
	t := sp.Types[typ]
	if t == nil {
		return nil // a type the description does not detail
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("%s must be an object (%s)", path, typ)
	}
	if len(t.Subtypes) > 0 {
		var best []string
		found := false
		var firstErr error
		for _, st := range t.Subtypes {
			var w []string
			err := sp.checkJSON(obj, st, path, &w)
			if err == nil && !sp.discriminatorMatches(st, obj) {
				err = fmt.Errorf("%s is not a %s", path, st)
			}
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			if !found || len(w) < len(best) {
				best, found = w, true
			}
		}
		if !found {
			return fmt.Errorf("%s matches no kind of %s (%v)", path, typ, firstErr)
		}
		*warn = append(*warn, best...)
		return nil
	}
	for k := range obj {
		if t.field(k) == nil {
			*warn = append(*warn, fmt.Sprintf("%s: unknown field %q in %s", path, k, typ))
		}
	}
	for _, f := range t.Fields {
		x, ok := obj[f.Name]
		if !ok || x == nil {
			if f.Required {
				return fmt.Errorf("%s.%s is required", path, f.Name)
			}
			continue
		}
		var err error
		for _, ft := range f.Types {
			var w []string
			if err = sp.checkJSON(x, ft, path+"."+f.Name, &w); err == nil {
				*warn = append(*warn, w...)
				break
			}
		}
		if err != nil {
			return err
		}
	}
	if typ == "InlineKeyboardButton" {
		return checkInlineButton(obj, path)
	}
	return nil
}

// discriminatorMatches reports whether obj carries the constant that selects
// subtype st ("type": "chat" for BotCommandScopeChat, ...).
func (sp *apiSpec) discriminatorMatches(st string, obj map[string]any) bool {
	t := sp.Types[st]
	if t == nil || len(t.Fields) == 0 {
		return true
	}
	f := t.Fields[0]
	m := discriminatorRE.FindStringSubmatch(f.Description)
	if m == nil {
		return true
	}
	got, _ := obj[f.Name].(string)
	return got == m[1]
}

// checkInlineButton applies Telegram's rule that an inline button does
// exactly one thing, and the 1-64 byte limit on callback_data.
func checkInlineButton(obj map[string]any, path string) error {
	actions := 0
	for _, k := range []string{"url", "web_app", "login_url", "switch_inline_query",
		"switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "callback_game", "pay"} {
		if v, ok := obj[k]; ok && v != nil && v != false {
			actions++
		}
	}
	if ct, ok := obj["copy_text"].(map[string]any); ok {
		if s, _ := ct["text"].(string); s != "" {
			actions++
		}
	}
	if cd, ok := obj["callback_data"].(string); ok && cd != "" {
		if len(cd) > 64 {
			return fmt.Errorf("%s: BUTTON_DATA_INVALID", path)
		}
		actions++
	}
	if actions == 0 {
		return fmt.Errorf("%s: Text buttons are unallowed in the inline keyboard", path)
	}
	return nil
}
