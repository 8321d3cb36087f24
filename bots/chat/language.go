package chat

import (
	"strings"

	"sorabot/i18n"
)

// /language: alone it lists the languages (with a button for each where
// the platform has buttons), with a code it stores the user's choice.

const languagePrefix = "lang:"

// LanguageData is the button data (Telegram callback_data) choosing lang.
func LanguageData(lang string) string { return languagePrefix + lang }

// LanguageCommand is the /language command a pressed language button
// stands for; ok is false for data that is not a language button's.
func LanguageCommand(data string) (cmd Command, ok bool) {
	code, ok := strings.CutPrefix(data, languagePrefix)
	if !ok {
		return Command{}, false
	}
	return Command{Name: CmdLanguage, Args: []string{code}}, true
}

// languageArg is /language's argument: a code, one of the languages.
func languageArg() Arg {
	a := Arg{Name: "code", Hint: "code", Help: "arg.language_code", Optional: true}
	for _, l := range i18n.Languages {
		a.Choices = append(a.Choices, Choice{Label: LanguageName(l), Value: l})
	}
	return a
}

// LanguageName is a language's name in itself ("Italiano").
func LanguageName(lang string) string { return i18n.T(lang, "language.name", nil) }

// languageButtons offer every language.
func languageButtons() []Choice {
	var bs []Choice
	for _, l := range i18n.Languages {
		bs = append(bs, Choice{Label: LanguageName(l), Value: LanguageData(l)})
	}
	return bs
}

// Languages is the answer to /language alone, in lang: the current
// language, the choices, and how to choose.
func Languages(lang string, s Syntax) string {
	var b strings.Builder
	b.WriteString(t(lang, "language.current", i18n.Args{"Language": LanguageName(lang)}))
	for _, l := range i18n.Languages {
		b.WriteString("\n" + l + " — " + LanguageName(l))
	}
	b.WriteString("\n\n" + t(lang, "chat.language_hint", i18n.Args{"Example": s.Example(CmdLanguage, "it")}))
	return b.String()
}

func (r *runner) language() Reply {
	lang := r.call.Lang
	if len(r.call.Command.Args) == 0 {
		return Reply{Text: Languages(lang, r.call.Syntax), Buttons: languageButtons()}
	}
	code := r.call.Command.Args[0]
	chosen := i18n.Match(code)
	if chosen == "" {
		return Reply{Text: t(lang, "language.unknown", i18n.Args{"Code": truncate(code, 20), "Choices": strings.Join(i18n.Languages, ", ")}),
			Buttons: languageButtons()}
	}
	if err := r.svc.SetLanguage(r.ctx, r.call.User, chosen); err != nil {
		return failed(lang, err)
	}
	return Reply{Text: t(chosen, "language.set", nil)}
}
