package chat

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"sorabot/core"
	"sorabot/i18n"
)

// Texts that explain the bot: /help, /start, /models. They show commands in
// the platform's syntax and only mention what the catalog offers.

// Help is the /help text: what the bot does, the commands, the options, the
// models with their prices, and examples.
func Help(cat *core.Catalog, protocol string, s Syntax) string {
	models := cat.Enabled(protocol)
	var b strings.Builder
	b.WriteString("🎬 I turn a text (or a photo) into a short video.\n\n")
	b.WriteString("Commands:\n")
	for _, sp := range specs {
		switch {
		case sp.Hidden, sp.Admin, sp.Name == CmdHelp, sp.TypedOnly && s == Slash:
		case sp.Name == CmdVideo:
			b.WriteString(videoHelp(sp, models, s))
		case sp.Name == CmdStoryboard:
			if has(models, func(m *core.Model) bool { return m.Storyboard }) {
				b.WriteString(storyboardHelp(sp, s))
			}
		default:
			fmt.Fprintf(&b, "%s — %s\n", s.Usage(sp), lowerFirst(sp.SummaryIn(i18n.Default)))
		}
	}
	b.WriteString("\n" + optionsHelp(models, s) + "\n")
	b.WriteString(modelsBody(models, s))
	b.WriteString("\nExamples:\n")
	for _, e := range examples(models, s) {
		b.WriteString(e + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
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

func has(models []*core.Model, f func(*core.Model) bool) bool {
	return slices.ContainsFunc(models, f)
}

func videoHelp(sp *Spec, models []*core.Model, s Syntax) string {
	takesImages := has(models, func(m *core.Model) bool { return m.MaxImages > 0 })
	if s == Slash {
		line := fmt.Sprintf("%s — %s\n", s.Usage(sp), lowerFirst(sp.SummaryIn(i18n.Default)))
		if takesImages {
			line += "   Add image:<picture> to animate a picture, or use Apps → Animate on a message with pictures.\n"
		}
		return line
	}
	line := "/video [options] <prompt> — " + lowerFirst(sp.SummaryIn(i18n.Default)) + "\n"
	if takesImages {
		line += "   Attach a photo with the command as its caption (or reply to a photo) to animate it.\n"
	}
	return line
}

func storyboardHelp(sp *Spec, s Syntax) string {
	if s == Slash {
		return s.Usage(sp) + " — a storyboard: shots like \"5s A city at dusk | 5s A runner\" (leave shots out to type one shot per line)\n"
	}
	return "/storyboard [options] then one shot per line, like \"5s A city at dusk\"\n"
}

// optionsHelp lists /video's options and what the less obvious ones do.
func optionsHelp(models []*core.Model, s Syntax) string {
	if s == Slash {
		opts := []string{"orientation (landscape, portrait)"}
		if ds := videoDurations(models); len(ds) > 0 {
			var names []string
			for _, d := range ds {
				names = append(names, fmt.Sprintf("%d s", d))
			}
			opts = append(opts, "duration ("+strings.Join(names, ", ")+")")
		}
		if qs := qualities(models); len(qs) > 1 {
			opts = append(opts, "quality ("+strings.Join(qs, ", ")+")")
		}
		opts = append(opts, "pro", "watermark")
		if has(models, func(m *core.Model) bool { return m.PrivateOption }) {
			opts = append(opts, "private")
		}
		opts = append(opts, "model")
		return "Options of /video: " + strings.Join(opts, ", ") + "\n" +
			"   pro picks the pro model, quality its higher quality, watermark accepts a watermarked video.\n"
	}
	return "Options: " + strings.Join(optionList(models), " ") + "\n" +
		"   --pro picks the pro model, --hd its higher quality, --watermark accepts a watermarked video.\n"
}

// optionList is the typed /video options the models offer.
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

// qualities are the models' quality names, in catalog order.
func qualities(models []*core.Model) []string {
	var qs []string
	for _, m := range models {
		for _, q := range m.Qualities {
			if !slices.Contains(qs, q) {
				qs = append(qs, q)
			}
		}
	}
	return qs
}

func examples(models []*core.Model, s Syntax) []string {
	ex := []string{s.Example(CmdVideo, "A corgi surfing a wave at sunset, cinematic")}
	// The longest duration of the model a plain /video picks, so that the
	// example needs no adjusting.
	for _, m := range models {
		if !m.Storyboard && !m.Pro && m.MinImages == 0 && len(m.Durations) > 1 {
			d := m.Durations[len(m.Durations)-1]
			if s == Slash {
				ex = append(ex, fmt.Sprintf("/video prompt:Neon rain over a quiet Tokyo street orientation:portrait duration:%d s", d))
			} else {
				ex = append(ex, fmt.Sprintf("/video --portrait --%ds Neon rain over a quiet Tokyo street", d))
			}
			break
		}
	}
	for _, m := range models {
		if m.Storyboard && len(m.Durations) > 0 {
			d := m.Durations[0]
			shots := []string{fmt.Sprintf("%ds A city at dusk", d)}
			if d >= 2 {
				shots = []string{fmt.Sprintf("%ds A city at dusk", d/2), fmt.Sprintf("%ds A runner crosses the bridge", d-d/2)}
			}
			if s == Slash {
				ex = append(ex, "/storyboard shots:"+strings.Join(shots, " | "))
			} else {
				ex = append(ex, "/storyboard\n"+strings.Join(shots, "\n"))
			}
			break
		}
	}
	return ex
}

// Start is the welcome text of /start.
func Start(cat *core.Catalog, protocol string, balance int, s Syntax) string {
	var b strings.Builder
	b.WriteString("👋 Welcome! I make short videos from your words or photos.\n")
	fmt.Fprintf(&b, "You have %d credits", balance)
	if p, ok := cheapest(cat.Enabled(protocol)); ok {
		fmt.Fprintf(&b, "; a video costs from %d credits", p)
	}
	b.WriteString(".\n\nTry: " + s.Example(CmdVideo, "A corgi surfing a wave at sunset") + "\nSend /help for options, prices and examples.")
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
func Models(cat *core.Catalog, protocol string, s Syntax) string {
	return strings.TrimRight(modelsBody(cat.Enabled(protocol), s), "\n")
}

func modelsBody(models []*core.Model, s Syntax) string {
	if len(models) == 0 {
		return "No models are available right now.\n"
	}
	pro := "--pro"
	if s == Slash {
		pro = "pro"
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
			tags = append(tags, pro)
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
