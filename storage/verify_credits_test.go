package storage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// populateCredits makes every kind of credit movement: allowance,
// purchases (refunded, pending refund, to consume, refunded before the
// grant) and promo codes.
func populateCredits(t *testing.T, db *DB) {
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	balance(t, db, "telegram:1") // the allowance
	mustPurchase(t, db, pack("telegram:1", "c-1", 500, 50))
	mustPurchase(t, db, pack("telegram:2", "c-2", 300, 25))
	_, err := db.BeginRefund(ctx, core.TelegramCharge("c-2"), "telegram:99")
	must(err)
	_, err = db.EndRefund(ctx, core.TelegramCharge("c-2"), true)
	must(err)
	mustPurchase(t, db, pack("telegram:1", "c-3", 100, 10))
	_, err = db.BeginRefund(ctx, core.TelegramCharge("c-3"), "telegram:99")
	must(err)
	mustPurchase(t, db, core.Payment{Key: core.DiscordEntitlement("e-1"), UserID: "discord:3", Credits: 200, Consume: true})
	_, _, err = db.PaymentRefunded(ctx, core.TelegramCharge("lost"), "telegram:4")
	must(err)
	mustPromo(t, db, "TEN", 70, 2)
	for _, u := range []string{"telegram:1", "telegram:2"} {
		_, _, err := db.Redeem(ctx, u, "TEN")
		must(err)
	}
}

// addEntry appends a well-formed ledger entry (balances in step), so that
// only what the entry means is wrong.
func addEntry(e core.LedgerEntry) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		a, _, err := getAccount(tx, e.UserID)
		if err != nil {
			return err
		}
		a.Balance += e.Amount
		e.Balance = a.Balance
		if err := appendLedger(tx, &a, &e); err != nil {
			return err
		}
		return putAccount(tx, &a)
	}
}

func editPayment(key string, fn func(*core.Payment)) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		var p core.Payment
		if _, err := getJSON(tx.Bucket(bucketPayments), []byte(key), &p); err != nil {
			return err
		}
		fn(&p)
		return putJSON(tx.Bucket(bucketPayments), []byte(key), &p)
	}
}

func deleteKey(bucket []byte, key string) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error { return tx.Bucket(bucket).Delete([]byte(key)) }
}

var creditDay = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func TestVerifyCreditsClean(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "db"), Options{DailyCredits: 100, Now: func() time.Time { return creditDay }})
	populateCredits(t, db)
	r, err := db.VerifyReport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{core.LedgerAllowance: 2, core.LedgerPurchase: 4, core.LedgerPurchaseRefund: 2, core.LedgerPromo: 2}
	for k, n := range want {
		if r.Kinds[k] != n {
			t.Errorf("%d %s entries counted, want %d", r.Kinds[k], k, n)
		}
	}
	if len(r.Problems) != 0 || r.Payments != 5 || r.Promos != 1 {
		t.Errorf("report %+v", r)
	}
}

// Each tampering with the credits bought and earned must be caught.
func TestVerifyFindsCreditTampering(t *testing.T) {
	day := creditDay.Format(time.DateOnly)
	for _, tc := range []struct {
		name   string
		tamper func(*bolt.Tx) error
		want   string
	}{
		{"purchase granted twice", addEntry(core.LedgerEntry{UserID: "telegram:1", Kind: core.LedgerPurchase, Amount: 500, Ref: "telegram:c-1"}),
			"payment telegram:c-1 granted twice"},
		{"payment record removed", deleteKey(bucketPayments, "telegram:c-1"),
			`purchase entries for "telegram:c-1", which has no payment record`},
		{"payment edited", editPayment("telegram:c-1", func(p *core.Payment) { p.Credits = 5000 }),
			"payment telegram:c-1 (5000 credits to telegram:1"},
		{"refund beyond the purchase", addEntry(core.LedgerEntry{UserID: "telegram:2", Kind: core.LedgerPurchaseRefund, Amount: -10, Ref: "telegram:c-2"}),
			"refunds of payment telegram:c-2 total 310"},
		{"refund of no purchase", addEntry(core.LedgerEntry{UserID: "telegram:2", Kind: core.LedgerPurchaseRefund, Amount: -5, Ref: "telegram:nope"}),
			`refers to "telegram:nope", which has no purchase before it`},
		{"refund record without entry", editPayment("telegram:c-1", func(p *core.Payment) { p.Refund, p.Refunded = core.RefundDone, 500 }),
			"says 500 credits refunded; its refund entries total 0"},
		{"refunded before the grant, granted", addEntry(core.LedgerEntry{UserID: "telegram:2", Kind: core.LedgerPurchase, Amount: 9, Ref: "telegram:lost"}),
			"payment telegram:lost was never granted but has 1 purchase entries"},
		{"pending refund not listed", deleteKey(bucketRefunding, "telegram:c-3"),
			`payment telegram:c-3 has refund "pending" but is not in the pending refunds`},
		{"consume not listed", deleteKey(bucketConsume, "discord:e-1"),
			"payment discord:e-1 has consume=true but is not in the pending consumes"},
		{"stars counter", func(tx *bolt.Tx) error { return addCounter(tx, metaPurchaseStars, 1) },
			"counter purchase_stars is 86; recounted 85"},
		{"allowance twice a day", addEntry(core.LedgerEntry{UserID: "telegram:1", Kind: core.LedgerAllowance, Amount: 10, Ref: day, Time: creditDay}),
			"telegram:1 got the daily allowance twice on " + day},
		{"allowance on another day", addEntry(core.LedgerEntry{UserID: "telegram:2", Kind: core.LedgerAllowance, Amount: 10, Ref: "2026-11-11", Time: creditDay}),
			"for 2026-11-11 was made on " + day},
		{"allowance day forgotten", func(tx *bolt.Tx) error {
			a, _, _ := getAccount(tx, "telegram:1")
			a.Day = ""
			return putAccount(tx, &a)
		}, "telegram:1 got the daily allowance on " + day},
		{"promo redeemed twice", addEntry(core.LedgerEntry{UserID: "telegram:1", Kind: core.LedgerPromo, Amount: 70, Ref: "TEN"}),
			"telegram:1 redeemed promo code TEN twice"},
		{"promo beyond its uses", func(tx *bolt.Tx) error {
			var p core.Promo
			getJSON(tx.Bucket(bucketPromos), []byte("TEN"), &p)
			p.Uses = 1
			return putJSON(tx.Bucket(bucketPromos), []byte("TEN"), &p)
		}, "promo code TEN was used 2 times; it allows 1"},
		{"promo code removed", deleteKey(bucketPromos, "TEN"),
			`promo entries for 2 users of code "TEN", which does not exist`},
		{"redemption record removed", deleteKey(bucketRedeemed, "TEN\x00telegram:2"),
			"the redemption of telegram:2 is not recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(filepath.Join(t.TempDir(), "db"), Options{DailyCredits: 100, NoSync: true, Now: func() time.Time { return creditDay }})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			populateCredits(t, db)
			if err := db.Verify(context.Background()); err != nil {
				t.Fatalf("before tampering: %v", err)
			}
			if err := db.bolt.Update(tc.tamper); err != nil {
				t.Fatal(err)
			}
			err = db.Verify(context.Background())
			if err == nil {
				t.Fatal("Verify passed a tampered database")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify error does not mention %q:\n%v", tc.want, err)
			}
		})
	}
}
