package chat

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"sorabot/core"
)

// Every text a user can see comes from this package (this file,
// texts_job.go, help.go, progress.go and the summaries in commands.go), so
// that translations can follow. Texts are plain (no Markdown): they read the
// same on Telegram, Discord and a terminal; where they show a command they
// take the platform's Syntax.

// Balance is the /balance text: "<N> credits", then the given ledger lines
// (newest first).
func Balance(a core.Account, ledger []core.LedgerEntry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d credits", a.Balance)
	if len(ledger) > 0 {
		b.WriteString("\n\nLast changes:")
	}
	for _, e := range ledger {
		fmt.Fprintf(&b, "\n%s  %s %+d", dateTime(e.Time), ledgerKind(e.Kind), e.Amount)
		if e.JobID != "" {
			b.WriteString("  job #" + e.JobID)
		}
	}
	return b.String()
}

func ledgerKind(kind string) string {
	switch kind {
	case core.LedgerGrant:
		return "welcome credits"
	case core.LedgerCharge:
		return "charge"
	case core.LedgerRefund:
		return "refund"
	case core.LedgerAdmin:
		return "admin"
	case core.LedgerPurchase:
		return "purchase"
	case core.LedgerPurchaseRefund:
		return "purchase refund"
	case core.LedgerAllowance:
		return "daily credits"
	case core.LedgerPromo:
		return "promo code"
	}
	return kind
}

// Granted confirms /grant.
func Granted(a core.Account) string {
	return fmt.Sprintf("✅ %s now has %d credits.", a.UserID, a.Balance)
}

// statsOrder is the order states are listed in.
var statsOrder = []core.State{core.Queued, core.Submitting, core.Submitted, core.Succeeded, core.Delivered, core.Failed, core.Canceled}

// Stats is the /stats text.
func Stats(s core.Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "📊 Users: %d\nJobs:", s.Users)
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
			fmt.Fprintf(&b, " %s %d ·", st, n)
			total += n
		}
	}
	if total == 0 {
		b.WriteString(" none")
	} else {
		fmt.Fprintf(&b, " total %d", total)
	}
	fmt.Fprintf(&b, "\nCredits charged: %d, refunded: %d, held by users: %d", s.Charged, s.Refunded, s.Credits)
	fmt.Fprintf(&b, "\nPurchases: %d (%d ⭐, %d credits, %d refunded) · daily credits: %d · promo codes: %d",
		s.Purchases, s.PurchaseStars, s.PurchaseCredits, s.PurchaseRefunded, s.Allowance, s.Promo)
	return b.String()
}

// ErrorText is the reply to a failed command: only the user-safe message.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	return "⚠️ " + core.ErrorMessage(err)
}

// truncate cuts s to at most n runes, ending in "…" when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return strings.TrimRight(string(rs[:n-1]), " ") + "…"
}

// NotAdmin answers an admin command from someone else.
func NotAdmin() string { return "⛔ Only admins can do that." }

// UnknownCommand answers a command the bot does not know.
func UnknownCommand(word string) string {
	return fmt.Sprintf("I don't know the command %s. Send /help to see what I can do.", truncate(word, 40))
}

// PlainText answers a message that is not a command (in a private chat).
func PlainText() string {
	return "Send /video followed by a description, like: /video A corgi surfing a wave at sunset\n/help lists options and prices."
}

// NoTarget asks an admin who to grant credits to.
func NoTarget() string {
	return "Whose credits? Write /grant telegram:123 500, or reply to the user's message with /grant 500."
}

// RepeatButton labels the button under a delivered video that repeats the request.
func RepeatButton() string { return "🔁 Again" }

// RepeatNotYours answers the repeat button pressed by someone else.
func RepeatNotYours() string { return "Only the person who asked for this video can repeat it." }

// RepeatStarted acknowledges the repeat button.
func RepeatStarted() string { return "🔁 Making it again…" }

// ResendGone answers /job for a delivered video whose file is no longer kept.
func ResendGone() string { return "This video is no longer kept here." }

// Pictures a user gave that cannot be used (the frontends wrap these in
// EINVALID errors).

// PictureTooBigToFetch: Telegram lets bots download files up to 20 MB.
func PictureTooBigToFetch() string {
	return "This picture is too big for a bot to download (over 20 MB)."
}

// PictureTooBig says an attachment's size and the limit, in MiB.
func PictureTooBig(size int64, limit int64) string {
	return fmt.Sprintf("The picture is %.1f MiB; the limit is %d MiB.", float64(size)/(1<<20), limit>>20)
}

// PictureOverLimit says a downloaded picture passed the limit.
func PictureOverLimit(limit int64) string {
	return fmt.Sprintf("The picture is over %d MiB.", limit>>20)
}

// NotAPicture answers an attachment that is not an image.
func NotAPicture() string {
	return "The attachment is not a picture: attach a PNG, JPEG or WebP image."
}

// PictureLinkInvalid answers an attachment whose link cannot be fetched.
func PictureLinkInvalid() string { return "The picture's link is not valid." }

// PictureExpired answers an attachment that could not be downloaded.
func PictureExpired() string {
	return "The picture could not be downloaded (it may have expired): send it again."
}

// PromptRequired answers a form sent without a prompt.
func PromptRequired() string { return "Please describe the video you want: a prompt is required." }

// The storyboard form (a Discord modal).
const (
	StoryboardTitle       = "Storyboard"
	StoryboardLabel       = "One shot per line: 5s A city at dusk"
	StoryboardPlaceholder = "5s A city at dusk\n5s A runner crosses the bridge"
)

// Grammar errors (returned by Parse as core.Error messages).

func msgUnknownOption(tok string) string {
	return fmt.Sprintf("Unknown option %s. Options: --portrait --landscape --10s --15s --25s --hd --pro --watermark --private --model=<id>.", truncate(tok, 40))
}

func msgModelUsage() string {
	return "Write the model as --model=<id>, e.g. --model=sora-2. /models lists them."
}

func msgBadDuration(tok string) string {
	return fmt.Sprintf("%s is not a duration I can make: write it like --10s.", truncate(tok, 40))
}

func msgNotDuration(s string) string {
	return fmt.Sprintf("%q is not a duration: write seconds, like 15s.", truncate(s, 40))
}

func msgShotNeedsDuration(n int, line string) string {
	return fmt.Sprintf("Shot %d needs a duration, like \"5s %s\".", n, truncate(line, 40))
}

func msgWholeSeconds(n int) string {
	return fmt.Sprintf("Shot %d: durations are whole seconds, like \"3s A runner\".", n)
}

func msgShotTooLong(n int) string {
	return fmt.Sprintf("Shot %d is far too long: shots add up to a few seconds.", n)
}

func msgJobUsage(cmd string) string {
	return fmt.Sprintf("Which job? Write /%s 12 (/history lists your jobs).", cmd)
}

func msgBadJobID(s string) string {
	return fmt.Sprintf("%q is not a job number. /history lists your jobs.", truncate(s, 40))
}

func msgGrantUsage() string {
	return "Usage: /grant telegram:123 500 adds credits, /grant telegram:123 =500 sets them (or reply to the user's message with /grant 500)."
}

func msgBadUser(s string) string {
	return fmt.Sprintf("%q is not a user: write it like telegram:123, discord:456 or console:name.", truncate(s, 40))
}
