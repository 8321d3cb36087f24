package telegram_test

import (
	"strings"
	"testing"

	"sorabot/bots/chat/chattest"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/storage"
)

// Stopping confirms the updates the bot handled: a restart does not deliver
// them (and the bot does not answer them) again.
func TestStopConfirmsHandledUpdates(t *testing.T) {
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 500}).start()
	const user = 5001
	s.fake.SendText(user, user, "/balance")
	if _, ok := s.fake.WaitBotMessage(chattest.Deadline, user, func(m telegramtest.BotMessage) bool {
		return strings.Contains(m.Text, "500 credits")
	}); !ok {
		t.Fatal("no answer to /balance")
	}
	s.stop()
	if n := s.fake.PendingUpdates(); n != 0 {
		t.Fatalf("%d handled updates left unconfirmed after stopping", n)
	}
}
