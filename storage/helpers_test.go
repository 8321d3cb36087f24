package storage

import (
	"context"
	"path/filepath"
	"testing"

	"sorabot/core"
)

// openTest opens a fresh database in t.TempDir() and, when the test ends,
// checks it with Verify and closes it.
func openTest(t testing.TB, startCredits int) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "data", "sorabot.db"), Options{StartCredits: startCredits, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Verify(context.Background()); err != nil {
			t.Errorf("Verify at the end of the test: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func newJob(user string, price int, key string) *core.Job {
	return &core.Job{
		UserID: user,
		Key:    key,
		Origin: core.Origin{Platform: "console", ChatID: user},
		Req:    core.Request{Model: "sora-2", Prompt: "a cat on a skateboard", Duration: 10},
		Price:  price,
	}
}

// mustAccept accepts j and fails the test on any error.
func mustAccept(t testing.TB, db *DB, j *core.Job, maxActive int) core.AcceptResult {
	t.Helper()
	res, err := db.Accept(context.Background(), j, maxActive)
	if err != nil {
		t.Fatalf("Accept(%s, price %d): %v", j.UserID, j.Price, err)
	}
	return res
}

// wantCode fails the test unless err carries the core error code.
func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := core.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
}

func balance(t testing.TB, db *DB, user string) int {
	t.Helper()
	a, err := db.Account(context.Background(), user)
	if err != nil {
		t.Fatal(err)
	}
	return a.Balance
}

// entries returns all of a user's ledger entries of a kind, newest first.
func entries(t testing.TB, db *DB, user, kind string) []core.LedgerEntry {
	t.Helper()
	all, err := db.Ledger(context.Background(), user, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []core.LedgerEntry
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// failure is the reason of a failed job in tests: no catalog message.
func failure(code, msg string) *core.Error {
	return &core.Error{Code: code, ID: "test.failure", Message: msg}
}
