package core_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sorabot/core"
	"sorabot/storage"
)

const admin = "telegram:99"

// money is a service over a real bbolt file with packs, SKUs, an admin and
// a settable clock for the daily allowance. It is not started: the
// credit calls need no dispatcher.
type money struct {
	t    *testing.T
	path string
	opt  storage.Options
	cfg  core.Config
	db   *storage.DB
	svc  *core.Service

	mu  sync.Mutex
	now time.Time
}

func newMoney(t *testing.T, daily int) *money {
	dir := t.TempDir()
	m := &money{t: t, path: filepath.Join(dir, "test.db"), now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	m.opt = storage.Options{StartCredits: 10, DailyCredits: daily, NoSync: true, Now: m.clock}
	m.cfg = fastConfig(dir)
	m.cfg.Admins = []string{admin}
	m.cfg.Packs = []core.Pack{{Credits: 500, Stars: 50}, {Credits: 1500, Stars: 125}}
	m.cfg.SKUs = []core.SKU{{ID: "1100", Credits: 300}}
	m.open()
	t.Cleanup(m.close)
	return m
}

func (m *money) clock() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

func (m *money) advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}

func (m *money) open() {
	m.t.Helper()
	db, err := storage.Open(m.path, m.opt)
	if err != nil {
		m.t.Fatal(err)
	}
	m.db = db
	m.svc = core.NewService(m.cfg, db, &fakeProvider{}, core.DefaultCatalog())
}

// close verifies the ledger and closes the database.
func (m *money) close() {
	if m.db == nil {
		return
	}
	m.svc.Stop()
	if err := m.db.Verify(context.Background()); err != nil {
		m.t.Errorf("ledger verify: %v", err)
	}
	m.db.Close()
	m.db = nil
}

// restart closes and opens the database and the service, as a restart does.
func (m *money) restart() {
	m.close()
	m.open()
}

func (m *money) balance(user string) int {
	m.t.Helper()
	a, _, err := m.svc.Balance(context.Background(), user, 0)
	if err != nil {
		m.t.Fatal(err)
	}
	return a.Balance
}

