package telegram_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/bots/telegram"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
	"sorabot/storage"
)

// The shared command scenarios, through the real client and the fake Bot API.
func TestScenarios(t *testing.T) {
	chattest.Run(t, chattest.Frontend{Syntax: chat.Typed, User: tgUser, Start: func(t *testing.T, env chattest.Env) chattest.Driver {
		return startTelegram(t, env, env.Provider)
	}})
}

func tgUser(n int) string { return fmt.Sprintf("%s:%d", telegram.Platform, 1000+n) }

// tgDriver talks to the bot as users in their private chats (chat id = user id).
type tgDriver struct {
	fake *telegramtest.Server

	mu   sync.Mutex
	last map[int64]int64 // per chat, the newest message id the driver knows
}

// startTelegram runs the bot (long polling) on a service made of env with
// provider p.
func startTelegram(t *testing.T, env chattest.Env, p core.Provider) *tgDriver {
	fake := telegramtest.New(telegramtest.Options{Token: token})
	db, err := storage.Open(filepath.Join(t.TempDir(), "db"), storage.Options{StartCredits: env.StartCredits})
	if err != nil {
		t.Fatal(err)
	}
	svc := core.NewService(env.Config, db, p, env.Catalog)
	ctx, cancel := context.WithCancel(context.Background())
	bot, err := telegram.New(ctx, svc, telegram.Options{Token: core.Secret(token), APIURL: fake.URL,
		Logger: slog.New(slog.DiscardHandler), Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetFrontend(telegram.Platform, bot)
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { bot.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		svc.Stop()
		db.Close()
		if v := fake.Violations(); len(v) > 0 {
			t.Errorf("Bot API violations:\n%s", strings.Join(v, "\n"))
		}
		fake.Close()
	})
	return &tgDriver{fake: fake, last: map[int64]int64{}}
}

func (d *tgDriver) Send(t *testing.T, user int, name string, args ...string) string {
	t.Helper()
	chatID := int64(1000 + user)
	text := strings.Join(append([]string{"/" + name}, args...), " ")
	d.fake.SendText(chatID, chatID, text)
	// The message the user just sent: the first newer one with this text.
	d.mu.Lock()
	id := d.last[chatID] + 1
	for ; ; id++ {
		if m, ok := d.fake.UserMessage(chatID, id); ok && m.Text == text {
			break
		}
		if id > d.last[chatID]+10000 {
			d.mu.Unlock()
			t.Fatalf("chat %d: the fake has no message %q", chatID, text)
		}
	}
	d.last[chatID] = id
	d.mu.Unlock()
	m, ok := d.fake.WaitBotMessage(chattest.Deadline, chatID, func(m telegramtest.BotMessage) bool {
		return m.Kind == "text" && m.ReplyTo == id
	})
	if !ok {
		t.Fatalf("chat %d: no answer to %q among %+v", chatID, text, d.fake.BotMessages(chatID))
	}
	return m.Text
}

// WaitStatus waits on the job's status message: the first message that
// names the job (the bot posts it when the job is accepted).
func (d *tgDriver) WaitStatus(t *testing.T, user int, jobID, sub string) {
	t.Helper()
	chatID := int64(1000 + user)
	names := regexp.MustCompile(`Job #` + jobID + `\b`)
	status, ok := d.fake.WaitBotMessage(chattest.Deadline, chatID, func(m telegramtest.BotMessage) bool {
		return names.MatchString(m.Text)
	})
	if !ok {
		t.Fatalf("chat %d: no status message of job %s", chatID, jobID)
	}
	if _, ok := d.fake.WaitBotMessage(chattest.Deadline, chatID, func(m telegramtest.BotMessage) bool {
		return m.MessageID == status.MessageID && strings.Contains(m.Text, sub)
	}); !ok {
		t.Fatalf("chat %d: job %s's status message does not say %q; messages %+v", chatID, jobID, sub, d.fake.BotMessages(chatID))
	}
}
