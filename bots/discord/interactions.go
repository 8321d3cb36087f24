package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/core"
)

// inter is one interaction being handled, and how to answer it first.
type inter struct {
	i     *discordgo.Interaction
	limit int64     // attachment_size_limit from the raw payload
	at    time.Time // when it arrived (its token lives 15 minutes)
	// HTTP interactions: the first response goes back as the HTTP answer.
	first   chan *discordgo.InteractionResponse
	written chan struct{}
	late    bool  // the handler answered a deferral before first had anything
	answer  error // writing the HTTP answer failed
	acked   bool
	// lang is the user's language: their /language choice, else their
	// Discord client's locale, else the default.
	lang string
}

// errAnsweredLate: over HTTP, the initial response came after the handler
// had already answered with a public deferral.
var errAnsweredLate = errors.New("interaction answered by a deferral before this response was ready")

// rawLimit reads attachment_size_limit, which discordgo does not parse.
func rawLimit(raw []byte) int64 {
	var p struct {
		Limit int64 `json:"attachment_size_limit"`
	}
	if json.Unmarshal(raw, &p) == nil && p.Limit > 0 {
		return p.Limit
	}
	return DefaultUploadLimit
}

// onEvent receives every gateway event (with its raw payload).
func (b *Bot) onEvent(s *discordgo.Session, e *discordgo.Event) {
	switch e.Type {
	case "READY":
		if r, ok := e.Struct.(*discordgo.Ready); ok {
			b.mu.Lock()
			if b.appID == "" && r.Application != nil {
				b.appID = r.Application.ID
			}
			if b.appID == "" && r.User != nil {
				b.appID = r.User.ID
			}
			b.mu.Unlock()
			select {
			case <-b.ready:
			default:
				close(b.ready)
			}
		}
	case "INTERACTION_CREATE":
		ic, ok := e.Struct.(*discordgo.InteractionCreate)
		if !ok || ic.Interaction == nil {
			return
		}
		if !b.handle(&inter{i: ic.Interaction, limit: rawLimit(e.RawData), at: time.Now()}) {
			b.log.Warn("interaction dropped: stopping", "interaction_id", ic.ID)
		}
	case "ENTITLEMENT_CREATE", "ENTITLEMENT_UPDATE":
		var ent *discordgo.Entitlement
		switch v := e.Struct.(type) {
		case *discordgo.EntitlementCreate:
			ent = v.Entitlement
		case *discordgo.EntitlementUpdate:
			ent = v.Entitlement
		}
		if ent != nil && !b.spawn(func() { b.entitled(b.context(), ent, e.Type) }) {
			b.log.Warn("entitlement left for the next start: stopping", "entitlement_id", ent.ID)
		}
	case "ENTITLEMENT_DELETE":
		if v, ok := e.Struct.(*discordgo.EntitlementDelete); ok && v.Entitlement != nil {
			if !b.spawn(func() { b.entitlementDeleted(b.context(), v.Entitlement) }) {
				b.log.Warn("entitlement refund dropped: stopping", "entitlement_id", v.ID)
			}
		}
	}
}

// maxInteractionBytes caps an HTTP interaction's body.
const maxInteractionBytes = 1 << 20

