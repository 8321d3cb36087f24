package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// payingBot asks for pre-checkout queries, as a bot that sells must.
var payingBot = bot.WithAllowedUpdates(bot.AllowedUpdates{
	models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery, models.AllowedUpdatePreCheckoutQuery,
})

func starsInvoice(chatID int64, payload string, stars int) *bot.SendInvoiceParams {
	return &bot.SendInvoiceParams{ChatID: chatID, Title: "100 credits", Description: "Credits for videos",
		Payload: payload, Currency: "XTR", Prices: []models.LabeledPrice{{Label: "100 credits", Amount: stars}}}
}

func payAsync(f func() PayResult) <-chan PayResult {
	ch := make(chan PayResult, 1)
	go func() { ch <- f() }()
	return ch
}

func result(t *testing.T, ch <-chan PayResult) PayResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(2 * wait):
		t.Fatal("payment did not finish")
		return PayResult{}
	}
}

// nextOf skips updates until one satisfies match.
func nextOf(t *testing.T, ch <-chan *models.Update, match func(*models.Update) bool) *models.Update {
	t.Helper()
	for {
		if u := next(t, ch); match(u) {
			return u
		}
	}
}

func TestSendInvoiceRules(t *testing.T) {
	s := newServer(t, Options{})
	b, _, _ := newClient(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	s.AddChat(42, 42)
	m, err := b.SendInvoice(ctx, starsInvoice(42, "pack:100:50", 50))
	if err != nil {
		t.Fatal(err)
	}
	if m.Invoice == nil || m.Invoice.Currency != "XTR" || m.Invoice.TotalAmount != 50 || m.Invoice.Title != "100 credits" {
		t.Fatalf("invoice message = %+v", m)
	}
	inv := s.Invoices(42)
	if len(inv) != 1 || inv[0].Payload != "pack:100:50" || inv[0].MessageID != int64(m.ID) || inv[0].TotalAmount != 50 {
		t.Fatalf("Invoices = %+v", inv)
	}
	if bm, ok := s.WaitBotMessage(wait, 42, func(bm BotMessage) bool { return bm.Kind == "invoice" }); !ok || bm.Invoice == nil {
		t.Errorf("bot message = %+v", bm)
	}
	payButton := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Pay 50 ⭐", Pay: true}}}}
	p := starsInvoice(42, "ok", 50)
	p.ReplyMarkup = payButton
	if _, err := b.SendInvoice(ctx, p); err != nil {
		t.Errorf("invoice with a Pay button: %v", err)
	}

	long := strings.Repeat("x", 129)
	for _, tc := range []struct {
		name string
		edit func(p *bot.SendInvoiceParams)
		want string
	}{
		{"two prices", func(p *bot.SendInvoiceParams) {
			p.Prices = append(p.Prices, models.LabeledPrice{Label: "tax", Amount: 1})
		}, "STARS_INVOICE_INVALID"},
		{"no prices", func(p *bot.SendInvoiceParams) { p.Prices = []models.LabeledPrice{} }, "prices"},
		{"provider token", func(p *bot.SendInvoiceParams) { p.ProviderToken = "284685063:TEST:abc" }, "STARS_INVOICE_INVALID"},
		{"tips", func(p *bot.SendInvoiceParams) { p.MaxTipAmount = 10 }, "STARS_INVOICE_INVALID"},
		{"zero stars", func(p *bot.SendInvoiceParams) { p.Prices[0].Amount = 0 }, "CURRENCY_TOTAL_AMOUNT_INVALID"},
		{"too many stars", func(p *bot.SendInvoiceParams) { p.Prices[0].Amount = 10001 }, "CURRENCY_TOTAL_AMOUNT_INVALID"},
		{"long payload", func(p *bot.SendInvoiceParams) { p.Payload = long }, "INVOICE_PAYLOAD_INVALID"},
		{"empty payload", func(p *bot.SendInvoiceParams) { p.Payload = "" }, "payload is required"},
		{"long title", func(p *bot.SendInvoiceParams) { p.Title = strings.Repeat("т", 33) }, "title"},
		{"long description", func(p *bot.SendInvoiceParams) { p.Description = strings.Repeat("d", 256) }, "description"},
		{"fiat without provider", func(p *bot.SendInvoiceParams) { p.Currency = "USD" }, "PAYMENT_PROVIDER_INVALID"},
		{"bad currency", func(p *bot.SendInvoiceParams) { p.Currency = "stars" }, "CURRENCY_INVALID"},
		{"first button not Pay", func(p *bot.SendInvoiceParams) {
			p.ReplyMarkup = &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Help", CallbackData: "help"}}}}
		}, "REPLY_MARKUP_BUY_EMPTY"},
		{"unknown chat", func(p *bot.SendInvoiceParams) { p.ChatID = 99 }, "chat not found"},
	} {
		p := starsInvoice(42, "pack:100:50", 50)
		tc.edit(p)
		_, err := b.SendInvoice(ctx, p)
		if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want 400 %q", tc.name, err, tc.want)
		}
	}
	if n := len(s.Invoices(42)); n != 2 {
		t.Errorf("%d invoices stored, want 2 (rejected ones leave nothing)", n)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}
}

