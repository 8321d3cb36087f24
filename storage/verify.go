package storage

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// Report is what VerifyReport found.
type Report struct {
	Users         int
	Jobs          int
	ActiveJobs    int
	LedgerEntries int
	// Kinds counts the ledger entries of each kind.
	Kinds map[string]int
	// Payments and Promos count the payment records and promo codes.
	Payments int
	Promos   int
	// Problems lists the inconsistencies found, at most maxProblems of them;
	// Truncated says more were found.
	Problems  []string
	Truncated bool
}

const maxProblems = 100

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) >= maxProblems {
		r.Truncated = true
		return
	}
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// Verify checks that every balance equals the sum of the user's ledger
// entries and that the jobs, their charges and refunds, the payments and
// their refunds, the daily allowance, the promo codes, the indexes and the
// counters agree (verify_credits.go has the checks of the credits bought
// and earned). It returns an error naming the first problems found.
func (db *DB) Verify(ctx context.Context) error {
	r, err := db.VerifyReport(ctx)
	if err != nil {
		return err
	}
	if len(r.Problems) == 0 {
		return nil
	}
	shown := r.Problems[:min(len(r.Problems), 10)]
	count := strconv.Itoa(len(r.Problems))
	if r.Truncated {
		count += "+"
	}
	more := ""
	if len(shown) < len(r.Problems) || r.Truncated {
		more = "\n  ..."
	}
	return fmt.Errorf("ledger verify: %s problem(s):\n  %s%s", count, strings.Join(shown, "\n  "), more)
}

// jobMoney is what the ledger says happened to one job.
type jobMoney struct {
	charges, refunds int
	charged, refund  int
}

// recentTally is what Verify counted of one user's ledger entries and jobs,
// to check the recent lists in the account record.
type recentTally struct {
	entries, jobs    int
	lastSeq, lastJob uint64
}

func tallyOf(m map[string]*recentTally, user string) *recentTally {
	t := m[user]
	if t == nil {
		t = &recentTally{}
		m[user] = t
	}
	return t
}

// VerifyReport runs the checks of Verify and returns everything it found.
// It reads the whole database in one read transaction.
func (db *DB) VerifyReport(ctx context.Context) (Report, error) {
	r := Report{Kinds: map[string]int{}}
	if err := ctx.Err(); err != nil {
		return r, err
	}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return verifyTx(ctx, tx, &r)
	})
	return r, err
}

