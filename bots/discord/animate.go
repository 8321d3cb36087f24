package discord

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/core"
)

// animate answers the "Animate" message command with a modal asking for
// the prompt, and downloads the message's pictures meanwhile.
func (b *Bot) animate(it *inter, data discordgo.ApplicationCommandInteractionData) {
	var atts []attachment
	if data.Resolved != nil {
		if m := data.Resolved.Messages[data.TargetID]; m != nil {
			for _, a := range m.Attachments {
				if strings.HasPrefix(a.ContentType, "image/") || a.ContentType == "" && isImageName(a.Filename) {
					atts = append(atts, attachment{URL: a.URL, ContentType: a.ContentType, Size: a.Size})
				}
			}
		}
	}
	if len(atts) == 0 {
		b.ephemeral(it, chat.ErrorText(core.Errorf(core.EINVALID, "That message has no picture to animate.")))
		return
	}
	key := it.i.ID
	b.images.fetch(b, key, atts)
	err := b.respond(it, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: &discordgo.InteractionResponseData{
		CustomID: "animate:" + key, Title: "Animate",
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.TextInput{CustomID: "prompt", Label: "What should happen?", Style: discordgo.TextInputParagraph,
				Required: true, MaxLength: 2000, Placeholder: "The cat turns and jumps off the sofa"},
		}}},
	}})
	if err != nil {
		b.log.Warn("animate modal", "err", redact(err, b.opt.Token))
	}
}

func isImageName(n string) bool {
	n = strings.ToLower(n)
	return strings.HasSuffix(n, ".png") || strings.HasSuffix(n, ".jpg") || strings.HasSuffix(n, ".jpeg") || strings.HasSuffix(n, ".webp")
}

// imageCache keeps the pictures of an "Animate" until its modal comes back.
type imageCache struct {
	mu sync.Mutex
	m  map[string]*cachedImages
}

type cachedImages struct {
	done chan struct{}
	imgs []core.Image
	urls []string
	err  error
	at   time.Time
}

func (c *imageCache) fetch(b *Bot, key string, atts []attachment) {
	ci := &cachedImages{done: make(chan struct{}), at: time.Now()}
	c.mu.Lock()
	for k, v := range c.m {
		if time.Since(v.at) > 20*time.Minute {
			delete(c.m, k)
		}
	}
	c.m[key] = ci
	c.mu.Unlock()
	started := b.spawn(func() {
		defer close(ci.done)
		for _, a := range atts {
			data, err := b.download(b.context(), a.URL)
			if err != nil {
				ci.err = err
				return
			}
			ci.imgs = append(ci.imgs, core.Image{Data: data})
			ci.urls = append(ci.urls, a.URL)
		}
	})
	if !started {
		ci.err = core.Errorf(core.EUNAVAILABLE, "The bot is restarting: use Animate on the message again in a minute.")
		close(ci.done)
	}
}

func (c *imageCache) take(ctx context.Context, key string) ([]core.Image, []string, error) {
	c.mu.Lock()
	ci := c.m[key]
	delete(c.m, key)
	c.mu.Unlock()
	if ci == nil {
		return nil, nil, core.Errorf(core.EINVALID, "That picture is no longer here: use Animate on the message again.")
	}
	select {
	case <-ci.done:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	return ci.imgs, ci.urls, ci.err
}
