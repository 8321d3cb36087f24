package telegram

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"sorabot/bots/chat"
	"sorabot/core"
)

// handleUpdate handles one update. It returns an error only when the update
// was not handled for a reason on our side, so it should be delivered again;
// everything the user did wrong is answered in the chat.
func (b *Bot) handleUpdate(ctx context.Context, u *models.Update) error {
	switch {
	case u.Message != nil:
		return b.handleMessage(ctx, u.ID, u.Message)
	case u.CallbackQuery != nil:
		return b.handleCallback(ctx, u.CallbackQuery)
	case u.PreCheckoutQuery != nil:
		b.preCheckout(ctx, u.PreCheckoutQuery)
	}
	return nil
}

func userID(id int64) string { return Platform + ":" + strconv.FormatInt(id, 10) }

// lang is the language to answer u in: their /language choice, else their
// Telegram client's language_code, else the default.
func (b *Bot) lang(ctx context.Context, u *models.User) string {
	if u == nil {
		return chat.NewCommands(b.svc).DefaultLang()
	}
	l, err := chat.NewCommands(b.svc).Lang(ctx, userID(u.ID), u.LanguageCode)
	if err != nil {
		b.log.Warn("read the user's language", "err", err)
	}
	return l
}

func private(m *models.Message) bool { return m.Chat.Type == models.ChatTypePrivate }

func (b *Bot) handleMessage(ctx context.Context, updateID int64, m *models.Message) error {
	if m.From == nil || m.From.IsBot {
		return nil
	}
	switch {
	case m.SuccessfulPayment != nil:
		return b.paid(ctx, m)
	case m.RefundedPayment != nil:
		return b.refunded(ctx, m)
	}
	if m.MediaGroupID != "" {
		al := b.albums.add(b, updateID, m)
		if b.opt.PublicURL == "" {
			// Long polling: the album's updates stay unconfirmed until the
			// album was handled (new updates keep coming meanwhile), and
			// stay so when handling it failed or the bot stops first: a
			// crash, a failure or a stop in between makes Telegram deliver
			// them again (the job's idempotency key keeps that from
			// charging twice). Webhook deliveries cannot wait: Telegram
			// sends the next part only after this answer.
			return al.wait(ctx)
		}
		return nil
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if !strings.HasPrefix(strings.TrimSpace(text), "/") {
		if private(m) {
			b.reply(ctx, m, chat.PlainText(b.lang(ctx, m.From)))
		}
		return nil
	}
	cmd, err := chat.Parse(text)
	if cmd.Bot != "" && !strings.EqualFold(cmd.Bot, b.username) {
		return nil // addressed to another bot in a group
	}
	if err != nil {
		b.reply(ctx, m, chat.ErrorText(b.lang(ctx, m.From), err))
		return nil
	}
	return b.command(ctx, updateID, m, cmd, imagesOf(m))
}

// imagesOf returns the file ids of the pictures a message carries, or
// those of the message it replies to.
func imagesOf(m *models.Message) []string {
	if ids := ownImages(m); len(ids) > 0 {
		return ids
	}
	if m.ReplyToMessage != nil {
		return ownImages(m.ReplyToMessage)
	}
	return nil
}

func ownImages(m *models.Message) []string {
	switch {
	case len(m.Photo) > 0:
		return []string{largest(m.Photo).FileID}
	case m.Document != nil && strings.HasPrefix(m.Document.MimeType, "image/"):
		return []string{m.Document.FileID}
	}
	return nil
}

func largest(p []models.PhotoSize) models.PhotoSize {
	best := p[0]
	for _, s := range p[1:] {
		if s.Width*s.Height > best.Width*best.Height {
			best = s
		}
	}
	return best
}

// command runs a parsed command; fileIDs are the images that came with it.
// Only the platform's part is here: what a command does and answers is
// chat.Commands'.
func (b *Bot) command(ctx context.Context, updateID int64, m *models.Message, cmd chat.Command, fileIDs []string) error {
	user, lang := userID(m.From.ID), b.lang(ctx, m.From)
	if sp := chat.Lookup(cmd.Name); sp != nil && sp.Request {
		key := fmt.Sprintf("%s:update:%d", Platform, updateID)
		return b.submit(ctx, key, m.Chat.ID, m.ID, user, lang, cmd.Request, fileIDs)
	}
	call := chat.Call{User: user, Syntax: chat.Typed, Command: cmd, Lang: lang, Refund: b.refundStar}
	if m.ReplyToMessage != nil && m.ReplyToMessage.From != nil {
		call.Target = userID(m.ReplyToMessage.From.ID)
	}
	r := chat.NewCommands(b.svc).Run(ctx, call)
	if core.ErrorCode(r.Err) == core.EINTERNAL {
		return r.Err // not confirmed: Telegram delivers the update again
	}
	b.send(ctx, m.Chat.ID, m.ID, r.Text, replyMarkup(lang, r))
	if r.Resend != nil {
		b.resend(ctx, m, lang, r.Resend)
	}
	return nil
}

// replyMarkup lays out a reply's buttons: its choices three to a row,
// then one buy button per pack (buyMarkup); nil for none.
func replyMarkup(lang string, r chat.Reply) models.ReplyMarkup {
	if len(r.Buttons) == 0 {
		return buyMarkup(lang, r.Packs)
	}
	var rows [][]models.InlineKeyboardButton
	for i, c := range r.Buttons {
		if i%3 == 0 {
			rows = append(rows, nil)
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], models.InlineKeyboardButton{Text: c.Label, CallbackData: c.Value})
	}
	if buy, ok := buyMarkup(lang, r.Packs).(*models.InlineKeyboardMarkup); ok {
		rows = append(rows, buy.InlineKeyboard...)
	}
	return &models.InlineKeyboardMarkup{InlineKeyboard: rows}
}

