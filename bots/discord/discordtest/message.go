package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// attachment is a file on a message.
type attachment struct {
	ID string
	Upload
	url      string
	proxyURL string
}

// message is a message the fake holds: sent by the bot, or a user message
// that a simulated user acted on.
type message struct {
	ID, ChannelID, GuildID string
	Type                   int
	Bot                    bool
	Author                 map[string]any
	Content                string
	Embeds                 json.RawMessage
	Components             json.RawMessage
	AllowedMentions        json.RawMessage
	Reference              json.RawMessage
	Flags                  int
	Attachments            []attachment
	Created                time.Time
	Edited                 time.Time
	Edits                  int
	WebhookID              string
	Deleted                bool
	interactionID          string
}

// ChannelMessage is a message the bot sent (or edited) in a channel or DM.
type ChannelMessage struct {
	ChannelID, ID   string
	Content         string
	Files           []Upload
	Embeds          string // JSON, "" if none
	Components      string // JSON, "" if none
	AllowedMentions string // JSON, "" if none
	Reference       string // message_reference JSON, "" if none
	Flags           int
	Edits           int
	Deleted         bool
}

const (
	flagEphemeral    = 1 << 6
	flagLoading      = 1 << 7
	flagComponentsV2 = 1 << 15
	maxContentRunes  = 2000
)

func (m *message) view() ChannelMessage {
	cm := ChannelMessage{
		ChannelID: m.ChannelID, ID: m.ID, Content: m.Content, Flags: m.Flags, Edits: m.Edits, Deleted: m.Deleted,
		Embeds: rawString(m.Embeds), Components: rawString(m.Components),
		AllowedMentions: rawString(m.AllowedMentions), Reference: rawString(m.Reference),
	}
	for _, a := range m.Attachments {
		cm.Files = append(cm.Files, a.Upload)
	}
	return cm
}

func rawString(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return ""
	}
	return string(r)
}

func rawOrEmpty(r json.RawMessage) any {
	if len(r) == 0 || string(r) == "null" {
		return []any{}
	}
	return r
}

// render returns the message as Discord's REST API shows it.
func (m *message) render() map[string]any {
	atts := []any{}
	for _, a := range m.Attachments {
		atts = append(atts, map[string]any{
			"id": a.ID, "filename": a.Filename, "size": a.Size, "url": a.url, "proxy_url": a.proxyURL,
			"content_type": a.ContentType,
		})
	}
	out := map[string]any{
		"id": m.ID, "channel_id": m.ChannelID, "type": m.Type, "content": m.Content, "author": m.Author,
		"attachments": atts, "embeds": rawOrEmpty(m.Embeds), "components": rawOrEmpty(m.Components),
		"mentions": []any{}, "mention_roles": []any{}, "mention_everyone": false, "pinned": false, "tts": false,
		"timestamp": timestamp(m.Created), "edited_timestamp": nil, "flags": m.Flags,
	}
	if !m.Edited.IsZero() {
		out["edited_timestamp"] = timestamp(m.Edited)
	}
	if m.GuildID != "" {
		out["guild_id"] = m.GuildID
	}
	if rawString(m.Reference) != "" {
		out["message_reference"] = m.Reference
	}
	if m.WebhookID != "" {
		out["webhook_id"] = m.WebhookID
		out["application_id"] = m.WebhookID
	}
	return out
}

// apply copies the message fields present in a create or edit payload.
func (m *message) apply(p map[string]any, edit bool) {
	if v, ok := p["content"]; ok {
		m.Content, _ = v.(string)
	}
	setRaw := func(key string, dst *json.RawMessage) {
		if v, ok := p[key]; ok {
			if v == nil {
				*dst = nil
				return
			}
			*dst, _ = json.Marshal(v)
		}
	}
	setRaw("embeds", &m.Embeds)
	setRaw("components", &m.Components)
	setRaw("allowed_mentions", &m.AllowedMentions)
	setRaw("message_reference", &m.Reference)
	if v, ok := p["flags"]; ok {
		if n, isNum := v.(json.Number); isNum {
			f, _ := n.Int64()
			settable := int64(4 | flagEphemeral | 1<<12 | flagComponentsV2) // suppress embeds/notifications
			if edit {
				settable = 4 | flagComponentsV2
			}
			m.Flags = m.Flags&^int(settable) | int(f&settable)
		}
	}
}

