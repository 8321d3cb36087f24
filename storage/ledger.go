package storage

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// Ledger returns the user's newest ledger entries first, at most limit of
// them (limit <= 0: all).
func (db *DB) Ledger(ctx context.Context, userID string, limit int) ([]core.LedgerEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkUser(userID); err != nil {
		return nil, err
	}
	var out []core.LedgerEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		ledger := tx.Bucket(bucketLedger)
		return newestFirst(tx.Bucket(bucketUserLedger), userPrefix(userID), limit, func(seq []byte) error {
			var e core.LedgerEntry
			found, err := getJSON(ledger, seq, &e)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("storage: ledger entry %d of %s is missing", binary.BigEndian.Uint64(seq), userID)
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// appendLedger gives e the next sequence number and the current time, and
// stores it with its per-user index entry. The caller stores the account
// whose balance e.Balance reports.
func appendLedger(tx *bolt.Tx, e *core.LedgerEntry) (uint64, error) {
	b := tx.Bucket(bucketLedger)
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	e.Seq = seq
	e.Time = now()
	key := itob(seq)
	if err := putJSON(b, key, e); err != nil {
		return 0, err
	}
	if err := tx.Bucket(bucketUserLedger).Put(userSeqKey(e.UserID, key), []byte{}); err != nil {
		return 0, err
	}
	switch e.Kind {
	case core.LedgerCharge:
		err = addCounter(tx, metaCharged, -e.Amount)
	case core.LedgerRefund:
		err = addCounter(tx, metaRefunded, e.Amount)
	}
	if err != nil {
		return 0, err
	}
	return seq, addCounter(tx, metaCredits, e.Amount)
}