// InteractionsHandler serves HTTP interactions: Ed25519 verification (401
// when it fails), PING, then the same handlers as the gateway.
func (b *Bot) InteractionsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxInteractionBytes)
		if b.key == nil || !discordgo.VerifyInteraction(r, b.key) {
			http.Error(w, "invalid request signature", http.StatusUnauthorized)
			return
		}
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		var i discordgo.Interaction
		if err := json.Unmarshal(raw, &i); err != nil {
			http.Error(w, "bad interaction", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if i.Type == discordgo.InteractionPing {
			io.WriteString(w, `{"type":1}`)
			return
		}
		it := &inter{i: &i, limit: rawLimit(raw), at: time.Now(),
			first: make(chan *discordgo.InteractionResponse, 1), written: make(chan struct{})}
		if !b.handle(it) {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
		var resp *discordgo.InteractionResponse
		select {
		case resp = <-it.first:
		case <-time.After(b.answerWait):
			// Nothing came in time: acknowledge; the handler edits later.
			resp = &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
			it.late = true
		}
		if err := json.NewEncoder(w).Encode(resp); err != nil {
			it.answer = fmt.Errorf("write the HTTP answer: %w", err)
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		close(it.written)
	})
}

// respond sends the interaction's first response (over HTTP when it came
// over HTTP, waiting until the answer is written).
func (b *Bot) respond(it *inter, resp *discordgo.InteractionResponse) error {
	if it.acked {
		return nil
	}
	it.acked = true
	if it.first != nil {
		it.first <- resp
		select {
		case <-it.written:
		case <-time.After(5 * time.Second):
			return errors.New("the HTTP answer was not written within 5 s")
		}
		if it.answer != nil {
			return it.answer
		}
		if it.late && (resp.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || resp.Data != nil) {
			b.answeredLate(it, resp)
			return errAnsweredLate
		}
		return nil
	}
	return b.sess.InteractionRespond(it.i, resp)
}

// answeredLate follows up a response that missed the HTTP answer: a
// private message is sent privately after all; anything else (a modal, a
// private deferral) cannot follow a public deferral and ends in an error.
func (b *Bot) answeredLate(it *inter, resp *discordgo.InteractionResponse) {
	if d := resp.Data; resp.Type == discordgo.InteractionResponseChannelMessageWithSource && d != nil && d.Flags&discordgo.MessageFlagsEphemeral != 0 {
		b.privateAfterDefer(it, d.Content)
		return
	}
	b.failAfterDefer(it, fmt.Errorf("interaction %s: response type %d: %w", it.i.ID, resp.Type, errAnsweredLate))
}

func (b *Bot) ephemeral(it *inter, text string) {
	if err := b.respond(it, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: clip(text), Flags: discordgo.MessageFlagsEphemeral}}); err != nil {
		b.log.Warn("interaction response", "err", redact(err, b.opt.Token))
	}
}

// deferReply acknowledges now (the handler goes on with slow work).
func (b *Bot) deferReply(it *inter, private bool) bool {
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if private {
		resp.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
	}
	if err := b.respond(it, resp); err != nil {
		b.log.Warn("defer interaction", "err", redact(err, b.opt.Token))
		return false
	}
	return true
}

// editReplyButtons replaces the deferred response's text and adds buttons.
func (b *Bot) editReplyButtons(it *inter, text string, buttons []discordgo.MessageComponent) {
	if _, err := b.sess.InteractionResponseEdit(it.i, &discordgo.WebhookEdit{Content: ptr(clip(text)), Components: &buttons}); err != nil {
		b.log.Warn("edit interaction response", "interaction_id", it.i.ID, "err", redact(err, b.opt.Token))
	}
}

// editReply replaces the deferred response's text.
func (b *Bot) editReply(it *inter, text string) {
	if err := b.editText(b.context(), it.i, text); err != nil {
		b.log.Warn("edit interaction response", "interaction_id", it.i.ID, "err", redact(err, b.opt.Token))
	}
}

// failAfterDefer turns a public deferred response into a private error:
// the placeholder is deleted and the error follows, seen only by the user
// (with buttons, such as the premium buttons under a refusal for lack of
// credits).
func (b *Bot) failAfterDefer(it *inter, err error, buttons ...discordgo.MessageComponent) {
	if code := core.ErrorCode(err); code == core.EINTERNAL {
		b.log.Error("interaction failed", "interaction_id", it.i.ID, "err", err)
	}
	b.privateAfterDefer(it, chat.ErrorText(it.lang, err), buttons...)
}

// privateAfterDefer deletes a public deferred response and sends text as a
// message only the user sees.
func (b *Bot) privateAfterDefer(it *inter, text string, buttons ...discordgo.MessageComponent) {
	if derr := b.sess.InteractionResponseDelete(it.i); derr != nil {
		b.log.Debug("delete deferred response", "err", redact(derr, b.opt.Token))
	}
	if _, ferr := b.sess.FollowupMessageCreate(it.i, false, &discordgo.WebhookParams{Content: clip(text),
		Flags: discordgo.MessageFlagsEphemeral, Components: buttons}); ferr != nil {
		b.log.Warn("private follow-up", "interaction_id", it.i.ID, "err", redact(ferr, b.opt.Token))
	}
}

// clip keeps a text within Discord's 2000 characters.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= 2000 {
		return s
	}
	return string(r[:1999]) + "…"
}

func userOf(i *discordgo.Interaction) *discordgo.User {
	if i.Member != nil && i.Member.User != nil {
		return i.Member.User
	}
	return i.User
}

