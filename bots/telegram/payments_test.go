package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
	"sorabot/storage"
)

// A user refused for lack of credits sees buy buttons; pressing one sends
// the pack's invoice (Stars, one price, no provider token); paying it
// grants the pack, and the next /video goes through.
func TestStarsRefusalBuyPayVideo(t *testing.T) {
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 0}).start()
	const buyer = 42
	refusal := s.say(buyer, "/video a cat on a skateboard", "⚠️")
	for _, p := range shopPacks {
		if !strings.Contains(refusal.ReplyMarkup, `"callback_data":"buy:`+p.Payload()+`"`) || !strings.Contains(refusal.ReplyMarkup, chat.BuyButton("en", p)) {
			t.Fatalf("refusal %q has no button for %v: %s", refusal.Text, p, refusal.ReplyMarkup)
		}
	}
	if chat.BuyButton("en", shopPacks[0]) != "500 credits for 50 Stars" {
		t.Errorf("button label %q", chat.BuyButton("en", shopPacks[0]))
	}
	after := s.lastID(buyer)
	s.fake.PressButton(buyer, buyer, refusal.MessageID, "buy:"+shopPacks[1].Payload())
	inv := s.invoiceAfter(buyer, after).Invoice
	if inv.Currency != "XTR" || inv.ProviderToken != "" || len(inv.Prices) != 1 || inv.Prices[0].Amount != 125 ||
		inv.Payload != "pack:1500:125" || inv.Title != "1500 credits" || len(inv.Payload) > 128 {
		t.Fatalf("invoice %+v", inv)
	}
	if !waitFor(func() bool { return len(s.fake.CallsTo("answerCallbackQuery")) == 1 }) {
		t.Errorf("%d answers to the button, want 1", len(s.fake.CallsTo("answerCallbackQuery")))
	}
	res, err := s.fake.PayInvoice(buyer, buyer, inv.MessageID)
	if err != nil || res.Outcome != telegramtest.PayPaid {
		t.Fatalf("payment %+v, %v", res, err)
	}
	s.next(buyer, inv.MessageID, "✅ Thank you! 1500 credits added. Your balance: 1500 credits.")
	s.say(buyer, "/video a cat on a skateboard", "Job #1 ")
	if b := s.balance("telegram:42"); b != 1400 {
		t.Fatalf("balance %d after the purchase and a video, want 1400", b)
	}
}

// A successful_payment delivered twice grants once: again to the running
// bot (which knows it handled it), and again after a restart (handled
// again: the store knows the charge).
func TestStarsRedeliveredPaymentGrantsOnce(t *testing.T) {
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 0}).start()
	const buyer = 43
	res := s.pay(buyer, shopPacks[0])
	s.fake.Redeliver(res.UpdateID)
	s.settled()
	s.stop()
	s.fake.Redeliver(res.UpdateID)
	after := s.lastID(buyer)
	s.start()
	s.next(buyer, after, "✅ Thank you! 500 credits added. Your balance: 500 credits.")
	if e := s.ledger("telegram:43", core.LedgerPurchase); len(e) != 1 || e[0].Ref != "telegram:"+res.ChargeID {
		t.Fatalf("purchase entries %+v", e)
	}
	if b := s.balance("telegram:43"); b != 500 {
		t.Fatalf("balance %d", b)
	}
}

// failingStore fails its first purchases, as a full disk would.
type failingStore struct {
	*storage.DB
	fail  atomic.Int32
	calls atomic.Int32
}

func (f *failingStore) Purchase(ctx context.Context, p core.Payment) (core.Account, bool, error) {
	f.calls.Add(1)
	if f.fail.Add(-1) >= 0 {
		return core.Account{}, false, errors.New("storage: disk full")
	}
	return f.DB.Purchase(ctx, p)
}

// A grant that could not be stored leaves the update unconfirmed: Telegram
// delivers it again and the payment is granted then, once.
func TestStarsGrantFailureIsRetried(t *testing.T) {
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 0})
	fs := &failingStore{}
	fs.fail.Store(1)
	s.store = func(db *storage.DB) core.Store { fs.DB = db; return fs }
	s.start()
	const buyer = 44
	s.pay(buyer, shopPacks[0]) // waits for the thank-you of the second attempt
	if n := fs.calls.Load(); n != 2 {
		t.Fatalf("%d purchase attempts, want a failed one and a granted one", n)
	}
	if e := s.ledger("telegram:44", core.LedgerPurchase); len(e) != 1 || s.balance("telegram:44") != 500 {
		t.Fatalf("purchases %+v, balance %d", e, s.balance("telegram:44"))
	}
	thanks := 0
	for _, m := range s.fake.BotMessages(buyer) {
		if strings.HasPrefix(m.Text, "✅ Thank you!") {
			thanks++
		}
	}
	if thanks != 1 {
		t.Errorf("%d thank-you messages", thanks)
	}
}

