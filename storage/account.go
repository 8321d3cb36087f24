package storage

import (
	"context"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// Account returns the user's account, creating it with the start credits
// if the user is new. Errors: EINVALID for an empty user id.
func (db *DB) Account(ctx context.Context, userID string) (core.Account, error) {
	if err := ctx.Err(); err != nil {
		return core.Account{}, err
	}
	if err := checkUser(userID); err != nil {
		return core.Account{}, err
	}
	// Most calls find an existing account: read it without a write
	// transaction (and its fsync).
	var a core.Account
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		found, err = getJSON(tx.Bucket(bucketAccounts), []byte(userID), &a)
		return err
	})
	if err != nil || found {
		return a, err
	}
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		a, err = db.ensureAccount(tx, userID)
		return err
	})
	return a, err
}

// AdjustCredits adds delta to the user's balance, or sets it to delta when
// set is true, and records an admin ledger entry noting who did it.
// Errors: EINVALID if the balance would go below zero.
func (db *DB) AdjustCredits(ctx context.Context, userID string, delta int, set bool, by string) (core.Account, error) {
	if err := ctx.Err(); err != nil {
		return core.Account{}, err
	}
	if err := checkUser(userID); err != nil {
		return core.Account{}, err
	}
	var a core.Account
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		a, err = db.ensureAccount(tx, userID)
		if err != nil {
			return err
		}
		amount := delta
		if set {
			amount = delta - a.Balance
		}
		if a.Balance+amount < 0 {
			// Rolls back the whole transaction, a new account included.
			return core.Errorf(core.EINVALID, "The balance of %s would be %d; it cannot go below 0.", userID, a.Balance+amount)
		}
		a.Balance += amount
		e := core.LedgerEntry{UserID: userID, Kind: core.LedgerAdmin, Amount: amount, Balance: a.Balance, Note: "by " + by}
		if _, err := appendLedger(tx, &e); err != nil {
			return err
		}
		return putAccount(tx, a)
	})
	if err != nil {
		return core.Account{}, err
	}
	return a, nil
}

// ensureAccount loads the user's account, creating it (with the start
// credits and their grant entry) inside tx if it does not exist.
func (db *DB) ensureAccount(tx *bolt.Tx, userID string) (core.Account, error) {
	var a core.Account
	found, err := getJSON(tx.Bucket(bucketAccounts), []byte(userID), &a)
	if err != nil || found {
		return a, err
	}
	a = core.Account{UserID: userID, Balance: db.startCredits, Created: now()}
	if db.startCredits > 0 {
		e := core.LedgerEntry{UserID: userID, Kind: core.LedgerGrant, Amount: db.startCredits, Balance: a.Balance, Note: "start credits"}
		if _, err := appendLedger(tx, &e); err != nil {
			return a, err
		}
	}
	if err := addCounter(tx, metaUsers, 1); err != nil {
		return a, err
	}
	return a, putAccount(tx, a)
}

func putAccount(tx *bolt.Tx, a core.Account) error {
	return putJSON(tx.Bucket(bucketAccounts), []byte(a.UserID), a)
}
