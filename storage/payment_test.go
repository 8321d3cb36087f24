package storage

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"sorabot/core"
)

// openAt opens the database at path with opt and, when the test ends,
// verifies and closes it.
func openAt(t testing.TB, path string, opt Options) *DB {
	t.Helper()
	opt.NoSync = true
	db, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Verify(context.Background()); err != nil {
			t.Errorf("Verify at the end of the test: %v", err)
		}
		db.Close()
	})
	return db
}

func pack(user, charge string, credits, stars int) core.Payment {
	return core.Payment{Key: core.TelegramCharge(charge), UserID: user, Credits: credits, Stars: stars, Note: "test pack"}
}

func mustPurchase(t testing.TB, db *DB, p core.Payment) (core.Account, bool) {
	t.Helper()
	a, dup, err := db.Purchase(context.Background(), p)
	if err != nil {
		t.Fatalf("Purchase(%s): %v", p.Key, err)
	}
	return a, dup
}

// A payment grants once: called twice, and again after the database was
// closed and opened (a restart).
func TestPurchaseOnceAcrossRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sorabot.db")
	db, err := Open(path, Options{StartCredits: 10, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	p := pack("telegram:1", "charge-1", 500, 50)
	a, dup := mustPurchase(t, db, p)
	if dup || a.Balance != 510 {
		t.Fatalf("first purchase: %+v dup=%v, want balance 510", a, dup)
	}
	a, dup = mustPurchase(t, db, p)
	if !dup || a.Balance != 510 {
		t.Fatalf("second purchase: %+v dup=%v, want a duplicate at 510", a, dup)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openAt(t, path, Options{StartCredits: 10})
	a, dup = mustPurchase(t, db, p)
	if !dup || a.Balance != 510 {
		t.Fatalf("after a restart: %+v dup=%v, want a duplicate at 510", a, dup)
	}
	// The same charge presented for another user still grants nothing.
	a, dup = mustPurchase(t, db, pack("telegram:2", "charge-1", 500, 50))
	if !dup || a.UserID != "telegram:1" {
		t.Fatalf("same charge, other user: %+v dup=%v", a, dup)
	}
	if got := entries(t, db, "telegram:1", core.LedgerPurchase); len(got) != 1 || got[0].Ref != "telegram:charge-1" || got[0].Amount != 500 {
		t.Fatalf("purchase entries %+v", got)
	}
	if got := balance(t, db, "telegram:2"); got != 10 {
		t.Fatalf("telegram:2 has %d, want the start credits only", got)
	}
	st, err := db.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Purchases != 1 || st.PurchaseStars != 50 || st.PurchaseCredits != 500 {
		t.Fatalf("stats %+v", st)
	}
}

func TestPurchaseConcurrentSameKey(t *testing.T) {
	db := openTest(t, 0)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		granted int
	)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Some of them with another user id: the key alone decides.
			user := "discord:7"
			if i%5 == 0 {
				user = "discord:8"
			}
			_, dup, err := db.Purchase(context.Background(), core.Payment{Key: core.DiscordEntitlement("e-1"), UserID: user, Credits: 300, Consume: true})
			if err != nil {
				t.Error(err)
				return
			}
			if !dup {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != 1 {
		t.Fatalf("granted %d times, want 1", granted)
	}
	total := balance(t, db, "discord:7") + balance(t, db, "discord:8")
	if total != 300 {
		t.Fatalf("the two users hold %d credits, want 300", total)
	}
	pend, err := db.PendingConsumes(context.Background())
	if err != nil || len(pend) != 1 || pend[0].Key != core.DiscordEntitlement("e-1") {
		t.Fatalf("pending consumes %+v, %v", pend, err)
	}
}

func TestPurchaseRejectsBadValues(t *testing.T) {
	db := openTest(t, 0)
	for _, p := range []core.Payment{
		{Key: core.TelegramCharge(""), UserID: "telegram:1", Credits: 1},
		{Key: core.PaymentKey{Platform: "paypal", ID: "x"}, UserID: "telegram:1", Credits: 1},
		{Key: core.TelegramCharge("c"), UserID: "telegram:1", Credits: 0},
		{Key: core.TelegramCharge("c"), UserID: "telegram:1", Credits: -5},
		{Key: core.TelegramCharge("c"), UserID: "", Credits: 5},
	} {
		_, _, err := db.Purchase(context.Background(), p)
		wantCode(t, err, core.EINVALID)
	}
}

func TestRefundBeginEnd(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, 0)
	key := core.TelegramCharge("c-1")
	mustPurchase(t, db, pack("telegram:1", "c-1", 500, 50))

	p, err := db.BeginRefund(ctx, key, "telegram:99")
	if err != nil || p.Refund != core.RefundPending || p.Refunded != 500 {
		t.Fatalf("BeginRefund: %+v, %v", p, err)
	}
	if got := balance(t, db, "telegram:1"); got != 0 {
		t.Fatalf("balance %d after the refund began, want 0", got)
	}
	// Begun again (the platform's answer was lost): nothing more is taken.
	if p, err = db.BeginRefund(ctx, key, "telegram:99"); err != nil || p.Refund != core.RefundPending {
		t.Fatalf("BeginRefund again: %+v, %v", p, err)
	}
	pend, err := db.PendingRefunds(ctx)
	if err != nil || len(pend) != 1 {
		t.Fatalf("pending refunds %+v, %v", pend, err)
	}
	// Refused by the platform: the credits go back, and it can be tried again.
	if p, err = db.EndRefund(ctx, key, false); err != nil || p.Refund != "" || p.Refunded != 0 {
		t.Fatalf("EndRefund(refused): %+v, %v", p, err)
	}
	if got := balance(t, db, "telegram:1"); got != 500 {
		t.Fatalf("balance %d after a refused refund, want 500", got)
	}
	if _, err = db.BeginRefund(ctx, key, "telegram:99"); err != nil {
		t.Fatal(err)
	}
	if p, err = db.EndRefund(ctx, key, true); err != nil || p.Refund != core.RefundDone {
		t.Fatalf("EndRefund(done): %+v, %v", p, err)
	}
	// Settled: a second settle, a third begin and Telegram's own refund
	// message change nothing.
	if p, err = db.EndRefund(ctx, key, false); err != nil || p.Refund != core.RefundDone {
		t.Fatalf("EndRefund after done: %+v, %v", p, err)
	}
	_, err = db.BeginRefund(ctx, key, "telegram:99")
	wantCode(t, err, core.EINVALID)
	if _, debited, err := db.PaymentRefunded(ctx, key, "telegram:1"); err != nil || debited != 0 {
		t.Fatalf("PaymentRefunded after our refund: debited %d, %v", debited, err)
	}
	if got := balance(t, db, "telegram:1"); got != 0 {
		t.Fatalf("balance %d, want 0", got)
	}
	if got := entries(t, db, "telegram:1", core.LedgerPurchaseRefund); len(got) != 3 {
		t.Fatalf("purchase_refund entries %+v, want -500, +500, -500", got)
	}
	if pend, _ := db.PendingRefunds(ctx); len(pend) != 0 {
		t.Fatalf("pending refunds %+v", pend)
	}
	_, err = db.BeginRefund(ctx, core.TelegramCharge("nope"), "telegram:99")
	wantCode(t, err, core.ENOTFOUND)
}

// An admin refund needs the buyer to hold the credits the payment bought.
func TestRefundNeedsTheCredits(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, 0)
	mustPurchase(t, db, pack("telegram:1", "c-1", 500, 50))
	mustAccept(t, db, newJob("telegram:1", 100, "ev-1"), 0)
	_, err := db.BeginRefund(ctx, core.TelegramCharge("c-1"), "telegram:99")
	wantCode(t, err, core.EINVALID)
	if got := balance(t, db, "telegram:1"); got != 400 {
		t.Fatalf("balance %d, want 400 (nothing taken)", got)
	}
	if got := entries(t, db, "telegram:1", core.LedgerPurchaseRefund); len(got) != 0 {
		t.Fatalf("purchase_refund entries %+v", got)
	}
}

