package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

const wait = 10 * time.Second

// newClient starts a go-telegram/bot client polling s; updates go to the
// returned channel. The client stops when the test ends or stop is called.
func newClient(t *testing.T, s *Server, opts ...bot.Option) (b *bot.Bot, updates <-chan *models.Update, stop func()) {
	t.Helper()
	ch := make(chan *models.Update, 100)
	opts = append([]bot.Option{
		bot.WithServerURL(s.URL),
		bot.WithNotAsyncHandlers(),
		bot.WithDefaultHandler(func(_ context.Context, _ *bot.Bot, u *models.Update) { ch <- u }),
		bot.WithErrorsHandler(func(err error) { t.Logf("bot error: %v", err) }),
	}, opts...)
	b, err := bot.New(s.Token, opts...)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Start(ctx)
	}()
	var once bool
	stop = func() {
		if !once {
			once = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return b, ch, stop
}

func newServer(t *testing.T, opt Options) *Server {
	t.Helper()
	s := New(opt)
	t.Cleanup(s.Close)
	return s
}

func next(t *testing.T, ch <-chan *models.Update) *models.Update {
	t.Helper()
	select {
	case u := <-ch:
		return u
	case <-time.After(wait):
		t.Fatal("no update arrived")
		return nil
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// raw posts a form to a method and decodes the answer.
func raw(t *testing.T, s *Server, method string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/bot"+s.Token+"/"+method, form)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s: decode: %v", method, err)
	}
	return resp.StatusCode, v
}

func TestLongPollingDeliversText(t *testing.T) {
	s := newServer(t, Options{})
	b, updates, _ := newClient(t, s)
	if b.ID() != 777000111 {
		t.Errorf("getMe id = %d", b.ID())
	}
	id := s.SendText(42, 42, "/start@SoraTestBot hello")
	u := next(t, updates)
	if u.ID != id || u.Message == nil || u.Message.Text != "/start@SoraTestBot hello" {
		t.Fatalf("update = %+v", u)
	}
	m := u.Message
	if m.Chat.Type != models.ChatTypePrivate || m.From.ID != 42 || m.ID != 1 {
		t.Errorf("message = %+v", m)
	}
	if len(m.Entities) != 1 || m.Entities[0].Type != models.MessageEntityTypeBotCommand || m.Entities[0].Length != len("/start@SoraTestBot") {
		t.Errorf("entities = %+v", m.Entities)
	}
	s.SendText(-1001, 7, "in a group")
	if u := next(t, updates); u.Message.Chat.Type != models.ChatTypeSupergroup || u.Message.From.ID != 7 {
		t.Errorf("group update = %+v", u.Message)
	}
	if len(s.Violations()) != 0 {
		t.Errorf("violations: %v", s.Violations())
	}
}

func TestOffsetConfirmationAndRedeliver(t *testing.T) {
	s := newServer(t, Options{})
	_, updates, stop := newClient(t, s, bot.WithSkipGetMe())
	first := s.SendText(42, 42, "one")
	if u := next(t, updates); u.ID != first {
		t.Fatalf("got %d, want %d", u.ID, first)
	}
	// The client confirms by asking for the next offset.
	eventually(t, "confirmation", func() bool { return s.PendingUpdates() == 0 })
	stop()

	_, updates, _ = newClient(t, s, bot.WithSkipGetMe())
	second := s.SendText(42, 42, "two")
	if u := next(t, updates); u.ID != second {
		t.Fatalf("restarted client got %d (%q), want only %d", u.ID, u.Message.Text, second)
	}
	s.Redeliver(first)
	if u := next(t, updates); u.ID != first || u.Message.Text != "one" {
		t.Fatalf("redelivered = %+v", u)
	}
	eventually(t, "confirmation", func() bool { return s.PendingUpdates() == 0 })
}

func TestGetUpdatesOffsetLimitAllowed(t *testing.T) {
	s := newServer(t, Options{})
	a := s.SendText(1, 1, "a")
	s.SendText(1, 1, "b")
	s.PressButton(1, 1, 1, "x")
	_, v := raw(t, s, "getUpdates", url.Values{"limit": {"1"}})
	if got := v["result"].([]any); len(got) != 1 || int64(got[0].(map[string]any)["update_id"].(float64)) != a {
		t.Fatalf("limit 1: %v", v)
	}
	_, v = raw(t, s, "getUpdates", url.Values{"offset": {"-1"}})
	if got := v["result"].([]any); len(got) != 1 || got[0].(map[string]any)["callback_query"] == nil {
		t.Fatalf("offset -1: %v", v)
	}
	s.SendText(1, 1, "c")
	s.PressButton(1, 1, 1, "y")
	_, v = raw(t, s, "getUpdates", url.Values{"allowed_updates": {`["callback_query"]`}})
	if got := v["result"].([]any); len(got) != 2 || got[1].(map[string]any)["callback_query"] == nil {
		t.Fatalf("allowed callback_query: %v", v)
	}
}

func TestOverlappingGetUpdates(t *testing.T) {
	s := newServer(t, Options{})
	type answer struct {
		status int
		body   map[string]any
	}
	first := make(chan answer, 1)
	go func() {
		st, v := raw(t, s, "getUpdates", url.Values{"timeout": {"30"}})
		first <- answer{st, v}
	}()
	eventually(t, "first poll", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.poll != nil })
	st, _ := raw(t, s, "getUpdates", url.Values{"timeout": {"0"}})
	if st != 200 {
		t.Errorf("second poll status %d", st)
	}
	a := <-first
	if a.status != 409 || !strings.Contains(a.body["description"].(string), "terminated by other getUpdates request") {
		t.Fatalf("first poll = %d %v", a.status, a.body)
	}
}

