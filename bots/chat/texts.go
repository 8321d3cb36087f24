package chat

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"sorabot/core"
	"sorabot/i18n"
)

// Every text a user can see comes from the message catalog (package i18n,
// locales/chat.<lang>.json for this package's texts), through the
// functions of this file, texts_job.go, help.go, progress.go and
// language.go; each takes the user's language. Texts are plain (no
// Markdown): they read the same on Telegram, Discord and a terminal; where
// they show a command they take the platform's Syntax.

// t is message id in lang.
func t(lang, id string, args i18n.Args) string { return i18n.T(lang, id, args) }

// Refusal is an error of code whose message is the catalog's id with args
// (a user-facing error raised here or in a frontend rather than in core).
func Refusal(code, id string, args i18n.Args) *core.Error {
	return &core.Error{Code: code, ID: id, Args: core.Args(args), Message: i18n.T(i18n.Default, id, args)}
}

func invalid(id string, args i18n.Args) *core.Error { return Refusal(core.EINVALID, id, args) }

// Render is a message with its arguments in lang. A record without a
// message id (stored before there were any) shows its English text; an
// argument that is itself a message is rendered too.
func Render(lang string, m core.Message) string {
	if m.ID == "" || !i18n.Has(m.ID) {
		return m.English
	}
	args := make(i18n.Args, len(m.Args))
	for k, v := range m.Args {
		switch v := v.(type) {
		case core.Message:
			args[k] = Render(lang, v)
		case *core.Error:
			args[k] = ErrorMessage(lang, v)
		default:
			args[k] = v
		}
	}
	return i18n.T(lang, m.ID, args)
}

// ErrorMessage is the user-safe text of err in lang: a *core.Error's
// message, or for any other error a generic apology (its text may hold
// anything, and stays in the logs).
func ErrorMessage(lang string, err error) string {
	e := core.AsError(err)
	if e == nil || e.ID == "" {
		return t(lang, core.MsgInternal.ID, nil)
	}
	return Render(lang, core.Message{ID: e.ID, Args: e.Args, English: e.Message})
}

// ErrorText is the reply to a failed command: only the user-safe message.
func ErrorText(lang string, err error) string {
	if err == nil {
		return ""
	}
	return "⚠️ " + ErrorMessage(lang, err)
}

// Balance is the /balance text: "<N> credits", then the given ledger lines
// (newest first).
func Balance(lang string, a core.Account, ledger []core.LedgerEntry) string {
	var b strings.Builder
	b.WriteString(i18n.Credits(lang, a.Balance))
	if len(ledger) > 0 {
		b.WriteString("\n\n" + t(lang, "chat.balance_last", nil))
	}
	for _, e := range ledger {
		fmt.Fprintf(&b, "\n%s  %s %+d", dateTime(e.Time), ledgerKind(lang, e.Kind), e.Amount)
		if e.JobID != "" {
			b.WriteString("  " + t(lang, "chat.balance_job", i18n.Args{"Job": e.JobID}))
		}
	}
	return b.String()
}

func ledgerKind(lang, kind string) string {
	if slices.Contains(core.LedgerKinds, kind) {
		return t(lang, "chat.ledger."+kind, nil)
	}
	return kind
}

// Granted confirms /grant.
func Granted(lang string, a core.Account) string {
	return t(lang, "chat.granted", i18n.Args{"User": a.UserID, "Balance": a.Balance})
}

// statsOrder is the order states are listed in.
var statsOrder = []core.State{core.Queued, core.Submitting, core.Submitted, core.Succeeded, core.Delivered, core.Failed, core.Canceled}

// Stats is the /stats text.
func Stats(lang string, s core.Stats) string {
	var b strings.Builder
	b.WriteString(t(lang, "chat.stats_users", i18n.Args{"Users": s.Users}) + "\n" + t(lang, "chat.stats_jobs", nil))
	states := slices.Clone(statsOrder)
	var extra []core.State
	for st := range s.Jobs {
		if !slices.Contains(states, st) {
			extra = append(extra, st)
		}
	}
	slices.Sort(extra)
	total := 0
	for _, st := range append(states, extra...) {
		if n := s.Jobs[st]; n > 0 {
			fmt.Fprintf(&b, " %s %d ·", stateWord(lang, st), n)
			total += n
		}
	}
	if total == 0 {
		b.WriteString(" " + t(lang, "chat.stats_none", nil))
	} else {
		b.WriteString(" " + t(lang, "chat.stats_total", i18n.Args{"Total": total}))
	}
	b.WriteString("\n" + t(lang, "chat.stats_credits", i18n.Args{"Charged": s.Charged, "Refunded": s.Refunded, "Held": s.Credits}))
	b.WriteString("\n" + t(lang, "chat.stats_purchases", i18n.Args{"Purchases": s.Purchases, "Stars": s.PurchaseStars,
		"Credits": s.PurchaseCredits, "Refunded": s.PurchaseRefunded, "Allowance": s.Allowance, "Promo": s.Promo}))
	return b.String()
}

// stateWord names a job state as /stats lists it.
func stateWord(lang string, s core.State) string {
	if slices.Contains(statsOrder, s) {
		return t(lang, "chat.state."+string(s), nil)
	}
	return string(s)
}

// truncate cuts s to at most n runes, ending in "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return strings.TrimRight(string(rs[:n-1]), " ") + "…"
}