// A refund the platform made on its own takes at most the balance, once,
// even when told many times at once.
func TestPaymentRefundedOnceNeverBelowZero(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, 0)
	key := core.TelegramCharge("c-1")
	mustPurchase(t, db, pack("telegram:1", "c-1", 500, 50))
	mustAccept(t, db, newJob("telegram:1", 470, "ev-1"), 0)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, debited, err := db.PaymentRefunded(ctx, key, "telegram:1")
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += debited
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 30 {
		t.Fatalf("debited %d in all, want the 30 left", total)
	}
	if got := balance(t, db, "telegram:1"); got != 0 {
		t.Fatalf("balance %d, want 0", got)
	}
	p, err := db.Payment(ctx, key)
	if err != nil || p.Refund != core.RefundDone || p.Refunded != 30 {
		t.Fatalf("payment %+v, %v", p, err)
	}
	// Told again once the user has credits: still nothing more.
	if _, err := db.AdjustCredits(ctx, "telegram:1", 1000, false, "test"); err != nil {
		t.Fatal(err)
	}
	if _, debited, err := db.PaymentRefunded(ctx, key, "telegram:1"); err != nil || debited != 0 {
		t.Fatalf("told again: debited %d, %v", debited, err)
	}
	_, err = db.BeginRefund(ctx, key, "telegram:99")
	wantCode(t, err, core.EINVALID)
}

