package storage

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// populate makes one job of each fate for two users.
func populate(t *testing.T, db *DB) []*core.Job {
	ctx := context.Background()
	var jobs []*core.Job
	for i, fate := range []core.State{core.Queued, core.Delivered, core.Failed, core.Canceled, core.Submitted} {
		j := newJob([]string{"a", "b"}[i%2], 100, "")
		j.Req.Images = []core.Image{{Data: []byte("img")}}
		mustAccept(t, db, j, 0)
		switch {
		case fate.Terminal():
			if _, ok, err := db.Finish(ctx, j.ID, core.ActiveStates, fate, nil, ""); !ok || err != nil {
				t.Fatal(ok, err)
			}
		case fate != core.Queued:
			db.Transition(ctx, j.ID, core.ActiveStates, func(j *core.Job) { j.State = fate })
		}
		jobs = append(jobs, j)
	}
	if _, err := db.AdjustCredits(ctx, "b", 7, false, "admin"); err != nil {
		t.Fatal(err)
	}
	return jobs
}

func TestVerifyClean(t *testing.T) {
	db := openTest(t, 1000)
	populate(t, db)
	r, err := db.VerifyReport(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 0 || r.Users != 2 || r.Jobs != 5 || r.ActiveJobs != 2 || r.LedgerEntries != 2+5+2+1 {
		t.Errorf("report %+v", r)
	}
}

// Each tampering must be caught by Verify.
func TestVerifyFindsTampering(t *testing.T) {
	editJob := func(id string, fn func(*core.Job)) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			key, _ := jobKey(id)
			j, err := loadJob(tx, key)
			if err != nil {
				return err
			}
			fn(j)
			return putJSON(tx.Bucket(bucketJobs), key, j)
		}
	}
	editAccount := func(user string, fn func(*accountRecord)) func(*bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			a, _, err := getAccount(tx, user)
			if err != nil {
				return err
			}
			fn(&a)
			return putAccount(tx, &a)
		}
	}
	for _, tc := range []struct {
		name   string
		tamper func(jobs []*core.Job) func(*bolt.Tx) error
		want   string
	}{
		{"balance", func([]*core.Job) func(*bolt.Tx) error {
			return func(tx *bolt.Tx) error {
				a, _, _ := getAccount(tx, "a")
				a.Balance += 5
				return putAccount(tx, &a)
			}
		}, "a has balance"},
		{"active count", func([]*core.Job) func(*bolt.Tx) error {
			return func(tx *bolt.Tx) error {
				a, _, _ := getAccount(tx, "a")
				a.Active = 0
				return putAccount(tx, &a)
			}
		}, "a counts 0 active jobs; there are 2"},
		{"job missing from recent list", func([]*core.Job) func(*bolt.Tx) error {
			return editAccount("a", func(a *accountRecord) { a.Jobs = a.Jobs[:len(a.Jobs)-1] })
		}, "a lists 2 recent jobs; want 3 of 3"},
		{"ledger entry missing from recent list", func([]*core.Job) func(*bolt.Tx) error {
			return editAccount("b", func(a *accountRecord) { a.Ledger = a.Ledger[1:] })
		}, "b lists 4 recent ledger entries; want 5 of 5"},
		{"recent job of another user", func(jobs []*core.Job) func(*bolt.Tx) error {
			return editAccount("a", func(a *accountRecord) {
				id, _ := strconv.ParseUint(jobs[1].ID, 10, 64)
				a.Jobs[0] = id
			})
		}, "which belongs to \"b\""},
		{"recent job that does not exist", func([]*core.Job) func(*bolt.Tx) error {
			return editAccount("a", func(a *accountRecord) { a.Jobs[len(a.Jobs)-1] = 999 })
		}, "a lists job 999, which does not exist"},
		{"recent list out of order", func([]*core.Job) func(*bolt.Tx) error {
			return editAccount("a", func(a *accountRecord) { a.Ledger[0], a.Ledger[1] = a.Ledger[1], a.Ledger[0] })
		}, "a lists recent ledger entries out of order"},
		{"recent list over the cap", func([]*core.Job) func(*bolt.Tx) error {
			return editAccount("a", func(a *accountRecord) {
				for len(a.Jobs) <= recentCap {
					a.Jobs = append([]uint64{a.Jobs[0]}, a.Jobs...)
				}
			})
		}, "a lists 101 recent jobs; at most 100 are kept"},
		{"failed without refund", func(jobs []*core.Job) func(*bolt.Tx) error {
			return editJob(jobs[4].ID, func(j *core.Job) { j.State = core.Failed })
		}, "was charged 100 and not refunded"},
		{"refund flag without entry", func(jobs []*core.Job) func(*bolt.Tx) error {
			return editJob(jobs[1].ID, func(j *core.Job) { j.Refunded = true })
		}, "has 0 refund(s)"},
		{"price changed", func(jobs []*core.Job) func(*bolt.Tx) error {
			return editJob(jobs[0].ID, func(j *core.Job) { j.Price = 10 })
		}, "costs 10 but has 1 charge(s) totalling 100"},
		{"charge without job", func(jobs []*core.Job) func(*bolt.Tx) error {
			return func(tx *bolt.Tx) error {
				key, _ := jobKey(jobs[1].ID)
				return tx.Bucket(bucketJobs).Delete(key)
			}
		}, "which does not exist"},
		{"active index", func(jobs []*core.Job) func(*bolt.Tx) error {
			return func(tx *bolt.Tx) error {
				key, _ := jobKey(jobs[0].ID)
				return tx.Bucket(bucketActive).Delete(key)
			}
		}, "missing from the active index"},
		{"terminal in active index", func(jobs []*core.Job) func(*bolt.Tx) error {
			return func(tx *bolt.Tx) error {
				key, _ := jobKey(jobs[1].ID)
				return tx.Bucket(bucketActive).Put(key, []byte{})
			}
		}, "delivered but in the active index"},
		{"ledger entry edited", func([]*core.Job) func(*bolt.Tx) error {
			return func(tx *bolt.Tx) error {
				b := tx.Bucket(bucketLedger)
				var e core.LedgerEntry
				getJSON(b, itob(1), &e)
				e.Amount++
				data, _ := json.Marshal(e)
				return b.Put(itob(1), data)
			}
		}, "the entries sum to"},
		{"counter", func([]*core.Job) func(*bolt.Tx) error {
			return func(tx *bolt.Tx) error { return addCounter(tx, metaJobs(core.Delivered), 1) }
		}, "counter jobs:delivered is 2; recounted 1"},
		{"orphan image", func(jobs []*core.Job) func(*bolt.Tx) error {
			return func(tx *bolt.Tx) error {
				key, _ := jobKey(jobs[2].ID)
				return tx.Bucket(bucketImages).Put(imageKey(key, 0), []byte("x"))
			}
		}, "belongs to no active job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(t.TempDir()+"/db", Options{StartCredits: 1000, NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			jobs := populate(t, db)
			if err := db.Verify(context.Background()); err != nil {
				t.Fatalf("before tampering: %v", err)
			}
			if err := db.bolt.Update(tc.tamper(jobs)); err != nil {
				t.Fatal(err)
			}
			err = db.Verify(context.Background())
			if err == nil {
				t.Fatal("Verify passed a tampered database")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify error does not mention %q:\n%v", tc.want, err)
			}
		})
	}
}