func TestPayAcceptedDeliversSuccessfulPayment(t *testing.T) {
	s := newServer(t, Options{})
	b, updates, _ := newClient(t, s, bot.WithSkipGetMe(), payingBot)
	ctx := context.Background()
	s.AddChat(42, 42)
	m, err := b.SendInvoice(ctx, starsInvoice(42, "pack:100:50", 50))
	if err != nil {
		t.Fatal(err)
	}
	done := payAsync(func() PayResult {
		r, err := s.PayInvoice(42, 42, int64(m.ID))
		if err != nil {
			t.Error(err)
		}
		return r
	})
	u := next(t, updates)
	q := u.PreCheckoutQuery
	if q == nil || q.From == nil || q.From.ID != 42 || q.Currency != "XTR" || q.TotalAmount != 50 || q.InvoicePayload != "pack:100:50" || q.ID == "" {
		t.Fatalf("pre_checkout_query = %+v", u)
	}
	if len(s.Charges()) != 0 {
		t.Fatal("money moved before the bot answered")
	}
	if ok, err := b.AnswerPreCheckoutQuery(ctx, &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: q.ID, OK: true}); err != nil || !ok {
		t.Fatalf("answer: %v", err)
	}
	r := result(t, done)
	if r.Outcome != PayPaid || r.ChargeID == "" || r.UpdateID == 0 || r.QueryID != q.ID || r.QueryUpdateID != u.ID {
		t.Fatalf("result = %+v", r)
	}
	u = next(t, updates)
	sp := u.Message.SuccessfulPayment
	if u.ID != r.UpdateID || sp == nil || sp.TelegramPaymentChargeID != r.ChargeID || sp.InvoicePayload != "pack:100:50" ||
		sp.TotalAmount != 50 || sp.Currency != "XTR" || sp.ProviderPaymentChargeID == "" || u.Message.From.ID != 42 || u.Message.Chat.ID != 42 {
		t.Fatalf("successful_payment update = %+v", u.Message)
	}
	if _, err := b.AnswerPreCheckoutQuery(ctx, &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: q.ID, OK: true}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("second answer: %v", err)
	}
	if _, err := b.AnswerPreCheckoutQuery(ctx, &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: "12345", OK: true}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("unknown query: %v", err)
	}

	txs, err := b.GetStarTransactions(ctx, &bot.GetStarTransactionsParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(txs.Transactions) != 1 {
		t.Fatalf("transactions = %+v", txs)
	}
	tx := txs.Transactions[0]
	if tx.ID != r.ChargeID || tx.Amount != 50 || tx.Date == 0 || tx.Source == nil || tx.Source.User == nil || tx.Receiver != nil {
		t.Fatalf("transaction = %+v", tx)
	}
	if src := tx.Source.User; src.TransactionType != "invoice_payment" || src.User.ID != 42 || src.InvoicePayload != "pack:100:50" {
		t.Errorf("source = %+v", src)
	}
	if c := s.Charges(); len(c) != 1 || c[0].ID != r.ChargeID || c[0].UserID != 42 || c[0].Amount != 50 || c[0].UpdateID != r.UpdateID {
		t.Errorf("Charges = %+v", c)
	}
	if _, err := s.PayInvoice(42, 42, 999); err == nil {
		t.Error("PayInvoice of a message that is not an invoice succeeded")
	}
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "answered twice") {
		t.Errorf("violations = %v", v)
	}
}