// submit fetches the images and accepts the job, asked in lang; a refusal
// for lack of credits comes with buy buttons (in lang).
func (b *Bot) submit(ctx context.Context, key string, chatID int64, replyTo int, user, lang string, req core.Request, fileIDs []string) error {
	for _, id := range fileIDs {
		data, err := b.download(ctx, id)
		if err != nil {
			if core.ErrorCode(err) == core.EINTERNAL {
				return err
			}
			b.send(ctx, chatID, replyTo, chat.ErrorText(lang, err), nil)
			return nil
		}
		req.Images = append(req.Images, core.Image{Data: data})
	}
	origin := core.Origin{Platform: Platform, ChatID: strconv.FormatInt(chatID, 10), MessageID: strconv.Itoa(replyTo)}
	if len(fileIDs) > 0 {
		origin.Extra = map[string]string{"photos": strings.Join(fileIDs, ",")}
	}
	acc, r := chat.NewCommands(b.svc).Submit(ctx, core.Submission{UserID: user, Key: key, Origin: origin, Request: req, Lang: lang})
	if r.Err != nil {
		if core.ErrorCode(r.Err) == core.EINTERNAL {
			return r.Err
		}
		b.send(ctx, chatID, replyTo, r.Text, buyMarkup(lang, r.Packs))
		return nil
	}
	// A new job's status message was posted from its EventQueued. A
	// redelivered update's job may never have got one.
	if acc.Duplicate && acc.Job.Origin.Extra["status"] == "" {
		b.createStatus(ctx, acc.Job, r.Text)
	}
	return nil
}