// lowerFirst lowers the first letter, whatever its script ("Сделать" →
// "сделать"); a byte slice would cut a multi-byte letter in two.
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// NotAdmin answers an admin command from someone else.
func NotAdmin(lang string) string { return t(lang, "chat.not_admin", nil) }

// UnknownCommand answers a command the bot does not know.
func UnknownCommand(lang, word string) string {
	return t(lang, "chat.unknown_command", i18n.Args{"Command": truncate(word, 40)})
}

// PlainText answers a message that is not a command (in a private chat).
func PlainText(lang string) string {
	return t(lang, "chat.plain_text", i18n.Args{"Example": Typed.Example(CmdVideo, t(lang, "chat.example_short", nil))})
}

// NoTarget asks an admin who to grant credits to.
func NoTarget(lang string) string { return t(lang, "chat.no_target", nil) }

// RepeatButton labels the button under a delivered video that repeats the request.
func RepeatButton(lang string) string { return t(lang, "chat.repeat_button", nil) }

// RepeatNotYours answers the repeat button pressed by someone else.
func RepeatNotYours(lang string) string { return t(lang, "chat.repeat_not_yours", nil) }

// RepeatStarted acknowledges the repeat button.
func RepeatStarted(lang string) string { return t(lang, "chat.repeat_started", nil) }

// ResendGone answers /job for a delivered video whose file is no longer kept.
func ResendGone(lang string) string { return t(lang, "chat.resend_gone", nil) }

// Pictures a user gave that cannot be used, as EINVALID errors.

// PictureTooBigToFetch: Telegram lets bots download files up to 20 MB.
func PictureTooBigToFetch() error { return invalid("chat.picture_too_big_to_fetch", nil) }

// PictureTooBig says an attachment's size and the limit, in MiB.
func PictureTooBig(size int64, limit int64) error {
	return invalid("chat.picture_too_big", i18n.Args{"Size": fmt.Sprintf("%.1f", float64(size)/(1<<20)), "Limit": limit >> 20})
}

// PictureOverLimit says a downloaded picture passed the limit.
func PictureOverLimit(limit int64) error {
	return invalid("chat.picture_over_limit", i18n.Args{"Limit": limit >> 20})
}

// NotAPicture answers an attachment that is not an image.
func NotAPicture() error { return invalid("chat.not_a_picture", nil) }

// PictureLinkInvalid answers an attachment whose link cannot be fetched.
func PictureLinkInvalid() error { return invalid("chat.picture_link_invalid", nil) }

// PictureExpired answers an attachment that could not be downloaded.
func PictureExpired() error { return invalid("chat.picture_expired", nil) }

// PromptRequired answers a form sent without a prompt.
func PromptRequired() error { return invalid("core.prompt_required", nil) }

// The storyboard form (a Discord modal).

// StoryboardTitle is the form's title.
func StoryboardTitle(lang string) string { return t(lang, "chat.storyboard_title", nil) }

// StoryboardLabel is the label of its text field.
func StoryboardLabel(lang string) string { return t(lang, "chat.storyboard_label", nil) }

// StoryboardPlaceholder is the example in its empty text field.
func StoryboardPlaceholder(lang string) string {
	return t(lang, "chat.storyboard_placeholder", nil)
}

// ConsoleText is one of the console's own texts (chat.console_*), in lang.
func ConsoleText(lang, id string, args i18n.Args) string { return t(lang, id, args) }

// The "Animate" form (a Discord modal asking for the prompt).

// AnimateTitle is the form's title.
func AnimateTitle(lang string) string { return t(lang, "chat.animate_title", nil) }

// AnimateLabel is the label of its text field.
func AnimateLabel(lang string) string { return t(lang, "chat.animate_label", nil) }

// AnimatePlaceholder is the example in its empty text field.
func AnimatePlaceholder(lang string) string { return t(lang, "chat.animate_placeholder", nil) }

// Grammar errors (returned by Parse as *core.Error).

func errUnknownCommand(word string) error {
	return invalid("chat.unknown_command", i18n.Args{"Command": truncate(word, 40)})
}

func errUnknownOption(tok string) error {
	return invalid("chat.unknown_option", i18n.Args{"Option": truncate(tok, 40)})
}

func errModelUsage() error { return invalid("chat.model_usage", nil) }

func errBadDuration(tok string) error {
	return invalid("chat.bad_duration", i18n.Args{"Option": truncate(tok, 40)})
}

func errNotDuration(s string) error {
	return invalid("chat.not_duration", i18n.Args{"Value": truncate(s, 40)})
}

func errShotNeedsDuration(n int, line string) error {
	return invalid("chat.shot_needs_duration", i18n.Args{"Shot": n, "Line": truncate(line, 40)})
}

func errWholeSeconds(n int) error { return invalid("chat.whole_seconds", i18n.Args{"Shot": n}) }

func errShotTooLong(n int) error { return invalid("chat.shot_too_long", i18n.Args{"Shot": n}) }

func errJobUsage(cmd string) error { return invalid("chat.job_usage", i18n.Args{"Command": cmd}) }

func errBadJobID(s string) error {
	return invalid("chat.bad_job_id", i18n.Args{"Value": truncate(s, 40)})
}

func errGrantUsage() error { return invalid("chat.grant_usage", nil) }

func errBadUser(s string) error { return invalid("chat.bad_user", i18n.Args{"Value": truncate(s, 40)}) }
