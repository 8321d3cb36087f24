package discord

import (
	"context"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/core"
)

// unknownWebhookWaits are the pauses before an edit of an original response
// answered 10015 Unknown Webhook is tried again. Over HTTP interactions the
// first response is the HTTP answer, and an edit sent right after it can
// reach Discord before Discord has taken that answer.
var unknownWebhookWaits = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}

// unknownWebhook reports Discord's 10015 Unknown Webhook.
func unknownWebhook(err error) bool {
	_, code := restCode(err)
	return code == 10015
}

// editOriginal edits an interaction's original response with what build
// returns (built again for each attempt: files are read by each), trying
// again briefly while Discord answers 10015. done is called after each
// attempt.
func (b *Bot) editOriginal(ctx context.Context, it *discordgo.Interaction, build func() (edit *discordgo.WebhookEdit, done func(), err error)) error {
	for attempt := 0; ; attempt++ {
		edit, done, err := build()
		if err != nil {
			return err
		}
		_, err = b.sess.InteractionResponseEdit(it, edit, discordgo.WithContext(ctx))
		done()
		if err == nil || !unknownWebhook(err) || attempt == len(unknownWebhookWaits) {
			return err
		}
		b.log.Debug("original response not known yet; editing again", "interaction_id", it.ID, "attempt", attempt+1)
		if !core.Sleep(ctx, unknownWebhookWaits[attempt]) {
			return err
		}
	}
}

// editText replaces the text of an interaction's original response.
func (b *Bot) editText(ctx context.Context, it *discordgo.Interaction, text string) error {
	return b.editOriginal(ctx, it, func() (*discordgo.WebhookEdit, func(), error) {
		return &discordgo.WebhookEdit{Content: ptr(clip(text))}, func() {}, nil
	})
}
