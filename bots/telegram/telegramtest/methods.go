package telegramtest

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// BotMessage is the current state of a message the bot sent.
type BotMessage struct {
	ChatID    int64
	MessageID int64
	Kind      string // "text", "video", "photo", "document" or "invoice"
	Text      string // as sent (before parse_mode)
	Caption   string
	ParseMode string
	// Video is the uploaded or fetched video of a sendVideo; nil when sent
	// by a file_id the fake knows no content for.
	Video    *Upload
	VideoRef string // the URL or file_id when the video was passed as a string
	// File and FileRef are the same for any kind of media.
	File        *Upload
	FileRef     string
	ReplyTo     int64
	ReplyMarkup string   // JSON, "" when none
	Invoice     *Invoice // for sendInvoice
	Edits       int
	Deleted     bool
}

// chatFor resolves chat_id to a known chat. s.mu is held.
func (s *Server) chatForLocked(r *request) (*chat, *apiError) {
	id, ok := r.int64("chat_id")
	if !ok {
		return nil, badRequest("chat not found")
	}
	c := s.chats[id]
	if c == nil {
		return nil, badRequest("chat not found")
	}
	return c, nil
}

// canonicalMarkup re-encodes a reply_markup so equal keyboards compare equal.
func canonicalMarkup(raw string) (string, *models.InlineKeyboardMarkup) {
	if raw == "" {
		return "", nil
	}
	var v any
	if json.Unmarshal([]byte(raw), &v) != nil {
		return raw, nil
	}
	b, _ := json.Marshal(v)
	var kb models.InlineKeyboardMarkup
	if obj, ok := v.(map[string]any); ok && obj["inline_keyboard"] != nil {
		if json.Unmarshal(b, &kb) == nil {
			return string(b), &kb
		}
	}
	return string(b), nil
}

// replyTarget applies reply_parameters (or the older reply_to_message_id).
func (s *Server) replyTargetLocked(c *chat, r *request) (*message, *apiError) {
	var rp struct {
		MessageID                int64 `json:"message_id"`
		AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
	}
	if raw := r.params["reply_parameters"]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &rp); err != nil {
			return nil, badRequest("can't parse reply parameters JSON object")
		}
	} else if id, ok := r.int64("reply_to_message_id"); ok {
		rp.MessageID = id
		rp.AllowSendingWithoutReply = r.bool("allow_sending_without_reply")
	}
	if rp.MessageID == 0 {
		return nil, nil
	}
	m := c.byID[int(rp.MessageID)]
	if m == nil || m.bot.Deleted {
		if rp.AllowSendingWithoutReply {
			return nil, nil
		}
		return nil, badRequest("message to be replied not found")
	}
	return m, nil
}

// newBotMessageLocked records a message the bot sends. s.mu is held.
// targetLocked is the chat a send method writes to and the message it
// replies to (nil for none), checked as Telegram does. s.mu is held.
func (s *Server) targetLocked(r *request) (*chat, *message, *apiError) {
	c, e := s.chatForLocked(r)
	if e != nil {
		return nil, nil, e
	}
	reply, e := s.replyTargetLocked(c, r)
	if e != nil {
		return nil, nil, e
	}
	return c, reply, nil
}

func (s *Server) newBotMessageLocked(c *chat, r *request, kind string, reply *message) *message {
	msg := s.newMessageLocked(c, s.botUser(false), true)
	msg.markup, msg.m.ReplyMarkup = canonicalMarkup(r.params["reply_markup"])
	msg.parseMode = r.params["parse_mode"]
	msg.bot = BotMessage{ChatID: c.id, MessageID: int64(msg.m.ID), Kind: kind, ParseMode: msg.parseMode, ReplyMarkup: msg.markup}
	if reply != nil {
		msg.bot.ReplyTo = int64(reply.m.ID)
		msg.m.ReplyToMessage = copyMessage(&reply.m)
		msg.m.ReplyToMessage.ReplyToMessage = nil
	}
	return msg
}

func (s *Server) sendMessage(_ context.Context, r *request) (any, *apiError) {
	plain, e := checkText(r.params["text"], r.params["parse_mode"], false)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, reply, e := s.targetLocked(r)
	if e != nil {
		return nil, e
	}
	msg := s.newBotMessageLocked(c, r, "text", reply)
	msg.m.Text = plain
	msg.bot.Text = r.params["text"]
	s.notifyLocked()
	return copyMessage(&msg.m), nil
}

