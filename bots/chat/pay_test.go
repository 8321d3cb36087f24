package chat_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/core"
	"sorabot/storage"
)

var (
	packs = []core.Pack{{Credits: 500, Stars: 50}, {Credits: 1500, Stars: 125}}
	skus  = []core.SKU{{ID: "1288888888888888888", Credits: 300}}
)

// newShop is a real service over bbolt that sells packs and SKUs, with
// the daily allowance on a clock the test moves; "telegram:1" is an admin.
func newShop(t *testing.T, cfg core.Config, daily int, clock func() time.Time) *core.Service {
	t.Helper()
	svc, _ := newShopDB(t, cfg, daily, clock)
	return svc
}

func newShopDB(t *testing.T, cfg core.Config, daily int, clock func() time.Time) (*core.Service, *storage.DB) {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "db"), storage.Options{StartCredits: 500, DailyCredits: daily, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg.Protocol, cfg.VideoDir, cfg.Admins = core.ProtocolSoraPro, t.TempDir(), []string{"telegram:1"}
	return core.NewService(cfg, db, &chattest.Provider{}, core.DefaultCatalog()), db
}

func call(user, lang, text string) chat.Call {
	cmd, _ := chat.Parse(text)
	s := chat.Typed
	if strings.HasPrefix(user, "discord:") {
		s = chat.Slash
	}
	return chat.Call{User: user, Lang: lang, Syntax: s, Command: cmd}
}

// /buy offers what the caller's platform sells: Telegram packs as buy
// buttons, Discord SKUs as premium buttons; the console sells nothing.
func TestBuy(t *testing.T) {
	ctx := context.Background()
	c := chat.NewCommands(newShop(t, core.Config{Packs: packs, SKUs: skus}, 0, nil))
	r := c.Run(ctx, call("telegram:5", "en", "/buy"))
	if r.Text != chat.BuyPacks("en") || !slices.Equal(r.Packs, packs) || r.SKUs != nil {
		t.Errorf("Telegram /buy = %+v", r)
	}
	r = c.Run(ctx, call("discord:5", "en", "/buy"))
	if r.Text != chat.BuySKUs("en") || !slices.Equal(r.SKUs, skus) || r.Packs != nil {
		t.Errorf("Discord /buy = %+v", r)
	}
	r = c.Run(ctx, call("console:ann", "", "/buy"))
	if !strings.Contains(r.Text, "Telegram or Discord") || !strings.Contains(r.Text, "/redeem <code>") || r.Packs != nil {
		t.Errorf("console /buy = %+v", r)
	}
	if r := c.Run(ctx, call("telegram:5", "it", "/buy")); !strings.Contains(r.Text, "Stelle di Telegram") {
		t.Errorf("Italian /buy = %q", r.Text)
	}
	if got, want := chat.BuyButton("ru", packs[0]), "500 кредитов за 50 звёзд"; got != want {
		t.Errorf("Russian buy button %q, want %q", got, want)
	}

	none := chat.NewCommands(newShop(t, core.Config{}, 0, nil))
	for _, u := range []string{"telegram:5", "discord:5"} {
		if r := none.Run(ctx, call(u, "en", "/buy")); r.Text != chat.NothingOnSale("en") || r.Packs != nil || r.SKUs != nil {
			t.Errorf("%s /buy with nothing on sale = %+v", u, r)
		}
	}
}

// A request refused for lack of credits carries the platform's offer.
func TestNoCreditsOffersPacks(t *testing.T) {
	ctx := context.Background()
	svc := newShop(t, core.Config{Packs: packs, SKUs: skus}, 0, nil)
	c := chat.NewCommands(svc)
	for _, tt := range []struct {
		platform string
		packs    []core.Pack
		skus     []core.SKU
	}{{core.PlatformTelegram, packs, nil}, {core.PlatformDiscord, nil, skus}, {"console", nil, nil}} {
		user := tt.platform + ":poor"
		if _, err := svc.Grant(ctx, "telegram:1", user, 0, true); err != nil {
			t.Fatal(err)
		}
		_, r := c.Submit(ctx, core.Submission{UserID: user, Key: "k-" + tt.platform, Origin: core.Origin{Platform: tt.platform},
			Request: core.Request{Prompt: "a cat"}})
		if core.ErrorCode(r.Err) != core.ENOCREDITS || !slices.Equal(r.Packs, tt.packs) || !slices.Equal(r.SKUs, tt.skus) {
			t.Errorf("%s: refusal %+v", tt.platform, r)
		}
	}
	// Other refusals offer nothing.
	_, r := c.Submit(ctx, core.Submission{UserID: "telegram:7", Key: "k-invalid", Origin: core.Origin{Platform: core.PlatformTelegram}})
	if core.ErrorCode(r.Err) != core.EINVALID || r.Packs != nil {
		t.Errorf("invalid request: %+v", r)
	}
}

