package telegram_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
	"sorabot/i18n"
)

var tgFrontend = chattest.Frontend{Syntax: chat.Typed, User: tgUser}

// The menu is the shared command list without the hidden and admin ones,
// registered with the description and the short description in every
// language: English as Telegram's default, each other language for the
// users whose client speaks it.
func TestTelegramMenu(t *testing.T) {
	env := chattest.NewEnv(t, tgFrontend)
	d := startTelegram(t, env, env.Provider)
	d.Send(t, 1, chat.CmdHelp) // Run has registered the menu by the time it answers
	want := []string{"video", "storyboard", "balance", "buy", "redeem", "history", "job", "cancel", "models", "language", "help", "paysupport", "terms"}
	for _, lang := range i18n.Languages {
		code := lang
		if lang == i18n.Default {
			code = ""
		}
		var names []string
		for _, c := range d.fake.CommandsIn(code) {
			names = append(names, c.Command)
			if sp := chat.Lookup(c.Command); sp == nil || c.Description != sp.SummaryIn(lang) {
				t.Errorf("%s menu entry %+v", lang, c)
			}
		}
		if !slices.Equal(names, want) {
			t.Errorf("%s menu %v, want %v", lang, names, want)
		}
		if got := d.fake.Description(code); got != i18n.T(lang, "bot.description", nil) {
			t.Errorf("%s description %q", lang, got)
		}
		if got := d.fake.ShortDescription(code); got != i18n.T(lang, "bot.short_description", nil) {
			t.Errorf("%s short description %q", lang, got)
		}
	}
	if got := d.fake.CommandsIn("en"); got != nil {
		t.Errorf("English has a menu of its own besides the default: %v", got)
	}
	// The translations themselves, not just whatever the catalog holds.
	for lang, want := range map[string]string{
		"":   "Make a video from a description",
		"it": "Crea un video da una descrizione",
		"zh": "根据描述生成视频",
		"es": "Crea un vídeo a partir de una descripción",
		"pt": "Crie um vídeo a partir de uma descrição",
		"ru": "Создать видео по описанию",
	} {
		if m := d.fake.CommandsIn(lang); len(m) == 0 || m[0].Description != want {
			t.Errorf("/video in %q: %v, want %q", lang, m, want)
		}
	}
	if got := d.fake.Description("it"); !strings.Contains(got, "crediti") {
		t.Errorf("Italian description %q", got)
	}
	if got := d.fake.ShortDescription("zh"); !strings.Contains(got, "短视频") {
		t.Errorf("Chinese short description %q", got)
	}
}

// refusing is a provider that refuses every job at once.
type refusing struct{}

func (refusing) Submit(context.Context, *core.Model, *core.Request) (string, error) {
	return "", testErrorf(core.EINVALID, "The provider refused the prompt.")
}

func (refusing) Status(context.Context, *core.Model, string) (core.TaskStatus, error) {
	return core.TaskStatus{}, testErrorf(core.ENOTFOUND, "no task")
}

// With SORABOT_LANGUAGE set, that language is Telegram's default (what
// users of a language without its own menu see), and English gets a menu
// of its own like the other languages.
func TestTelegramMenuDefaultIsTheOperatorsLanguage(t *testing.T) {
	env := chattest.NewEnv(t, tgFrontend)
	env.Config.Language = "it"
	d := startTelegram(t, env, env.Provider)
	d.Send(t, 1, chat.CmdHelp) // Run has registered the menu by the time it answers
	for code, lang := range map[string]string{"": "it", "en": "en", "zh": "zh"} {
		if m := d.fake.CommandsIn(code); len(m) == 0 || m[0].Description != chat.Lookup(chat.CmdVideo).SummaryIn(lang) {
			t.Errorf("menu for %q: %v, want it in %s", code, m, lang)
		}
		if got := d.fake.Description(code); got != i18n.T(lang, "bot.description", nil) {
			t.Errorf("description for %q: %q, want it in %s", code, got, lang)
		}
	}
	if got := d.fake.CommandsIn("it"); got != nil {
		t.Errorf("Italian has a menu of its own besides the default: %v", got)
	}
}

// A job gets one status message even when it ends while that message is
// still being posted: the end is shown in it, not in a second message.
func TestTelegramEarlyEndEditsTheStatusMessage(t *testing.T) {
	env := chattest.NewEnv(t, tgFrontend)
	d := startTelegram(t, env, refusing{})
	const chatID = 1002
	d.fake.SetDelay("sendMessage", 300*time.Millisecond)
	d.fake.SendText(chatID, chatID, "/video refused at once")
	failed := "❌ Job #1 failed: The provider refused the prompt. Your 100 credits were refunded."
	if _, ok := d.fake.WaitBotMessage(chattest.Deadline, chatID, func(m telegramtest.BotMessage) bool { return m.Text == failed }); !ok {
		t.Fatalf("no failure shown; messages %+v", d.fake.BotMessages(chatID))
	}
	var about []telegramtest.BotMessage
	for _, m := range d.fake.BotMessages(chatID) {
		if strings.Contains(m.Text, "Job #1") {
			about = append(about, m)
		}
	}
	if len(about) != 1 || about[0].Edits != 1 || about[0].ReplyTo == 0 {
		t.Fatalf("messages about job 1: %+v, want one status message edited once", about)
	}
}

// testErrorf is a user-facing error whose message is no catalog message.
func testErrorf(code, format string, args ...any) *core.Error {
	return &core.Error{Code: code, ID: "test.error", Message: fmt.Sprintf(format, args...)}
}
