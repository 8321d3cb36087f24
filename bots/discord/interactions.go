package discord

import (
	"context"
	"encoding/json"
	"errors"
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

// editReply replaces the deferred response's text.
func (b *Bot) editReply(it *inter, text string) {
	if err := b.editText(b.context(), it.i, text); err != nil {
		b.log.Warn("edit interaction response", "interaction_id", it.i.ID, "err", redact(err, b.opt.Token))
	}
}

// failAfterDefer turns a public deferred response into a private error:
// the placeholder is deleted and the error follows, seen only by the user.
func (b *Bot) failAfterDefer(it *inter, err error) {
	if code := core.ErrorCode(err); code == core.EINTERNAL {
		b.log.Error("interaction failed", "interaction_id", it.i.ID, "err", err)
	}
	b.privateAfterDefer(it, chat.ErrorText(err))
}

// privateAfterDefer deletes a public deferred response and sends text as a
// message only the user sees.
func (b *Bot) privateAfterDefer(it *inter, text string) {
	if derr := b.sess.InteractionResponseDelete(it.i); derr != nil {
		b.log.Debug("delete deferred response", "err", redact(derr, b.opt.Token))
	}
	if _, ferr := b.sess.FollowupMessageCreate(it.i, false, &discordgo.WebhookParams{Content: clip(text),
		Flags: discordgo.MessageFlagsEphemeral}); ferr != nil {
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
	cat, protocol := b.svc.Catalog(), b.svc.Protocol()
	opts := map[string]*discordgo.ApplicationCommandInteractionDataOption{}
	for _, o := range data.Options {
		opts[o.Name] = o
	}
	switch data.Name {
	case "video":
		req := core.Request{}
		if o := opts["prompt"]; o != nil {
			req.Prompt = o.StringValue()
		}
		if o := opts["model"]; o != nil {
			req.Model = o.StringValue()
		}
		if o := opts["orientation"]; o != nil {
			req.Orientation = o.StringValue()
		}
		if o := opts["duration"]; o != nil {
			req.Duration = int(o.IntValue())
		}
		if o := opts["quality"]; o != nil {
			req.Quality = o.StringValue()
		}
		if o := opts["pro"]; o != nil {
			req.Pro = o.BoolValue()
		}
		if o := opts["watermark"]; o != nil {
			req.Watermark = o.BoolValue()
		}
		if o := opts["private"]; o != nil {
			req.Private = o.BoolValue()
		}
		var atts []attachment
		if o := opts["image"]; o != nil && data.Resolved != nil {
			if a := data.Resolved.Attachments[fmt.Sprint(o.Value)]; a != nil {
				atts = append(atts, attachment{URL: a.URL, ContentType: a.ContentType, Size: a.Size})
			}
		}
		b.start(ctx, it, user, req, atts)
	case "storyboard":
		orientation := ""
		if o := opts["orientation"]; o != nil {
			orientation = o.StringValue()
		}
		o := opts["shots"]
		if o == nil || strings.TrimSpace(o.StringValue()) == "" {
			b.shotsModal(it, orientation)
			return
		}
		b.storyboard(ctx, it, user, o.StringValue(), orientation)
	case "balance":
		if b.deferReply(it, true) {
			a, l, err := b.svc.Balance(ctx, user, 5)
			b.answer(it, func() string { return chat.Balance(a, l) }, err)
		}
	case "history":
		if b.deferReply(it, true) {
			jobs, err := b.svc.History(ctx, user, 10)
			b.answer(it, func() string { return chat.History(jobs) }, err)
		}
	case "models":
		b.ephemeral(it, chat.Models(cat, protocol))
	case "help":
		b.ephemeral(it, chat.Help(cat, protocol))
	case "cancel":
		id := ""
		if o := opts["job"]; o != nil {
			id = strings.TrimPrefix(strings.TrimSpace(o.StringValue()), "#")
		}
		if b.deferReply(it, true) {
			j, err := b.svc.Cancel(ctx, user, id)
			if err == nil {
				b.Notify(ctx, core.Event{Type: core.EventCanceled, Job: j, Progress: -1})
			}
			b.answer(it, func() string { return chat.Canceled(j) }, err)
		}
	case "grant":
		if !b.svc.IsAdmin(user) {
			b.ephemeral(it, chat.NotAdmin())
			return
		}
		var target string
		var amount int
		if o := opts["user"]; o != nil {
			target = Platform + ":" + fmt.Sprint(o.Value)
		}
		if o := opts["amount"]; o != nil {
			amount = int(o.IntValue())
		}
		if b.deferReply(it, true) {
			a, err := b.svc.Grant(ctx, user, target, amount, false)
			b.answer(it, func() string { return chat.Granted(a) }, err)
		}
	case "Animate":
		b.animate(it, data)
	default:
		b.ephemeral(it, chat.UnknownCommand("/"+data.Name))
	}
}

// answer edits a private deferred response with text() or the error.
func (b *Bot) answer(it *inter, text func() string, err error) {
	if err != nil {
		b.editReply(it, chat.ErrorText(err))
		return
	}
	b.editReply(it, text())
}

func (b *Bot) storyboard(ctx context.Context, it *inter, user, shots, orientation string) {
	parsed, err := chat.ParseShots(shots)
	if err != nil {
		b.ephemeral(it, chat.ErrorText(err))
		return
	}
	b.start(ctx, it, user, core.Request{Storyboard: true, Shots: parsed, Orientation: orientation}, nil)
}

func (b *Bot) shotsModal(it *inter, orientation string) {
	err := b.respond(it, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal, Data: &discordgo.InteractionResponseData{
		CustomID: "storyboard:" + orientation, Title: "Storyboard",
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.TextInput{CustomID: "shots", Label: "One shot per line: 5s A city at dusk", Style: discordgo.TextInputParagraph,
				Required: true, MaxLength: 4000, Placeholder: "5s A city at dusk\n5s A runner crosses the bridge"},
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
			b.ephemeral(it, chat.ErrorText(core.Errorf(core.EINVALID, "The picture is %.1f MiB; the limit is %d MiB.", float64(a.Size)/(1<<20), core.MaxImageBytes>>20)))
			return
		}
		if a.ContentType != "" && !strings.HasPrefix(a.ContentType, "image/") {
			b.ephemeral(it, chat.ErrorText(core.Errorf(core.EINVALID, "The attachment is not a picture: attach a PNG, JPEG or WebP image.")))
			return
		}
	}
	if len(atts) == 0 {
		check := req
		if _, err := b.svc.Quote(&check); err != nil {
			b.ephemeral(it, chat.ErrorText(err))
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
	acc, err := b.svc.Accept(ctx, core.Submission{UserID: user, Key: Platform + ":interaction:" + it.i.ID, Origin: origin, Request: req})
	if err != nil {
		b.failAfterDefer(it, err)
		return
	}
	if acc.Duplicate {
		return
	}
	// Progress waits for this text, and it is not shown over the outcome.
	if release, ok := b.editor.hold(acc.Job, false); ok {
		b.editReply(it, chat.Accepted(acc))
		release()
	}
}

// download fetches an attachment (its signed URL expires, so at once).
func (b *Bot) download(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, core.Errorf(core.EINVALID, "The picture's link is not valid.")
	}
	resp, err := b.sess.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download attachment: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, core.Errorf(core.EINVALID, "The picture could not be downloaded (it may have expired): send it again.")
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, core.MaxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("download attachment: %w", err)
	}
	if len(data) > core.MaxImageBytes {
		return nil, core.Errorf(core.EINVALID, "The picture is over %d MiB.", core.MaxImageBytes>>20)
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
			b.ephemeral(it, chat.ErrorText(core.Errorf(core.EINVALID, "Please describe the video you want: a prompt is required.")))
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
	id, ok := strings.CutPrefix(data.CustomID, "repeat:")
	if !ok {
		return
	}
	user := Platform + ":" + u.ID
	j, err := b.svc.Job(ctx, user, id)
	if err != nil || j.UserID != user {
		b.ephemeral(it, chat.RepeatNotYours())
		return
	}
	var atts []attachment
	if s := j.Origin.Extra["images"]; s != "" {
		for _, u := range strings.Fields(s) {
			atts = append(atts, attachment{URL: u})
		}
	}
	req := j.Req
	req.Images = nil
	b.start(ctx, it, user, req, atts)
}