// A payment refunded before it was granted (its update was lost) is never
// granted afterwards, e.g. by the recovery at start.
func TestPaymentRefundedBeforeGrant(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, 0)
	p, debited, err := db.PaymentRefunded(ctx, core.TelegramCharge("lost"), "telegram:1")
	if err != nil || debited != 0 || p.Refund != core.RefundDone {
		t.Fatalf("PaymentRefunded: %+v, %d, %v", p, debited, err)
	}
	if a, dup := mustPurchase(t, db, pack("telegram:1", "lost", 500, 50)); !dup || a.Balance != 0 {
		t.Fatalf("purchase of a refunded payment: %+v dup=%v", a, dup)
	}
}

// A Discord entitlement is listed until it is marked consumed, across a
// restart (a crash between the grant and the consume), and a deleted
// entitlement is no longer listed.
func TestPendingConsumes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sorabot.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		mustPurchase(t, db, core.Payment{Key: core.DiscordEntitlement(fmt.Sprint("e-", i)), UserID: "discord:1", Credits: 100, Consume: true})
	}
	mustPurchase(t, db, pack("telegram:1", "c-1", 500, 50)) // nothing to consume
	if err := db.MarkConsumed(ctx, core.DiscordEntitlement("e-0")); err != nil {
		t.Fatal(err)
	}
	db.Close() // the crash

	db = openAt(t, path, Options{})
	pend, err := db.PendingConsumes(ctx)
	if err != nil || len(pend) != 2 || pend[0].Key.ID != "e-1" || pend[1].Key.ID != "e-2" || pend[0].Credits != 100 {
		t.Fatalf("pending consumes %+v, %v", pend, err)
	}
	if _, _, err := db.PaymentRefunded(ctx, core.DiscordEntitlement("e-2"), "discord:1"); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkConsumed(ctx, core.DiscordEntitlement("e-1")); err != nil {
		t.Fatal(err)
	}
	if pend, _ := db.PendingConsumes(ctx); len(pend) != 0 {
		t.Fatalf("pending consumes %+v", pend)
	}
	if got := balance(t, db, "discord:1"); got != 200 {
		t.Fatalf("balance %d, want 300 bought - 100 refunded", got)
	}
	wantCode(t, db.MarkConsumed(ctx, core.DiscordEntitlement("e-9")), core.ENOTFOUND)
}

// Telegram's refunded_payment after our own refund began settles it
// without taking the credits a second time.
func TestPaymentRefundedSettlesPending(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, 0)
	key := core.TelegramCharge("c-1")
	mustPurchase(t, db, pack("telegram:1", "c-1", 500, 50))
	if _, err := db.BeginRefund(ctx, key, "telegram:99"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AdjustCredits(ctx, "telegram:1", 200, false, "test"); err != nil {
		t.Fatal(err)
	}
	p, debited, err := db.PaymentRefunded(ctx, key, "telegram:1")
	if err != nil || debited != 0 || p.Refund != core.RefundDone || p.Refunded != 500 {
		t.Fatalf("PaymentRefunded: %+v, debited %d, %v", p, debited, err)
	}
	if got := balance(t, db, "telegram:1"); got != 200 {
		t.Fatalf("balance %d, want 200", got)
	}
	if pend, _ := db.PendingRefunds(ctx); len(pend) != 0 {
		t.Fatalf("pending refunds %+v", pend)
	}
	// The platform call of the refund then answers: nothing changes.
	if p, err := db.EndRefund(ctx, key, false); err != nil || p.Refund != core.RefundDone {
		t.Fatalf("EndRefund: %+v, %v", p, err)
	}
	if got := balance(t, db, "telegram:1"); got != 200 {
		t.Fatalf("balance %d, want 200", got)
	}
}
