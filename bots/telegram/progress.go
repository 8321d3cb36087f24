package telegram

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"

	"sorabot/bots/chat"
	"sorabot/core"
)

// chatGates remembers, per chat, until when Telegram asked us (429
// retry_after) to send nothing to it.
type chatGates struct {
	mu sync.Mutex
	m  map[int64]time.Time
}

func (g *chatGates) until(chatID int64) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m[chatID]
}

func (g *chatGates) block(chatID int64, seconds int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t := time.Now().Add(time.Duration(max(seconds, 1)) * time.Second)
	if t.After(g.m[chatID]) {
		g.m[chatID] = t
	}
	for k, v := range g.m {
		if time.Since(v) > time.Minute {
			delete(g.m, k)
		}
	}
}

// errGated: a non-essential message was dropped while the chat is gated.
var errGated = errors.New("telegram: chat is waiting out a 429")

// call runs a request to chatID. While the chat waits out a 429 it waits
// too (must) or gives up at once (!must); a 429 answer gates the chat for
// exactly retry_after and, for a must, tries again.
func (b *Bot) call(ctx context.Context, chatID int64, must bool, fn func() error) error {
	for attempt := 0; ; attempt++ {
		if until := b.chats.until(chatID); time.Now().Before(until) {
			if !must {
				return errGated
			}
			if !core.Sleep(ctx, time.Until(until)) {
				return ctx.Err()
			}
		}
		err := fn()
		var tm *tg.TooManyRequestsError
		if !errors.As(err, &tm) {
			return err
		}
		b.chats.block(chatID, tm.RetryAfter)
		b.log.Info("telegram asked to slow down", "chat_id", chatID, "retry_after", tm.RetryAfter)
		if !must || attempt >= 5 {
			return core.Temporary(err)
		}
	}
}

// tracked is what the bot knows of a job's status message.
type tracked struct {
	chatID   int64
	replyTo  int
	statusID int
	creating bool
	pending  *core.Event // the newest event seen while the message was being created
}

func (b *Bot) track(j *core.Job) *tracked {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.jobs[j.ID]
	if t == nil {
		t = &tracked{}
		t.chatID, _ = strconv.ParseInt(j.Origin.ChatID, 10, 64)
		t.replyTo, _ = strconv.Atoi(j.Origin.MessageID)
		t.statusID, _ = strconv.Atoi(j.Origin.Extra["status"])
		b.jobs[j.ID] = t
	}
	return t
}

func (b *Bot) forget(t *tracked, id string) {
	b.mu.Lock()
	delete(b.jobs, id)
	b.mu.Unlock()
	b.throttle.Forget(chatKey(t.chatID), id)
}

func chatKey(chatID int64) string { return strconv.FormatInt(chatID, 10) }

// createStatus posts a job's status message unless it has one or one is
// being posted.
func (b *Bot) createStatus(ctx context.Context, j *core.Job, text string) {
	t := b.track(j)
	b.mu.Lock()
	if t.statusID != 0 || t.creating {
		b.mu.Unlock()
		return
	}
	t.creating = true
	b.mu.Unlock()
	b.postStatus(ctx, t, j, text)
}

// postStatus posts the status message the caller claimed (t.creating) and
// records its id; an event that came meanwhile is shown right after.
func (b *Bot) postStatus(ctx context.Context, t *tracked, j *core.Job, text string) {
	id := b.send(ctx, t.chatID, t.replyTo, text, nil)
	b.throttle.Force(chatKey(t.chatID), j.ID, text, time.Now())
	b.mu.Lock()
	t.statusID, t.creating = id, false
	ev := t.pending
	t.pending = nil
	b.mu.Unlock()
	if id == 0 {
		if ev != nil && chat.Final(*ev) {
			b.Notify(ctx, *ev) // the end is still shown, in a message of its own
		}
		return
	}
	// Remembered for restarts, off the path that answers the user.
	b.tasks.run(func() {
		if err := b.svc.Annotate(context.WithoutCancel(ctx), j.ID, "status", strconv.Itoa(id)); err != nil {
			b.log.Warn("remember status message", "job_id", j.ID, "err", err)
		}
	})
	if ev != nil {
		b.Notify(ctx, *ev)
	}
}

// Notify shows an event in the job's status message: edits are throttled
// per chat and dropped while the chat waits out a 429; final states always
// get through.
func (b *Bot) Notify(ctx context.Context, ev core.Event) {
	if chat.Final(ev) {
		b.tasks.run(func() { b.finalStatus(context.WithoutCancel(ctx), ev) })
		return
	}
	t := b.track(ev.Job)
	b.mu.Lock()
	if t.creating {
		t.pending = &ev
		b.mu.Unlock()
		return
	}
	if t.statusID == 0 {
		// A job just accepted (EventQueued), or one recovered after a
		// restart that never got its message. Claimed here, so that the
		// events right behind wait for the message instead of posting
		// their own.
		t.creating = true
		b.mu.Unlock()
		b.tasks.run(func() { b.postStatus(context.WithoutCancel(ctx), t, ev.Job, chat.Status(ev)) })
		return
	}
	b.mu.Unlock()
	text, ok := b.throttle.Update(chatKey(t.chatID), ev, time.Now())
	if !ok {
		return
	}
	b.tasks.run(func() { b.edit(context.WithoutCancel(ctx), t, text, false) })
}

func (b *Bot) edit(ctx context.Context, t *tracked, text string, must bool) {
	err := b.call(ctx, t.chatID, must, func() error {
		_, err := b.api.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: t.chatID, MessageID: t.statusID, Text: text})
		return err
	})
	if err != nil && !errors.Is(err, errGated) {
		b.log.Debug("status edit failed", "chat_id", t.chatID, "err", redact(err, b.opt.Token))
	}
}

// finalStatus shows a delivered, failed or canceled job and forgets it.
func (b *Bot) finalStatus(ctx context.Context, ev core.Event) {
	t := b.track(ev.Job)
	text := chat.Status(ev)
	b.mu.Lock()
	if t.creating {
		// Shown in the status message once it is posted.
		t.pending = &ev
		b.mu.Unlock()
		return
	}
	id := t.statusID
	b.mu.Unlock()
	if id == 0 {
		b.send(ctx, t.chatID, t.replyTo, text, nil)
	} else if b.throttle.Force(chatKey(t.chatID), ev.Job.ID, text, time.Now()) {
		b.edit(ctx, t, text, true)
	}
	b.forget(t, ev.Job.ID)
}
