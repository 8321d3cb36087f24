package storage

import (
	"context"
	"testing"

	"sorabot/core"
)

func TestLedgerNewestFirst(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	j := newJob("console:ann", 30, "")
	mustAccept(t, db, j, 0)
	if _, ok, err := db.Finish(ctx, j.ID, core.ActiveStates, core.Failed, nil, ""); !ok || err != nil {
		t.Fatal(ok, err)
	}
	for _, d := range []int{5, -20} {
		if _, err := db.AdjustCredits(ctx, "console:ann", d, false, "root"); err != nil {
			t.Fatal(err)
		}
	}
	// A user whose id extends ann's must not leak into her ledger.
	if _, err := db.Account(ctx, "console:anna"); err != nil {
		t.Fatal(err)
	}

	all, err := db.Ledger(ctx, "console:ann", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind            string
		amount, balance int
	}{
		{core.LedgerAdmin, -20, 85},
		{core.LedgerAdmin, 5, 105},
		{core.LedgerRefund, 30, 100},
		{core.LedgerCharge, -30, 70},
		{core.LedgerGrant, 100, 100},
	}
	if len(all) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(all), len(want), all)
	}
	for i, w := range want {
		e := all[i]
		if e.Kind != w.kind || e.Amount != w.amount || e.Balance != w.balance || e.UserID != "console:ann" || e.Time.IsZero() {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
		}
		if i > 0 && e.Seq >= all[i-1].Seq {
			t.Errorf("entry %d seq %d not below %d", i, e.Seq, all[i-1].Seq)
		}
	}
	if all[2].JobID != j.ID || all[3].JobID != j.ID {
		t.Errorf("charge/refund entries lack the job id: %+v %+v", all[3], all[2])
	}

	for _, limit := range []int{1, 3, 5, 9} {
		got, err := db.Ledger(ctx, "console:ann", limit)
		if err != nil {
			t.Fatal(err)
		}
		if n := min(limit, len(want)); len(got) != n || got[0].Seq != all[0].Seq {
			t.Errorf("limit %d: %d entries starting at %d", limit, len(got), got[0].Seq)
		}
	}
	if got, err := db.Ledger(ctx, "console:nobody", 10); err != nil || len(got) != 0 {
		t.Errorf("ledger of an unknown user: %v %v", got, err)
	}
}

// Ledger lists only the newest recentCap entries.
func TestLedgerCap(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	for i := range recentCap + 10 {
		if _, err := db.AdjustCredits(ctx, "console:bob", i+1, false, "root"); err != nil {
			t.Fatal(err)
		}
	}
	all, err := db.Ledger(ctx, "console:bob", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != recentCap {
		t.Fatalf("%d entries, want %d", len(all), recentCap)
	}
	for i, e := range all {
		// Newest first: the last adjustment added recentCap+10.
		if want := recentCap + 10 - i; e.Kind != core.LedgerAdmin || e.Amount != want {
			t.Fatalf("entry %d: %+v, want an admin entry of %d", i, e, want)
		}
	}
	if got, err := db.Ledger(ctx, "console:bob", 3); err != nil || len(got) != 3 || got[0].Seq != all[0].Seq {
		t.Errorf("limit 3: %d entries, %v", len(got), err)
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := 100
	for i := range recentCap + 10 {
		want += i + 1
	}
	if st.Credits != want {
		t.Errorf("credits %d, want %d: older entries still count", st.Credits, want)
	}
}
