package discord

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/core"
)

// editor edits the original responses with progress. discordgo puts every
// file-less interaction edit in one rate-limit bucket, so edits are paced
// globally (EditRate per second) and taken round-robin across jobs, each
// job showing only its newest text and at most one edit per Interval: many
// jobs share the bucket without one starving another.
type editor struct {
	b    *Bot
	mu   sync.Mutex
	jobs map[string]*edited
	ring []string // job ids with a pending text, oldest turn first
	wake chan struct{}
}

type edited struct {
	it      *discordgo.Interaction
	at      time.Time // when the interaction arrived
	pending string
	shown   string
	last    time.Time
}

func newEditor(b *Bot) *editor {
	return &editor{b: b, jobs: map[string]*edited{}, wake: make(chan struct{}, 1)}
}

// interactionOf rebuilds a job's interaction (app id and token) from its origin.
func interactionOf(j *core.Job) (*discordgo.Interaction, time.Time, bool) {
	x := j.Origin.Extra
	if x["token"] == "" || x["app"] == "" {
		return nil, time.Time{}, false
	}
	sec, _ := strconv.ParseInt(x["at"], 10, 64)
	return &discordgo.Interaction{ID: x["interaction"], AppID: x["app"], Token: x["token"], ChannelID: j.Origin.ChatID}, time.Unix(sec, 0), true
}

func (e *editor) track(j *core.Job) *edited {
	e.mu.Lock()
	defer e.mu.Unlock()
	ed := e.jobs[j.ID]
	if ed == nil {
		it, at, ok := interactionOf(j)
		if !ok {
			return nil
		}
		ed = &edited{it: it, at: at, last: time.Now()}
		e.jobs[j.ID] = ed
	}
	return ed
}

func (e *editor) forget(id string) {
	e.mu.Lock()
	delete(e.jobs, id)
	e.mu.Unlock()
}

// set queues text as the job's newest progress.
func (e *editor) set(j *core.Job, text string) {
	ed := e.track(j)
	if ed == nil || time.Since(ed.at) > tokenLife {
		return // the token is gone: progress is not shown any more
	}
	e.mu.Lock()
	if text == ed.shown || text == ed.pending {
		e.mu.Unlock()
		return
	}
	if ed.pending == "" {
		e.ring = append(e.ring, j.ID)
	}
	ed.pending = text
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// next takes the first job in the ring whose edit is due, or reports how
// long until one is.
func (e *editor) next(now time.Time, interval time.Duration) (*edited, string, time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	wait := time.Duration(-1)
	for n := len(e.ring); n > 0; n-- {
		id := e.ring[0]
		e.ring = e.ring[1:]
		ed := e.jobs[id]
		if ed == nil || ed.pending == "" {
			continue
		}
		if d := ed.last.Add(interval).Sub(now); d > 0 {
			e.ring = append(e.ring, id)
			if wait < 0 || d < wait {
				wait = d
			}
			continue
		}
		text := ed.pending
		ed.pending, ed.shown, ed.last = "", text, now
		return ed, text, 0
	}
	return nil, "", wait
}

func (e *editor) run(ctx context.Context) {
	gap := time.Duration(float64(time.Second) / e.b.opt.EditRate)
	for {
		ed, text, wait := e.next(time.Now(), e.b.opt.Interval)
		if ed != nil {
			if _, err := e.b.sess.InteractionResponseEdit(ed.it, &discordgo.WebhookEdit{Content: ptr(clip(text))}); err != nil {
				e.b.log.Debug("progress edit", "err", redact(err, e.b.opt.Token))
			}
			wait = gap
		}
		t := time.NewTimer(time.Hour)
		if wait >= 0 {
			t.Reset(max(wait, gap))
		}
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-e.wake:
			t.Stop()
			if ed != nil {
				// Keep the global pace even when woken.
				if !core.Sleep(ctx, gap) {
					return
				}
			}
		}
	}
}

// Notify shows progress in the job's original response; a failure or
// cancellation is shown there too, or, past the token, as a message
// mentioning the user.
func (b *Bot) Notify(ctx context.Context, ev core.Event) {
	switch ev.Type {
	case core.EventDelivered:
		b.editor.forget(ev.Job.ID)
	case core.EventFailed, core.EventCanceled:
		b.editor.forget(ev.Job.ID)
		text := chat.Status(ev)
		if !b.spawn(func() { b.final(ev.Job, text) }) {
			b.log.Warn("final text not shown: stopping", "job_id", ev.Job.ID, "event", ev.Type)
		}
	default:
		b.editor.set(ev.Job, chat.Status(ev))
	}
}

// final shows a last text: in the original response while its token
// lives, else in the channel (mentioning the user) or by DM.
func (b *Bot) final(j *core.Job, text string) {
	if it, at, ok := interactionOf(j); ok && time.Since(at) < tokenLife {
		if _, err := b.sess.InteractionResponseEdit(it, &discordgo.WebhookEdit{Content: ptr(clip(text))}); err == nil || !expired(err) {
			return
		}
	}
	if _, err := b.post(j, &discordgo.MessageSend{Content: text}); err != nil {
		b.log.Warn("final message", "job_id", j.ID, "err", redact(err, b.opt.Token))
	}
}