func TestPayDeclinedOrLateMovesNoMoney(t *testing.T) {
	s := newServer(t, Options{})
	b, updates, _ := newClient(t, s, bot.WithSkipGetMe(), payingBot)
	ctx := context.Background()

	done := payAsync(func() PayResult { return s.Pay(42, 42, "pack:gone", 50) })
	q := next(t, updates).PreCheckoutQuery
	if _, err := b.AnswerPreCheckoutQuery(ctx, &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: q.ID, OK: false}); !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "error_message") {
		t.Errorf("ok:false without error_message: %v", err)
	}
	if _, err := b.AnswerPreCheckoutQuery(ctx, &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: q.ID, OK: false, ErrorMessage: "This pack is no longer sold."}); err != nil {
		t.Fatal(err)
	}
	if r := result(t, done); r.Outcome != PayDeclined || r.ErrorMessage != "This pack is no longer sold." || r.ChargeID != "" || r.Message != nil {
		t.Errorf("declined = %+v", r)
	}

	if c := s.Charges(); len(c) != 0 {
		t.Errorf("charges after a refusal = %+v", c)
	}

	s = newServer(t, Options{PreCheckoutTimeout: 300 * time.Millisecond})
	b, updates, _ = newClient(t, s, bot.WithSkipGetMe(), payingBot)
	done = payAsync(func() PayResult { return s.Pay(42, 42, "pack:100:50", 50) })
	q = next(t, updates).PreCheckoutQuery
	r := result(t, done) // the bot does not answer in time
	if r.Outcome != PayExpired || r.QueryID != q.ID {
		t.Fatalf("unanswered = %+v", r)
	}
	if _, err := b.AnswerPreCheckoutQuery(ctx, &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: q.ID, OK: true}); !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "query is too old") {
		t.Errorf("late answer: %v", err)
	}
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "after its 300ms deadline") {
		t.Errorf("violations = %v", v)
	}
	if c := s.Charges(); len(c) != 0 {
		t.Errorf("charges = %+v", c)
	}
	txs, err := b.GetStarTransactions(ctx, &bot.GetStarTransactionsParams{})
	if err != nil || len(txs.Transactions) != 0 {
		t.Errorf("transactions = %+v, %v", txs, err)
	}
	// Updates arrive in order: a successful_payment would come before this.
	marker := s.SendText(42, 42, "marker")
	if u := next(t, updates); u.ID != marker {
		t.Errorf("unexpected update after a failed payment: %+v", u)
	}
}

// A bot that lists allowed_updates without pre_checkout_query never sees
// the query, by long polling or by webhook.
func TestPreCheckoutNeedsAllowedUpdates(t *testing.T) {
	t.Run("getUpdates", func(t *testing.T) {
		s := newServer(t, Options{})
		_, updates, _ := newClient(t, s, bot.WithSkipGetMe(), bot.WithAllowedUpdates(bot.AllowedUpdates{"message", "callback_query"}))
		r := s.Pay(42, 42, "pack:100:50", 50)
		if r.Outcome != PayUndelivered || len(s.Charges()) != 0 {
			t.Fatalf("result = %+v", r)
		}
		id := s.SendText(42, 42, "still here")
		if u := next(t, updates); u.ID != id {
			t.Errorf("got update %+v, want only the text", u)
		}
	})
	t.Run("webhook", func(t *testing.T) {
		s := newServer(t, Options{})
		got := make(chan models.Update, 10)
		hook := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			var u models.Update
			body, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(body, &u); err == nil {
				got <- u
			}
		}))
		defer hook.Close()
		b, err := bot.New(s.Token, bot.WithServerURL(s.URL), bot.WithSkipGetMe())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.SetWebhook(context.Background(), &bot.SetWebhookParams{URL: hook.URL, AllowedUpdates: []string{"message"}}); err != nil {
			t.Fatal(err)
		}
		if r := s.Pay(42, 42, "pack:100:50", 50); r.Outcome != PayUndelivered {
			t.Fatalf("result = %+v", r)
		}
		id := s.SendText(42, 42, "hi")
		select {
		case u := <-got:
			if u.ID != id || u.PreCheckoutQuery != nil {
				t.Errorf("webhook got %+v", u)
			}
		case <-time.After(wait):
			t.Fatal("no webhook delivery")
		}
	})
	t.Run("default set", func(t *testing.T) {
		// No allowed_updates at all: Telegram's default includes the query.
		s := newServer(t, Options{})
		_, updates, _ := newClient(t, s, bot.WithSkipGetMe())
		done := payAsync(func() PayResult { return s.Pay(42, 42, "p", 5) })
		if u := next(t, updates); u.PreCheckoutQuery == nil {
			t.Fatalf("update = %+v", u)
		}
		s.Close()
		if r := result(t, done); r.Outcome != PayExpired {
			t.Errorf("result after Close = %+v", r)
		}
	})
}

