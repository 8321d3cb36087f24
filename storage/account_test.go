package storage

import (
	"context"
	"sync"
	"testing"

	"sorabot/core"
)

func TestAccountStartCredits(t *testing.T) {
	for _, tc := range []struct {
		start, grants int
	}{
		{0, 0},
		{100, 1},
	} {
		db := openTest(t, tc.start)
		ctx := context.Background()
		for range 3 {
			a, err := db.Account(ctx, "telegram:7")
			if err != nil {
				t.Fatal(err)
			}
			if a.Balance != tc.start || a.UserID != "telegram:7" || a.Active != 0 || a.Created.IsZero() {
				t.Errorf("start %d: account %+v", tc.start, a)
			}
		}
		if g := entries(t, db, "telegram:7", core.LedgerGrant); len(g) != tc.grants {
			t.Errorf("start %d: %d grant entries, want %d", tc.start, len(g), tc.grants)
		} else if tc.grants == 1 && (g[0].Amount != tc.start || g[0].Balance != tc.start) {
			t.Errorf("grant entry %+v", g[0])
		}
	}
}

// First touches by every entry point grant the start credits once.
func TestStartCreditsGrantedOnce(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			var err error
			switch i % 3 {
			case 0:
				_, err = db.Account(ctx, "discord:42")
			case 1:
				_, err = db.AdjustCredits(ctx, "discord:42", 1, false, "admin")
			case 2:
				_, err = db.Accept(ctx, newJob("discord:42", 1, ""), 0)
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if g := entries(t, db, "discord:42", core.LedgerGrant); len(g) != 1 {
		t.Errorf("%d grant entries, want 1", len(g))
	}
	if b := balance(t, db, "discord:42"); b != 100 {
		t.Errorf("balance %d, want 100 (+10 admin -10 charges)", b)
	}
}

func TestAccountConcurrentFirstTouch(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if a, err := db.Account(ctx, "console:new"); err != nil || a.Balance != 100 {
				t.Errorf("Account = %+v, %v", a, err)
			}
		})
	}
	wg.Wait()
	if g := entries(t, db, "console:new", core.LedgerGrant); len(g) != 1 {
		t.Errorf("%d grant entries, want 1", len(g))
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Users != 1 || st.Credits != 100 {
		t.Errorf("stats %+v, want 1 user and 100 credits", st)
	}
}

func TestAccountInvalidUser(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	for _, u := range []string{"", "a\x00b"} {
		_, err := db.Account(ctx, u)
		wantCode(t, err, core.EINVALID)
		_, err = db.AdjustCredits(ctx, u, 1, false, "x")
		wantCode(t, err, core.EINVALID)
		_, err = db.Accept(ctx, newJob(u, 1, ""), 0)
		wantCode(t, err, core.EINVALID)
		_, err = db.Ledger(ctx, u, 0)
		wantCode(t, err, core.EINVALID)
		_, err = db.History(ctx, u, 0)
		wantCode(t, err, core.EINVALID)
	}
}

func TestAdjustCredits(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	steps := []struct {
		delta   int
		set     bool
		want    int    // balance after
		code    string // error code, "" for none
		entries int    // admin entries so far
	}{
		{50, false, 150, "", 1},
		{-30, false, 120, "", 2},
		{10, true, 10, "", 3},
		{-11, false, 10, core.EINVALID, 3},
		{-5, true, 10, core.EINVALID, 3},
		{0, true, 0, "", 4},
		{7, false, 7, "", 5},
	}
	for i, s := range steps {
		a, err := db.AdjustCredits(ctx, "telegram:1", s.delta, s.set, "telegram:99")
		if s.code != "" {
			wantCode(t, err, s.code)
		} else if err != nil {
			t.Fatalf("step %d: %v", i, err)
		} else if a.Balance != s.want {
			t.Errorf("step %d: returned balance %d, want %d", i, a.Balance, s.want)
		}
		if b := balance(t, db, "telegram:1"); b != s.want {
			t.Errorf("step %d: balance %d, want %d", i, b, s.want)
		}
		admin := entries(t, db, "telegram:1", core.LedgerAdmin)
		if len(admin) != s.entries {
			t.Fatalf("step %d: %d admin entries, want %d", i, len(admin), s.entries)
		}
		if e := admin[0]; e.Note != "by telegram:99" || e.Balance != s.want {
			t.Errorf("step %d: newest admin entry %+v", i, e)
		}
	}
}

func TestAdjustCreditsRefusedLeavesNewUserUntouched(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	_, err := db.AdjustCredits(ctx, "telegram:5", -500, false, "admin")
	wantCode(t, err, core.EINVALID)
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Users != 0 {
		t.Errorf("a refused adjustment created the account: %+v", st)
	}
}