func TestPaySupportAndTerms(t *testing.T) {
	ctx := context.Background()
	def := chat.NewCommands(newShop(t, core.Config{}, 0, nil))
	if r := def.Run(ctx, call("telegram:5", "en", "/paysupport")); r.Text != chat.DefaultPaySupport("en") || !strings.Contains(r.Text, "operator") {
		t.Errorf("default /paysupport = %q", r.Text)
	}
	if r := def.Run(ctx, call("telegram:5", "es", "/terms")); r.Text != chat.DefaultTerms("es") || !strings.Contains(r.Text, "créditos") {
		t.Errorf("default Spanish /terms = %q", r.Text)
	}
	set := chat.NewCommands(newShop(t, core.Config{PaySupport: "Write to @ops.", Terms: "Be nice."}, 0, nil))
	if r := set.Run(ctx, call("telegram:5", "it", "/paysupport")); r.Text != "Write to @ops." {
		t.Errorf("/paysupport = %q", r.Text)
	}
	if r := set.Run(ctx, call("console:ann", "", "/terms")); r.Text != "Be nice." {
		t.Errorf("/terms = %q", r.Text)
	}
}

func TestPromoAndRedeem(t *testing.T) {
	ctx := context.Background()
	c := chat.NewCommands(newShop(t, core.Config{}, 0, nil))
	steps := []struct {
		user, text, want string
	}{
		{"telegram:5", "/promo HELLO 100", chat.NotAdmin("en")},
		{"telegram:1", "/promo", "No promo codes yet."},
		{"telegram:1", "/promo HELLO", "Usage: /promo CODE CREDITS [USES]"},
		{"telegram:1", "/promo HELLO lots", "Usage: /promo"},
		{"telegram:1", "/promo HELLO 0", "⚠️ A promo code grants 1 to"},
		{"telegram:1", "/promo hello 100 2", "🎟 Promo code HELLO: 100 credits per user, for 2 users."},
		{"telegram:1", "/promo ANY 5", "🎟 Promo code ANY: 5 credits per user, for any number of users."},
		{"telegram:1", "/promo HELLO 7", "⚠️ "}, // exists
		{"telegram:5", "/redeem", "Which code? Write it after the command, like /redeem WELCOME"},
		{"discord:5", "/redeem", "like /redeem code:WELCOME"},
		{"telegram:5", "/redeem nope", chat.PromoUnknown("en")},
		{"telegram:5", "/redeem Hello", "🎁 Code HELLO redeemed: 100 credits added. Your balance: 600 credits."},
		{"telegram:5", "/redeem HELLO", chat.PromoRedeemedBefore("en")},
		{"telegram:6", "/redeem HELLO", "Your balance: 600 credits."},
		{"telegram:7", "/redeem HELLO", chat.PromoUsedUp("en")},
		{"console:ann", "/redeem any", "🎁 Code ANY redeemed: 5 credits added. Your balance: 505 credits."},
		{"telegram:1", "/promo", "🎟 Promo codes:\nANY: 5 credits per user, for any number of users; redeemed: 1\nHELLO: 100 credits per user, for 2 users; redeemed: 2"},
	}
	for _, s := range steps {
		if r := c.Run(ctx, call(s.user, "en", s.text)); !strings.HasPrefix(r.Text, s.want) && !strings.HasSuffix(r.Text, s.want) {
			t.Errorf("%s %q = %q, want %q", s.user, s.text, r.Text, s.want)
		}
	}
	if r := c.Run(ctx, call("telegram:8", "ru", "/redeem ANY")); r.Text != "🎁 Промокод ANY активирован. Начислено: 5 кредитов. Ваш баланс: 505 кредитов." {
		t.Errorf("Russian /redeem = %q", r.Text)
	}
}

// 50 users redeeming a 10-use code at once: exactly 10 get its credits.
func TestRedeemConcurrent(t *testing.T) {
	ctx := context.Background()
	svc := newShop(t, core.Config{}, 0, nil)
	c := chat.NewCommands(svc)
	if r := c.Run(ctx, call("telegram:1", "en", "/promo TEN 100 10")); r.Err != nil {
		t.Fatal(r.Text)
	}
	var (
		wg           sync.WaitGroup
		mu           sync.Mutex
		ok, usedUp   int
		unexpected   []string
		balanceFirst = map[int]int{}
	)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.Run(ctx, call(fmt.Sprintf("telegram:%d", 100+i), "en", "/redeem TEN"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case r.Err == nil && strings.HasPrefix(r.Text, "🎁 Code TEN redeemed"):
				ok++
				balanceFirst[i] = 600
			case errors.Is(r.Err, core.ErrPromoUsedUp):
				usedUp++
			default:
				unexpected = append(unexpected, r.Text)
			}
		}()
	}
	wg.Wait()
	if ok != 10 || usedUp != 40 || len(unexpected) > 0 {
		t.Fatalf("%d redeemed, %d used up, unexpected %q", ok, usedUp, unexpected)
	}
	for i := range 50 {
		a, _, err := svc.Balance(ctx, fmt.Sprintf("telegram:%d", 100+i), 0)
		want := 500
		if _, got := balanceFirst[i]; got {
			want = 600
		}
		if err != nil || a.Balance != want {
			t.Errorf("user %d: balance %d %v, want %d", i, a.Balance, err, want)
		}
	}
}