// download fetches a picture through getFile, capped at 20 MB. The file URL
// carries the bot token: it is used here and nowhere else.
func (b *Bot) download(ctx context.Context, fileID string) ([]byte, error) {
	f, err := b.api.GetFile(ctx, &tg.GetFileParams{FileID: fileID})
	if err != nil {
		if strings.Contains(err.Error(), "too big") {
			return nil, chat.PictureTooBigToFetch()
		}
		return nil, fmt.Errorf("getFile: %v", redact(err, b.opt.Token))
	}
	if f.FileSize > maxDownload {
		return nil, chat.PictureTooBigToFetch()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.api.FileDownloadLink(f), nil)
	if err != nil {
		return nil, fmt.Errorf("file download: %v", redact(err, b.opt.Token))
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("file download: %v", redact(err, b.opt.Token))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("file download: HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDownload+1))
	if err != nil {
		return nil, fmt.Errorf("file download: %v", redact(err, b.opt.Token))
	}
	if len(data) > maxDownload {
		return nil, chat.PictureTooBigToFetch()
	}
	return data, nil
}

// reply answers a message in its chat.
func (b *Bot) reply(ctx context.Context, m *models.Message, text string) {
	b.send(ctx, m.Chat.ID, m.ID, text, nil)
}

// send posts a message (replying to replyTo when non-zero), waiting out a
// 429 of that chat first; it returns the new message's id, 0 on failure.
func (b *Bot) send(ctx context.Context, chatID int64, replyTo int, text string, markup models.ReplyMarkup) int {
	p := &tg.SendMessageParams{ChatID: chatID, Text: text, ReplyMarkup: markup}
	if replyTo != 0 {
		p.ReplyParameters = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
	}
	var msg *models.Message
	err := b.call(ctx, chatID, true, func() error {
		var err error
		msg, err = b.api.SendMessage(ctx, p)
		return err
	})
	if err != nil {
		b.log.Warn("sendMessage failed", "chat_id", chatID, "err", redact(err, b.opt.Token))
		return 0
	}
	return msg.ID
}

// handleCallback serves the buttons: a language of /language, a buy button,
// or 🔁 (the same request again, for the user who made it, charged again).
func (b *Bot) handleCallback(ctx context.Context, q *models.CallbackQuery) error {
	if payload, ok := strings.CutPrefix(q.Data, buyPrefix); ok {
		b.buyButton(ctx, q, payload)
		return nil
	}
	lang := b.lang(ctx, &q.From)
	if cmd, ok := chat.LanguageCommand(q.Data); ok {
		return b.languageButton(ctx, q, lang, cmd)
	}
	j, r := chat.NewCommands(b.svc).Repeat(ctx, userID(q.From.ID), lang, q.Data)
	if core.ErrorCode(r.Err) == core.EINTERNAL {
		return r.Err
	}
	// Answered in any case, or the button keeps spinning.
	if _, err := b.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: r.Text, ShowAlert: j == nil && r.Text != ""}); err != nil {
		b.log.Debug("answerCallbackQuery", "err", redact(err, b.opt.Token))
	}
	if j == nil {
		return nil
	}
	chatID, _ := strconv.ParseInt(j.Origin.ChatID, 10, 64)
	replyTo, _ := strconv.Atoi(j.Origin.MessageID)
	var fileIDs []string
	if p := j.Origin.Extra["photos"]; p != "" {
		fileIDs = strings.Split(p, ",")
	}
	return b.submit(ctx, Platform+":callback:"+q.ID, chatID, replyTo, j.UserID, lang, j.Req, fileIDs)
}

// languageButton stores the language a /language button chose and says
// so, in it, in the button's chat.
func (b *Bot) languageButton(ctx context.Context, q *models.CallbackQuery, lang string, cmd chat.Command) error {
	r := chat.NewCommands(b.svc).Run(ctx, chat.Call{User: userID(q.From.ID), Lang: lang, Syntax: chat.Typed, Command: cmd})
	if core.ErrorCode(r.Err) == core.EINTERNAL {
		return r.Err
	}
	if _, err := b.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: q.ID}); err != nil {
		b.log.Debug("answerCallbackQuery", "err", redact(err, b.opt.Token))
	}
	chatID := q.From.ID
	if m := q.Message.Message; m != nil {
		chatID = m.Chat.ID
	}
	b.send(ctx, chatID, 0, r.Text, replyMarkup(lang, r))
	return nil
}

// redact removes the token from an error's text (URLs carry it).
func redact(err error, token core.Secret) error { return chat.Redact(err, token) }