// editTargetLocked finds the bot's message an edit method names.
func (s *Server) editTargetLocked(r *request) (*message, *apiError) {
	if r.params["inline_message_id"] != "" {
		return nil, badRequest("message to edit not found")
	}
	id, ok := r.int64("message_id")
	if !ok {
		return nil, badRequest("message identifier is not specified")
	}
	c, e := s.chatForLocked(r)
	if e != nil {
		return nil, e
	}
	m := c.byID[int(id)]
	if m == nil || m.bot.Deleted {
		return nil, badRequest("message to edit not found")
	}
	if !m.fromBot {
		return nil, badRequest("message can't be edited")
	}
	return m, nil
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

func (s *Server) editMessageText(_ context.Context, r *request) (any, *apiError) {
	text := r.params["text"]
	plain, e := checkText(text, r.params["parse_mode"], false)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(r)
	if e != nil {
		return nil, e
	}
	if m.bot.Kind != "text" {
		return nil, badRequest("there is no text in the message to edit")
	}
	markup, kb := canonicalMarkup(r.params["reply_markup"])
	if text == m.bot.Text && r.params["parse_mode"] == m.parseMode && markup == m.markup {
		return nil, badRequest(notModified)
	}
	m.bot.Text, m.m.Text = text, plain
	m.parseMode, m.bot.ParseMode = r.params["parse_mode"], r.params["parse_mode"]
	m.markup, m.bot.ReplyMarkup, m.m.ReplyMarkup = markup, markup, kb
	s.editedLocked(m)
	return copyMessage(&m.m), nil
}

func (s *Server) editMessageCaption(_ context.Context, r *request) (any, *apiError) {
	caption := r.params["caption"]
	plain, e := checkText(caption, r.params["parse_mode"], true)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(r)
	if e != nil {
		return nil, e
	}
	if m.bot.Kind == "text" {
		return nil, badRequest("there is no caption in the message to edit")
	}
	markup, kb := canonicalMarkup(r.params["reply_markup"])
	if caption == m.bot.Caption && r.params["parse_mode"] == m.parseMode && markup == m.markup {
		return nil, badRequest(notModified)
	}
	m.bot.Caption, m.m.Caption = caption, plain
	m.parseMode, m.bot.ParseMode = r.params["parse_mode"], r.params["parse_mode"]
	m.markup, m.bot.ReplyMarkup, m.m.ReplyMarkup = markup, markup, kb
	s.editedLocked(m)
	return copyMessage(&m.m), nil
}

func (s *Server) editMessageReplyMarkup(_ context.Context, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, e := s.editTargetLocked(r)
	if e != nil {
		return nil, e
	}
	markup, kb := canonicalMarkup(r.params["reply_markup"])
	if markup == m.markup {
		return nil, badRequest(notModified)
	}
	m.markup, m.bot.ReplyMarkup, m.m.ReplyMarkup = markup, markup, kb
	s.editedLocked(m)
	return copyMessage(&m.m), nil
}

func (s *Server) editedLocked(m *message) {
	m.bot.Edits++
	m.m.EditDate = int(time.Now().Unix())
	s.notifyLocked()
}

func (s *Server) deleteMessage(_ context.Context, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, e := s.chatForLocked(r)
	if e != nil {
		return nil, e
	}
	id, _ := r.int64("message_id")
	m := c.byID[int(id)]
	if m == nil || m.bot.Deleted {
		return nil, badRequest("message to delete not found")
	}
	m.bot.Deleted = true
	s.notifyLocked()
	return true, nil
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true, "record_voice": true,
	"upload_voice": true, "upload_document": true, "choose_sticker": true, "find_location": true,
	"record_video_note": true, "upload_video_note": true,
}

func (s *Server) sendChatAction(_ context.Context, r *request) (any, *apiError) {
	if !chatActions[r.params["action"]] {
		return nil, badRequest("wrong parameter action in request")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.chatForLocked(r); e != nil {
		return nil, e
	}
	return true, nil
}

func (s *Server) answerCallbackQuery(_ context.Context, r *request) (any, *apiError) {
	if utf16Len(r.params["text"]) > 200 {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[r.params["callback_query_id"]]
	if cb == nil || cb.answered {
		if cb != nil {
			s.violations = append(s.violations, "answerCallbackQuery: query "+r.params["callback_query_id"]+" answered twice")
		}
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	cb.answered = true
	return true, nil
}

var (
	commandRE  = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
	languageRE = regexp.MustCompile(`^([a-z]{2})?$`)
)

// languageCode is a request's language_code: empty (every language without
// a dedicated setting) or two lowercase letters, as TDLib checks it
// ("it", never "zh-hans", "pt-BR" or "IT").
func languageCode(r *request) (string, *apiError) {
	code := r.params["language_code"]
	if !languageRE.MatchString(code) {
		return "", badRequest("invalid language code specified")
	}
	return code, nil
}

// commandKey names the scope and language a command list applies to.
func commandKey(r *request) (string, *apiError) {
	code, e := languageCode(r)
	if e != nil {
		return "", e
	}
	scope := r.params["scope"]
	if scope != "" {
		var v map[string]any
		if json.Unmarshal([]byte(scope), &v) == nil {
			if t, _ := v["type"].(string); t == "default" && len(v) == 1 {
				scope = ""
			} else {
				b, _ := json.Marshal(v)
				scope = string(b)
			}
		}
	}
	return scope + "|" + code, nil
}

func (s *Server) setMyCommands(_ context.Context, r *request) (any, *apiError) {
	key, e := commandKey(r)
	if e != nil {
		return nil, e
	}
	var cmds []models.BotCommand
	if err := json.Unmarshal([]byte(r.params["commands"]), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands")
	}
	for _, c := range cmds {
		if !commandRE.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		// TDLib trims the description and counts characters.
		d := strings.TrimSpace(c.Description)
		if d == "" {
			return nil, badRequest("command description must be non-empty")
		}
		if utf8.RuneCountInString(d) > 256 {
			return nil, badRequest("command description length must not exceed 256")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.commandSets == nil {
		s.commandSets = map[string][]models.BotCommand{}
	}
	if len(cmds) == 0 {
		delete(s.commandSets, key)
	} else {
		s.commandSets[key] = cmds
	}
	return true, nil
}

func (s *Server) getMyCommands(_ context.Context, r *request) (any, *apiError) {
	key, e := commandKey(r)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cmds := s.commandSets[key]
	if cmds == nil {
		cmds = []models.BotCommand{}
	}
	return cmds, nil
}

func (s *Server) deleteMyCommands(_ context.Context, r *request) (any, *apiError) {
	key, e := commandKey(r)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commandSets, key)
	return true, nil
}

// Commands returns the command list set for the default scope and language.
func (s *Server) Commands() []models.BotCommand { return s.CommandsIn("") }

// CommandsIn returns the command list set for the default scope and
// language_code lang ("" for the default), nil when none is.
func (s *Server) CommandsIn(lang string) []models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]models.BotCommand(nil), s.commandSets["|"+lang]...)
}
