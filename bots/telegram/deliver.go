package telegram

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"sorabot/bots/chat"
	"sorabot/core"
)

// MaxUpload is the largest video this bot uploads (Options.MaxUpload).
func (b *Bot) MaxUpload(*core.Job) int64 { return b.opt.MaxUpload }

func repeatMarkup(j *core.Job) models.ReplyMarkup {
	return &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{
		{Text: chat.RepeatButton(), CallbackData: chat.RepeatData(j.ID)},
	}}}
}

// Deliver uploads the video as a stream (or sends the link), replying to
// the user's message, with the prompt as caption and a 🔁 button.
func (b *Bot) Deliver(ctx context.Context, j *core.Job, v core.Video) (string, error) {
	chatID, err := strconv.ParseInt(j.Origin.ChatID, 10, 64)
	if err != nil {
		return "", core.Errorf(core.EINTERNAL, "bad chat id %q", j.Origin.ChatID)
	}
	replyTo, _ := strconv.Atoi(j.Origin.MessageID)
	reply := &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
	if v.Path == "" {
		err := b.call(ctx, chatID, true, func() error {
			_, err := b.api.SendMessage(ctx, &tg.SendMessageParams{ChatID: chatID, Text: chat.Link(j, v.URL),
				ReplyParameters: reply, ReplyMarkup: repeatMarkup(j)})
			return err
		})
		return "link", b.deliveryError(err)
	}
	var msg *models.Message
	err = b.call(ctx, chatID, true, func() error {
		f, err := os.Open(v.Path)
		if err != nil {
			return err
		}
		defer f.Close()
		msg, err = b.api.SendVideo(ctx, &tg.SendVideoParams{
			ChatID:            chatID,
			Video:             &models.InputFileUpload{Filename: j.ID + ".mp4", Data: f},
			Caption:           chat.Caption(j, chat.TelegramCaptionMax),
			SupportsStreaming: true,
			ReplyParameters:   reply,
			ReplyMarkup:       repeatMarkup(j),
		})
		return err
	})
	if err != nil {
		return "", b.deliveryError(err)
	}
	if msg != nil && msg.Video != nil {
		// /job re-sends by this id; without it, from the file while kept.
		if err := b.svc.Annotate(context.WithoutCancel(ctx), j.ID, "video_file_id", msg.Video.FileID); err != nil {
			b.log.Warn("remember the delivered video's file id", "job_id", j.ID, "err", err)
		}
	}
	return "upload", nil
}

// deliveryError maps a Bot API failure to what the service should do.
func (b *Bot) deliveryError(err error) error {
	if err == nil {
		return nil
	}
	err = redact(err, b.opt.Token)
	switch {
	case core.IsTemporary(err):
		return err
	case errors.Is(err, tg.ErrorForbidden):
		// The user blocked the bot or left the chat: retrying cannot help.
		return core.Errorf(core.EFORBIDDEN, "The bot cannot write to this chat any more.")
	case strings.Contains(err.Error(), "413") || strings.Contains(err.Error(), "too large") || strings.Contains(err.Error(), "Too Large"):
		return core.ErrTooBig
	case errors.Is(err, tg.ErrorBadRequest), errors.Is(err, tg.ErrorNotFound), errors.Is(err, tg.ErrorUnauthorized):
		return err
	}
	return core.Temporary(err) // network errors and 5xx
}

// resend sends a delivered job's video again (/job).
func (b *Bot) resend(ctx context.Context, m *models.Message, j *core.Job) {
	var video models.InputFile
	if id := j.Origin.Extra["video_file_id"]; id != "" {
		video = &models.InputFileString{Data: id}
	} else if f, err := os.Open(j.VideoPath); err == nil && j.VideoPath != "" {
		defer f.Close()
		video = &models.InputFileUpload{Filename: j.ID + ".mp4", Data: f}
	} else {
		b.reply(ctx, m, chat.ResendGone())
		return
	}
	err := b.call(ctx, m.Chat.ID, true, func() error {
		_, err := b.api.SendVideo(ctx, &tg.SendVideoParams{ChatID: m.Chat.ID, Video: video,
			Caption: chat.Caption(j, chat.TelegramCaptionMax), SupportsStreaming: true,
			ReplyParameters: &models.ReplyParameters{MessageID: m.ID, AllowSendingWithoutReply: true}})
		return err
	})
	if err != nil {
		b.log.Warn("resend video", "job_id", j.ID, "err", redact(err, b.opt.Token))
		b.reply(ctx, m, chat.ResendGone())
	}
}
