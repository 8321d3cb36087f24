package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"sorabot/core"
)

func TestOpenCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	db, err := Open(filepath.Join(dir, "sorabot.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("dir mode %o, want 700", perm)
	}
}

func TestOpenRejectsNegativeStartCredits(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{StartCredits: -1}); err == nil {
		t.Fatal("Open with StartCredits -1 succeeded")
	}
}

func TestOpenInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sorabot.db")
	db, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db2, err := Open(path, Options{Timeout: 200 * time.Millisecond})
	if err == nil {
		db2.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	want := "database " + path + " is in use by another sorabot process"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if !errors.Is(err, berrors.ErrTimeout) {
		t.Errorf("error %v does not wrap bbolt's ErrTimeout", err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sorabot.db")
	db, err := Open(path, Options{StartCredits: 100})
	if err != nil {
		t.Fatal(err)
	}
	j := newJob("telegram:1", 30, "upd:1")
	mustAccept(t, db, j, 2)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = Open(path, Options{StartCredits: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Job(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != core.Queued || got.Price != 30 || got.Key != "upd:1" {
		t.Errorf("reopened job = %+v", got)
	}
	if b := balance(t, db, "telegram:1"); b != 70 {
		t.Errorf("balance %d, want 70", b)
	}
	res := mustAccept(t, db, newJob("telegram:1", 30, "upd:1"), 2)
	if !res.Duplicate || res.Job.ID != j.ID {
		t.Errorf("key after reopen: %+v, want duplicate of %s", res, j.ID)
	}
	j2 := newJob("telegram:1", 30, "upd:2")
	mustAccept(t, db, j2, 2)
	if j2.ID != "2" {
		t.Errorf("second job id %q, want 2", j2.ID)
	}
	if err := db.Verify(ctx); err != nil {
		t.Error(err)
	}
}

func TestCanceledContext(t *testing.T) {
	db := openTest(t, 100)
	j := newJob("u", 10, "")
	mustAccept(t, db, j, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"Accept":        func() error { _, err := db.Accept(ctx, newJob("u", 10, ""), 0); return err },
		"Job":           func() error { _, err := db.Job(ctx, j.ID); return err },
		"Images":        func() error { _, err := db.Images(ctx, j.ID); return err },
		"Transition":    func() error { _, _, err := db.Transition(ctx, j.ID, core.ActiveStates, func(*core.Job) {}); return err },
		"Finish":        func() error { _, _, err := db.Finish(ctx, j.ID, core.ActiveStates, core.Failed, nil, ""); return err },
		"ActiveJobs":    func() error { _, err := db.ActiveJobs(ctx); return err },
		"History":       func() error { _, err := db.History(ctx, "u", 0); return err },
		"Account":       func() error { _, err := db.Account(ctx, "u"); return err },
		"Ledger":        func() error { _, err := db.Ledger(ctx, "u", 0); return err },
		"AdjustCredits": func() error { _, err := db.AdjustCredits(ctx, "u", 5, false, "t"); return err },
		"Stats":         func() error { _, err := db.Stats(ctx); return err },
		"Verify":        func() error { return db.Verify(ctx) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: %v", name, err)
		}
	}
	if b := balance(t, db, "u"); b != 90 {
		t.Errorf("balance %d after canceled calls, want 90", b)
	}
}

func TestMalformedJobID(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	mustAccept(t, db, newJob("u", 10, ""), 0)
	for _, id := range []string{"", "0", "-1", "abc", "1.0", " 1", "99", "18446744073709551616"} {
		_, err := db.Job(ctx, id)
		wantCode(t, err, core.ENOTFOUND)
		_, err = db.Images(ctx, id)
		wantCode(t, err, core.ENOTFOUND)
		_, _, err = db.Transition(ctx, id, core.ActiveStates, func(*core.Job) {})
		wantCode(t, err, core.ENOTFOUND)
		_, _, err = db.Finish(ctx, id, core.ActiveStates, core.Failed, nil, "")
		wantCode(t, err, core.ENOTFOUND)
	}
}

// A database of the version with per-user index buckets gets its recent
// lists from them on Open, and loses the buckets.
