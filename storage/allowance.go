package storage

import (
	"time"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// The daily allowance: with Options.DailyCredits = N, the first command of
// a user in a UTC day (Account, Accept or Redeem, inside that call's
// transaction) tops a balance below N up to N with an allowance entry whose
// Ref is the day. The account record remembers the day it was checked, so a
// user is looked at once a day; a balance still at or above N at that
// moment gets nothing that day.

// now is the time by the database's clock, in UTC.
func (db *DB) now() time.Time {
	if db.clock != nil {
		return db.clock().UTC()
	}
	return now()
}

// today is the current UTC day as the allowance entries name it.
func (db *DB) today() string { return db.now().Format(time.DateOnly) }

// allowanceDue reports whether the user's next command is their first of
// the day (and the allowance is on).
func (db *DB) allowanceDue(a *accountRecord) bool {
	// Days compare as strings; a clock that went back gives nothing twice.
	return db.dailyCredits > 0 && a.Day < db.today()
}

// touchAccount is ensureAccount for a command of the user: it also applies
// the daily allowance, storing the account when that changes it.
func (db *DB) touchAccount(tx *bolt.Tx, userID string) (accountRecord, error) {
	a, err := db.ensureAccount(tx, userID)
	if err != nil || !db.allowanceDue(&a) {
		return a, err
	}
	t := db.now()
	a.Day = t.Format(time.DateOnly)
	if a.Balance < db.dailyCredits {
		amount := db.dailyCredits - a.Balance
		a.Balance = db.dailyCredits
		e := core.LedgerEntry{UserID: userID, Kind: core.LedgerAllowance, Amount: amount, Balance: a.Balance,
			Ref: a.Day, Time: t, Note: "daily credits"}
		if err := appendLedger(tx, &a, &e); err != nil {
			return a, err
		}
	}
	return a, putAccount(tx, &a)
}
