package telegram_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/bots/telegram"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
	"sorabot/storage"
)

// Telegram Stars through the real client and the fake Bot API, over a real
// service and bbolt file.

var shopPacks = []core.Pack{{Credits: 500, Stars: 50}, {Credits: 1500, Stars: 125}}

const shopAdmin = 1 // telegram:1 is an admin

// shop is a running bot that sells shopPacks; restart stops it and starts
// it again on the same database and fake.
type shop struct {
	t    *testing.T
	fake *telegramtest.Server
	path string
	sopt storage.Options
	// store wraps the database the service uses (nil: the database itself).
	store func(*storage.DB) core.Store
	// setup, when set, prepares the next bot started before it runs.
	setup func(*telegram.Bot)

	db   *storage.DB
	svc  *core.Service
	stop func()
	// violationsOK: the test provokes Bot API violations on purpose.
	violationsOK bool
}

func newShop(t *testing.T, fopt telegramtest.Options, sopt storage.Options) *shop {
	t.Helper()
	fopt.Token = token
	s := &shop{t: t, fake: telegramtest.New(fopt), path: filepath.Join(t.TempDir(), "db"), sopt: sopt}
	t.Cleanup(func() {
		if s.stop != nil {
			s.stop()
		}
		if v := s.fake.Violations(); len(v) > 0 && !s.violationsOK {
			t.Errorf("Bot API violations:\n%s", strings.Join(v, "\n"))
		}
		s.fake.Close()
	})
	return s
}

func (s *shop) start() *shop {
	t := s.t
	t.Helper()
	db, err := storage.Open(s.path, s.sopt)
	if err != nil {
		t.Fatal(err)
	}
	var store core.Store = db
	if s.store != nil {
		store = s.store(db)
	}
	cfg := chattest.NewEnv(t, chattest.Frontend{User: tgUser}).Config
	cfg.Admins, cfg.Packs = []string{fmt.Sprintf("telegram:%d", shopAdmin)}, shopPacks
	svc := core.NewService(cfg, store, &chattest.Provider{}, core.DefaultCatalog())
	ctx, cancel := context.WithCancel(context.Background())
	bot, err := telegram.New(ctx, svc, telegram.Options{Token: core.Secret(token), APIURL: s.fake.URL,
		Logger: slog.New(slog.DiscardHandler), Interval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if s.setup != nil {
		s.setup(bot)
	}
	svc.SetFrontend(telegram.Platform, bot)
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { bot.Run(ctx); close(done) }()
	s.db, s.svc = db, svc
	s.stop = func() {
		cancel()
		<-done
		svc.Stop()
		db.Close()
		s.stop = nil
	}
	return s
}

func (s *shop) restart() {
	s.t.Helper()
	s.settled()
	s.stop()
	s.start()
}

// settled waits until the bot confirmed every update.
func (s *shop) settled() {
	s.t.Helper()
	if !waitFor(func() bool { return s.fake.PendingUpdates() == 0 }) {
		s.t.Fatalf("%d updates still unconfirmed", s.fake.PendingUpdates())
	}
}

// waitFor polls cond until chattest.Deadline.
func waitFor(cond func() bool) bool {
	deadline := time.Now().Add(chattest.Deadline)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// lastID is the newest bot message id in chatID.
func (s *shop) lastID(chatID int64) int64 {
	var id int64
	for _, m := range s.fake.BotMessages(chatID) {
		id = max(id, m.MessageID)
	}
	return id
}

// next waits for a new bot message in chatID (after message id after)
// containing sub.
func (s *shop) next(chatID, after int64, sub string) telegramtest.BotMessage {
	s.t.Helper()
	m, ok := s.fake.WaitBotMessage(chattest.Deadline, chatID, func(m telegramtest.BotMessage) bool {
		return m.MessageID > after && strings.Contains(m.Text, sub)
	})
	if !ok {
		var texts []string
		for _, m := range s.fake.BotMessages(chatID) {
			texts = append(texts, fmt.Sprintf("#%d %q", m.MessageID, m.Text))
		}
		s.t.Fatalf("chat %d: no new message with %q among:\n%s", chatID, sub, strings.Join(texts, "\n"))
	}
	return m
}

// say sends text from the user of private chat chatID and returns the first
// new bot message containing sub.
func (s *shop) say(chatID int64, text, sub string) telegramtest.BotMessage {
	s.t.Helper()
	after := s.lastID(chatID)
	s.fake.SendText(chatID, chatID, text)
	return s.next(chatID, after, sub)
}

// pay buys pack p through its invoice: /buy, the button, the invoice, the
// payment; it returns the payment once the bot confirmed it.
func (s *shop) pay(chatID int64, p core.Pack) telegramtest.PayResult {
	s.t.Helper()
	buy := s.say(chatID, "/buy", chat.BuyPacks("en"))
	after := s.lastID(chatID)
	s.fake.PressButton(chatID, chatID, buy.MessageID, "buy:"+p.Payload())
	inv := s.invoiceAfter(chatID, after)
	res, err := s.fake.PayInvoice(chatID, chatID, inv.MessageID)
	if err != nil || res.Outcome != telegramtest.PayPaid {
		s.t.Fatalf("payment %+v, %v", res, err)
	}
	s.next(chatID, inv.MessageID, fmt.Sprintf("✅ Thank you! %d credits added", p.Credits))
	return res
}

func (s *shop) invoiceAfter(chatID, after int64) telegramtest.BotMessage {
	s.t.Helper()
	inv, ok := s.fake.WaitBotMessage(chattest.Deadline, chatID, func(m telegramtest.BotMessage) bool {
		return m.Kind == "invoice" && m.MessageID > after
	})
	if !ok {
		s.t.Fatalf("chat %d: no invoice; calls to sendInvoice: %+v", chatID, s.fake.CallsTo("sendInvoice"))
	}
	return inv
}

// ledger is the user's ledger as the store has it (asking the service
// would apply the daily allowance).
func (s *shop) ledger(user string, kind string) []core.LedgerEntry {
	s.t.Helper()
	l, err := s.db.Ledger(context.Background(), user, 1000)
	if err != nil {
		s.t.Fatal(err)
	}
	return slices.DeleteFunc(l, func(e core.LedgerEntry) bool { return kind != "" && e.Kind != kind })
}

func (s *shop) balance(user string) int {
	s.t.Helper()
	l := s.ledger(user, "")
	if len(l) == 0 {
		return 0
	}
	return l[0].Balance
}