// attach applies the "attachments" list of an edit (which existing files to
// keep) and adds newly uploaded files.
func (s *Server) attach(m *message, p map[string]any, files []Upload) {
	if v, ok := p["attachments"]; ok && v != nil {
		keep := map[string]bool{}
		if list, isList := v.([]any); isList {
			for _, it := range list {
				if o, isObj := it.(map[string]any); isObj {
					keep[fmt.Sprint(o["id"])] = true
				}
			}
		}
		kept := m.Attachments[:0:0]
		for _, a := range m.Attachments {
			if keep[a.ID] {
				kept = append(kept, a)
			}
		}
		m.Attachments = kept
	}
	for _, f := range files {
		a := attachment{ID: newID(), Upload: f}
		a.url, a.proxyURL = s.cdnURLs(m.ChannelID, a.ID, f.Filename)
		if f.Data != nil {
			s.cdn[a.ID] = &cdnFile{name: f.Filename, contentType: f.ContentType, data: f.Data, expires: time.Now().Add(s.opt.AttachmentTTL)}
		}
		m.Attachments = append(m.Attachments, a)
	}
}

// checkMessage applies the rules Discord enforces on message payloads beyond
// the OpenAPI types: content length, empty messages and component layout.
func checkMessage(p map[string]any, files int, create bool) *apiError {
	content, _ := p["content"].(string)
	if utf8.RuneCountInString(content) > maxContentRunes {
		return errForm(fieldErrors{"content": leafError("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")})
	}
	if errs := checkComponents(p); errs != nil {
		return errForm(errs)
	}
	if create && content == "" && files == 0 && isEmptyList(p["embeds"]) && isEmptyList(p["components"]) &&
		isEmptyList(p["sticker_ids"]) && p["poll"] == nil {
		return errEmptyMessage()
	}
	return nil
}

func isEmptyList(v any) bool {
	l, _ := v.([]any)
	return len(l) == 0
}

