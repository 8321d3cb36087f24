package storage

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// allStates is every job state, in life order.
var allStates = []core.State{core.Queued, core.Submitting, core.Submitted, core.Succeeded, core.Delivered, core.Failed, core.Canceled}

// Stats returns operator totals. Jobs has an entry for every state: active
// states are counted from the active index, terminal ones from counters kept
// by Finish, so the cost does not grow with history.
func (db *DB) Stats(ctx context.Context) (core.Stats, error) {
	if err := ctx.Err(); err != nil {
		return core.Stats{}, err
	}
	st := core.Stats{Jobs: make(map[core.State]int, len(allStates))}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		st.Users = getCounter(tx, metaUsers)
		st.Credits = getCounter(tx, metaCredits)
		st.Charged = getCounter(tx, metaCharged)
		st.Refunded = getCounter(tx, metaRefunded)
		st.Purchases = getCounter(tx, metaPurchases)
		st.PurchaseStars = getCounter(tx, metaPurchaseStars)
		st.PurchaseCredits = getCounter(tx, metaPurchaseCredits)
		st.PurchaseRefunded = getCounter(tx, metaPurchaseRefunded)
		st.Allowance = getCounter(tx, metaAllowance)
		st.Promo = getCounter(tx, metaPromo)
		for _, s := range allStates {
			st.Jobs[s] = 0
			if s.Terminal() {
				st.Jobs[s] = getCounter(tx, metaJobs(s))
			}
		}
		c := tx.Bucket(bucketActive).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			j, err := loadJob(tx, k)
			if err != nil {
				return err
			}
			if j == nil {
				return fmt.Errorf("storage: active job %x is missing", k)
			}
			st.Jobs[j.State]++
		}
		return nil
	})
	return st, err
}