// refundFunc is a platform that refunds (nil), refuses, or has refunded
// before; it counts its calls.
type refundFunc struct {
	mu    sync.Mutex
	calls []core.Payment
	err   error
}

func (f *refundFunc) refund(_ context.Context, p core.Payment) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, p)
	return f.err
}

func TestRefund(t *testing.T) {
	ctx := context.Background()
	svc := newShop(t, core.Config{Packs: packs}, 0, nil)
	c := chat.NewCommands(svc)
	if _, _, err := svc.StarPayment(ctx, "telegram:5", "ch-1", packs[0].Payload(), "XTR", 50); err != nil {
		t.Fatal(err)
	}
	f := &refundFunc{}
	admin := func(text string) chat.Reply {
		cl := call("telegram:1", "en", text)
		cl.Refund = f.refund
		return c.Run(ctx, cl)
	}
	if r := c.Run(ctx, call("console:root", "en", "/refund ch-1")); r.Text != chat.NotAdmin("en") {
		t.Errorf("/refund by a user = %q", r.Text)
	}
	if r := c.Run(ctx, call("telegram:1", "en", "/refund ch-1")); r.Text != chat.RefundElsewhere("en") {
		t.Errorf("/refund where nothing refunds = %q", r.Text)
	}
	if r := admin("/refund"); r.Text != chat.RefundUsage("en") {
		t.Errorf("/refund alone = %q", r.Text)
	}
	if r := admin("/refund nope"); core.ErrorCode(r.Err) != core.ENOTFOUND {
		t.Errorf("/refund of no payment = %+v", r)
	}
	if r := admin("/refund ch-1"); r.Text != "↩️ Payment ch-1 refunded: 500 credits taken back from telegram:5." {
		t.Errorf("/refund = %+v", r)
	}
	if r := admin("/refund ch-1"); core.ErrorCode(r.Err) != core.EINVALID || !strings.Contains(r.Text, "already refunded") {
		t.Errorf("second /refund = %+v", r)
	}
	if len(f.calls) != 1 || f.calls[0].Key != core.TelegramCharge("ch-1") || f.calls[0].UserID != "telegram:5" {
		t.Errorf("platform asked %+v", f.calls)
	}
	if a, _, _ := svc.Balance(ctx, "telegram:5", 0); a.Balance != 500 {
		t.Errorf("buyer's balance %d after the refund, want 500", a.Balance)
	}
}

// Every command applies the daily allowance, once per UTC day, in the
// transaction of the command's own call or just before it.
func TestDailyAllowanceOnEveryCommand(t *testing.T) {
	ctx := context.Background()
	var (
		mu  sync.Mutex
		now = time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC)
	)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	svc, db := newShopDB(t, core.Config{}, 800, clock)
	c := chat.NewCommands(svc)
	// The ledger as the store has it (asking the service would apply the
	// allowance itself).
	allowances := func(user string) []core.LedgerEntry {
		l, err := db.Ledger(ctx, user, 100)
		if err != nil {
			t.Fatal(err)
		}
		return slices.DeleteFunc(l, func(e core.LedgerEntry) bool { return e.Kind != core.LedgerAllowance })
	}
	for i, text := range []string{"/help", "/models", "/history", "/buy", "/terms", "/paysupport", "/job 1", "/stats", "/redeem X", "/balance", "/start"} {
		user := fmt.Sprintf("telegram:%d", 10+i)
		c.Run(ctx, call(user, "en", text))
		c.Run(ctx, call(user, "en", text))
		if l := allowances(user); len(l) != 1 || l[0].Amount != 300 || l[0].Balance != 800 || l[0].Ref != "2026-03-01" {
			t.Errorf("%s on day 1: allowance entries %+v, want one of 300", text, l)
		}
	}
	// The user spends; the next UTC day's first command tops up again, once.
	if _, err := svc.Grant(ctx, "telegram:1", "telegram:10", 100, true); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	c.Run(ctx, call("telegram:10", "en", "/help"))
	c.Run(ctx, call("telegram:10", "en", "/help"))
	l := allowances("telegram:10")
	if len(l) != 2 || l[0].Amount != 700 || l[0].Ref != "2026-03-02" {
		t.Fatalf("day 2: allowance entries %+v", l)
	}
	if r := c.Run(ctx, call("telegram:10", "en", "/balance")); !strings.Contains(r.Text, "daily credits +700") {
		t.Errorf("/balance does not show the allowance: %q", r.Text)
	}
}