func TestCloseEndsLongPoll(t *testing.T) {
	s := New(Options{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.PostForm(s.URL+"/bot"+s.Token+"/getUpdates", url.Values{"timeout": {"50"}})
		if err == nil {
			resp.Body.Close()
		}
	}()
	eventually(t, "poll", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.poll != nil })
	s.Close()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("long poll still running after Close")
	}
}

func TestSendAndEditMessage(t *testing.T) {
	s := newServer(t, Options{})
	b, _, _ := newClient(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: "hi"}); !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "chat not found") {
		t.Fatalf("send to unknown chat: %v", err)
	}
	s.SendText(42, 42, "/start")
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Go", CallbackData: "go"}}}}
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: "<b>Working</b>", ParseMode: models.ParseModeHTML,
		ReplyMarkup: kb, ReplyParameters: &models.ReplyParameters{MessageID: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 2 || m.From.ID != 777000111 || m.Text != "Working" || m.ReplyToMessage == nil || m.ReplyToMessage.Text != "/start" || m.ReplyMarkup == nil {
		t.Errorf("sent = %+v", m)
	}
	_, err = b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 42, MessageID: m.ID, Text: "<b>Working</b>", ParseMode: models.ParseModeHTML, ReplyMarkup: kb})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "message is not modified") {
		t.Fatalf("identical edit: %v", err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 42, MessageID: m.ID, Text: "Done"}); err != nil {
		t.Fatal(err)
	}
	got := s.BotMessages(42)
	if len(got) != 1 || got[0].Text != "Done" || got[0].Edits != 1 || got[0].ReplyMarkup != "" || got[0].ReplyTo != 1 {
		t.Errorf("bot messages = %+v", got)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 42, MessageID: 99, Text: "x"}); err == nil || !strings.Contains(err.Error(), "message to edit not found") {
		t.Errorf("edit unknown: %v", err)
	}
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: strings.Repeat("я", 4097)}); err == nil || !strings.Contains(err.Error(), "message is too long") {
		t.Errorf("long text: %v", err)
	}
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: "a < b", ParseMode: models.ParseModeHTML}); err == nil || !strings.Contains(err.Error(), "can't parse entities") {
		t.Errorf("bad HTML: %v", err)
	}
	if ok, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: 42, MessageID: m.ID}); err != nil || !ok {
		t.Errorf("delete: %v", err)
	}
	if _, ok := s.WaitBotMessage(wait, 42, func(m BotMessage) bool { return m.Deleted }); !ok {
		t.Error("deleted message not reported")
	}
	if ok, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: 42, Action: models.ChatActionUploadVideo}); err != nil || !ok {
		t.Errorf("chat action: %v", err)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestCallbackQuery(t *testing.T) {
	s := newServer(t, Options{})
	b, updates, _ := newClient(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	s.AddChat(42, 42)
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Pay", CallbackData: "pay:1"}}}}
	m, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: "Confirm?", ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}
	s.PressButton(42, 42, int64(m.ID), "pay:1")
	u := next(t, updates)
	cq := u.CallbackQuery
	if cq == nil || cq.Data != "pay:1" || cq.From.ID != 42 || cq.Message.Message == nil || cq.Message.Message.ID != m.ID {
		t.Fatalf("callback = %+v", u)
	}
	if ok, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID}); err != nil || !ok {
		t.Fatalf("answer: %v", err)
	}
	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cq.ID}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("second answer: %v", err)
	}
	long := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "x", CallbackData: strings.Repeat("d", 65)}}}}
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: "x", ReplyMarkup: long}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("65-byte callback data: %v", err)
	}
}

func TestCommands(t *testing.T) {
	s := newServer(t, Options{})
	b, _, _ := newClient(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	cmds := []models.BotCommand{{Command: "video", Description: "Make a video"}, {Command: "balance", Description: "Credits left"}}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: cmds}); err != nil {
		t.Fatal(err)
	}
	if got := s.Commands(); len(got) != 2 || got[0] != cmds[0] {
		t.Errorf("commands = %v", got)
	}
	got, err := b.GetMyCommands(ctx, &bot.GetMyCommandsParams{})
	if err != nil || len(got) != 2 {
		t.Errorf("getMyCommands = %v, %v", got, err)
	}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Video", Description: "x"}}}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("upper-case command: %v", err)
	}
	if _, err := b.DeleteMyCommands(ctx, &bot.DeleteMyCommandsParams{}); err != nil || len(s.Commands()) != 0 {
		t.Errorf("delete: %v, %v", err, s.Commands())
	}
}