func verifyTx(ctx context.Context, tx *bolt.Tx, r *Report) error {
	// Ledger: per-user sums and running balances, and per-job charges.
	sums := map[string]int{}
	money := map[string]*jobMoney{}
	var charged, refunded, credits int
	tally := map[string]*recentTally{}
	credit := newCreditCheck()
	err := tx.Bucket(bucketLedger).ForEach(func(k, v []byte) error {
		r.LedgerEntries++
		if r.LedgerEntries%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var e core.LedgerEntry
		if err := json.Unmarshal(v, &e); err != nil {
			r.problem("ledger entry %x: %v", k, err)
			return nil
		}
		if len(k) != 8 || binary.BigEndian.Uint64(k) != e.Seq {
			r.problem("ledger entry %x has seq %d", k, e.Seq)
		}
		t := tallyOf(tally, e.UserID)
		t.entries++
		t.lastSeq = e.Seq
		sums[e.UserID] += e.Amount
		credits += e.Amount
		if e.Balance != sums[e.UserID] {
			r.problem("ledger entry %d of %s says balance %d; the entries sum to %d", e.Seq, e.UserID, e.Balance, sums[e.UserID])
		}
		if e.Balance < 0 {
			r.problem("ledger entry %d of %s leaves a negative balance %d", e.Seq, e.UserID, e.Balance)
		}
		r.Kinds[e.Kind]++
		switch e.Kind {
		case core.LedgerGrant, core.LedgerAdmin:
		case core.LedgerPurchase, core.LedgerPurchaseRefund, core.LedgerAllowance, core.LedgerPromo:
			credit.entry(r, &e)
		case core.LedgerCharge, core.LedgerRefund:
			m := money[e.JobID]
			if m == nil {
				m = &jobMoney{}
				money[e.JobID] = m
			}
			if e.Kind == core.LedgerCharge {
				m.charges++
				m.charged -= e.Amount
				charged -= e.Amount
			} else {
				m.refunds++
				m.refund += e.Amount
				refunded += e.Amount
			}
		default:
			r.problem("ledger entry %d has unknown kind %q", e.Seq, e.Kind)
		}
		return nil
	})
	if err != nil {
		return err
	}

	// Jobs: each charged once, refunded at most once, and only when failed
	// or canceled; active exactly when in the active index.
	activeIdx := tx.Bucket(bucketActive)
	idem := tx.Bucket(bucketIdem)
	activeOf := map[string]int{}
	terminal := map[core.State]int{}
	err = tx.Bucket(bucketJobs).ForEach(func(k, v []byte) error {
		r.Jobs++
		if r.Jobs%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var j core.Job
		if err := json.Unmarshal(v, &j); err != nil {
			r.problem("job %x: %v", k, err)
			return nil
		}
		if len(k) != 8 || strconv.FormatUint(binary.BigEndian.Uint64(k), 10) != j.ID {
			r.problem("job %x has id %q", k, j.ID)
		}
		if !slices.Contains(allStates, j.State) {
			r.problem("job %s has unknown state %q", j.ID, j.State)
		}
		inIdx := activeIdx.Get(k) != nil
		switch {
		case j.State.Terminal():
			terminal[j.State]++
			if inIdx {
				r.problem("job %s is %s but in the active index", j.ID, j.State)
			}
		default:
			r.ActiveJobs++
			activeOf[j.UserID]++
			if !inIdx {
				r.problem("job %s is %s but missing from the active index", j.ID, j.State)
			}
		}
		m := money[j.ID]
		if m == nil {
			m = &jobMoney{}
		}
		delete(money, j.ID)
		if m.charges != 1 || m.charged != j.Price {
			r.problem("job %s costs %d but has %d charge(s) totalling %d", j.ID, j.Price, m.charges, m.charged)
		}
		wantRefunds := 0
		if j.Refunded {
			wantRefunds = 1
		}
		if m.refunds != wantRefunds || (j.Refunded && m.refund != j.Price) {
			r.problem("job %s (refunded=%v, price %d) has %d refund(s) totalling %d", j.ID, j.Refunded, j.Price, m.refunds, m.refund)
		}
		if j.Refunded && j.State != core.Failed && j.State != core.Canceled {
			r.problem("job %s is %s but was refunded", j.ID, j.State)
		}
		if j.State.Terminal() && !j.Refunded && j.Price > 0 && j.State != core.Delivered {
			r.problem("job %s is %s, was charged %d and not refunded", j.ID, j.State, j.Price)
		}
		if len(k) == 8 {
			t := tallyOf(tally, j.UserID)
			t.jobs++
			t.lastJob = binary.BigEndian.Uint64(k)
		}
		if j.Key != "" && !bytes.Equal(idem.Get([]byte(j.Key)), k) {
			r.problem("job %s: its idempotency key %q does not point at it", j.ID, j.Key)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, m := range money {
		r.problem("ledger has %d charge(s) and %d refund(s) for job %q, which does not exist", m.charges, m.refunds, id)
	}

	// Indexes point at jobs that exist.
	jobs := tx.Bucket(bucketJobs)
	err = activeIdx.ForEach(func(k, _ []byte) error {
		if jobs.Get(k) == nil {
			r.problem("active index holds job %x, which does not exist", k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.Bucket(bucketImages).ForEach(func(k, _ []byte) error {
		if len(k) != 9 || activeIdx.Get(k[:8]) == nil {
			r.problem("image %x belongs to no active job", k)
		}
		return nil
	})
	if err != nil {
		return err
	}

	// Accounts: balance = ledger sum, Active = active jobs, recent lists
	// hold the user's newest entries and jobs.
	ledger := tx.Bucket(bucketLedger)
	err = tx.Bucket(bucketAccounts).ForEach(func(k, v []byte) error {
		r.Users++
		if r.Users%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var a accountRecord
		if err := json.Unmarshal(v, &a); err != nil {
			r.problem("account %q: %v", k, err)
			return nil
		}
		if a.UserID != string(k) {
			r.problem("account %q has user id %q", k, a.UserID)
		}
		if a.Balance != sums[a.UserID] {
			r.problem("%s has balance %d; the ledger sums to %d", a.UserID, a.Balance, sums[a.UserID])
		}
		if a.Balance < 0 {
			r.problem("%s has a negative balance %d", a.UserID, a.Balance)
		}
		if a.Active != activeOf[a.UserID] {
			r.problem("%s counts %d active jobs; there are %d", a.UserID, a.Active, activeOf[a.UserID])
		}
		t := tally[a.UserID]
		if t == nil {
			t = &recentTally{}
		}
		credit.account(r, &a)
		verifyRecent(r, a.UserID, "ledger entry", "ledger entries", a.Ledger, t.entries, t.lastSeq, ledger)
		verifyRecent(r, a.UserID, "job", "jobs", a.Jobs, t.jobs, t.lastJob, jobs)
		delete(sums, a.UserID)
		delete(activeOf, a.UserID)
		return nil
	})
	if err != nil {
		return err
	}
	for u := range sums {
		r.problem("%s has ledger entries but no account", u)
	}
	for u := range activeOf {
		r.problem("%s has active jobs but no account", u)
	}

	// Purchases, refunds, allowance, promo codes.
	if err := credit.finish(tx, r); err != nil {
		return err
	}

	// Counters kept for Stats.
	counters := []struct {
		name string
		want int
	}{
		{metaUsers, r.Users}, {metaCredits, credits}, {metaCharged, charged}, {metaRefunded, refunded},
	}
	for _, s := range allStates {
		if s.Terminal() {
			counters = append(counters, struct {
				name string
				want int
			}{metaJobs(s), terminal[s]})
		}
	}
	for _, c := range counters {
		if got := getCounter(tx, c.name); got != c.want {
			r.problem("counter %s is %d; recounted %d", c.name, got, c.want)
		}
	}
	return nil
}

// verifyRecent checks one of a user's recent lists: ascending, at most
// recentCap long, as long as the user's total of n allows (min(n,
// recentCap)), ending with the user's newest record last, and every id
// naming a record of b that belongs to the user.
func verifyRecent(r *Report, user, what, whats string, list []uint64, n int, last uint64, b *bolt.Bucket) {
	if len(list) > recentCap {
		r.problem("%s lists %d recent %s; at most %d are kept", user, len(list), whats, recentCap)
	}
	if want := min(n, recentCap); len(list) != want {
		r.problem("%s lists %d recent %s; want %d of %d", user, len(list), whats, want, n)
	}
	if len(list) > 0 && list[len(list)-1] != last {
		r.problem("%s lists %s %d last; the newest is %d", user, what, list[len(list)-1], last)
	}
	for i, id := range list {
		if i > 0 && id <= list[i-1] {
			r.problem("%s lists recent %s out of order: %d after %d", user, whats, id, list[i-1])
		}
		data := b.Get(itob(id))
		if data == nil {
			r.problem("%s lists %s %d, which does not exist", user, what, id)
			continue
		}
		var owner struct {
			UserID string `json:"user_id"`
		}
		if err := json.Unmarshal(data, &owner); err != nil {
			continue // reported by the pass over b
		}
		if owner.UserID != user {
			r.problem("%s lists %s %d, which belongs to %q", user, what, id, owner.UserID)
		}
	}
}
