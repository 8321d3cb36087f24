package chat

import (
	"strings"
	"sync"
	"time"

	"sorabot/core"
	"sorabot/i18n"
)

// barCells is the width of the progress bar.
const barCells = 10

// Status is the text of a job's status message for ev, in the job's
// language; frontends edit one message in place with it. Once a job was
// moved to another provider, its unfinished statuses say so.
func Status(ev core.Event) string {
	text := status(ev)
	if len(ev.Job.Tried) > 0 && !Final(ev) && ev.Type != core.EventRetrying {
		// The note marks a job another provider is making after the first failed.
		text += "\n" + t(jobLang(ev.Job), "chat.retried_note", nil)
	}
	return text
}

func status(ev core.Event) string {
	j := ev.Job
	lang := jobLang(j)
	job := i18n.Args{"Job": jobRef(j)}
	switch ev.Type {
	case core.EventRetrying:
		return t(lang, "chat.status_retrying", job)
	case core.EventQueued:
		// The job was just accepted: its first status says what it costs.
		return Accepted(core.Accepted{Job: j, Position: ev.Position, Balance: ev.Balance})
	case core.EventPosition:
		if ev.Position > 0 {
			return t(lang, "chat.status_position", i18n.Args{"Job": jobRef(j), "Position": ev.Position})
		}
		return t(lang, "chat.status_queued", job)
	case core.EventSubmitted:
		return t(lang, "chat.status_submitted", job)
	case core.EventProgress:
		if ev.Progress < 0 {
			return t(lang, "chat.status_working", job)
		}
		return t(lang, "chat.status_progress", i18n.Args{"Job": jobRef(j), "Percent": min(ev.Progress, 100), "Bar": Bar(ev.Progress)})
	case core.EventDelivered:
		return t(lang, "chat.status_done", job)
	case core.EventFailed:
		return Failed(j)
	case core.EventCanceled:
		return Canceled(j)
	}
	return stateIcon(j.State) + " " + t(lang, "chat.job_title", i18n.Args{"Job": jobRef(j), "State": stateName(lang, j.State)})
}

// Bar draws percent (0–100, clamped) as a bar of ten cells.
func Bar(percent int) string {
	filled := min(max(percent, 0), 100) * barCells / 100
	return strings.Repeat("▓", filled) + strings.Repeat("░", barCells-filled)
}

// Final reports whether ev ends the job's status message: it must be shown
// even when a throttle would hold it back.
func Final(ev core.Event) bool {
	switch ev.Type {
	case core.EventDelivered, core.EventFailed, core.EventCanceled:
		return true
	}
	return false
}

// throttleRetention is how long a message's last text is remembered.
const throttleRetention = time.Hour

// Throttle limits status edits: at most one per interval per chat, and only
// when a message's text changed. It is safe for concurrent use.
type Throttle struct {
	interval time.Duration

	mu        sync.Mutex
	chats     map[string]time.Time     // last edit per chat
	messages  map[[2]string]sentStatus // last text per (chat, message)
	lastPrune time.Time
}

type sentStatus struct {
	text string
	at   time.Time
}

// NewThrottle returns a Throttle allowing one edit per interval per chat.
func NewThrottle(interval time.Duration) *Throttle {
	return &Throttle{interval: interval, chats: map[string]time.Time{}, messages: map[[2]string]sentStatus{}}
}

// Allow reports whether text may be shown in chatKey now: the chat's last
// edit was at least an interval ago and text differs from the last text
// allowed there. When it returns true the edit is recorded.
func (t *Throttle) Allow(chatKey, text string, now time.Time) bool {
	return t.AllowMessage(chatKey, "", text, now)
}

// AllowMessage is Allow for a chat with several status messages: the
// interval is the chat's, the "text changed" check is msgKey's (a job id).
func (t *Throttle) AllowMessage(chatKey, msgKey, text string, now time.Time) bool {
	return t.allow(chatKey, msgKey, text, now, false)
}

// Force lets a final text through regardless of the interval; it still
// refuses a text identical to the message's last one (a repeated event).
func (t *Throttle) Force(chatKey, msgKey, text string, now time.Time) bool {
	return t.allow(chatKey, msgKey, text, now, true)
}

// Update decides for a job event: it returns the status text and whether to
// show it, forcing final events and a move to another provider through.
// The message key is the job id.
func (t *Throttle) Update(chatKey string, ev core.Event, now time.Time) (string, bool) {
	text := Status(ev)
	return text, t.allow(chatKey, ev.Job.ID, text, now, Final(ev) || ev.Type == core.EventRetrying)
}

// Wait is how long chatKey must wait before its next edit is allowed.
func (t *Throttle) Wait(chatKey string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	last, ok := t.chats[chatKey]
	if !ok {
		return 0
	}
	return max(last.Add(t.interval).Sub(now), 0)
}

// Forget drops what the throttle remembers of a message.
func (t *Throttle) Forget(chatKey, msgKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.messages, [2]string{chatKey, msgKey})
}

func (t *Throttle) allow(chatKey, msgKey, text string, now time.Time, force bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(now)
	key := [2]string{chatKey, msgKey}
	if prev, ok := t.messages[key]; ok && prev.text == text {
		return false
	}
	if last, ok := t.chats[chatKey]; ok && !force && now.Sub(last) < t.interval {
		return false
	}
	t.chats[chatKey] = now
	t.messages[key] = sentStatus{text: text, at: now}
	return true
}

// prune drops stale entries, at most once a minute.
func (t *Throttle) prune(now time.Time) {
	if now.Sub(t.lastPrune) < time.Minute && now.After(t.lastPrune) {
		return
	}
	t.lastPrune = now
	for k, last := range t.chats {
		if now.Sub(last) > t.interval && now.Sub(last) > time.Minute {
			delete(t.chats, k)
		}
	}
	for k, s := range t.messages {
		if now.Sub(s.at) > throttleRetention {
			delete(t.messages, k)
		}
	}
}
