package telegramtest

import (
	"bytes"
	"fmt"
	"image"
	_ "image/gif"  // photo dimensions
	_ "image/jpeg" // photo dimensions
	_ "image/png"  // photo dimensions
	"time"

	"github.com/go-telegram/bot/models"
)

// chat is one conversation: its messages (users' and the bot's share one
// message id counter, as in Telegram) and its fault state.
type chat struct {
	id      int64
	userID  int64 // the user of a private chat
	nextMsg int
	msgs    []*message
	byID    map[int]*message

	blocked       bool
	throttleNext  int       // retry_after for the next send, from Throttle
	throttleUntil time.Time // end of the 429 window
}

func (c *chat) private() bool { return c.id == c.userID || (c.userID == 0 && c.id > 0) }

// message is the current state of one message.
type message struct {
	m         models.Message
	fromBot   bool
	bot       BotMessage // for the bot's messages
	parseMode string
	markup    string // canonical reply_markup JSON, "" when none
}

// chatLocked returns the chat, creating it when needed. s.mu is held.
func (s *Server) chatLocked(chatID int64) *chat {
	c := s.chats[chatID]
	if c == nil {
		c = &chat{id: chatID, byID: map[int]*message{}}
		s.chats[chatID] = c
	}
	return c
}

// AddChat makes a chat known (as when its user has started the bot) without
// sending an update; the bot may then send to it.
func (s *Server) AddChat(chatID, userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(chatID)
	c.userID = userID
	s.userLocked(userID)
}

// SetLanguage sets the language_code userID's client reports in updates
// ("it", "zh-hans", "pt-br"; "" for none). A new user's is "en".
func (s *Server) SetLanguage(userID int64, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userLocked(userID).LanguageCode = code
}

func (s *Server) userLocked(userID int64) *models.User {
	u := s.users[userID]
	if u == nil {
		u = &models.User{
			ID:           userID,
			FirstName:    fmt.Sprintf("User%d", userID),
			Username:     fmt.Sprintf("user%d", userID),
			LanguageCode: "en",
		}
		s.users[userID] = u
	}
	return u
}

func (s *Server) chatObject(c *chat) models.Chat {
	if c.private() {
		ch := models.Chat{ID: c.id, Type: models.ChatTypePrivate}
		if u := s.users[c.id]; u != nil {
			ch.FirstName, ch.Username = u.FirstName, u.Username
		}
		return ch
	}
	return models.Chat{ID: c.id, Type: models.ChatTypeSupergroup, Title: fmt.Sprintf("Group %d", c.id)}
}

// newMessageLocked appends a message to a chat and returns it. s.mu is held.
func (s *Server) newMessageLocked(c *chat, from *models.User, fromBot bool) *message {
	c.nextMsg++
	msg := &message{fromBot: fromBot}
	msg.m = models.Message{
		ID:   c.nextMsg,
		From: from,
		Date: int(time.Now().Unix()),
		Chat: s.chatObject(c),
	}
	c.msgs = append(c.msgs, msg)
	c.byID[msg.m.ID] = msg
	return msg
}

// userMessageLocked starts a message from userID in chatID. s.mu is held.
func (s *Server) userMessageLocked(chatID, userID int64) *message {
	u := s.userLocked(userID)
	c := s.chatLocked(chatID)
	if c.userID == 0 {
		c.userID = userID
		if chatID != userID {
			c.userID = -1 // a group: never private
		}
	}
	from := *u
	return s.newMessageLocked(c, &from, false)
}

// SendText delivers a text message from userID in chatID (a private chat
// when chatID == userID, else a supergroup) and returns the update_id. A
// leading "/cmd" or "/cmd@Bot" gets a bot_command entity.
func (s *Server) SendText(chatID, userID int64, text string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := s.userMessageLocked(chatID, userID)
	msg.m.Text = text
	msg.m.Entities = commandEntities(text)
	return s.pushLocked(&models.Update{Message: copyMessage(&msg.m)})
}

// SendReply delivers a text message that replies to messageID in the same
// chat; reply_to_message carries the original (with its photo, if any).
func (s *Server) SendReply(chatID, userID int64, text string, replyToMessageID int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var orig *models.Message
	if c := s.chats[chatID]; c != nil {
		if o := c.byID[int(replyToMessageID)]; o != nil && !o.bot.Deleted {
			orig = copyMessage(&o.m)
			orig.ReplyToMessage = nil
		}
	}
	msg := s.userMessageLocked(chatID, userID)
	msg.m.Text = text
	msg.m.Entities = commandEntities(text)
	msg.m.ReplyToMessage = orig
	return s.pushLocked(&models.Update{Message: copyMessage(&msg.m)})
}