// A pre-checkout for a pack not on sale at that price, in another
// currency, or tampered with is refused with a reason; nothing is charged
// or granted.
func TestStarsPreCheckoutRefusals(t *testing.T) {
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 0}).start()
	const buyer = 45
	s.say(buyer, "/balance", "0 credits") // the bot is polling
	for _, c := range []struct {
		payload string
		amount  int
		reason  string
	}{
		{"pack:500:1", 1, "now 50 Stars"},          // an old price, or a forged one
		{"pack:500:50", 49, "costs 50 Stars"},      // amount tampered with
		{"pack:700:70", 70, "no longer on sale"},   // a pack that is gone
		{"pack:500:50;x", 50, "no longer on sale"}, // not a payload of ours
	} {
		res := s.fake.Pay(buyer, buyer, c.payload, c.amount)
		if res.Outcome != telegramtest.PayDeclined || !strings.Contains(res.ErrorMessage, c.reason) {
			t.Errorf("%s for %d: %+v, want declined with %q", c.payload, c.amount, res, c.reason)
		}
	}
	if n := len(s.fake.Charges()); n != 0 {
		t.Fatalf("%d charges", n)
	}
	if b := s.balance("telegram:45"); b != 0 || len(s.ledger("telegram:45", core.LedgerPurchase)) != 0 {
		t.Fatalf("balance %d after refused payments", b)
	}
}

// Payment texts follow the language the user chose with /language over
// their Telegram client's: the buy text and buttons, the invoice, a
// pre-checkout refusal and the thanks.
func TestStarsTextsFollowTheLanguageChoice(t *testing.T) {
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 0}).start()
	const buyer = 49
	s.fake.SetLanguage(buyer, "es")
	s.say(buyer, "/language it", "D'ora in poi ti parlo in italiano.")
	p := shopPacks[0]
	buy := s.say(buyer, "/buy", chat.BuyPacks("it"))
	if !strings.Contains(buy.ReplyMarkup, chat.BuyButton("it", p)) {
		t.Errorf("buy buttons not in Italian: %s", buy.ReplyMarkup)
	}
	after := s.lastID(buyer)
	s.fake.PressButton(buyer, buyer, buy.MessageID, "buy:"+p.Payload())
	inv := s.invoiceAfter(buyer, after).Invoice
	if inv.Title != "500 crediti" || inv.Description != chat.InvoiceDescription("it", p) {
		t.Errorf("invoice not in Italian: %+v", inv)
	}
	if res := s.fake.Pay(buyer, buyer, p.Payload(), p.Stars-1); res.Outcome != telegramtest.PayDeclined ||
		!strings.Contains(res.ErrorMessage, "Questo pacchetto costa 50 Stelle") {
		t.Errorf("refusal at a wrong amount: %+v, want it in Italian", res)
	}
	res, err := s.fake.PayInvoice(buyer, buyer, inv.MessageID)
	if err != nil || res.Outcome != telegramtest.PayPaid {
		t.Fatalf("payment %+v, %v", res, err)
	}
	s.next(buyer, inv.MessageID, chat.Paid("it", p.Credits, p.Credits))
}

// A refund Telegram refuses is answered in the admin's language, with
// Telegram's own words; the buyer keeps the credits.
func TestStarsRefusedRefundInTheAdminsLanguage(t *testing.T) {
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 0}).start()
	const buyer = 50
	a := s.pay(buyer, shopPacks[0])
	s.say(shopAdmin, "/language ru", "Теперь я говорю с вами по-русски.")
	s.fake.FailNext("refundStarPayment", 1, 400, 0)
	m := s.say(shopAdmin, "/refund "+a.ChargeID, "⚠️")
	if !strings.Contains(m.Text, "Возврат платежа "+a.ChargeID+" отклонён: Ответ Telegram: ") ||
		!strings.Contains(m.Text, "Пользователю telegram:50 возвращено: 500 кредитов.") {
		t.Errorf("refused refund = %q, want it in Russian with Telegram's reason", m.Text)
	}
	if b := s.balance("telegram:50"); b != 500 {
		t.Errorf("buyer's balance %d after a refused refund, want 500", b)
	}
}

// A pre-checkout answered too late fails the payment: nothing moves.
func TestStarsLatePreCheckout(t *testing.T) {
	s := newShop(t, telegramtest.Options{PreCheckoutTimeout: 200 * time.Millisecond}, storage.Options{StartCredits: 0}).start()
	s.violationsOK = true // the late answer is one
	const buyer = 46
	s.say(buyer, "/balance", "0 credits")
	s.fake.SetDelay("answerPreCheckoutQuery", time.Second)
	res := s.fake.Pay(buyer, buyer, shopPacks[0].Payload(), shopPacks[0].Stars)
	if res.Outcome != telegramtest.PayExpired {
		t.Fatalf("late answer: %+v", res)
	}
	if n := len(s.fake.Charges()); n != 0 {
		t.Fatalf("%d charges", n)
	}
	s.fake.SetDelay("answerPreCheckoutQuery", 0)
	s.say(buyer, "/balance", "0 credits")
	if len(s.ledger("telegram:46", core.LedgerPurchase)) != 0 {
		t.Fatal("a payment that failed was granted")
	}
}

