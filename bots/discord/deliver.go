package discord

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/core"
)

// MaxUpload is the interaction's attachment_size_limit (10 MiB by default).
func (b *Bot) MaxUpload(j *core.Job) int64 {
	if n, err := strconv.ParseInt(j.Origin.Extra["limit"], 10, 64); err == nil && n > 0 {
		return n
	}
	return DefaultUploadLimit
}

func restCode(err error) (status, code int) {
	var re *discordgo.RESTError
	if errors.As(err, &re) {
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if re.Message != nil {
			code = re.Message.Code
		}
	}
	return status, code
}

// expired reports an interaction token that can no longer be used.
func expired(err error) bool {
	status, code := restCode(err)
	return status == http.StatusUnauthorized || code == 50027 || code == 10015
}

func tooBig(err error) bool {
	status, code := restCode(err)
	return status == http.StatusRequestEntityTooLarge || code == 40005
}

// notWritable reports a channel the bot may not post in.
func notWritable(err error) bool {
	status, code := restCode(err)
	return status == http.StatusForbidden || code == 50001 || code == 50013 || code == 10003
}

func repeatRow(j *core.Job) []discordgo.MessageComponent {
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: chat.RepeatButton(), Style: discordgo.SecondaryButton, CustomID: chat.RepeatData(j.ID)},
	}}}
}

// Deliver attaches the video to the original response while the
// interaction token lives; past it (or when the edit answers 401/50027) it
// posts a channel message mentioning the user, or a DM when the channel is
// not writable. It returns the path taken.
func (b *Bot) Deliver(ctx context.Context, j *core.Job, v core.Video) (string, error) {
	text := chat.Status(core.Event{Type: core.EventDelivered, Job: j}) + "\n" + chat.Caption(j, 1500)
	if v.Path == "" {
		text += "\n" + chat.Link(j, v.URL)
	}
	files := func() ([]*discordgo.File, func(), error) {
		if v.Path == "" {
			return nil, func() {}, nil
		}
		f, err := os.Open(v.Path)
		if err != nil {
			return nil, nil, err
		}
		return []*discordgo.File{{Name: j.ID + ".mp4", ContentType: "video/mp4", Reader: f}}, func() { f.Close() }, nil
	}
	suffix := ""
	if v.Path == "" {
		suffix = "-link"
	}
	if it, at, ok := interactionOf(j); ok && time.Since(at) < tokenLife {
		release, _ := b.editor.hold(j, true)
		err := b.editOriginal(ctx, it, func() (*discordgo.WebhookEdit, func(), error) {
			fs, done, err := files()
			if err != nil {
				return nil, nil, err
			}
			comps := repeatRow(j)
			return &discordgo.WebhookEdit{Content: ptr(clip(text)), Files: fs, Components: &comps}, done, nil
		})
		release()
		switch {
		case err == nil:
			return "interaction" + suffix, nil
		case tooBig(err):
			return "", core.ErrTooBig
		case !expired(err):
			return "", b.deliveryError(err)
		}
		b.log.Info("interaction token expired; delivering as a message", "job_id", j.ID)
	}
	fs, done, err := files()
	if err != nil {
		return "", err
	}
	defer done()
	via, err := b.post(j, &discordgo.MessageSend{Content: text, Files: fs, Components: repeatRow(j)})
	if err != nil {
		if tooBig(err) {
			return "", core.ErrTooBig
		}
		return "", b.deliveryError(err)
	}
	return via + suffix, nil
}

// post sends a message mentioning the job's user in its channel, or by DM
// when the channel is not writable; it returns "channel" or "dm".
func (b *Bot) post(j *core.Job, m *discordgo.MessageSend) (string, error) {
	user := j.Origin.Extra["user"]
	if user != "" {
		m.Content = clip(fmt.Sprintf("<@%s> %s", user, m.Content))
		m.AllowedMentions = &discordgo.MessageAllowedMentions{Users: []string{user}}
	}
	_, err := b.sess.ChannelMessageSendComplex(j.Origin.ChatID, m)
	if err == nil {
		return "channel", nil
	}
	if !notWritable(err) || user == "" {
		return "", err
	}
	ch, derr := b.sess.UserChannelCreate(user)
	if derr != nil {
		return "", derr
	}
	// The first attempt read the files: back to their start, or a failure
	// the service retries with the file opened anew.
	for _, f := range m.Files {
		s, ok := f.Reader.(io.Seeker)
		if !ok {
			return "", fmt.Errorf("send %s by DM: its reader cannot rewind", f.Name)
		}
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return "", fmt.Errorf("send %s by DM: rewind: %w", f.Name, err)
		}
	}
	m.AllowedMentions = nil
	if _, err := b.sess.ChannelMessageSendComplex(ch.ID, m); err != nil {
		return "", err
	}
	return "dm", nil
}

// deliveryError maps a REST failure to what the service should do.
func (b *Bot) deliveryError(err error) error {
	err = redact(err, b.opt.Token)
	status, code := restCode(err)
	switch {
	case code == 50007 || status == http.StatusForbidden:
		return core.Errorf(core.EFORBIDDEN, "The bot cannot write to you here or by direct message.")
	case status >= 500 || status == 0 || status == http.StatusTooManyRequests:
		return core.Temporary(err)
	}
	return err
}