// handle dispatches an interaction by type (ApplicationCommandData panics
// on other types, so the type is checked first); false when the bot is
// stopping and did not take it.
func (b *Bot) handle(it *inter) bool {
	u := userOf(it.i)
	if u == nil {
		return true
	}
	return b.spawn(func() {
		it.lang = b.lang(b.context(), u.ID, string(it.i.Locale))
		// What the user bought and the bot has not seen yet, granted
		// before the command (its consumption follows in the background).
		for _, e := range it.i.Entitlements {
			b.entitledNow(e, it.lang)
		}
		switch it.i.Type {
		case discordgo.InteractionApplicationCommand:
			b.command(it, u)
		case discordgo.InteractionModalSubmit:
			b.modal(it, u)
		case discordgo.InteractionMessageComponent:
			b.component(it, u)
		}
	})
}

// attachment is a picture a user gave, not yet downloaded.
type attachment struct {
	URL, ContentType string
	Size             int
}

func (b *Bot) command(it *inter, u *discordgo.User) {
	ctx := b.context()
	data := it.i.ApplicationCommandData()
	user := Platform + ":" + u.ID
	opt := func(name string) string {
		if o := optionNamed(data.Options, name); o != nil {
			return optionText(o)
		}
		return ""
	}
	switch data.Name {
	case chat.CmdVideo:
		req := core.Request{Prompt: opt("prompt"), Model: opt("model"), Orientation: opt("orientation"), Quality: opt("quality"),
			Pro: opt("pro") == "true", Watermark: opt("watermark") == "true", Private: opt("private") == "true"}
		if d := opt("duration"); d != "" {
			req.Duration, _ = strconv.Atoi(d)
		}
		var atts []attachment
		if id := opt("image"); id != "" && data.Resolved != nil {
			if a := data.Resolved.Attachments[id]; a != nil {
				atts = append(atts, attachment{URL: a.URL, ContentType: a.ContentType, Size: a.Size})
			}
		}
		b.start(ctx, it, user, req, atts)
	case chat.CmdStoryboard:
		shots := opt("shots")
		if strings.TrimSpace(shots) == "" {
			b.shotsModal(it, opt("orientation"))
			return
		}
		b.storyboard(ctx, it, user, shots, opt("orientation"))
	case "Animate":
		b.animate(it, data)
	default:
		b.run(ctx, it, user, data)
	}
}

// run answers every command but the video requests, privately: the
// options become the command's arguments, chat.Commands answers.
func (b *Bot) run(ctx context.Context, it *inter, user string, data discordgo.ApplicationCommandInteractionData) {
	sp := chat.Lookup(data.Name)
	if sp == nil || sp.Request || sp.Hidden || sp.TypedOnly {
		b.ephemeral(it, chat.UnknownCommand(it.lang, "/"+data.Name))
		return
	}
	cmd, err := chat.NewCommand(sp.Name, optionArgs(sp, data.Options)...)
	if err != nil {
		b.ephemeral(it, chat.ErrorText(it.lang, err))
		return
	}
	if !b.deferReply(it, true) {
		return
	}
	r := chat.NewCommands(b.svc).Run(ctx, chat.Call{User: user, Lang: it.lang, Syntax: chat.Slash, Command: cmd})
	if core.ErrorCode(r.Err) == core.EINTERNAL {
		b.log.Error("command failed", "command", sp.Name, "interaction_id", it.i.ID, "err", r.Err)
	}
	if len(r.SKUs) > 0 {
		b.editReplyButtons(it, r.Text, premiumButtons(r.SKUs))
		return
	}
	if r.Resend == nil {
		b.editReply(it, r.Text)
		return
	}
	b.resend(it, r.Text, r.Resend)
}

// resend answers /job of a delivered job with its video attached again,
// when the file is still kept and fits the upload limit.
func (b *Bot) resend(it *inter, text string, j *core.Job) {
	var files []*discordgo.File
	if j.VideoPath != "" && j.VideoSize <= it.limit {
		f, err := os.Open(j.VideoPath)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				b.log.Warn("resend video", "job_id", j.ID, "err", err)
			}
			text += "\n" + chat.ResendGone(it.lang)
		} else {
			defer f.Close()
			files = []*discordgo.File{{Name: j.ID + ".mp4", ContentType: "video/mp4", Reader: f}}
		}
	}
	if _, err := b.sess.InteractionResponseEdit(it.i, &discordgo.WebhookEdit{Content: ptr(clip(text)), Files: files}); err != nil {
		b.log.Warn("edit interaction response", "job_id", j.ID, "err", redact(err, b.opt.Token))
	}
}
