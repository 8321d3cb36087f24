package storage

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// recentCap is how many job ids and ledger sequence numbers an account
// record keeps: History and Ledger return at most the user's newest
// recentCap jobs and entries. Older ones stay in the jobs and ledger
// buckets (and count in Verify and Stats) but are no longer listed per user.
//
// The lists live in the account record, which every accept, refund and
// adjustment rewrites anyway, instead of per-user index buckets: such
// indexes grow without bound and spread concurrent users' keys over many
// leaf pages, all of which a group commit must rewrite.
const recentCap = 100

// accountRecord is what the accounts bucket stores for a user: the public
// account plus the user's newest job ids and ledger sequence numbers, each
// ascending (newest last) and at most recentCap long.
type accountRecord struct {
	core.Account
	Jobs   recentList `json:"jobs,omitempty"`
	Ledger recentList `json:"ledger,omitempty"`
	// Day is the UTC day (2006-01-02) of the user's last daily allowance
	// check, kept only while the allowance is on.
	Day string `json:"day,omitempty"`
}

// recentList is a list of ids stored compactly in JSON: a base64 string of
// the first id and then each id's difference from the one before, as
// uvarints (modulo 2⁶⁴, so any list round-trips). Ascending lists of close
// ids take one or two bytes an id, and decoding them is far cheaper than a
// JSON array of numbers; the account record is read and rewritten by every
// accept.
type recentList []uint64

// MarshalText implements encoding.TextMarshaler.
func (l recentList) MarshalText() ([]byte, error) {
	buf := make([]byte, 0, 2*len(l)+8)
	var prev uint64
	for _, v := range l {
		buf = binary.AppendUvarint(buf, v-prev)
		prev = v
	}
	out := make([]byte, base64.RawStdEncoding.EncodedLen(len(buf)))
	base64.RawStdEncoding.Encode(out, buf)
	return out, nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (l *recentList) UnmarshalText(text []byte) error {
	buf := make([]byte, base64.RawStdEncoding.DecodedLen(len(text)))
	n, err := base64.RawStdEncoding.Decode(buf, text)
	if err != nil {
		return fmt.Errorf("recent list: %w", err)
	}
	buf = buf[:n]
	list := make(recentList, 0, min(len(buf), recentCap+1))
	var prev uint64
	for len(buf) > 0 {
		d, k := binary.Uvarint(buf)
		if k <= 0 {
			return fmt.Errorf("recent list: bad uvarint")
		}
		prev += d
		list = append(list, prev)
		buf = buf[k:]
	}
	*l = list
	return nil
}

// pushRecent appends v to list, dropping the oldest entries beyond recentCap.
func pushRecent(list recentList, v uint64) recentList {
	if len(list) >= recentCap {
		n := copy(list, list[len(list)-recentCap+1:])
		list = list[:n]
	}
	return append(list, v)
}

// Account returns the user's account, creating it with the start credits
// if the user is new, and applies the daily allowance at the user's first
// command of the day. Errors: EINVALID for an empty user id.
func (db *DB) Account(ctx context.Context, userID string) (core.Account, error) {
	if err := ctx.Err(); err != nil {
		return core.Account{}, err
	}
	if err := checkUser(userID); err != nil {
		return core.Account{}, err
	}
	// Most calls find an existing account: read it without a write
	// transaction (and its fsync).
	var a accountRecord
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		a, found, err = getAccount(tx, userID)
		return err
	})
	if err != nil || (found && !db.allowanceDue(&a)) {
		return a.Account, err
	}
	// A new user: created in a transaction shared with concurrent accepts
	// and other new accounts (one fsync for all of them).
	err = db.update(func(tx *bolt.Tx) error {
		var err error
		a, err = db.touchAccount(tx, userID)
		return err
	})
	return a.Account, err
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
	var (
		a      accountRecord
		refuse error
	)
	err := db.update(func(tx *bolt.Tx) error {
		refuse = nil
		// Peek first: a refused change must not create the account either.
		old, found, err := getAccount(tx, userID)
		if err != nil {
			return err
		}
		if !found {
			old.Balance = db.startCredits
		}
		amount := delta
		if set {
			amount = delta - old.Balance
		}
		if old.Balance+amount < 0 {
			refuse = msgBelowZero.Err(core.EINVALID, core.Args{"User": userID, "Balance": old.Balance + amount})
			return nil
		}
		a, err = db.ensureAccount(tx, userID)
		if err != nil {
			return err
		}
		a.Balance += amount
		e := core.LedgerEntry{UserID: userID, Kind: core.LedgerAdmin, Amount: amount, Balance: a.Balance, Note: "by " + by}
		if err := appendLedger(tx, &a, &e); err != nil {
			return err
		}
		return putAccount(tx, &a)
	})
	if err == nil {
		err = refuse
	}
	if err != nil {
		return core.Account{}, err
	}
	return a.Account, nil
}

// Language returns the language the user chose, "" for none or for a user
// without an account (it creates none).
func (db *DB) Language(ctx context.Context, userID string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := checkUser(userID); err != nil {
		return "", err
	}
	var a accountRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		a, _, err = getAccount(tx, userID)
		return err
	})
	return a.Lang, err
}

// SetLanguage stores the user's language, creating the account (with the
// start credits) if the user is new.
func (db *DB) SetLanguage(ctx context.Context, userID, lang string) (core.Account, error) {
	if err := ctx.Err(); err != nil {
		return core.Account{}, err
	}
	if err := checkUser(userID); err != nil {
		return core.Account{}, err
	}
	var a accountRecord
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		a, err = db.ensureAccount(tx, userID)
		if err != nil {
			return err
		}
		a.Lang = lang
		return putAccount(tx, &a)
	})
	if err != nil {
		return core.Account{}, err
	}
	return a.Account, nil
}

// ensureAccount loads the user's account, creating it (with the start
// credits and their grant entry) inside tx if it does not exist. A new
// account is stored; the caller stores any change it makes to it.
func (db *DB) ensureAccount(tx *bolt.Tx, userID string) (accountRecord, error) {
	a, found, err := getAccount(tx, userID)
	if err != nil || found {
		return a, err
	}
	a = accountRecord{Account: core.Account{UserID: userID, Balance: db.startCredits, Created: now()}}
	if db.startCredits > 0 {
		e := core.LedgerEntry{UserID: userID, Kind: core.LedgerGrant, Amount: db.startCredits, Balance: a.Balance, Note: "start credits"}
		if err := appendLedger(tx, &a, &e); err != nil {
			return a, err
		}
	}
	if err := addCounter(tx, metaUsers, 1); err != nil {
		return a, err
	}
	return a, putAccount(tx, &a)
}

// getAccount reads the user's account record.
func getAccount(tx *bolt.Tx, userID string) (accountRecord, bool, error) {
	var a accountRecord
	data := tx.Bucket(bucketAccounts).Get([]byte(userID))
	if data == nil {
		return a, false, nil
	}
	if err := json.Unmarshal(data, &a); err != nil {
		return a, true, fmt.Errorf("storage: decode account %q: %w", userID, err)
	}
	return a, true, nil
}

func putAccount(tx *bolt.Tx, a *accountRecord) error {
	return putJSON(tx.Bucket(bucketAccounts), []byte(a.UserID), a)
}
