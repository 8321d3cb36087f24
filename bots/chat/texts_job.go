package chat

import (
	"fmt"
	"strings"
	"time"

	"sorabot/core"
)

// Texts about jobs: acceptance, details, history, outcomes, captions.

// dateTime formats a time for chat lines, in UTC.
func dateTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func jobRef(j *core.Job) string { return "#" + j.ID }

// Accepted answers a request the core accepted (or recognised as a repeat).
func Accepted(a core.Accepted) string {
	j := a.Job
	if a.Duplicate {
		return fmt.Sprintf("🎬 Job %s was already accepted for this message; nothing more was charged.", jobRef(j))
	}
	var b strings.Builder
	if a.Position > 0 {
		fmt.Fprintf(&b, "🎬 Job %s queued (position %d) — %d credits, balance %d.", jobRef(j), a.Position, j.Price, a.Balance)
	} else {
		fmt.Fprintf(&b, "🎬 Job %s started — %d credits, balance %d.", jobRef(j), j.Price, a.Balance)
	}
	for _, n := range j.Notes {
		b.WriteString("\nℹ️ " + n)
	}
	return b.String()
}

// stateIcon is the emoji of a job state.
func stateIcon(s core.State) string {
	switch s {
	case core.Queued:
		return "⏳"
	case core.Submitting, core.Submitted:
		return "🎨"
	case core.Succeeded:
		return "📦"
	case core.Delivered:
		return "✅"
	case core.Failed:
		return "❌"
	case core.Canceled:
		return "🚫"
	}
	return "•"
}

// stateName says a state in words.
func stateName(s core.State) string {
	switch s {
	case core.Queued:
		return "queued"
	case core.Submitting, core.Submitted:
		return "in progress"
	case core.Succeeded:
		return "finishing"
	}
	return string(s)
}

// History is the /history text, newest job first.
func History(jobs []*core.Job, s Syntax) string {
	if len(jobs) == 0 {
		return "No jobs yet. Try: " + s.Example(CmdVideo, "A corgi surfing a wave at sunset")
	}
	var b strings.Builder
	b.WriteString("Your last jobs:")
	for _, j := range jobs {
		fmt.Fprintf(&b, "\n%s %s %s · %s · %d s · %s — %s", stateIcon(j.State), jobRef(j), stateName(j.State),
			j.Req.Model, j.Req.Duration, j.CreatedAt.UTC().Format("2006-01-02"), truncate(summary(j), 60))
	}
	b.WriteString("\n\nDetails: " + s.Usage(Lookup(CmdJob)))
	return b.String()
}

// summary is a one-line description of what a job makes.
func summary(j *core.Job) string {
	if len(j.Req.Shots) > 0 {
		return fmt.Sprintf("storyboard, %d shots: %s", len(j.Req.Shots), j.Req.Shots[0].Scene)
	}
	return strings.Join(strings.Fields(j.Req.Prompt), " ")
}

// JobInfo is the /job text: everything about one job.
func JobInfo(j *core.Job, s Syntax) string {
	r := j.Req
	var b strings.Builder
	fmt.Fprintf(&b, "%s Job %s: %s\n", stateIcon(j.State), jobRef(j), stateName(j.State))
	spec := []string{r.Model, fmt.Sprintf("%d s", r.Duration)}
	if r.Orientation != "" {
		spec = append(spec, r.Orientation)
	}
	if r.Quality != "" {
		spec = append(spec, r.Quality)
	}
	if len(r.Images) > 0 {
		spec = append(spec, fmt.Sprintf("%d image(s)", len(r.Images)))
	}
	if r.Watermark {
		spec = append(spec, "watermark allowed")
	}
	if r.Private {
		spec = append(spec, "private")
	}
	fmt.Fprintf(&b, "Model: %s\n", strings.Join(spec, ", "))
	fmt.Fprintf(&b, "Price: %d credits", j.Price)
	if j.Refunded {
		b.WriteString(" (refunded)")
	}
	fmt.Fprintf(&b, "\nCreated: %s UTC\n", dateTime(j.CreatedAt))
	if !j.DoneAt.IsZero() {
		fmt.Fprintf(&b, "Finished: %s UTC\n", dateTime(j.DoneAt))
	}
	if len(r.Shots) > 0 {
		b.WriteString("Shots:\n")
		for _, s := range r.Shots {
			fmt.Fprintf(&b, "  %ds %s\n", s.Duration, s.Scene)
		}
	} else if r.Prompt != "" {
		b.WriteString("Prompt: " + truncate(r.Prompt, 1000) + "\n")
	}
	switch j.State {
	case core.Queued:
		b.WriteString("Cancel it with " + s.Example(CmdCancel, j.ID))
	case core.Failed:
		b.WriteString("Reason: " + reason(j))
	case core.Delivered:
		if j.DeliveredVia == "link" {
			b.WriteString("Delivered as a link (too big to upload).")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// reason is a failed job's user-safe reason.
func reason(j *core.Job) string {
	r := strings.TrimSpace(j.Err)
	if r == "" {
		r = "something went wrong."
	}
	if !strings.HasSuffix(r, ".") && !strings.HasSuffix(r, "!") && !strings.HasSuffix(r, "?") {
		r += "."
	}
	return r
}

// refunded is the refund sentence of a failed or canceled job.
func refunded(j *core.Job) string {
	if j.Price <= 0 {
		return ""
	}
	return fmt.Sprintf(" Your %d credits were refunded.", j.Price)
}

// Failed says a job failed and was refunded.
func Failed(j *core.Job) string {
	return fmt.Sprintf("❌ Job %s failed: %s%s", jobRef(j), reason(j), refunded(j))
}

// Canceled confirms /cancel.
func Canceled(j *core.Job) string {
	return fmt.Sprintf("🚫 Job %s canceled.%s", jobRef(j), refunded(j))
}

// TelegramCaptionMax is the longest caption Telegram takes.
const TelegramCaptionMax = 1024

// Caption is a delivered video's caption: the prompt (or the shots), cut to
// max characters (UTF-16 code units, the stricter of the platforms' counts;
// max <= 0 means no limit).
func Caption(j *core.Job, max int) string {
	var s string
	if len(j.Req.Shots) > 0 {
		lines := make([]string, len(j.Req.Shots))
		for i, sh := range j.Req.Shots {
			lines[i] = fmt.Sprintf("%ds %s", sh.Duration, sh.Scene)
		}
		s = strings.Join(lines, "\n")
	} else {
		s = strings.TrimSpace(j.Req.Prompt)
	}
	if max <= 0 || utf16Len(s) <= max {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		w := utf16Width(r)
		if n+w > max-1 { // keep room for "…"
			break
		}
		b.WriteRune(r)
		n += w
	}
	return strings.TrimRight(b.String(), " \n\t") + "…"
}

func utf16Width(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16Width(r)
	}
	return n
}

// Link delivers a video that is too big to upload as a link.
func Link(j *core.Job, url string) string {
	return fmt.Sprintf("✅ Job %s is done, but the video is too big to upload here. Download it soon (the link may expire):\n%s", jobRef(j), url)
}
