package telegram_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
)

var tgFrontend = chattest.Frontend{Syntax: chat.Typed, User: tgUser}

// The menu is the shared command list without the hidden and admin ones.
func TestTelegramMenu(t *testing.T) {
	env := chattest.NewEnv(t, tgFrontend)
	d := startTelegram(t, env, env.Provider)
	d.Send(t, 1, chat.CmdHelp) // Run has registered the menu by the time it answers
	var names []string
	for _, c := range d.fake.Commands() {
		names = append(names, c.Command)
		if sp := chat.Lookup(c.Command); sp == nil || c.Description != sp.Summary {
			t.Errorf("menu entry %+v", c)
		}
	}
	want := []string{"video", "storyboard", "balance", "buy", "redeem", "history", "job", "cancel", "models", "help", "paysupport", "terms"}
	if !slices.Equal(names, want) {
		t.Fatalf("menu %v, want %v", names, want)
	}
}

// refusing is a provider that refuses every job at once.
type refusing struct{}

func (refusing) Submit(context.Context, *core.Model, *core.Request) (string, error) {
	return "", core.Errorf(core.EINVALID, "The provider refused the prompt.")
}

func (refusing) Status(context.Context, *core.Model, string) (core.TaskStatus, error) {
	return core.TaskStatus{}, core.Errorf(core.ENOTFOUND, "no task")
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
