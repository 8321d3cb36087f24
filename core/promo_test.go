package core_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"sorabot/core"
)

func TestPromoCodes(t *testing.T) {
	ctx := context.Background()
	m := newMoney(t, 0)
	_, err := m.svc.CreatePromo(ctx, "telegram:1", "X", 10, 1)
	wantErr(t, err, core.EFORBIDDEN)
	_, err = m.svc.Promos(ctx, "telegram:1")
	wantErr(t, err, core.EFORBIDDEN)
	for _, bad := range []struct {
		code          string
		credits, uses int
	}{{"", 10, 1}, {"has space", 10, 1}, {strings.Repeat("A", 33), 10, 1}, {"OK", 0, 1}, {"OK", 10, -1}} {
		_, err := m.svc.CreatePromo(ctx, admin, bad.code, bad.credits, bad.uses)
		wantErr(t, err, core.EINVALID)
	}
	p, err := m.svc.CreatePromo(ctx, admin, "launch-10", 25, 10)
	if err != nil || p.Code != "LAUNCH-10" || p.Uses != 10 || p.By != admin {
		t.Fatalf("CreatePromo: %+v %v", p, err)
	}
	_, err = m.svc.CreatePromo(ctx, admin, "Launch-10", 5, 0)
	wantErr(t, err, core.EINVALID)
	if _, err := m.svc.CreatePromo(ctx, admin, "ALL", 5, 0); err != nil {
		t.Fatal(err)
	}

	// 50 users at once on a 10-use code: exactly 10 grants.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results = map[error]int{}
	)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := m.svc.Redeem(ctx, fmt.Sprintf("telegram:%d", 100+i), "launch-10")
			mu.Lock()
			results[err]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(results) != 2 || results[nil] != 10 || results[core.ErrPromoUsedUp] != 40 {
		t.Fatalf("results %v, want 10 grants and 40 used up", results)
	}
	a, _, err := m.svc.Redeem(ctx, "telegram:1", "all")
	if err != nil || a.Balance != 15 {
		t.Fatalf("redeem: %+v %v", a, err)
	}
	if _, _, err := m.svc.Redeem(ctx, "telegram:1", "ALL"); !errors.Is(err, core.ErrPromoRedeemed) {
		t.Fatalf("again: %v", err)
	}
	if _, _, err := m.svc.Redeem(ctx, "telegram:1", "nothing"); !errors.Is(err, core.ErrPromoUnknown) {
		t.Fatalf("unknown: %v", err)
	}
	list, err := m.svc.Promos(ctx, admin)
	if err != nil || len(list) != 2 || list[0].Code != "ALL" || list[0].Used != 1 || list[0].Left() != -1 || list[1].Used != 10 {
		t.Fatalf("promos %+v %v", list, err)
	}
	st, _ := m.svc.Stats(ctx, admin)
	if st.Promo != 10*25+5 {
		t.Fatalf("stats promo %d", st.Promo)
	}
}
