package telegramtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// Commands, description and short description are kept per language_code,
// the default apart; the getters answer exactly the language asked for.
func TestSettingsPerLanguage(t *testing.T) {
	s := newServer(t, Options{})
	b, _, _ := newClient(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	en := []models.BotCommand{{Command: "video", Description: "Make a video"}}
	it := []models.BotCommand{{Command: "video", Description: "Crea un video"}}
	for _, p := range []*bot.SetMyCommandsParams{{Commands: en}, {Commands: it, LanguageCode: "it"}} {
		if _, err := b.SetMyCommands(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*bot.SetMyDescriptionParams{{Description: "Videos"}, {Description: "Видео", LanguageCode: "ru"}} {
		if _, err := b.SetMyDescription(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.SetMyShortDescription(ctx, &bot.SetMyShortDescriptionParams{ShortDescription: "短视频", LanguageCode: "zh"}); err != nil {
		t.Fatal(err)
	}
	if got := s.CommandsIn("it"); len(got) != 1 || got[0] != it[0] {
		t.Errorf("it commands %v", got)
	}
	if got := s.Commands(); len(got) != 1 || got[0] != en[0] {
		t.Errorf("default commands %v", got)
	}
	if got, err := b.GetMyCommands(ctx, &bot.GetMyCommandsParams{LanguageCode: "it"}); err != nil || len(got) != 1 || got[0] != it[0] {
		t.Errorf("getMyCommands(it) = %v, %v", got, err)
	}
	if got, err := b.GetMyCommands(ctx, &bot.GetMyCommandsParams{LanguageCode: "es"}); err != nil || len(got) != 0 {
		t.Errorf("getMyCommands(es) = %v, %v", got, err)
	}
	if s.Description("") != "Videos" || s.Description("ru") != "Видео" || s.Description("it") != "" {
		t.Errorf("descriptions %q %q %q", s.Description(""), s.Description("ru"), s.Description("it"))
	}
	if got, err := b.GetMyDescription(ctx, &bot.GetMyDescriptionParams{LanguageCode: "ru"}); err != nil || got.Description != "Видео" {
		t.Errorf("getMyDescription(ru) = %+v, %v", got, err)
	}
	if got, err := b.GetMyShortDescription(ctx, &bot.GetMyShortDescriptionParams{LanguageCode: "zh"}); err != nil || got.ShortDescription != "短视频" {
		t.Errorf("getMyShortDescription(zh) = %+v, %v", got, err)
	}
	// An empty text removes the language's own; go-telegram/bot leaves an
	// empty description out, which Telegram reads the same way.
	if _, err := b.SetMyDescription(ctx, &bot.SetMyDescriptionParams{LanguageCode: "ru"}); err != nil || s.Description("ru") != "" {
		t.Errorf("removing ru: %v, %q", err, s.Description("ru"))
	}
}

// The fake refuses what Telegram refuses: a language_code that is not two
// lowercase letters (the tags clients send, "zh-hans" or "pt-br", are not
// accepted here) and texts over their limits, counted in characters.
func TestSettingsValidation(t *testing.T) {
	s := newServer(t, Options{})
	b, _, _ := newClient(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	cmds := []models.BotCommand{{Command: "video", Description: "Make a video"}}
	for _, code := range []string{"zh-hans", "pt-br", "IT", "eng", "e", "r1"} {
		if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: cmds, LanguageCode: code}); !isBadRequest(err, "invalid language code") {
			t.Errorf("setMyCommands(%q): %v", code, err)
		}
		if _, err := b.SetMyDescription(ctx, &bot.SetMyDescriptionParams{Description: "x", LanguageCode: code}); !isBadRequest(err, "invalid language code") {
			t.Errorf("setMyDescription(%q): %v", code, err)
		}
		if _, err := b.SetMyShortDescription(ctx, &bot.SetMyShortDescriptionParams{ShortDescription: "x", LanguageCode: code}); !isBadRequest(err, "invalid language code") {
			t.Errorf("setMyShortDescription(%q): %v", code, err)
		}
		if _, err := b.GetMyCommands(ctx, &bot.GetMyCommandsParams{LanguageCode: code}); !isBadRequest(err, "invalid language code") {
			t.Errorf("getMyCommands(%q): %v", code, err)
		}
	}
	if len(s.Commands()) != 0 || s.Description("") != "" {
		t.Fatal("a refused call changed the settings")
	}

	for _, c := range []struct {
		name string
		call func(n int) error
		max  int
	}{
		{"command description", func(n int) error {
			_, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{LanguageCode: "ru",
				Commands: []models.BotCommand{{Command: "video", Description: strings.Repeat("ж", n)}}})
			return err
		}, 256},
		{"description", func(n int) error {
			_, err := b.SetMyDescription(ctx, &bot.SetMyDescriptionParams{Description: strings.Repeat("视", n), LanguageCode: "zh"})
			return err
		}, 512},
		{"short description", func(n int) error {
			_, err := b.SetMyShortDescription(ctx, &bot.SetMyShortDescriptionParams{ShortDescription: strings.Repeat("à", n), LanguageCode: "it"})
			return err
		}, 120},
	} {
		if err := c.call(c.max); err != nil {
			t.Errorf("%s of %d characters refused: %v", c.name, c.max, err)
		}
		if err := c.call(c.max + 1); !errors.Is(err, bot.ErrorBadRequest) {
			t.Errorf("%s of %d characters: %v", c.name, c.max+1, err)
		}
	}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "video", Description: "  "}}}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("blank command description: %v", err)
	}
}

func isBadRequest(err error, text string) bool {
	return errors.Is(err, bot.ErrorBadRequest) && strings.Contains(err.Error(), text)
}