// paid runs one accepted payment through the bot and returns its result.
func paid(t *testing.T, s *Server, b *bot.Bot, updates <-chan *models.Update, userID int64, payload string, amount int) PayResult {
	t.Helper()
	done := payAsync(func() PayResult { return s.Pay(userID, userID, payload, amount) })
	q := nextOf(t, updates, func(u *models.Update) bool { return u.PreCheckoutQuery != nil }).PreCheckoutQuery
	if _, err := b.AnswerPreCheckoutQuery(context.Background(), &bot.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: q.ID, OK: true}); err != nil {
		t.Fatal(err)
	}
	r := result(t, done)
	if r.Outcome != PayPaid {
		t.Fatalf("payment = %+v", r)
	}
	return r
}

func TestLostAndRedeliveredPayments(t *testing.T) {
	s := newServer(t, Options{})
	b, updates, _ := newClient(t, s, bot.WithSkipGetMe(), payingBot)
	ctx := context.Background()

	s.LoseNextPayments(1)
	lost := paid(t, s, b, updates, 42, "pack:lost", 10)
	if lost.UpdateID != 0 || lost.Message != nil {
		t.Fatalf("lost payment = %+v", lost)
	}
	marker := s.SendText(42, 42, "marker") // updates arrive in order
	if u := next(t, updates); u.ID != marker {
		t.Fatalf("a lost payment was delivered: %+v", u.Message)
	}
	txs, err := b.GetStarTransactions(ctx, &bot.GetStarTransactionsParams{})
	if err != nil || len(txs.Transactions) != 1 || txs.Transactions[0].ID != lost.ChargeID {
		t.Fatalf("transactions = %+v, %v", txs, err)
	}

	r := paid(t, s, b, updates, 42, "pack:ok", 20)
	first := next(t, updates)
	if first.ID != r.UpdateID || first.Message.SuccessfulPayment.TelegramPaymentChargeID != r.ChargeID {
		t.Fatalf("first delivery = %+v", first)
	}
	s.Redeliver(r.UpdateID)
	again := next(t, updates)
	if again.ID != r.UpdateID || again.Message.SuccessfulPayment.TelegramPaymentChargeID != r.ChargeID {
		t.Fatalf("redelivery = %+v", again)
	}
}

