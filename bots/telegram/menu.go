package telegram

import (
	"context"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"sorabot/bots/chat"
	"sorabot/i18n"
)

// menu is the command menu Telegram clients show in lang: every command but
// the hidden and the admin ones.
func menu(lang string) []models.BotCommand {
	var cmds []models.BotCommand
	for _, sp := range chat.Specs() {
		if !sp.Hidden && !sp.Admin {
			cmds = append(cmds, models.BotCommand{Command: sp.Name, Description: sp.SummaryIn(lang)})
		}
	}
	return cmds
}

// register sets the command menu, the description (shown in an empty chat)
// and the short description (on the profile page) for every language: the
// operator's default language's (SORABOT_LANGUAGE) as Telegram's default
// (no language_code), which users of other languages see, the others for
// users whose client uses that language. A failure is logged and the bot
// carries on: the menu and the descriptions are conveniences.
func (b *Bot) register(ctx context.Context) {
	def := chat.NewCommands(b.svc).DefaultLang()
	for _, lang := range i18n.Languages {
		code := lang // Telegram's language_code: the two-letter code
		if lang == def {
			code = ""
		}
		if _, err := b.api.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: menu(lang), LanguageCode: code}); err != nil {
			b.log.Warn("setMyCommands", "lang", lang, "err", redact(err, b.opt.Token))
		}
		if _, err := b.api.SetMyDescription(ctx, &tg.SetMyDescriptionParams{
			Description: i18n.T(lang, "bot.description", nil), LanguageCode: code}); err != nil {
			b.log.Warn("setMyDescription", "lang", lang, "err", redact(err, b.opt.Token))
		}
		if _, err := b.api.SetMyShortDescription(ctx, &tg.SetMyShortDescriptionParams{
			ShortDescription: i18n.T(lang, "bot.short_description", nil), LanguageCode: code}); err != nil {
			b.log.Warn("setMyShortDescription", "lang", lang, "err", redact(err, b.opt.Token))
		}
	}
}
