package storage

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"sorabot/core"
)

// clock is a settable time for the daily allowance.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func openDaily(t *testing.T, start, daily int, c *clock) *DB {
	return openAt(t, filepath.Join(t.TempDir(), "sorabot.db"), Options{StartCredits: start, DailyCredits: daily, Now: c.Now})
}

func TestDailyAllowance(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	db := openDaily(t, 30, 100, c)
	const u = "telegram:1"

	// Day 1: the first command (a new user) tops 30 up to 100, once.
	if got := balance(t, db, u); got != 100 {
		t.Fatalf("day 1: balance %d, want 100", got)
	}
	mustAccept(t, db, newJob(u, 100, "d1"), 0)
	if got := balance(t, db, u); got != 0 {
		t.Fatalf("day 1 after a job: balance %d, want 0 (once a day)", got)
	}
	// Day 2, a second before midnight UTC, seen from UTC+9 (already day 3
	// there): the first command tops up; the next does not.
	c.set(time.Date(2026, 12, 3, 8, 59, 59, 0, time.FixedZone("JST", 9*3600)))
	if got := balance(t, db, u); got != 100 {
		t.Fatalf("day 2: balance %d, want 100", got)
	}
	mustAccept(t, db, newJob(u, 60, "d2"), 0)
	if got := balance(t, db, u); got != 40 {
		t.Fatalf("day 2 after a job: balance %d, want 40", got)
	}
	// Day 3: the first command is /video, topped up in its own
	// transaction; refused for its price, the top-up stays.
	c.set(time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	_, err := db.Accept(ctx, newJob(u, 150, "d3"), 0)
	wantCode(t, err, core.ENOCREDITS)
	if got := balance(t, db, u); got != 100 {
		t.Fatalf("day 3: balance %d, want 100", got)
	}
	// A clock that went back gives nothing again.
	c.set(time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC))
	mustAccept(t, db, newJob(u, 100, "back"), 0)
	if got := balance(t, db, u); got != 0 {
		t.Fatalf("clock back: balance %d, want 0", got)
	}
	// Day 4: the first command is /redeem: allowance, then the code.
	c.set(time.Date(2026, 12, 4, 7, 0, 0, 0, time.UTC))
	mustPromo(t, db, "GIFT", 5, 0)
	if a, _, err := db.Redeem(ctx, u, "GIFT"); err != nil || a.Balance != 105 {
		t.Fatalf("day 4 redeem: %+v, %v", a, err)
	}
	// Day 5: a balance at or above the allowance gets nothing.
	c.set(time.Date(2026, 12, 5, 7, 0, 0, 0, time.UTC))
	if got := balance(t, db, u); got != 105 {
		t.Fatalf("day 5: balance %d, want 105", got)
	}

	// Newest first.
	got := entries(t, db, u, core.LedgerAllowance)
	want := []struct {
		day    string
		amount int
	}{{"2026-12-04", 100}, {"2026-12-03", 60}, {"2026-12-02", 100}, {"2026-12-01", 70}}
	if len(got) != len(want) {
		t.Fatalf("allowance entries %+v", got)
	}
	for i, w := range want {
		if got[i].Ref != w.day || got[i].Amount != w.amount {
			t.Errorf("allowance entry %d: %s %+d, want %s %+d", i, got[i].Ref, got[i].Amount, w.day, w.amount)
		}
	}
	st, err := db.Stats(ctx)
	if err != nil || st.Allowance != 330 || st.Promo != 5 {
		t.Fatalf("stats %+v, %v", st, err)
	}
}

// With the allowance off, nothing is written for it.
func TestDailyAllowanceOff(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	db := openDaily(t, 0, 0, c)
	if got := balance(t, db, "telegram:1"); got != 0 {
		t.Fatalf("balance %d", got)
	}
	c.set(c.Now().AddDate(0, 0, 1))
	if got := balance(t, db, "telegram:1"); got != 0 {
		t.Fatalf("balance %d", got)
	}
	if e := entries(t, db, "telegram:1", core.LedgerAllowance); len(e) != 0 {
		t.Fatalf("allowance entries %+v", e)
	}
}

// Many first commands of one user at once top up once.
func TestDailyAllowanceConcurrent(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	db := openDaily(t, 0, 100, c)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				_, err = db.Account(ctx, "telegram:1")
			} else {
				_, err = db.Accept(ctx, newJob("telegram:1", 1, ""), 0)
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if e := entries(t, db, "telegram:1", core.LedgerAllowance); len(e) != 1 || e[0].Amount != 100 {
		t.Fatalf("allowance entries %+v", e)
	}
	if got := balance(t, db, "telegram:1"); got != 80 {
		t.Fatalf("balance %d, want 100 - 20 jobs of 1", got)
	}
}
