package storage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// crashEnv names the database the helper process works on.
const crashEnv = "SORABOT_STORAGE_CRASH_DB"

// TestHelperProcess is the child of TestCrashRecovery: it works on the
// database until it is killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process of TestCrashRecovery")
	}
	if err := crashChild(path); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// crashChild finishes the jobs a previous run left active (as the service's
// recovery does), prints "started", then runs jobs through their life from
// several goroutines, printing "op" after each step, forever.
func crashChild(path string) error {
	ctx := context.Background()
	db, err := Open(path, Options{StartCredits: 500, DailyCredits: 50, Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	for i := range 3 {
		_, err := db.CreatePromo(ctx, core.Promo{Code: fmt.Sprint("P", i), Credits: 40, Uses: 3})
		if err != nil && core.ErrorCode(err) != core.EINVALID { // made by an earlier run
			return err
		}
	}
	active, err := db.ActiveJobs(ctx)
	if err != nil {
		return err
	}
	for _, j := range active {
		if _, _, err := db.Finish(ctx, j.ID, core.ActiveStates, core.Failed, core.EINTERNAL, "restarted"); err != nil {
			return err
		}
	}
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		os.Stdout.WriteString(s + "\n")
	}
	say("started")
	errc := make(chan error)
	for g := range 8 {
		go func() {
			for n := 0; ; n++ {
				if err := crashStep(ctx, db, g, n, say); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	return <-errc
}

func crashStep(ctx context.Context, db *DB, g, n int, say func(string)) error {
	user := fmt.Sprintf("telegram:%d", rand.IntN(5))
	if rand.IntN(4) == 0 {
		err := crashMoney(ctx, db, user)
		say("op")
		return err
	}
	key := fmt.Sprintf("%d-%d-%d", os.Getpid(), g, n)
	if n > 0 && rand.IntN(10) == 0 {
		key = fmt.Sprintf("%d-%d-%d", os.Getpid(), g, n-1) // a redelivered event
	}
	j := newJob(user, 10+rand.IntN(60), key)
	if rand.IntN(3) == 0 {
		j.Req.Images = []core.Image{{Data: []byte("\x89PNG\r\n\x1a\n")}}
	}
	res, err := db.Accept(ctx, j, 3)
	switch core.ErrorCode(err) {
	case "":
	case core.ENOCREDITS:
		_, err = db.AdjustCredits(ctx, user, 300, false, "crash test")
		say("op")
		return err
	case core.ERATELIMITED:
		// Fail the user's oldest job in flight (as a deadline would).
		h, err := db.History(ctx, user, 0)
		if err != nil {
			return err
		}
		for _, old := range slices.Backward(h) {
			if !old.State.Terminal() {
				_, _, err = db.Finish(ctx, old.ID, core.ActiveStates, core.Failed, core.EUNAVAILABLE, "deadline")
				break
			}
		}
		say("op")
		return err
	default:
		return err
	}
	say("op")
	if res.Duplicate {
		return nil
	}
	_, _, err = db.Transition(ctx, j.ID, []core.State{core.Queued}, func(j *core.Job) { j.State = core.Submitting })
	if err != nil {
		return err
	}
	_, _, err = db.Transition(ctx, j.ID, []core.State{core.Submitting}, func(j *core.Job) {
		j.State, j.TaskID = core.Submitted, "task-"+j.ID
	})
	if err != nil {
		return err
	}
	say("op")
	switch rand.IntN(4) {
	case 0, 1:
		_, _, err = db.Finish(ctx, j.ID, []core.State{core.Submitted}, core.Delivered, "", "")
	case 2:
		_, _, err = db.Finish(ctx, j.ID, core.ActiveStates, core.Failed, core.EUNAVAILABLE, "provider failed")
	case 3:
		// left in flight for the next run's recovery
	}
	say("op")
	return err
}

// crashMoney buys, refunds and redeems. Payment keys come from a small
// set shared by every run, so that many are presented again after a
// restart, as redelivered updates and the recovery at start do.
func crashMoney(ctx context.Context, db *DB, user string) error {
	key := core.TelegramCharge(fmt.Sprint("c-", rand.IntN(300)))
	switch rand.IntN(6) {
	case 0, 1:
		_, _, err := db.Purchase(ctx, core.Payment{Key: key, UserID: user, Credits: 100, Stars: 10})
		return err
	case 2:
		p, err := db.BeginRefund(ctx, key, "telegram:99")
		switch core.ErrorCode(err) {
		case core.ENOTFOUND, core.EINVALID:
			return nil
		case "":
		default:
			return err
		}
		_, err = db.EndRefund(ctx, p.Key, rand.IntN(2) == 0)
		return err
	case 3:
		_, _, err := db.PaymentRefunded(ctx, key, user)
		return err
	case 4:
		ent := core.DiscordEntitlement(fmt.Sprint("e-", rand.IntN(100)))
		if _, _, err := db.Purchase(ctx, core.Payment{Key: ent, UserID: user, Credits: 70, Consume: true}); err != nil {
			return err
		}
		return db.MarkConsumed(ctx, ent)
	default:
		_, _, err := db.Redeem(ctx, user, fmt.Sprint("P", rand.IntN(3)))
		if errors.Is(err, core.ErrPromoRedeemed) || errors.Is(err, core.ErrPromoUsedUp) {
			return nil
		}
		return err
	}
}

// Test 6: kill -9 in the middle of work leaves a consistent database.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	path := t.TempDir() + "/crash.db"
	for round := range 5 {
		target := 20 + rand.IntN(120)
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// A hung child must not hang the test.
		watchdog := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
		started, ops := false, 0
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			switch sc.Text() {
			case "started":
				started = true
			case "op":
				ops++
			}
			if started && ops >= target {
				break
			}
		}
		cmd.Process.Kill() // SIGKILL on Unix
		watchdog.Stop()
		werr := cmd.Wait()
		if !started || ops < target {
			t.Fatalf("round %d: child stopped after %d ops (started=%v, %v); stderr:\n%s", round, ops, started, werr, stderr.String())
		}
	}

	db, err := Open(path, Options{StartCredits: 500})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.VerifyReport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 {
		t.Fatalf("after 5 kills: %s", strings.Join(r.Problems, "\n"))
	}
	if r.Jobs == 0 || r.Users == 0 {
		t.Fatalf("the children did no work: %+v", r)
	}
	// Every charge names a stored job and every payment granted once
	// (also part of Verify; checked directly so that this test stands on
	// its own).
	charges, purchases := 0, map[string]int{}
	err = db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLedger).ForEach(func(k, v []byte) error {
			var e core.LedgerEntry
			if _, err := getJSON(tx.Bucket(bucketLedger), k, &e); err != nil {
				return err
			}
			if e.Kind == core.LedgerPurchase {
				if purchases[e.Ref]++; purchases[e.Ref] > 1 {
					t.Errorf("payment %s granted %d times", e.Ref, purchases[e.Ref])
				}
			}
			if e.Kind != core.LedgerCharge {
				return nil
			}
			charges++
			j, err := loadJob(tx, mustJobKey(t, e.JobID))
			if err != nil {
				return err
			}
			if j == nil {
				t.Errorf("charge %d names job %s, which does not exist", e.Seq, e.JobID)
			} else if j.Price != -e.Amount || j.UserID != e.UserID {
				t.Errorf("charge %+v does not match job %+v", e, j)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(purchases) == 0 || r.Kinds[core.LedgerPromo] == 0 {
		t.Fatalf("the children bought or redeemed nothing: %+v", r)
	}
	t.Logf("after 5 kills: %d users, %d jobs (%d active), %d ledger entries, %d charges, %d payments granted, entries by kind %v",
		r.Users, r.Jobs, r.ActiveJobs, r.LedgerEntries, charges, len(purchases), r.Kinds)
}

func mustJobKey(t *testing.T, id string) []byte {
	k, err := jobKey(id)
	if err != nil {
		t.Errorf("bad job id %q in the ledger", id)
		return itob(0)
	}
	return k
}