// SendPhoto delivers a photo (stored, so getFile and the download route
// serve it) with an optional caption and media group. message.photo lists
// several sizes; the largest carries the stored file's id.
func (s *Server) SendPhoto(chatID, userID int64, caption string, img []byte, mediaGroupID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, h := 1280, 720
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(img)); err == nil && cfg.Width > 0 && cfg.Height > 0 {
		w, h = cfg.Width, cfg.Height
	}
	up := uploadOf("photo", "photo.jpg", "image/jpeg", img)
	var sizes []models.PhotoSize
	for _, side := range []int{90, 320, 800} {
		if max(w, h) <= side {
			break
		}
		f := s.storeFileLocked("photo", up)
		sw, sh := scale(w, h, side)
		sizes = append(sizes, models.PhotoSize{FileID: f.id, FileUniqueID: f.unique, Width: sw, Height: sh,
			FileSize: max(1, int(int64(len(img))*int64(sw*sh)/int64(w*h)))})
	}
	f := s.storeFileLocked("photo", up)
	sizes = append(sizes, models.PhotoSize{FileID: f.id, FileUniqueID: f.unique, Width: w, Height: h, FileSize: len(img)})
	msg := s.userMessageLocked(chatID, userID)
	msg.m.Photo = sizes
	msg.m.Caption = caption
	msg.m.CaptionEntities = commandEntities(caption)
	msg.m.MediaGroupID = mediaGroupID
	return s.pushLocked(&models.Update{Message: copyMessage(&msg.m)})
}

// SendDocument delivers a file as a document (stored for getFile).
func (s *Server) SendDocument(chatID, userID int64, caption, filename, mime string, data []byte, mediaGroupID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.storeFileLocked("document", uploadOf("document", filename, mime, data))
	msg := s.userMessageLocked(chatID, userID)
	msg.m.Document = &models.Document{FileID: f.id, FileUniqueID: f.unique, FileName: filename, MimeType: mime, FileSize: int64(len(data))}
	msg.m.Caption = caption
	msg.m.CaptionEntities = commandEntities(caption)
	msg.m.MediaGroupID = mediaGroupID
	return s.pushLocked(&models.Update{Message: copyMessage(&msg.m)})
}

type callbackState struct {
	chatID   int64
	answered bool
}

// PressButton delivers a callback_query: userID pressed a button with
// callback data on the bot's message messageID in chatID.
func (s *Server) PressButton(chatID, userID int64, messageID int64, data string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := *s.userLocked(userID)
	c := s.chatLocked(chatID)
	s.nextCB++
	id := fmt.Sprintf("%d%06d", s.opt.BotID, s.nextCB)
	s.callbacks[id] = &callbackState{chatID: chatID}
	cq := &models.CallbackQuery{ID: id, From: u, ChatInstance: fmt.Sprintf("%d", -chatID*7919), Data: data}
	if m := c.byID[int(messageID)]; m != nil && !m.bot.Deleted {
		cq.Message = models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: copyMessage(&m.m)}
	} else {
		cq.Message = models.MaybeInaccessibleMessage{
			Type:                models.MaybeInaccessibleMessageTypeInaccessibleMessage,
			InaccessibleMessage: &models.InaccessibleMessage{Chat: s.chatObject(c), MessageID: int(messageID)},
		}
	}
	return s.pushLocked(&models.Update{CallbackQuery: cq})
}

// UserMessage returns a message a user sent, as the bot received it.
func (s *Server) UserMessage(chatID, messageID int64) (models.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return models.Message{}, false
	}
	m := c.byID[int(messageID)]
	if m == nil || m.fromBot {
		return models.Message{}, false
	}
	return *copyMessage(&m.m), true
}

// copyMessage copies a message deeply enough that later edits of the
// original do not show through.
func copyMessage(m *models.Message) *models.Message {
	c := *m
	c.Entities = append([]models.MessageEntity(nil), m.Entities...)
	c.CaptionEntities = append([]models.MessageEntity(nil), m.CaptionEntities...)
	c.Photo = append([]models.PhotoSize(nil), m.Photo...)
	if m.ReplyMarkup != nil {
		rm := *m.ReplyMarkup
		c.ReplyMarkup = &rm
	}
	if m.ReplyToMessage != nil {
		c.ReplyToMessage = copyMessage(m.ReplyToMessage)
	}
	return &c
}

func scale(w, h, side int) (int, int) {
	if w >= h {
		return side, max(1, h*side/w)
	}
	return max(1, w*side/h), side
}

// commandEntities marks a leading "/cmd" or "/cmd@Bot" as a bot_command.
func commandEntities(text string) []models.MessageEntity {
	if len(text) < 2 || text[0] != '/' {
		return nil
	}
	word := func(i int) int {
		for i < len(text) {
			ch := text[i]
			if ch == '_' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' {
				i++
				continue
			}
			break
		}
		return i
	}
	end := word(1)
	if end == 1 || end-1 > 32 {
		return nil
	}
	if end < len(text) && text[end] == '@' {
		if e := word(end + 1); e > end+1 {
			end = e
		}
	}
	return []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 0, Length: end}}
}
