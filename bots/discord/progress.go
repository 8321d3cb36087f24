package discord

import (
	"context"
	"log/slog"
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
	id      string
	it      *discordgo.Interaction
	at      time.Time // when the interaction arrived
	pending string
	shown   string
	last    time.Time
	fails   int  // progress edits in a row that failed
	done    bool // the outcome is being shown: no more progress
	// busy is held by whoever edits the original response, so that progress
	// never overtakes the accepted text nor overwrites the outcome.
	busy sync.Mutex
}

// maxEditFails is how many failed progress edits in a row are tried again.
const maxEditFails = 3

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
		ed = &edited{id: j.ID, it: it, at: at, last: time.Now()}
		e.jobs[j.ID] = ed
	}
	return ed
}

// finish stops the job's progress: its outcome is about to be shown.
func (e *editor) finish(j *core.Job) {
	if ed := e.track(j); ed != nil {
		e.mu.Lock()
		ed.done, ed.pending = true, ""
		e.mu.Unlock()
	}
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
	if ed.done || text == ed.shown || text == ed.pending {
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
			e.edit(ctx, ed, text)
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

// edit shows a progress text. One that Discord did not take for a passing
// reason (10015 right after the deferral, 5xx, the network) or that had to
// yield to another edit is tried again at the job's next turn, unless a
// newer text replaced it.
func (e *editor) edit(ctx context.Context, ed *edited, text string) {
	if !ed.busy.TryLock() {
		e.requeue(ed, text, false)
		return
	}
	_, err := e.b.sess.InteractionResponseEdit(ed.it, &discordgo.WebhookEdit{Content: ptr(clip(text))}, discordgo.WithContext(ctx))
	ed.busy.Unlock()
	if err == nil {
		e.mu.Lock()
		ed.fails = 0
		e.mu.Unlock()
		return
	}
	if ctx.Err() != nil {
		return
	}
	err = redact(err, e.b.opt.Token)
	status, code := restCode(err)
	switch {
	case unknownWebhook(err) || status == 0 || status >= 500:
		if e.requeue(ed, text, true) {
			level := slog.LevelWarn
			if unknownWebhook(err) {
				level = slog.LevelDebug // expected right after an HTTP answer
			}
			e.b.log.Log(ctx, level, "progress edit failed; trying again", "job_id", ed.id, "status", status, "code", code, "err", err)
			return
		}
		e.b.log.Warn("progress edit failed; tried again enough", "job_id", ed.id, "status", status, "code", code, "err", err)
	case expired(err):
		e.forget(ed.id)
		e.b.log.Info("progress not shown any more: interaction token expired", "job_id", ed.id)
	default:
		e.b.log.Warn("progress edit failed", "job_id", ed.id, "status", status, "code", code, "err", err)
	}
}

// requeue makes text the job's pending progress again unless a newer text
// is pending; a failure counts against maxEditFails (false when spent).
func (e *editor) requeue(ed *edited, text string, failure bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	ed.shown = ""
	if failure {
		if ed.fails++; ed.fails > maxEditFails {
			return false
		}
	}
	if ed.done || e.jobs[ed.id] != ed {
		return true
	}
	if ed.pending == "" {
		ed.pending = text
		e.ring = append(e.ring, ed.id)
	}
	return true
}

// hold gives the caller the job's original response until release, for an
// edit of its own; progress waits. A final holder shows the job's outcome:
// progress stops for good and later non-final holders are refused (false).
func (e *editor) hold(j *core.Job, final bool) (release func(), ok bool) {
	ed := e.track(j)
	if ed == nil {
		return func() {}, true
	}
	e.mu.Lock()
	refused := ed.done && !final
	if final {
		ed.done, ed.pending = true, ""
	}
	e.mu.Unlock()
	if refused {
		return nil, false
	}
	ed.busy.Lock()
	return ed.busy.Unlock, true
}

// Notify shows progress in the job's original response; a failure or
// cancellation is shown there too, or, past the token, as a message
// mentioning the user.
func (b *Bot) Notify(ctx context.Context, ev core.Event) {
	switch ev.Type {
	case core.EventDelivered:
		b.editor.forget(ev.Job.ID)
	case core.EventFailed, core.EventCanceled:
		b.editor.finish(ev.Job)
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
	defer b.editor.forget(j.ID)
	if it, at, ok := interactionOf(j); ok && time.Since(at) < tokenLife {
		release, _ := b.editor.hold(j, true)
		err := b.editText(b.context(), it, text)
		release()
		if err == nil {
			return
		}
		if !expired(err) {
			b.log.Warn("final text: original response not edited; posting it", "job_id", j.ID, "err", redact(err, b.opt.Token))
		}
	}
	if _, err := b.post(j, &discordgo.MessageSend{Content: text}); err != nil {
		b.log.Warn("final message", "job_id", j.ID, "err", redact(err, b.opt.Token))
	}
}
