package telegram_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sorabot/bots/chat/chattest"
	"sorabot/bots/telegram"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
	"sorabot/storage"
)

// A refused registration call is logged with its language, and the bot
// goes on registering the other languages and serving updates.
func TestTelegramRegistrationFailureIsLogged(t *testing.T) {
	fake := telegramtest.New(telegramtest.Options{Token: token})
	defer fake.Close()
	db, err := storage.Open(filepath.Join(t.TempDir(), "db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs lockedBuf
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc := core.NewService(core.Config{Protocol: core.ProtocolSoraPro, VideoDir: t.TempDir(), Logger: log},
		db, &chattest.Provider{}, core.DefaultCatalog())
	ctx, cancel := context.WithCancel(context.Background())
	b, err := telegram.New(ctx, svc, telegram.Options{Token: core.Secret(token), APIURL: fake.URL, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	fake.FailNext("setMyDescription", 1, 500, 0) // the first one: the default language's
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() { cancel(); <-done }()

	// Registration ends before Run turns to updates (deleteWebhook).
	deadline := time.Now().Add(chattest.Deadline)
	for len(fake.CallsTo("deleteWebhook")) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run never got past the registration")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if fake.Description("") != "" || fake.Description("it") == "" || fake.ShortDescription("") == "" {
		t.Errorf("descriptions: default %q, it %q, default short %q", fake.Description(""), fake.Description("it"), fake.ShortDescription(""))
	}
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "setMyDescription") {
			line = l
		}
	}
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "lang=en") || !strings.Contains(line, "err=") ||
		strings.Contains(line, token) {
		t.Errorf("no warning naming the language (or the token leaked); log:\n%s", logs.String())
	}
}
