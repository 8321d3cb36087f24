// Package i18n holds every text a user sees, in six languages, and picks a
// user's language.
//
// The messages live in embedded JSON files, locales/<area>.<lang>.json (one
// area per part of the bot, each in every language), in go-i18n's format: a message is a string or, when
// it depends on a number, an object of CLDR plural forms ("one", "few",
// "many", "other"). Templates name their arguments: {{.Name}}; a plural
// message gets its number as {{.Count}}.
//
// The library (github.com/nicksnyder/go-i18n/v2) brings the CLDR plural rules
// of every language (Russian 1 кредит, 2 кредита, 5 кредитов; Italian,
// Spanish and Portuguese "many" for millions), which a hand-made map would
// have to copy.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"slices"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Default is the language used when nothing better is known.
const Default = "en"

// Languages are the supported languages, in the order /language lists them.
var Languages = []string{"en", "it", "zh", "es", "pt", "ru"}

//go:embed locales/*.json
var files embed.FS

// Args are a message's named arguments.
type Args map[string]any

var (
	bundle     *goi18n.Bundle
	localizers = map[string]*goi18n.Localizer{}
)

func init() {
	b, err := load()
	if err != nil {
		panic(err) // the files are embedded and tested: this is a build error
	}
	bundle = b
	for _, l := range Languages {
		localizers[l] = goi18n.NewLocalizer(b, l)
	}
}

func load() (*goi18n.Bundle, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	names, err := fs.Glob(files, "locales/*.json")
	if err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	for _, name := range names {
		if lang := fileLanguage(name); !slices.Contains(Languages, lang) {
			return nil, fmt.Errorf("i18n: %s: %q is not a supported language", name, lang)
		}
		data, err := files.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		if _, err := b.ParseMessageFileBytes(data, name); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
	}
	return b, nil
}

// fileLanguage is the language of locales/<area>.<lang>.json.
func fileLanguage(name string) string {
	base := strings.TrimSuffix(path.Base(name), ".json")
	return base[strings.LastIndexByte(base, '.')+1:]
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	_, ok := localizers[lang]
	return ok
}

// Match maps a language tag as a platform sends it (Telegram "it",
// "pt-br", "zh-hans"; Discord "en-US", "zh-CN", "es-ES") to a supported
// language: the tag itself, else its base language. It returns "" when
// neither is supported.
func Match(tag string) string {
	t := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(tag, "_", "-")))
	if Supported(t) {
		return t
	}
	base, _, _ := strings.Cut(t, "-")
	if Supported(base) {
		return base
	}
	return ""
}

// Pick returns the first of tags that Match maps to a supported language,
// else def (itself matched), else Default.
func Pick(def string, tags ...string) string {
	for _, t := range tags {
		if l := Match(t); l != "" {
			return l
		}
	}
	if l := Match(def); l != "" {
		return l
	}
	return Default
}

// DiscordLocale is the key Discord uses for lang in name_localizations and
// description_localizations ("zh" → "zh-CN"); "" for the default language,
// whose texts are the commands' own.
func DiscordLocale(lang string) string {
	switch lang {
	case "it", "ru":
		return lang
	case "zh":
		return "zh-CN"
	case "es":
		return "es-ES"
	case "pt":
		return "pt-BR"
	}
	return ""
}

// T returns message id in lang with args. A message missing in lang falls
// back to English, and a message missing everywhere to its id (logged).
func T(lang, id string, args Args) string {
	return localize(lang, &goi18n.LocalizeConfig{MessageID: id, TemplateData: args})
}

// N returns the plural message id in lang for count; count is also
// {{.Count}} in the template.
func N(lang, id string, count int, args Args) string {
	data := Args{"Count": count}
	for k, v := range args {
		data[k] = v
	}
	return localize(lang, &goi18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
}

// Credits is "<N> <word>" in lang: "1 credit", "5 кредитов", "1000 积分".
func Credits(lang string, n int) string { return N(lang, "credits", n, nil) }

func localize(lang string, lc *goi18n.LocalizeConfig) string {
	loc := localizers[lang]
	if loc == nil {
		loc = localizers[Default]
	}
	s, err := loc.Localize(lc)
	if err == nil {
		return s
	}
	if lang != Default {
		if s, err2 := localizers[Default].Localize(lc); err2 == nil {
			slog.Warn("i18n: message missing in language; using English", "lang", lang, "id", lc.MessageID, "err", err)
			return s
		}
	}
	slog.Error("i18n: message missing", "lang", lang, "id", lc.MessageID, "err", err)
	return lc.MessageID
}

func localizeConfig(id string, n int) *goi18n.LocalizeConfig {
	return &goi18n.LocalizeConfig{MessageID: id, TemplateData: Args{"Count": n}, PluralCount: n}
}
