package core

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/template"
)

// Args are a message's named arguments.
type Args map[string]any

// UnmarshalJSON keeps whole numbers whole: a stored argument reads back as
// an int, not as a float64 (which a template would print as 1e+06).
func (a *Args) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				m[k] = int(i)
			} else if f, err := n.Float64(); err == nil {
				m[k] = f
			} else {
				m[k] = n.String()
			}
		}
	}
	*a = m
	return nil
}

// Msg is a text a user may see: an id in the message catalog, where every
// language has it, and its English text. The text is a template naming its
// arguments, {{.Name}}, and {{credits .Name}} for an amount of credits
// ("1 credit", "500 credits"). The frontends render ID and Args in the
// user's language; the English text is for logs.
type Msg struct {
	ID      string
	English string
	tmpl    *template.Template
}

var messages = struct {
	sync.Mutex
	m map[string]*Msg
}{m: map[string]*Msg{}}

// englishFuncs are the template functions of English texts.
var englishFuncs = template.FuncMap{
	"credits": func(n any) string {
		if fmt.Sprint(n) == "1" {
			return "1 credit"
		}
		return fmt.Sprint(n) + " credits"
	},
	"either": func(list any) string { return Either(fmt.Sprint(list), "or") },
}

// Either joins a list written "10, 15, 25" as "10, 15 or 25", with word
// for "or".
func Either(list, word string) string {
	i := strings.LastIndex(list, ", ")
	if i < 0 {
		return list
	}
	return list[:i] + " " + word + " " + list[i+2:]
}

// NewMsg registers a message. It is meant for package-level variables and
// panics on a repeated id or a template that does not parse.
func NewMsg(id, english string) *Msg {
	t, err := template.New(id).Funcs(englishFuncs).Option("missingkey=error").Parse(english)
	if err != nil {
		panic(fmt.Sprintf("core: message %s: %v", id, err))
	}
	m := &Msg{ID: id, English: english, tmpl: t}
	messages.Lock()
	defer messages.Unlock()
	if _, dup := messages.m[id]; dup {
		panic("core: message " + id + " is registered twice")
	}
	messages.m[id] = m
	return m
}

// Messages returns every registered message (of the packages linked in),
// sorted by id, so a test can check that the catalog has each of them.
func Messages() []*Msg {
	messages.Lock()
	defer messages.Unlock()
	return slices.SortedFunc(maps.Values(messages.m), func(a, b *Msg) int { return strings.Compare(a.ID, b.ID) })
}

// Text is the message with args, in English.
func (m *Msg) Text(args Args) string {
	var b strings.Builder
	if err := m.tmpl.Execute(&b, map[string]any(args)); err != nil {
		return m.English // a missing argument; the id still says which message
	}
	return b.String()
}

// With is the message with args, to show to a user later (a note on a job).
func (m *Msg) With(args Args) Message {
	return Message{ID: m.ID, Args: args, English: m.Text(args)}
}

// Err returns an *Error of code with the message and args.
func (m *Msg) Err(code string, args Args) *Error {
	return &Error{Code: code, ID: m.ID, Args: args, Message: m.Text(args)}
}

// Message is a message with its arguments as stored with a job: ID and
// Args for the user's language, English for logs. Records made before
// messages had ids hold only the English text.
type Message struct {
	ID      string `json:"id,omitempty"`
	Args    Args   `json:"args,omitempty"`
	English string `json:"en,omitempty"`
}

// UnmarshalJSON also reads the plain English string of older records.
func (m *Message) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		*m = Message{}
		return json.Unmarshal(data, &m.English)
	}
	type plain Message
	return json.Unmarshal(data, (*plain)(m))
}

func (m Message) String() string { return m.English }
