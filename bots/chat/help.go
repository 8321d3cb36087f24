package chat

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"sorabot/core"
	"sorabot/i18n"
)

// Texts that explain the bot: /help, /start, /models. They show commands in
// the platform's syntax and only mention what the catalog offers.

// Help is the /help text: what the bot does, the commands, the options, the
// models with their prices, and examples.
func Help(lang string, cat *core.Catalog, protocol string, s Syntax) string {
	models := cat.Enabled(protocol)
	var b strings.Builder
	b.WriteString(t(lang, "chat.help_intro", nil) + "\n\n")
	b.WriteString(t(lang, "chat.help_commands", nil) + "\n")
	for _, sp := range specs {
		switch {
		case sp.Hidden, sp.Admin, sp.Name == CmdHelp, sp.TypedOnly && s == Slash:
		case sp.Name == CmdVideo:
			b.WriteString(videoHelp(lang, sp, models, s))
		case sp.Name == CmdStoryboard:
			if has(models, func(m *core.Model) bool { return m.Storyboard }) {
				b.WriteString(storyboardHelp(lang, sp, s))
			}
		default:
			fmt.Fprintf(&b, "%s — %s\n", s.Usage(sp), summaryOf(lang, sp))
		}
	}
	b.WriteString("\n" + optionsHelp(lang, models, s) + "\n")
	b.WriteString(modelsBody(lang, models, s))
	b.WriteString("\n" + t(lang, "chat.help_examples", nil) + "\n")
	for _, e := range examples(lang, models, s) {
		b.WriteString(e + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

// summaryOf is what a command does, in lang, as a help line continues it
// (the command menus' text, lowered).
func summaryOf(lang string, sp *Spec) string {
	return lowerFirst(sp.SummaryIn(lang))
}

func has(models []*core.Model, f func(*core.Model) bool) bool {
	return slices.ContainsFunc(models, f)
}

func videoHelp(lang string, sp *Spec, models []*core.Model, s Syntax) string {
	takesImages := has(models, func(m *core.Model) bool { return m.MaxImages > 0 })
	if s == Slash {
		line := fmt.Sprintf("%s — %s\n", s.Usage(sp), summaryOf(lang, sp))
		if takesImages {
			line += "   " + t(lang, "chat.help_video_image_slash", nil) + "\n"
		}
		return line
	}
	line := t(lang, "chat.help_video_typed", i18n.Args{"Summary": summaryOf(lang, sp)}) + "\n"
	if takesImages {
		line += "   " + t(lang, "chat.help_video_image_typed", nil) + "\n"
	}
	return line
}

func storyboardHelp(lang string, sp *Spec, s Syntax) string {
	if s == Slash {
		return t(lang, "chat.help_storyboard_slash", i18n.Args{"Usage": s.Usage(sp)}) + "\n"
	}
	return t(lang, "chat.help_storyboard_typed", nil) + "\n"
}

// optionsHelp lists /video's options and what the less obvious ones do.
func optionsHelp(lang string, models []*core.Model, s Syntax) string {
	if s == Slash {
		opts := []string{"orientation (landscape, portrait)"}
		if ds := videoDurations(models); len(ds) > 0 {
			var names []string
			for _, d := range ds {
				names = append(names, seconds(lang, d))
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
		return t(lang, "chat.help_options_slash", i18n.Args{"Options": strings.Join(opts, ", ")}) + "\n" +
			"   " + t(lang, "chat.help_options_slash_note", nil) + "\n"
	}
	return t(lang, "chat.help_options_typed", i18n.Args{"Options": strings.Join(optionList(models), " ")}) + "\n" +
		"   " + t(lang, "chat.help_options_typed_note", nil) + "\n"
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

func examples(lang string, models []*core.Model, s Syntax) []string {
	ex := []string{s.Example(CmdVideo, t(lang, "chat.example_long", nil))}
	// The longest duration of the model a plain /video picks, so that the
	// example needs no adjusting.
	neon := t(lang, "chat.example_portrait", nil)
	for _, m := range models {
		if !m.Storyboard && !m.Pro && m.MinImages == 0 && len(m.Durations) > 1 {
			d := m.Durations[len(m.Durations)-1]
			if s == Slash {
				ex = append(ex, fmt.Sprintf("/video prompt:%s orientation:portrait duration:%d s", neon, d))
			} else {
				ex = append(ex, fmt.Sprintf("/video --portrait --%ds %s", d, neon))
			}
			break
		}
	}
	for _, m := range models {
		if m.Storyboard && len(m.Durations) > 0 {
			d := m.Durations[0]
			dusk, runner := t(lang, "chat.example_scene_dusk", nil), t(lang, "chat.example_scene_runner", nil)
			shots := []string{fmt.Sprintf("%ds %s", d, dusk)}
			if d >= 2 {
				shots = []string{fmt.Sprintf("%ds %s", d/2, dusk), fmt.Sprintf("%ds %s", d-d/2, runner)}
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
func Start(lang string, cat *core.Catalog, protocol string, balance int, s Syntax) string {
	var b strings.Builder
	b.WriteString(t(lang, "chat.start_welcome", nil) + "\n")
	if p, ok := cheapest(cat.Enabled(protocol)); ok {
		b.WriteString(t(lang, "chat.start_balance_price", i18n.Args{"Balance": balance, "Price": p}))
	} else {
		b.WriteString(t(lang, "chat.start_balance", i18n.Args{"Balance": balance}))
	}
	b.WriteString("\n\n" + t(lang, "chat.start_try", i18n.Args{"Example": s.Example(CmdVideo, t(lang, "chat.example_short", nil))}))
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
func Models(lang string, cat *core.Catalog, protocol string, s Syntax) string {
	return strings.TrimRight(modelsBody(lang, cat.Enabled(protocol), s), "\n")
}

func modelsBody(lang string, models []*core.Model, s Syntax) string {
	if len(models) == 0 {
		return t(lang, "chat.models_none", nil) + "\n"
	}
	pro := "--pro"
	if s == Slash {
		pro = "pro"
	}
	var b strings.Builder
	b.WriteString(t(lang, "chat.models_title", nil) + "\n")
	for _, m := range models {
		b.WriteString("• " + m.ID)
		if title := m.TitleIn(lang); title != "" && title != m.ID {
			b.WriteString(" — " + title)
		}
		var tags []string
		if m.Storyboard {
			tags = append(tags, t(lang, "chat.tag_storyboard", nil))
		} else if m.MinImages > 0 {
			tags = append(tags, t(lang, "chat.tag_needs_image", nil))
		} else if m.MaxImages > 0 {
			tags = append(tags, t(lang, "chat.tag_text_or_images", nil))
		}
		if m.Pro {
			tags = append(tags, pro)
		}
		if len(tags) > 0 {
			b.WriteString(" (" + strings.Join(tags, ", ") + ")")
		}
		b.WriteString("\n   " + PriceList(lang, m) + "\n")
	}
	return b.String()
}

// PriceList is one model's prices, e.g. "10 s: 100 · 15 s: 150" or
// "10 s: 375 standard / 825 high · …".
func PriceList(lang string, m *core.Model) string {
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
			parts = append(parts, seconds(lang, d)+": "+strings.Join(ps, " / "))
		}
	}
	if len(parts) == 0 {
		return t(lang, "chat.no_prices", nil)
	}
	return strings.Join(parts, " · ")
}
