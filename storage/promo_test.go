package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"sorabot/core"
)

func mustPromo(t testing.TB, db *DB, code string, credits, uses int) core.Promo {
	t.Helper()
	p, err := db.CreatePromo(context.Background(), core.Promo{Code: code, Credits: credits, Uses: uses, By: "telegram:99"})
	if err != nil {
		t.Fatalf("CreatePromo(%s): %v", code, err)
	}
	return p
}

func TestPromoCreateAndList(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, 0)
	mustPromo(t, db, "WELCOME", 100, 0)
	mustPromo(t, db, "ALPHA-1", 50, 3)
	_, err := db.CreatePromo(ctx, core.Promo{Code: "WELCOME", Credits: 5})
	wantCode(t, err, core.EINVALID)
	for _, bad := range []core.Promo{
		{Code: "lower", Credits: 5}, {Code: "", Credits: 5}, {Code: "X", Credits: 0}, {Code: "Y", Credits: 5, Uses: -1},
	} {
		_, err := db.CreatePromo(ctx, bad)
		wantCode(t, err, core.EINVALID)
	}
	list, err := db.Promos(ctx)
	if err != nil || len(list) != 2 || list[0].Code != "ALPHA-1" || list[0].Uses != 3 || list[1].Code != "WELCOME" || list[1].Credits != 100 {
		t.Fatalf("promos %+v, %v", list, err)
	}
}

func TestRedeem(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, 10)
	mustPromo(t, db, "WELCOME", 100, 0)
	a, p, err := db.Redeem(ctx, "telegram:1", "welcome") // case does not matter
	if err != nil || a.Balance != 110 || p.Used != 1 {
		t.Fatalf("Redeem: %+v %+v %v", a, p, err)
	}
	if _, _, err := db.Redeem(ctx, "telegram:1", "WELCOME"); !errors.Is(err, core.ErrPromoRedeemed) {
		t.Fatalf("second redeem: %v, want already redeemed", err)
	}
	if _, _, err := db.Redeem(ctx, "telegram:1", "NOPE"); !errors.Is(err, core.ErrPromoUnknown) {
		t.Fatalf("unknown code: %v", err)
	}
	if _, _, err := db.Redeem(ctx, "telegram:1", "no such thing!"); !errors.Is(err, core.ErrPromoUnknown) {
		t.Fatalf("malformed code: %v", err)
	}
	if got := balance(t, db, "telegram:1"); got != 110 {
		t.Fatalf("balance %d, want 110", got)
	}
	if e := entries(t, db, "telegram:1", core.LedgerPromo); len(e) != 1 || e[0].Ref != "WELCOME" {
		t.Fatalf("promo entries %+v", e)
	}
}

// 50 users redeem a 10-use code at once: exactly 10 get it; one user
// redeeming 50 times at once gets it once.
func TestRedeemConcurrent(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, 0)
	mustPromo(t, db, "TEN", 70, 10)
	mustPromo(t, db, "ONCE", 30, 0)
	var (
		wg                     sync.WaitGroup
		mu                     sync.Mutex
		granted, usedUp, again int
	)
	redeem := func(user, code string) {
		defer wg.Done()
		_, _, err := db.Redeem(ctx, user, code)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			granted++
		case errors.Is(err, core.ErrPromoUsedUp):
			usedUp++
		case errors.Is(err, core.ErrPromoRedeemed):
			again++
		default:
			t.Error(err)
		}
	}
	for i := range 50 {
		wg.Add(1)
		go redeem(fmt.Sprintf("telegram:%d", i), "TEN")
	}
	wg.Wait()
	if granted != 10 || usedUp != 40 || again != 0 {
		t.Fatalf("TEN: granted %d, used up %d, already %d; want 10, 40, 0", granted, usedUp, again)
	}
	total := 0
	for i := range 50 {
		total += balance(t, db, fmt.Sprintf("telegram:%d", i))
	}
	if total != 700 {
		t.Fatalf("the users hold %d credits, want 10 × 70", total)
	}

	granted, usedUp, again = 0, 0, 0
	for range 50 {
		wg.Add(1)
		go redeem("telegram:1", "ONCE")
	}
	wg.Wait()
	if granted != 1 || again != 49 {
		t.Fatalf("ONCE: granted %d, already %d; want 1, 49", granted, again)
	}
	list, _ := db.Promos(ctx)
	if list[0].Code != "ONCE" || list[0].Used != 1 || list[1].Code != "TEN" || list[1].Used != 10 || list[1].Left() != 0 {
		t.Fatalf("promos %+v", list)
	}
}