func (m *money) entries(user, kind string) []core.LedgerEntry {
	m.t.Helper()
	_, l, err := m.svc.Balance(context.Background(), user, 100)
	if err != nil {
		m.t.Fatal(err)
	}
	var out []core.LedgerEntry
	for _, e := range l {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func wantErr(t *testing.T, err error, code string) {
	t.Helper()
	if core.ErrorCode(err) != code || core.ErrorMessage(err) == "" {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

func TestCheckPreCheckout(t *testing.T) {
	m := newMoney(t, 0)
	for _, tc := range []struct {
		payload, currency string
		amount            int
		reason            string // "" = ok
	}{
		{"pack:500:50", "XTR", 50, ""},
		{"pack:1500:125", "XTR", 125, ""},
		{"pack:500:40", "XTR", 40, "now 50 Stars"},
		{"pack:700:70", "XTR", 70, "no longer on sale"},
		{"something else", "XTR", 50, "no longer on sale"},
		{"pack:500:50", "USD", 50, "Telegram Stars only"},
		{"pack:500:50", "XTR", 49, "costs 50 Stars, not 49"},
	} {
		p, err := m.svc.CheckPreCheckout(tc.payload, tc.currency, tc.amount)
		switch {
		case tc.reason == "" && (err != nil || p.Payload() != tc.payload):
			t.Errorf("%s %s %d: %+v, %v; want ok", tc.payload, tc.currency, tc.amount, p, err)
		case tc.reason != "" && (core.ErrorCode(err) != core.EINVALID || !strings.Contains(core.ErrorMessage(err), tc.reason)):
			t.Errorf("%s %s %d: %v; want a refusal saying %q", tc.payload, tc.currency, tc.amount, err, tc.reason)
		}
	}
	if got := len(m.svc.Packs()); got != 2 {
		t.Fatalf("%d packs", got)
	}
}

// A successful_payment grants once: redelivered, recovered at start after
// a restart, or for a pack no longer on sale (the user paid for it).
func TestStarPaymentGrantsOnce(t *testing.T) {
	ctx := context.Background()
	m := newMoney(t, 0)
	const u = "telegram:1"
	a, dup, err := m.svc.StarPayment(ctx, u, "ch-1", "pack:500:50", "XTR", 50)
	if err != nil || dup || a.Balance != 510 {
		t.Fatalf("first: %+v dup=%v %v", a, dup, err)
	}
	if a, dup, err = m.svc.StarPayment(ctx, u, "ch-1", "pack:500:50", "XTR", 50); err != nil || !dup || a.Balance != 510 {
		t.Fatalf("redelivered: %+v dup=%v %v", a, dup, err)
	}
	m.restart()
	if a, dup, err = m.svc.StarPayment(ctx, u, "ch-1", "pack:500:50", "XTR", 50); err != nil || !dup || a.Balance != 510 {
		t.Fatalf("after a restart: %+v dup=%v %v", a, dup, err)
	}
	if a, dup, err = m.svc.StarPayment(ctx, u, "ch-2", "pack:700:70", "XTR", 70); err != nil || dup || a.Balance != 1210 {
		t.Fatalf("a pack off sale: %+v dup=%v %v", a, dup, err)
	}
	for _, bad := range []struct {
		payload, currency string
		amount            int
	}{{"pack:500:50", "XTR", 5}, {"pack:500:50", "EUR", 50}, {"other:1", "XTR", 1}} {
		if _, _, err := m.svc.StarPayment(ctx, u, "ch-bad", bad.payload, bad.currency, bad.amount); !errors.Is(err, core.ErrPaymentMismatch) {
			t.Errorf("%+v: %v, want a mismatch", bad, err)
		}
	}
	if got := m.balance(u); got != 1210 {
		t.Fatalf("balance %d, want 1210", got)
	}
	e := m.entries(u, core.LedgerPurchase)
	if len(e) != 2 || e[1].Ref != "telegram:ch-1" || e[1].Note != "pack:500:50" {
		t.Fatalf("purchase entries %+v", e)
	}
	st, err := m.svc.Stats(ctx, admin)
	if err != nil || st.Purchases != 2 || st.PurchaseStars != 120 || st.PurchaseCredits != 1200 {
		t.Fatalf("stats %+v %v", st, err)
	}
}

func TestPurchaseConcurrentOneGrant(t *testing.T) {
	m := newMoney(t, 0)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		granted int
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, dup, err := m.svc.StarPayment(context.Background(), "telegram:1", "same", "pack:1500:125", "XTR", 125)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			if !dup {
				granted++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if granted != 1 || m.balance("telegram:1") != 1510 {
		t.Fatalf("granted %d times, balance %d", granted, m.balance("telegram:1"))
	}
}

// refunder stands for the platform's refund call.
type refunder struct {
	mu    sync.Mutex
	calls []core.Payment
	err   error
	block chan struct{}
}

// refund records the call; with block set, the first call waits for it
// to be closed.
func (r *refunder) refund(ctx context.Context, p core.Payment) error {
	r.mu.Lock()
	r.calls = append(r.calls, p)
	first, err := len(r.calls) == 1, r.err
	r.mu.Unlock()
	if first && r.block != nil {
		<-r.block
	}
	return err
}

func (r *refunder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func TestRefundPurchase(t *testing.T) {
	ctx := context.Background()
	m := newMoney(t, 0)
	const u = "telegram:1"
	if _, _, err := m.svc.StarPayment(ctx, u, "ch-1", "pack:500:50", "XTR", 50); err != nil {
		t.Fatal(err)
	}
	r := &refunder{}
	_, err := m.svc.RefundPurchase(ctx, u, "ch-1", r.refund)
	wantErr(t, err, core.EFORBIDDEN)
	_, err = m.svc.RefundPurchase(ctx, admin, "nope", r.refund)
	wantErr(t, err, core.ENOTFOUND)
	if r.count() != 0 {
		t.Fatalf("the platform was asked %d times", r.count())
	}

	p, err := m.svc.RefundPurchase(ctx, admin, "ch-1", r.refund)
	if err != nil || p.Refund != core.RefundDone || p.Refunded != 500 {
		t.Fatalf("refund: %+v, %v", p, err)
	}
	if r.count() != 1 || r.calls[0].UserID != u || r.calls[0].Key != core.TelegramCharge("ch-1") || r.calls[0].Stars != 50 {
		t.Fatalf("platform calls %+v", r.calls)
	}
	if got := m.balance(u); got != 10 {
		t.Fatalf("balance %d, want 10", got)
	}
	// Again: refused without asking the platform; Telegram's own
	// refunded_payment for it takes nothing more.
	_, err = m.svc.RefundPurchase(ctx, admin, "ch-1", r.refund)
	wantErr(t, err, core.EINVALID)
	if _, debited, err := m.svc.PaymentRefunded(ctx, u, core.TelegramCharge("ch-1")); err != nil || debited != 0 {
		t.Fatalf("refunded_payment after our refund: debited %d, %v", debited, err)
	}
	if r.count() != 1 || m.balance(u) != 10 {
		t.Fatalf("platform calls %d, balance %d", r.count(), m.balance(u))
	}
	if e := m.entries(u, core.LedgerPurchaseRefund); len(e) != 1 || e[0].Amount != -500 || !strings.Contains(e[0].Note, admin) {
		t.Fatalf("purchase_refund entries %+v", e)
	}
}

func TestRefundPurchaseNeedsTheCredits(t *testing.T) {
	ctx := context.Background()
	m := newMoney(t, 0)
	const u = "telegram:1"
	m.svc.StarPayment(ctx, u, "ch-1", "pack:500:50", "XTR", 50)
	if _, err := m.svc.Accept(ctx, core.Submission{UserID: u, Origin: core.Origin{Platform: "test"}, Request: core.Request{Prompt: "a cat"}}); err != nil {
		t.Fatal(err)
	}
	r := &refunder{}
	_, err := m.svc.RefundPurchase(ctx, admin, "ch-1", r.refund)
	wantErr(t, err, core.EINVALID)
	if !strings.Contains(core.ErrorMessage(err), "410 credits left of the 500") {
		t.Fatalf("message %q", core.ErrorMessage(err))
	}
	if r.count() != 0 || m.balance(u) != 410 {
		t.Fatalf("platform calls %d, balance %d", r.count(), m.balance(u))
	}
}

// An unknown outcome keeps the credits taken and the refund pending; the
// next try, told "already refunded", settles it without a second debit.
// A refusal gives the credits back.
func TestRefundPurchaseOutcomes(t *testing.T) {
	ctx := context.Background()
	m := newMoney(t, 0)
	const u = "telegram:1"
	m.svc.StarPayment(ctx, u, "ch-1", "pack:500:50", "XTR", 50)
	m.svc.StarPayment(ctx, u, "ch-2", "pack:1500:125", "XTR", 125)

	r := &refunder{err: core.Temporary(errors.New("timeout"))}
	_, err := m.svc.RefundPurchase(ctx, admin, "ch-1", r.refund)
	wantErr(t, err, core.EUNAVAILABLE)
	if got := m.balance(u); got != 1510 {
		t.Fatalf("balance %d while the refund is pending, want 1510", got)
	}
	r.err = fmt.Errorf("telegram: %w", core.ErrAlreadyRefunded)
	p, err := m.svc.RefundPurchase(ctx, admin, "ch-1", r.refund)
	if err != nil || p.Refund != core.RefundDone {
		t.Fatalf("second try: %+v, %v", p, err)
	}
	if got := m.balance(u); got != 1510 || r.count() != 2 {
		t.Fatalf("balance %d, platform calls %d; want 1510, 2", got, r.count())
	}

	r.err = testErrorf(core.EINVALID, "CHARGE_NOT_FOUND")
	p, err = m.svc.RefundPurchase(ctx, admin, "ch-2", r.refund)
	wantErr(t, err, core.EINVALID)
	if !strings.Contains(core.ErrorMessage(err), "CHARGE_NOT_FOUND") || p.Refund != "" {
		t.Fatalf("refused: %+v, %q", p, core.ErrorMessage(err))
	}
	if got := m.balance(u); got != 1510 {
		t.Fatalf("balance %d after a refused refund, want 1510", got)
	}
}

func TestRefundPurchaseConcurrent(t *testing.T) {
	ctx := context.Background()
	m := newMoney(t, 0)
	m.svc.StarPayment(ctx, "telegram:1", "ch-1", "pack:500:50", "XTR", 50)
	r := &refunder{block: make(chan struct{})}
	done := make(chan error)
	go func() {
		_, err := m.svc.RefundPurchase(ctx, admin, "ch-1", r.refund)
		done <- err
	}()
	// Wait until the first refund is at the platform.
	deadline := time.Now().Add(10 * time.Second)
	for r.count() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the first refund never reached the platform")
		}
		time.Sleep(time.Millisecond)
	}
	_, err := m.svc.RefundPurchase(ctx, admin, "ch-1", r.refund)
	wantErr(t, err, core.ERATELIMITED)
	close(r.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r.count() != 1 || m.balance("telegram:1") != 10 {
		t.Fatalf("platform calls %d, balance %d", r.count(), m.balance("telegram:1"))
	}
}

// A refund begun before a crash is finished at start.
func TestResumeRefunds(t *testing.T) {
	ctx := context.Background()
	m := newMoney(t, 0)
	m.svc.StarPayment(ctx, "telegram:1", "ch-1", "pack:500:50", "XTR", 50)
	if _, err := m.db.BeginRefund(ctx, core.TelegramCharge("ch-1"), admin); err != nil {
		t.Fatal(err)
	}
	m.restart()
	r := &refunder{}
	if err := m.svc.ResumeRefunds(ctx, core.PlatformDiscord, r.refund); err != nil || r.count() != 0 {
		t.Fatalf("Discord's resume: %v, %d calls", err, r.count())
	}
	if err := m.svc.ResumeRefunds(ctx, core.PlatformTelegram, r.refund); err != nil || r.count() != 1 {
		t.Fatalf("Telegram's resume: %v, %d calls", err, r.count())
	}
	p, err := m.db.Payment(ctx, core.TelegramCharge("ch-1"))
	if err != nil || p.Refund != core.RefundDone || m.balance("telegram:1") != 10 {
		t.Fatalf("payment %+v, %v, balance %d", p, err, m.balance("telegram:1"))
	}
}

// A Discord entitlement grants once, stays pending until consumed (across
// a crash), and its deletion takes back at most the balance.
func TestGrantEntitlement(t *testing.T) {
	ctx := context.Background()
	m := newMoney(t, 0)
	const u = "discord:5"
	_, _, err := m.svc.GrantEntitlement(ctx, u, "ent-1", "999")
	wantErr(t, err, core.ENOTFOUND)
	a, dup, err := m.svc.GrantEntitlement(ctx, u, "ent-1", "1100")
	if err != nil || dup || a.Balance != 310 {
		t.Fatalf("grant: %+v dup=%v %v", a, dup, err)
	}
	if a, dup, err = m.svc.GrantEntitlement(ctx, u, "ent-1", "1100"); err != nil || !dup || a.Balance != 310 {
		t.Fatalf("again: %+v dup=%v %v", a, dup, err)
	}
	m.restart() // a crash before the consume
	pend, err := m.svc.PendingConsumes(ctx)
	if err != nil || len(pend) != 1 || pend[0].Key.ID != "ent-1" || pend[0].UserID != u {
		t.Fatalf("pending consumes %+v, %v", pend, err)
	}
	if err := m.svc.MarkConsumed(ctx, "ent-1"); err != nil {
		t.Fatal(err)
	}
	if pend, _ := m.svc.PendingConsumes(ctx); len(pend) != 0 {
		t.Fatalf("pending consumes %+v", pend)
	}
	// ENTITLEMENT_DELETE after the user spent some: at most the balance.
	if _, err := m.svc.Accept(ctx, core.Submission{UserID: u, Origin: core.Origin{Platform: "test"}, Request: core.Request{Prompt: "a cat"}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := m.svc.PaymentRefunded(ctx, u, core.DiscordEntitlement("ent-1")); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.balance(u); got != 0 {
		t.Fatalf("balance %d, want 0", got)
	}
	if e := m.entries(u, core.LedgerPurchaseRefund); len(e) != 1 || e[0].Amount != -210 {
		t.Fatalf("purchase_refund entries %+v", e)
	}
}

// The daily allowance tops up at the first command of each UTC day: any
// command (Touch), or /video in its own transaction.
func TestDailyAllowanceThroughService(t *testing.T) {
	ctx := context.Background()
	m := newMoney(t, 200) // start credits 10
	const u = "telegram:1"
	if a, err := m.svc.Touch(ctx, u); err != nil || a.Balance != 200 {
		t.Fatalf("first touch: %+v %v", a, err)
	}
	video := func() error {
		_, err := m.svc.Accept(ctx, core.Submission{UserID: u, Origin: core.Origin{Platform: "test"}, Request: core.Request{Prompt: "a cat"}})
		return err
	}
	for range 2 {
		if err := video(); err != nil {
			t.Fatal(err)
		}
	}
	if err := video(); core.ErrorCode(err) != core.ENOCREDITS {
		t.Fatalf("third video the same day: %v, want no credits", err)
	}
	m.advance(12 * time.Hour) // 00:00 UTC the next day
	if err := video(); err != nil {
		t.Fatalf("first video of the next day: %v", err)
	}
	if got := m.balance(u); got != 100 {
		t.Fatalf("balance %d, want 200 - 100", got)
	}
	e := m.entries(u, core.LedgerAllowance)
	if len(e) != 2 || e[0].Ref != "2026-12-02" || e[0].Amount != 200 || e[1].Ref != "2026-12-01" || e[1].Amount != 190 {
		t.Fatalf("allowance entries %+v", e)
	}
}
