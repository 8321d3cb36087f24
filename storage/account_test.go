package storage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

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

// holdGroup starts a group-commit call that keeps its write transaction
// open until the returned release is called, and waits until it holds it.
func holdGroup(t *testing.T, db *DB) (release func()) {
	t.Helper()
	entered, unblock, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.update(func(*bolt.Tx) error {
			select {
			case <-entered:
			default:
				close(entered)
			}
			<-unblock
			return nil
		})
	}()
	<-entered
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(unblock)
			if err := <-done; err != nil {
				t.Errorf("holding transaction: %v", err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

// New accounts are created in the group commit shared with accepts (one
// transaction, one fsync for all that arrive together), and reading an
// existing account never waits for a write transaction.
func TestAccountNewUsersShareGroupCommit(t *testing.T) {
	const n = 50
	db := openTest(t, 100)
	ctx := context.Background()
	if _, err := db.Account(ctx, "telegram:old"); err != nil {
		t.Fatal(err)
	}
	release := holdGroup(t, db)
	commits := db.group.commits.Load()
	if commits == 0 {
		t.Fatal("the group commit counts no transactions")
	}

	got := make(chan error, 1)
	go func() {
		a, err := db.Account(ctx, "telegram:old")
		if err == nil && a.Balance != 100 {
			err = fmt.Errorf("balance %d, want 100", a.Balance)
		}
		got <- err
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading an existing account waits for the write transaction")
	}

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if a, err := db.Account(ctx, fmt.Sprintf("telegram:%d", i)); err != nil || a.Balance != 100 {
				t.Errorf("Account = %+v, %v", a, err)
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.group.mu.Lock()
		pending := len(db.group.pending)
		db.group.mu.Unlock()
		if pending == n {
			break
		}
		if time.Now().After(deadline) {
			release()
			wg.Wait()
			t.Fatalf("%d of %d new accounts waited in the group commit", pending, n)
		}
		time.Sleep(time.Millisecond)
	}
	release()
	wg.Wait()
	// The held transaction was counted when it began.
	if c := db.group.commits.Load() - commits; c != 1 {
		t.Errorf("%d write transactions for %d new accounts, want 1", c, n)
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Users != n+1 || st.Credits != 100*(n+1) {
		t.Errorf("stats %+v, want %d users and %d credits", st, n+1, 100*(n+1))
	}
}
