// Package i18n holds every text a user sees, in six languages, and picks a
// user's language.
//
// The messages live in embedded JSON files, locales/<area>.<lang>.json (one
// area per part of the bot, each in every language), in go-i18n's format: a message is a string or, when
// it depends on a number, an object of CLDR plural forms ("one", "few",
// "many", "other"). Templates name their arguments: {{.Name}}; a plural
// message gets its number as {{.Count}}. Two functions help: {{credits .N}}
// is an amount of credits in the language's words ("5 кредитов"), and
// {{either .List}} ends a list written "10, 15, 25" with the language's
// "or" ("10, 15 o 25").
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
	"sync"
	"text/template"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	i18ntemplate "github.com/nicksnyder/go-i18n/v2/i18n/template"
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
	parsers    = map[string]*parser{}
)

func init() {
	b, err := load()
	if err != nil {
		panic(err) // the files are embedded and tested: this is a build error
	}
	bundle = b
	for _, l := range Languages {
		localizers[l] = goi18n.NewLocalizer(b, l)
		parsers[l] = newParser(l)
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
	return localize(lang, &goi18n.LocalizeConfig{MessageID: id, TemplateData: map[string]any(args)})
}

// Has reports whether the catalog has message id (in English, and so, as
// the tests check, in every language).
func Has(id string) bool {
	_, err := localizers[Default].Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateParser: i18ntemplate.IdentityParser{}})
	return err == nil
}

// Raw is message id's template in lang, unrendered ("" when missing).
func Raw(lang, id string) string {
	loc := localizers[lang]
	if loc == nil {
		return ""
	}
	s, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateParser: i18ntemplate.IdentityParser{}})
	if err != nil {
		return ""
	}
	return s
}

// N returns the plural message id in lang for count; count is also
// {{.Count}} in the template.
func N(lang, id string, count int, args Args) string {
	data := Args{"Count": count}
	for k, v := range args {
		data[k] = v
	}
	return localize(lang, &goi18n.LocalizeConfig{MessageID: id, TemplateData: map[string]any(data), PluralCount: count})
}

// Credits is "<N> <word>" in lang: "1 credit", "5 кредитов", "1000 积分".
func Credits(lang string, n int) string { return N(lang, "credits", n, nil) }

func localize(lang string, lc *goi18n.LocalizeConfig) string {
	loc := localizers[lang]
	if loc == nil {
		lang, loc = Default, localizers[Default]
	}
	lc.TemplateParser = parsers[lang]
	s, err := loc.Localize(lc)
	if err == nil {
		return s
	}
	if lang != Default {
		lc.TemplateParser = parsers[Default]
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

// parser parses templates with the functions of one language, keeping what
// it parsed (the library caches only templates without functions).
type parser struct {
	funcs template.FuncMap
	cache sync.Map // source → i18ntemplate.ParsedTemplate
}

func newParser(lang string) *parser {
	or, err := localizers[lang].Localize(&goi18n.LocalizeConfig{MessageID: "or", TemplateParser: i18ntemplate.IdentityParser{}})
	if err != nil {
		or = "or"
	}
	return &parser{funcs: template.FuncMap{
		"credits": func(n any) string {
			switch n := n.(type) {
			case int:
				return Credits(lang, n)
			case int64:
				return Credits(lang, int(n))
			case float64:
				return Credits(lang, int(n))
			}
			return fmt.Sprint(n)
		},
		"either": func(list any) string {
			s := fmt.Sprint(list)
			i := strings.LastIndex(s, ", ")
			if i < 0 {
				return s
			}
			return s[:i] + " " + or + " " + s[i+2:]
		},
	}}
}

// Cacheable is false: the library must not cache what it would parse
// without this language's functions; parse caches by itself.
func (p *parser) Cacheable() bool { return false }

// Parse implements the library's template parser.
func (p *parser) Parse(src, left, right string) (i18ntemplate.ParsedTemplate, error) {
	if t, ok := p.cache.Load(src); ok {
		return t.(i18ntemplate.ParsedTemplate), nil
	}
	tp := &i18ntemplate.TextParser{LeftDelim: left, RightDelim: right, Funcs: p.funcs}
	t, err := tp.Parse(src, left, right)
	if err != nil {
		return nil, err
	}
	p.cache.Store(src, t)
	return t, nil
}