// checkComponents enforces the classic layout: at most 5 action rows of at
// most 5 buttons, custom_id at most 100 characters, a button has either a
// custom_id or (link style) a url.
func checkComponents(p map[string]any) fieldErrors {
	rows, _ := p["components"].([]any)
	if len(rows) == 0 {
		return nil
	}
	if f, _ := p["flags"].(json.Number); f != "" {
		if n, _ := f.Int64(); n&flagComponentsV2 != 0 {
			return nil
		}
	}
	if len(rows) > 5 {
		return fieldErrors{"components": leafError("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")}
	}
	errs := fieldErrors{}
	for i, r := range rows {
		row, _ := r.(map[string]any)
		if fmt.Sprint(row["type"]) != "1" {
			errs[fmt.Sprint(i)] = fieldErrors{"type": leafError("UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (1,).")}
			continue
		}
		items, _ := row["components"].([]any)
		if len(items) == 0 || len(items) > 5 {
			errs[fmt.Sprint(i)] = fieldErrors{"components": leafError("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")}
			continue
		}
		for j, it := range items {
			c, _ := it.(map[string]any)
			path := fmt.Sprintf("%d.components.%d", i, j)
			cid, _ := c["custom_id"].(string)
			if utf8.RuneCountInString(cid) > 100 {
				errs[path] = fieldErrors{"custom_id": leafError("BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")}
				continue
			}
			if fmt.Sprint(c["type"]) == "2" {
				link := fmt.Sprint(c["style"]) == "5"
				u, _ := c["url"].(string)
				switch {
				case link && u == "":
					errs[path] = fieldErrors{"url": leafError("BASE_TYPE_REQUIRED", "This field is required")}
				case !link && cid == "" && fmt.Sprint(c["style"]) != "6":
					errs[path] = fieldErrors{"custom_id": leafError("BASE_TYPE_REQUIRED", "This field is required")}
				case len(fmt.Sprint(c["label"])) > 80*4 || utf8.RuneCountInString(fmt.Sprint(c["label"])) > 80:
					errs[path] = fieldErrors{"label": leafError("BASE_TYPE_MAX_LENGTH", "Must be 80 or fewer in length.")}
				}
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fieldErrors{"components": errs}
}

func (s *Server) handleChannelMessageCreate(channelID string, b *body) reply {
	p := b.obj()
	if p == nil {
		p = map[string]any{}
	}
	if e := checkMessage(p, len(b.files), true); e != nil {
		return fail(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied[channelID] {
		return fail(errMissingAccess())
	}
	c := s.channelLocked(channelID)
	if c == nil {
		return fail(errUnknownChannel())
	}
	if c.Type == 1 && s.deniedDM[c.Recipient] {
		return fail(errCannotDM())
	}
	if ref, isObj := p["message_reference"].(map[string]any); isObj {
		mid, _ := ref["message_id"].(string)
		target := s.messages[mid]
		if (target == nil || target.ChannelID != channelID || target.Deleted) && ref["fail_if_not_exists"] != false {
			return fail(errForm(fieldErrors{"message_reference": leafError("MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")}))
		}
	}
	m := &message{ID: newID(), ChannelID: channelID, GuildID: c.GuildID, Bot: true, Author: s.author(), Created: time.Now()}
	if p["message_reference"] != nil {
		m.Type = 19
	}
	m.apply(p, false)
	m.Flags &^= flagEphemeral // not allowed on channel messages
	s.attach(m, p, b.files)
	s.messages[m.ID] = m
	s.notifyLocked()
	return ok(m.render())
}

func (s *Server) handleChannelMessage(method, channelID, messageID string, b *body) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied[channelID] {
		return fail(errMissingAccess())
	}
	if s.channelLocked(channelID) == nil {
		return fail(errUnknownChannel())
	}
	m := s.messages[messageID]
	if m == nil || m.ChannelID != channelID || m.Deleted || m.interactionID != "" && m.Flags&flagEphemeral != 0 {
		return fail(errUnknownMessage())
	}
	switch method {
	case http.MethodGet:
		return ok(m.render())
	case http.MethodDelete:
		m.Deleted = true
		s.notifyLocked()
		return noContent()
	}
	if !m.Bot {
		return fail(errCode(http.StatusForbidden, 50005, "Cannot edit a message authored by another user"))
	}
	p := b.obj()
	if p == nil {
		p = map[string]any{}
	}
	if e := checkMessage(p, len(b.files), false); e != nil {
		return fail(e)
	}
	m.apply(p, true)
	s.attach(m, p, b.files)
	m.Edited = time.Now()
	m.Edits++
	s.notifyLocked()
	return ok(m.render())
}

// ChannelMessages returns the messages the bot posted in a channel (with
// POST /channels/{id}/messages), oldest first.
func (s *Server) ChannelMessages(channelID string) []ChannelMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.channelMessagesLocked(channelID)
}

func (s *Server) channelMessagesLocked(channelID string) []ChannelMessage {
	var out []ChannelMessage
	for _, m := range s.sortedMessagesLocked() {
		if m.ChannelID == channelID && m.Bot && m.interactionID == "" {
			out = append(out, m.view())
		}
	}
	return out
}

func (s *Server) sortedMessagesLocked() []*message {
	out := make([]*message, 0, len(s.messages))
	for _, m := range s.messages {
		out = append(out, m)
	}
	// Snowflakes of equal length sort as strings.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && lessID(out[j].ID, out[j-1].ID); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func lessID(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// DMs returns the messages the bot sent to a user's DM channel.
func (s *Server) DMs(userID string) []ChannelMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.dmByUser[userID]
	if !ok {
		return nil
	}
	return s.channelMessagesLocked(id)
}

// WaitChannelMessage waits until the bot posted a message in the channel
// that satisfies match (nil matches any).
func (s *Server) WaitChannelMessage(timeout time.Duration, channelID string, match func(ChannelMessage) bool) (ChannelMessage, bool) {
	var found ChannelMessage
	ok := s.waitFor(timeout, func() bool {
		for _, m := range s.channelMessagesLocked(channelID) {
			if match == nil || match(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, ok
}

// WaitDM waits until the bot sent the user a DM that satisfies match (nil matches any).
func (s *Server) WaitDM(timeout time.Duration, userID string, match func(ChannelMessage) bool) (ChannelMessage, bool) {
	var found ChannelMessage
	ok := s.waitFor(timeout, func() bool {
		id, known := s.dmByUser[userID]
		if !known {
			return false
		}
		for _, m := range s.channelMessagesLocked(id) {
			if match == nil || match(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, ok
}

func escapeName(name string) string {
	return url.PathEscape(strings.ReplaceAll(name, " ", "_"))
}