// Refunds: the admin's /refund calls refundStarPayment and takes the
// credits back once; a purchase whose credits were spent is not refunded
// by the bot; Telegram's own refund takes back at most the balance, once,
// however often its message comes.
func TestStarsRefunds(t *testing.T) {
	s := newShop(t, telegramtest.Options{NotifyBotRefunds: true}, storage.Options{StartCredits: 0}).start()
	const buyer = 47
	a := s.pay(buyer, shopPacks[0])
	b := s.pay(buyer, shopPacks[0])
	s.say(buyer, "/refund "+a.ChargeID, chat.NotAdmin("en"))

	s.say(shopAdmin, "/refund "+a.ChargeID, fmt.Sprintf("↩️ Payment %s refunded: 500 credits taken back from telegram:47.", a.ChargeID))
	if ch, ok := s.fake.WaitCharge(chattest.Deadline, a.ChargeID, func(c telegramtest.Charge) bool { return c.Refunded }); !ok || ch.RefundedBy != "bot" {
		t.Fatalf("charge %+v not refunded by the bot", ch)
	}
	// Telegram tells the buyer too; that takes nothing more.
	s.next(buyer, 0, "↩️ Your payment of 50 Stars was refunded; 500 credits were taken back.")
	s.say(shopAdmin, "/refund "+a.ChargeID, "already refunded")

	s.say(buyer, "/video spend some", "Job #1 ") // 500 - 100
	s.say(shopAdmin, "/refund "+b.ChargeID, "cannot be refunded")
	if n := len(s.fake.CallsTo("refundStarPayment")); n != 1 {
		t.Fatalf("%d calls to refundStarPayment, want 1", n)
	}

	after := s.lastID(buyer)
	up, err := s.fake.RefundByTelegram(b.ChargeID)
	if err != nil {
		t.Fatal(err)
	}
	s.next(buyer, after, "↩️ Your payment of 50 Stars was refunded; 400 credits were taken back.")
	// The same message after a restart takes nothing more.
	s.settled()
	s.stop()
	s.fake.Redeliver(up)
	after = s.lastID(buyer)
	s.start()
	s.next(buyer, after, "400 credits were taken back")
	refunds := s.ledger("telegram:47", core.LedgerPurchaseRefund)
	if len(refunds) != 2 || refunds[0].Amount != -400 || refunds[1].Amount != -500 || s.balance("telegram:47") != 0 {
		t.Fatalf("refund entries %+v, balance %d", refunds, s.balance("telegram:47"))
	}
}

// Payments whose successful_payment never arrived are granted at the next
// start from getStarTransactions (read a page at a time), once.
func TestStarsLostPaymentsRecoveredAtStart(t *testing.T) {
	for _, newestFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("newest first %v", newestFirst), func(t *testing.T) {
			s := newShop(t, telegramtest.Options{StarTransactionsNewestFirst: newestFirst}, storage.Options{StartCredits: 0}).start()
			buyers := []int64{51, 52, 53}
			for _, u := range buyers {
				s.say(u, "/balance", "0 credits")
			}
			// One payment arrives; the next 120 are lost, one of them later
			// refunded by Telegram.
			got := s.pay(buyers[0], shopPacks[0])
			const lost = 120
			s.fake.LoseNextPayments(lost)
			var refunded string
			for i := range lost {
				res := s.fake.Pay(buyers[i%3], buyers[i%3], shopPacks[0].Payload(), 50)
				if res.Outcome != telegramtest.PayPaid || res.UpdateID != 0 {
					t.Fatalf("payment %d: %+v", i, res)
				}
				if i == 1 {
					refunded = res.ChargeID
				}
			}
			s.settled()
			s.stop()
			if _, err := s.fake.RefundByTelegram(refunded); err != nil { // its message comes after the restart
				t.Fatal(err)
			}
			s.start()
			// 40 payments each, one of buyer 52's refunded.
			want := map[int64]int{51: 500 + 40*500, 52: 39 * 500, 53: 40 * 500}
			for _, u := range buyers {
				user := fmt.Sprintf("telegram:%d", u)
				waitFor(func() bool { return s.balance(user) == want[u] })
			}
			// Each buyer is told after the grant: wait for those messages
			// before the restart, which would cut the last ones short.
			recovered := func() int {
				n := 0
				for _, u := range buyers {
					for _, m := range s.fake.BotMessages(u) {
						if strings.Contains(m.Text, "had not reached me") {
							n++
						}
					}
				}
				return n
			}
			waitFor(func() bool { return recovered() >= lost-1 })
			s.restart() // nothing is granted twice
			s.say(buyers[0], "/help", "/video")
			for _, u := range buyers {
				user := fmt.Sprintf("telegram:%d", u)
				if b := s.balance(user); b != want[u] {
					t.Errorf("%s: balance %d, want %d", user, b, want[u])
				}
			}
			if n := recovered(); n != lost-1 {
				t.Errorf("%d recovery messages, want %d", n, lost-1)
			}
			if e := s.ledger("telegram:51", core.LedgerPurchase); len(e) != 41 || e[len(e)-1].Ref != "telegram:"+got.ChargeID {
				t.Errorf("buyer 51 has %d purchases", len(e))
			}
		})
	}
}

