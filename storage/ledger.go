package storage

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// Ledger returns the user's newest ledger entries first, at most limit of
// them (limit <= 0: all that are listed). Only the newest recentCap entries
// are listed per user.
func (db *DB) Ledger(ctx context.Context, userID string, limit int) ([]core.LedgerEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkUser(userID); err != nil {
		return nil, err
	}
	var out []core.LedgerEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		a, _, err := getAccount(tx, userID)
		if err != nil {
			return err
		}
		ledger := tx.Bucket(bucketLedger)
		for _, seq := range newest(a.Ledger, limit) {
			var e core.LedgerEntry
			found, err := getJSON(ledger, itob(seq), &e)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("storage: ledger entry %d of %s is missing", seq, userID)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// newest returns the last limit elements of list (limit <= 0: all of them),
// last first.
func newest(list []uint64, limit int) []uint64 {
	if limit > 0 && limit < len(list) {
		list = list[len(list)-limit:]
	}
	out := make([]uint64, len(list))
	for i, v := range list {
		out[len(list)-1-i] = v
	}
	return out
}

// appendLedger gives e the next sequence number and the current time (when
// e.Time is zero), stores it and lists it in a's recent entries. The caller
// stores a, whose balance e.Balance reports.
func appendLedger(tx *bolt.Tx, a *accountRecord, e *core.LedgerEntry) error {
	b := tx.Bucket(bucketLedger)
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	if e.Time.IsZero() {
		e.Time = now()
	}
	if err := putJSON(b, itob(seq), e); err != nil {
		return err
	}
	a.Ledger = pushRecent(a.Ledger, seq)
	switch e.Kind {
	case core.LedgerCharge:
		err = addCounter(tx, metaCharged, -e.Amount)
	case core.LedgerRefund:
		err = addCounter(tx, metaRefunded, e.Amount)
	case core.LedgerPurchase:
		if err = addCounter(tx, metaPurchases, 1); err == nil {
			err = addCounter(tx, metaPurchaseCredits, e.Amount)
		}
	case core.LedgerPurchaseRefund:
		err = addCounter(tx, metaPurchaseRefunded, -e.Amount)
	case core.LedgerAllowance:
		err = addCounter(tx, metaAllowance, e.Amount)
	case core.LedgerPromo:
		err = addCounter(tx, metaPromo, e.Amount)
	}
	if err != nil {
		return err
	}
	return addCounter(tx, metaCredits, e.Amount)
}