func TestRefunds(t *testing.T) {
	s := newServer(t, Options{})
	b, updates, _ := newClient(t, s, bot.WithSkipGetMe(), payingBot)
	ctx := context.Background()
	r := paid(t, s, b, updates, 42, "pack:100:50", 50)
	next(t, updates) // successful_payment

	for _, tc := range []struct {
		user   int64
		charge string
		want   string
	}{{42, "stxUnknown", "CHARGE_ID_INVALID"}, {43, r.ChargeID, "USER_ID_INVALID"}} {
		if _, err := b.RefundStarPayment(ctx, &bot.RefundStarPaymentParams{UserID: tc.user, TelegramPaymentChargeID: tc.charge}); !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("refund %d %s: %v", tc.user, tc.charge, err)
		}
	}
	if ok, err := b.RefundStarPayment(ctx, &bot.RefundStarPaymentParams{UserID: 42, TelegramPaymentChargeID: r.ChargeID}); err != nil || !ok {
		t.Fatalf("refund: %v", err)
	}
	if _, err := b.RefundStarPayment(ctx, &bot.RefundStarPaymentParams{UserID: 42, TelegramPaymentChargeID: r.ChargeID}); !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "Bad Request: CHARGE_ALREADY_REFUNDED") {
		t.Errorf("second refund: %v", err)
	}
	if c, ok := s.WaitCharge(wait, r.ChargeID, func(c Charge) bool { return c.Refunded }); !ok || c.RefundedBy != "bot" || c.RefundUpdateID != 0 {
		t.Errorf("charge = %+v", c)
	}
	txs, err := b.GetStarTransactions(ctx, &bot.GetStarTransactionsParams{})
	if err != nil || len(txs.Transactions) != 2 {
		t.Fatalf("transactions = %+v, %v", txs, err)
	}
	if out := txs.Transactions[1]; out.ID != r.ChargeID || out.Amount != 50 || out.Source != nil || out.Receiver == nil || out.Receiver.User.User.ID != 42 {
		t.Errorf("refund transaction = %+v", out)
	}
	if _, err := s.RefundByTelegram(r.ChargeID); err == nil {
		t.Error("RefundByTelegram of a refunded charge succeeded")
	}

	// Telegram refunds on its own: the bot gets a refunded_payment message.
	r2 := paid(t, s, b, updates, 42, "pack:10:5", 5)
	next(t, updates)
	id, err := s.RefundByTelegram(r2.ChargeID)
	if err != nil {
		t.Fatal(err)
	}
	u := next(t, updates)
	rp := u.Message.RefundedPayment
	if u.ID != id || rp == nil || rp.TelegramPaymentChargeID != r2.ChargeID || rp.TotalAmount != 5 || rp.InvoicePayload != "pack:10:5" || rp.Currency != "XTR" {
		t.Fatalf("refunded_payment update = %+v", u.Message)
	}
	if _, err := b.RefundStarPayment(ctx, &bot.RefundStarPaymentParams{UserID: 42, TelegramPaymentChargeID: r2.ChargeID}); !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "CHARGE_ALREADY_REFUNDED") {
		t.Errorf("bot refund after Telegram's: %v", err)
	}
}

func TestBotRefundNotification(t *testing.T) {
	s := newServer(t, Options{NotifyBotRefunds: true})
	b, updates, _ := newClient(t, s, bot.WithSkipGetMe(), payingBot)
	r := paid(t, s, b, updates, 42, "pack:100:50", 50)
	next(t, updates)
	if _, err := b.RefundStarPayment(context.Background(), &bot.RefundStarPaymentParams{UserID: 42, TelegramPaymentChargeID: r.ChargeID}); err != nil {
		t.Fatal(err)
	}
	if u := next(t, updates); u.Message == nil || u.Message.RefundedPayment == nil || u.Message.RefundedPayment.TelegramPaymentChargeID != r.ChargeID {
		t.Fatalf("update = %+v", u)
	}
}

func TestGetStarTransactionsPages(t *testing.T) {
	for _, newestFirst := range []bool{false, true} {
		s := newServer(t, Options{StarTransactionsNewestFirst: newestFirst})
		b, updates, _ := newClient(t, s, bot.WithSkipGetMe(), payingBot)
		ctx := context.Background()
		var ids []string
		for i := 1; i <= 5; i++ {
			ids = append(ids, paid(t, s, b, updates, int64(40+i), "p", i).ChargeID)
		}
		if newestFirst {
			for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
				ids[i], ids[j] = ids[j], ids[i]
			}
		}
		var got []string
		for offset := 0; ; offset += 2 {
			page, err := b.GetStarTransactions(ctx, &bot.GetStarTransactionsParams{Offset: offset, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Transactions) > 2 {
				t.Fatalf("page of %d", len(page.Transactions))
			}
			if len(page.Transactions) == 0 {
				break
			}
			for _, tx := range page.Transactions {
				got = append(got, tx.ID)
			}
		}
		if strings.Join(got, ",") != strings.Join(ids, ",") {
			t.Errorf("newestFirst=%v: pages %v, want %v", newestFirst, got, ids)
		}
		if len(s.Violations()) != 0 {
			t.Errorf("violations: %v", s.Violations())
		}
		if _, err := b.GetStarTransactions(ctx, &bot.GetStarTransactionsParams{Limit: 101}); err != nil {
			t.Fatal(err)
		}
		if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "limit 101") {
			t.Errorf("violations = %v", v)
		}
	}
}
