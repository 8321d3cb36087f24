package chat

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"sorabot/core"
)

// Every text a user can see comes from this file and texts_job.go, so that
// translations can follow. Texts are plain (no Markdown): they read the same
// on Telegram, Discord and a terminal.

// Help is the /help text: what the bot does, its options, the models with
// their prices, and examples. It only mentions what the catalog offers.
func Help(cat *core.Catalog, protocol string) string {
	models := cat.Enabled(protocol)
	var b strings.Builder
	b.WriteString("🎬 I turn a text (or a photo) into a short video.\n\n")
	b.WriteString("Commands:\n")
	b.WriteString("/video [options] <prompt> — make a video from a description\n")
	if has(models, func(m *core.Model) bool { return m.MaxImages > 0 }) {
		b.WriteString("   Attach a photo with the command as its caption (or reply to a photo) to animate it.\n")
	}
	if has(models, func(m *core.Model) bool { return m.Storyboard }) {
		b.WriteString("/storyboard [options] then one shot per line, like \"5s A city at dusk\"\n")
	}
	b.WriteString("/balance — your credits and last changes\n")
	b.WriteString("/history — your last jobs\n")
	b.WriteString("/job <id> — a job's details (sends a finished video again)\n")
	b.WriteString("/cancel <id> — cancel a job that is still waiting (refunded)\n")
	b.WriteString("/models — the models and their prices\n\n")
	b.WriteString("Options: " + strings.Join(optionList(models), " ") + "\n")
	b.WriteString("   --pro picks the pro model, --hd its higher quality, --watermark accepts a watermarked video.\n\n")
	b.WriteString(modelsBody(models))
	b.WriteString("\nExamples:\n")
	for _, e := range examples(models) {
		b.WriteString(e + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func has(models []*core.Model, f func(*core.Model) bool) bool {
	return slices.ContainsFunc(models, f)
}

// optionList is the /video options the models offer.
func optionList(models []*core.Model) []string {
	opts := []string{"--portrait", "--landscape"}
	for _, d := range videoDurations(models) {
		opts = append(opts, fmt.Sprintf("--%ds", d))
	}
	if has(models, func(m *core.Model) bool { return len(m.Qualities) > 1 }) {
		opts = append(opts, "--hd")
	}
	if has(models, func(m *core.Model) bool { return m.Pro && !m.Storyboard }) {
		opts = append(opts, "--pro")
	}
	if has(models, func(m *core.Model) bool { return m.WatermarkOption }) {
		opts = append(opts, "--watermark")
	}
	if has(models, func(m *core.Model) bool { return m.PrivateOption }) {
		opts = append(opts, "--private")
	}
	return append(opts, "--model=<id>")
}

// videoDurations are the durations of the non-storyboard models, ascending.
func videoDurations(models []*core.Model) []int {
	var ds []int
	for _, m := range models {
		if m.Storyboard {
			continue
		}
		for _, d := range m.Durations {
			if !slices.Contains(ds, d) {
				ds = append(ds, d)
			}
		}
	}
	sort.Ints(ds)
	return ds
}

func examples(models []*core.Model) []string {
	ex := []string{"/video A corgi surfing a wave at sunset, cinematic"}
	// The longest duration of the model a plain /video picks, so that the
	// example needs no adjusting.
	for _, m := range models {
		if !m.Storyboard && !m.Pro && m.MinImages == 0 && len(m.Durations) > 1 {
			ex = append(ex, fmt.Sprintf("/video --portrait --%ds Neon rain over a quiet Tokyo street", m.Durations[len(m.Durations)-1]))
			break
		}
	}
	for _, m := range models {
		if m.Storyboard && len(m.Durations) > 0 {
			d := m.Durations[0]
			if d < 2 {
				ex = append(ex, fmt.Sprintf("/storyboard\n%ds A city at dusk", d))
			} else {
				ex = append(ex, fmt.Sprintf("/storyboard\n%ds A city at dusk\n%ds A runner crosses the bridge", d/2, d-d/2))
			}
			break
		}
	}
	return ex
}

// Start is the welcome text of /start.
func Start(cat *core.Catalog, protocol string, balance int) string {
	var b strings.Builder
	b.WriteString("👋 Welcome! I make short videos from your words or photos.\n")
	fmt.Fprintf(&b, "You have %d credits", balance)
	if p, ok := cheapest(cat.Enabled(protocol)); ok {
		fmt.Fprintf(&b, "; a video costs from %d credits", p)
	}
	b.WriteString(".\n\nTry: /video A corgi surfing a wave at sunset\nSend /help for options, prices and examples.")
	return b.String()
}

func cheapest(models []*core.Model) (int, bool) {
	best, found := 0, false
	for _, m := range models {
		for _, p := range m.Prices {
			if !found || p < best {
				best, found = p, true
			}
		}
	}
	return best, found
}

// Models is the /models text: the enabled models with their prices.
func Models(cat *core.Catalog, protocol string) string {
	return strings.TrimRight(modelsBody(cat.Enabled(protocol)), "\n")
}

func modelsBody(models []*core.Model) string {
	if len(models) == 0 {
		return "No models are available right now.\n"
	}
	var b strings.Builder
	b.WriteString("Models and prices (credits):\n")
	for _, m := range models {
		b.WriteString("• " + m.ID)
		if m.Title != "" && m.Title != m.ID {
			b.WriteString(" — " + m.Title)
		}
		var tags []string
		if m.Storyboard {
			tags = append(tags, "storyboard")
		} else if m.MinImages > 0 {
			tags = append(tags, "needs an image")
		} else if m.MaxImages > 0 {
			tags = append(tags, "text or images")
		}
		if m.Pro {
			tags = append(tags, "--pro")
		}
		if len(tags) > 0 {
			b.WriteString(" (" + strings.Join(tags, ", ") + ")")
		}
		b.WriteString("\n   " + PriceList(m) + "\n")
	}
	return b.String()
}

// PriceList is one model's prices, e.g. "10 s: 100 · 15 s: 150" or
// "10 s: 375 standard / 825 high · …".
func PriceList(m *core.Model) string {
	var parts []string
	for _, d := range m.Durations {
		var ps []string
		if len(m.Qualities) <= 1 {
			if p, ok := m.Price(d, m.DefaultQuality()); ok {
				ps = append(ps, fmt.Sprint(p))
			}
		} else {
			for _, q := range m.Qualities {
				if p, ok := m.Price(d, q); ok {
					ps = append(ps, fmt.Sprintf("%d %s", p, q))
				}
			}
		}
		if len(ps) > 0 {
			parts = append(parts, fmt.Sprintf("%d s: %s", d, strings.Join(ps, " / ")))
		}
	}
	if len(parts) == 0 {
		return "no prices set"
	}
	return strings.Join(parts, " · ")
}

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
