package discord

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/core"
)

// Video requests from slash commands, the storyboard form and the 🔁
// button: checked, acknowledged, their pictures downloaded, then accepted.

// storyboard parses the shots of /storyboard and starts the request.
func (b *Bot) storyboard(ctx context.Context, it *inter, user, shots, orientation string) {
	parsed, err := chat.ParseShots(shots)
	if err != nil {
		b.ephemeral(it, chat.ErrorText(it.lang, err))
		return
	}
	b.start(ctx, it, user, core.Request{Storyboard: true, Shots: parsed, Orientation: orientation}, nil)
}

func (b *Bot) shotsModal(it *inter, orientation string) {
	err := b.respond(it, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: &discordgo.InteractionResponseData{
		CustomID: "storyboard:" + orientation, Title: chat.StoryboardTitle(it.lang),
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.TextInput{CustomID: "shots", Label: chat.StoryboardLabel(it.lang), Style: discordgo.TextInputParagraph,
				Required: true, MaxLength: 4000, Placeholder: chat.StoryboardPlaceholder(it.lang)},
		}}},
	}})
	if err != nil {
		b.log.Warn("storyboard modal", "err", redact(err, b.opt.Token))
	}
}

// start validates what can be checked at once (answering privately when
// it is wrong), acknowledges, then downloads the pictures and accepts the
// job. The interaction id is the job's idempotency key.
func (b *Bot) start(ctx context.Context, it *inter, user string, req core.Request, atts []attachment) {
	for _, a := range atts {
		if a.Size > core.MaxImageBytes {
			b.ephemeral(it, chat.ErrorText(it.lang, chat.PictureTooBig(int64(a.Size), core.MaxImageBytes)))
			return
		}
		if a.ContentType != "" && !strings.HasPrefix(a.ContentType, "image/") {
			b.ephemeral(it, chat.ErrorText(it.lang, chat.NotAPicture()))
			return
		}
	}
	if len(atts) == 0 {
		check := req
		if _, err := b.svc.Quote(&check); err != nil {
			b.ephemeral(it, chat.ErrorText(it.lang, err))
			return
		}
	}
	if !b.deferReply(it, false) {
		return
	}
	var urls []string
	for _, a := range atts {
		data, err := b.download(ctx, a.URL)
		if err != nil {
			b.failAfterDefer(it, err)
			return
		}
		req.Images = append(req.Images, core.Image{Data: data})
		urls = append(urls, a.URL)
	}
	b.accept(ctx, it, user, req, urls)
}

// accept charges and queues the job and shows it in the original response.
func (b *Bot) accept(ctx context.Context, it *inter, user string, req core.Request, urls []string) {
	origin := core.Origin{Platform: Platform, ChatID: it.i.ChannelID, Extra: map[string]string{
		"app": b.app(), "token": it.i.Token, "interaction": it.i.ID,
		"at": strconv.FormatInt(it.at.Unix(), 10), "limit": strconv.FormatInt(it.limit, 10),
		"user": strings.TrimPrefix(user, Platform+":"), "guild": it.i.GuildID,
	}}
	if len(urls) > 0 {
		origin.Extra["images"] = strings.Join(urls, " ")
	}
	acc, r := chat.NewCommands(b.svc).Submit(ctx, core.Submission{UserID: user, Key: Platform + ":interaction:" + it.i.ID, Origin: origin, Request: req, Lang: it.lang})
	if r.Err != nil {
		b.failAfterDefer(it, r.Err, premiumButtons(r.SKUs)...)
		return
	}
	if acc.Duplicate {
		return
	}
	// Progress waits for this text, and it is not shown over the outcome.
	if release, ok := b.editor.hold(acc.Job, false); ok {
		b.editReply(it, r.Text)
		release()
	}
}

// download fetches an attachment (its signed URL expires, so at once).
func (b *Bot) download(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, chat.PictureLinkInvalid()
	}
	resp, err := b.sess.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download attachment: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, chat.PictureExpired()
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, core.MaxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download attachment: %w", err)
	}
	if len(data) > core.MaxImageBytes {
		return nil, chat.PictureOverLimit(core.MaxImageBytes)
	}
	return data, nil
}

func modalValue(data discordgo.ModalSubmitInteractionData, id string) string {
	for _, row := range data.Components {
		r, ok := row.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		for _, c := range r.Components {
			if t, ok := c.(*discordgo.TextInput); ok && t.CustomID == id {
				return t.Value
			}
		}
	}
	return ""
}

func (b *Bot) modal(it *inter, u *discordgo.User) {
	ctx := b.context()
	data := it.i.ModalSubmitData()
	user := Platform + ":" + u.ID
	switch {
	case strings.HasPrefix(data.CustomID, "storyboard:"):
		b.storyboard(ctx, it, user, modalValue(data, "shots"), strings.TrimPrefix(data.CustomID, "storyboard:"))
	case strings.HasPrefix(data.CustomID, "animate:"):
		req := core.Request{Prompt: modalValue(data, "prompt")}
		if strings.TrimSpace(req.Prompt) == "" {
			b.ephemeral(it, chat.ErrorText(it.lang, chat.PromptRequired()))
			return
		}
		if !b.deferReply(it, false) {
			return
		}
		imgs, urls, err := b.images.take(ctx, strings.TrimPrefix(data.CustomID, "animate:"))
		if err != nil {
			b.failAfterDefer(it, err)
			return
		}
		req.Images = imgs
		b.accept(ctx, it, user, req, urls)
	}
}

// component serves the 🔁 button under a delivered video: the same request
// again, for the user who made it, charged again.
func (b *Bot) component(it *inter, u *discordgo.User) {
	ctx := b.context()
	data := it.i.MessageComponentData()
	j, r := chat.NewCommands(b.svc).Repeat(ctx, Platform+":"+u.ID, it.lang, data.CustomID)
	if j == nil {
		if core.ErrorCode(r.Err) == core.EINTERNAL {
			b.log.Error("repeat button", "interaction_id", it.i.ID, "err", r.Err)
		}
		if r.Text != "" {
			b.ephemeral(it, r.Text)
		}
		return
	}
	var atts []attachment
	if s := j.Origin.Extra["images"]; s != "" {
		for _, u := range strings.Fields(s) {
			atts = append(atts, attachment{URL: u})
		}
	}
	b.start(ctx, it, j.UserID, j.Req, atts)
}

// redact removes the token from an error's text.
func redact(err error, token core.Secret) error { return chat.Redact(err, token) }
