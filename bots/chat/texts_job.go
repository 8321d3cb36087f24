package chat

import (
	"fmt"
	"strings"
	"time"

	"sorabot/core"
	"sorabot/i18n"
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

// JobLang is the language a job was asked in: its texts and buttons use it.
func JobLang(j *core.Job) string { return jobLang(j) }

func jobLang(j *core.Job) string {
	if j.Lang == "" {
		return i18n.Default
	}
	return j.Lang
}

// seconds is a duration in lang: "10 s", "10 秒".
func seconds(lang string, n int) string { return t(lang, "chat.seconds", i18n.Args{"N": n}) }

// Accepted answers a request the core accepted (or recognised as a repeat),
// in the job's language.
func Accepted(a core.Accepted) string {
	j := a.Job
	lang := jobLang(j)
	if a.Duplicate {
		return t(lang, "chat.accepted_duplicate", i18n.Args{"Job": jobRef(j)})
	}
	var b strings.Builder
	args := i18n.Args{"Job": jobRef(j), "Position": a.Position, "Price": j.Price, "Balance": a.Balance}
	if a.Position > 0 {
		b.WriteString(t(lang, "chat.accepted_queued", args))
	} else {
		b.WriteString(t(lang, "chat.accepted_started", args))
	}
	for _, n := range j.Notes {
		b.WriteString("\nℹ️ " + Render(lang, n))
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
func stateName(lang string, s core.State) string {
	switch s {
	case core.Queued:
		return t(lang, "chat.job_state.queued", nil)
	case core.Submitting, core.Submitted:
		return t(lang, "chat.job_state.running", nil)
	case core.Succeeded:
		return t(lang, "chat.job_state.finishing", nil)
	case core.Delivered, core.Failed, core.Canceled:
		// One job: the singular ("consegnata"), not /stats' plural column.
		return t(lang, "chat.job_state."+string(s), nil)
	}
	return string(s)
}

// History is the /history text, newest job first.
func History(lang string, jobs []*core.Job, s Syntax) string {
	if len(jobs) == 0 {
		return t(lang, "chat.history_empty", i18n.Args{"Example": s.Example(CmdVideo, t(lang, "chat.example_short", nil))})
	}
	var b strings.Builder
	b.WriteString(t(lang, "chat.history_title", nil))
	for _, j := range jobs {
		fmt.Fprintf(&b, "\n%s %s %s · %s · %s · %s — %s", stateIcon(j.State), jobRef(j), stateName(lang, j.State),
			j.Req.Model, seconds(lang, j.Req.Duration), j.CreatedAt.UTC().Format("2006-01-02"), truncate(summary(lang, j), 60))
	}
	b.WriteString("\n\n" + t(lang, "chat.history_details", i18n.Args{"Usage": s.Usage(Lookup(CmdJob))}))
	return b.String()
}

// summary is a one-line description of what a job makes.
func summary(lang string, j *core.Job) string {
	if len(j.Req.Shots) > 0 {
		return t(lang, "chat.summary_storyboard", i18n.Args{"Shots": len(j.Req.Shots), "Scene": j.Req.Shots[0].Scene})
	}
	return strings.Join(strings.Fields(j.Req.Prompt), " ")
}

// JobInfo is the /job text: everything about one job.
func JobInfo(lang string, j *core.Job, s Syntax) string {
	r := j.Req
	var b strings.Builder
	b.WriteString(stateIcon(j.State) + " " + t(lang, "chat.job_title", i18n.Args{"Job": jobRef(j), "State": stateName(lang, j.State)}) + "\n")
	spec := []string{r.Model, seconds(lang, r.Duration)}
	if r.Orientation == core.Portrait || r.Orientation == core.Landscape {
		spec = append(spec, t(lang, "chat.orientation."+r.Orientation, nil))
	} else if r.Orientation != "" {
		spec = append(spec, r.Orientation)
	}
	if r.Quality != "" {
		spec = append(spec, r.Quality)
	}
	if len(r.Images) > 0 {
		spec = append(spec, t(lang, "chat.job_images", i18n.Args{"Count": len(r.Images)}))
	}
	if r.Watermark {
		spec = append(spec, t(lang, "chat.job_watermark", nil))
	}
	if r.Private {
		spec = append(spec, t(lang, "chat.job_private", nil))
	}
	b.WriteString(t(lang, "chat.job_model", i18n.Args{"Spec": strings.Join(spec, ", ")}) + "\n")
	b.WriteString(t(lang, "chat.job_price", i18n.Args{"Price": j.Price}))
	if j.Refunded {
		b.WriteString(" " + t(lang, "chat.job_refunded", nil))
	}
	b.WriteString("\n" + t(lang, "chat.job_created", i18n.Args{"Time": dateTime(j.CreatedAt)}) + "\n")
	if !j.DoneAt.IsZero() {
		b.WriteString(t(lang, "chat.job_finished", i18n.Args{"Time": dateTime(j.DoneAt)}) + "\n")
	}
	if len(r.Shots) > 0 {
		b.WriteString(t(lang, "chat.job_shots", nil) + "\n")
		for _, s := range r.Shots {
			fmt.Fprintf(&b, "  %ds %s\n", s.Duration, s.Scene)
		}
	} else if r.Prompt != "" {
		b.WriteString(t(lang, "chat.job_prompt", i18n.Args{"Prompt": truncate(r.Prompt, 1000)}) + "\n")
	}
	switch j.State {
	case core.Queued:
		b.WriteString(t(lang, "chat.job_cancel_hint", i18n.Args{"Example": s.Example(CmdCancel, j.ID)}))
	case core.Failed:
		b.WriteString(t(lang, "chat.job_reason", i18n.Args{"Reason": reason(lang, j)}))
	case core.Delivered:
		if j.DeliveredVia == "link" {
			b.WriteString(t(lang, "chat.job_link", nil))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// reason is a failed job's user-safe reason in lang: its message, or the
// English text of a job stored before messages had ids.
func reason(lang string, j *core.Job) string {
	r := strings.TrimSpace(Render(lang, core.Message{ID: j.ErrID, Args: j.ErrArgs, English: j.Err}))
	if r == "" {
		r = t(lang, "chat.something_wrong", nil)
	}
	if !strings.HasSuffix(r, ".") && !strings.HasSuffix(r, "!") && !strings.HasSuffix(r, "?") && !strings.HasSuffix(r, "。") {
		r += "."
	}
	return r
}

// refunded is the refund sentence of a failed or canceled job.
func refunded(lang string, j *core.Job) string {
	if j.Price <= 0 {
		return ""
	}
	return " " + t(lang, "chat.refunded", i18n.Args{"Price": j.Price})
}

// Failed says a job failed and was refunded, in the job's language.
func Failed(j *core.Job) string {
	lang := jobLang(j)
	return t(lang, "chat.failed", i18n.Args{"Job": jobRef(j), "Reason": reason(lang, j)}) + refunded(lang, j)
}

// Canceled confirms /cancel, in the job's language.
func Canceled(j *core.Job) string {
	lang := jobLang(j)
	return t(lang, "chat.canceled", i18n.Args{"Job": jobRef(j)}) + refunded(lang, j)
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

// Link delivers a video that is too big to upload as a link, in the job's
// language.
func Link(j *core.Job, url string) string {
	return t(jobLang(j), "chat.link", i18n.Args{"Job": jobRef(j), "URL": url})
}