// The daily allowance is applied at the user's first command of each UTC
// day, once, whatever the command.
func TestStarsDailyAllowance(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Date(2026, 5, 1, 22, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 0, DailyCredits: 300, Now: clock}).start()
	const u = 61
	s.say(u, "/help", "/video")
	s.say(u, "/models", "sora-2")
	s.say(u, "/video a walk in the park", "Job #1 ") // 300 - 100
	if l := s.ledger("telegram:61", core.LedgerAllowance); len(l) != 1 || l[0].Amount != 300 {
		t.Fatalf("day 1: allowance entries %+v", l)
	}
	mu.Lock()
	now = now.Add(3 * time.Hour) // the next UTC day
	mu.Unlock()
	s.say(u, "/history", "#1")
	s.say(u, "/terms", "Credits")
	if b := s.say(u, "/balance", "credits"); !strings.HasPrefix(b.Text, "300 credits") || !strings.Contains(b.Text, "daily credits +100") {
		t.Fatalf("day 2 /balance = %q", b.Text)
	}
	if l := s.ledger("telegram:61", core.LedgerAllowance); len(l) != 2 || l[0].Amount != 100 || l[0].Ref != "2026-05-02" {
		t.Fatalf("day 2: allowance entries %+v", l)
	}
}

// 50 users redeeming a 10-use code at once: 10 get its credits.
func TestStarsConcurrentRedeem(t *testing.T) {
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 0}).start()
	s.say(shopAdmin, "/promo TEN 100 10", "🎟 Promo code TEN: 100 credits per user, for 10 users.")
	const n = 50
	for i := range n {
		s.fake.SendText(int64(100+i), int64(100+i), "/redeem ten")
	}
	redeemed := 0
	for i := range n {
		chatID := int64(100 + i)
		m, ok := s.fake.WaitBotMessage(chattest.Deadline, chatID, func(m telegramtest.BotMessage) bool { return m.Kind == "text" })
		switch {
		case !ok:
			t.Fatalf("user %d: no answer to /redeem", chatID)
		case m.Text == "🎁 Code TEN redeemed: 100 credits added. Your balance: 100 credits.":
			redeemed++
		case m.Text != chat.PromoUsedUp("en"):
			t.Errorf("user %d: /redeem = %q", chatID, m.Text)
		}
	}
	paid := 0
	for i := range n {
		switch b := s.balance(fmt.Sprintf("telegram:%d", 100+i)); b {
		case 100:
			paid++
		case 0:
		default:
			t.Errorf("user %d: balance %d", 100+i, b)
		}
	}
	if redeemed != 10 || paid != 10 {
		t.Fatalf("%d users redeemed, %d got the credits; want 10 of 50", redeemed, paid)
	}
	s.say(shopAdmin, "/promo", "TEN: 100 credits per user, for 10 users; redeemed: 10")
}

// A payment made through an affiliate program reaches the bot less the
// affiliate's commission; its lost update is still recovered at start for
// the pack the buyer paid in full.
func TestStarsLostAffiliatePaymentRecovered(t *testing.T) {
	s := newShop(t, telegramtest.Options{AffiliatePerMille: 200}, storage.Options{StartCredits: 0}).start()
	const buyer = 61
	s.say(buyer, "/balance", "0 credits")
	s.fake.LoseNextPayments(1)
	if res := s.fake.Pay(buyer, buyer, shopPacks[0].Payload(), shopPacks[0].Stars); res.Outcome != telegramtest.PayPaid || res.UpdateID != 0 {
		t.Fatalf("payment: %+v", res)
	}
	s.restart()
	user := fmt.Sprintf("telegram:%d", buyer)
	if !waitFor(func() bool { return s.balance(user) == shopPacks[0].Credits }) {
		t.Fatalf("balance %d after the restart, want %d", s.balance(user), shopPacks[0].Credits)
	}
}
