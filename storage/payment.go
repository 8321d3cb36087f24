package storage

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// Payments. Each purchase is a record in the payments bucket under its key
// (core.PaymentKey.String), written in the transaction of its purchase
// ledger entry, so that a key grants once however often it is presented.
// Refunds move the record's Refund state and add purchase_refund entries
// in the same transaction. Two small index buckets list what is left to do
// on the platforms: refunds begun but not settled (refunding) and
// entitlements granted but not consumed (consume).

// Purchase grants a payment's credits once per key. See core.Store.
func (db *DB) Purchase(ctx context.Context, p core.Payment) (core.Account, bool, error) {
	if err := ctx.Err(); err != nil {
		return core.Account{}, false, err
	}
	if err := checkUser(p.UserID); err != nil {
		return core.Account{}, false, err
	}
	if err := p.Key.Check(); err != nil {
		return core.Account{}, false, err
	}
	if p.Credits < 1 || p.Credits > core.MaxCredits || p.Stars < 0 || p.Stars > core.MaxStars {
		return core.Account{}, false, core.Errorf(core.EINVALID, "Invalid purchase of %d credits for %d stars.", p.Credits, p.Stars)
	}
	key := []byte(p.Key.String())
	var (
		a   accountRecord
		dup bool
	)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		pays := tx.Bucket(bucketPayments)
		var old core.Payment
		found, err := getJSON(pays, key, &old)
		if err != nil {
			return err
		}
		if found {
			dup = true
			a, _, err = getAccount(tx, old.UserID)
			a.UserID = old.UserID
			return err
		}
		a, err = db.ensureAccount(tx, p.UserID)
		if err != nil {
			return err
		}
		a.Balance += p.Credits
		e := core.LedgerEntry{UserID: p.UserID, Kind: core.LedgerPurchase, Amount: p.Credits, Balance: a.Balance,
			Ref: p.Key.String(), Note: p.Note}
		if err := appendLedger(tx, &a, &e); err != nil {
			return err
		}
		p.Seq, p.Time, p.Refund, p.Refunded = e.Seq, e.Time, "", 0
		if err := putPayment(tx, &p); err != nil {
			return err
		}
		if err := addCounter(tx, metaPurchaseStars, p.Stars); err != nil {
			return err
		}
		return putAccount(tx, &a)
	})
	if err != nil {
		return core.Account{}, false, fmt.Errorf("storage: purchase %s: %w", p.Key, err)
	}
	return a.Account, dup, nil
}

// Payment returns the payment recorded under key. Errors: ENOTFOUND.
func (db *DB) Payment(ctx context.Context, key core.PaymentKey) (core.Payment, error) {
	if err := ctx.Err(); err != nil {
		return core.Payment{}, err
	}
	var p core.Payment
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		p, err = getPayment(tx, key)
		return err
	})
	return p, err
}

// BeginRefund takes a purchase's credits back and marks its refund
// pending. See core.Store.
func (db *DB) BeginRefund(ctx context.Context, key core.PaymentKey, by string) (core.Payment, error) {
	if err := ctx.Err(); err != nil {
		return core.Payment{}, err
	}
	var p core.Payment
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		p, err = getPayment(tx, key)
		if err != nil {
			return err
		}
		switch {
		case p.Refund == core.RefundPending:
			return nil // begun before: the caller tries the platform again
		case p.Seq == 0 || p.Refund == core.RefundDone:
			return core.Errorf(core.EINVALID, "Payment %s was already refunded.", key.ID)
		}
		a, found, err := getAccount(tx, p.UserID)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("payment %s: the buyer %s has no account", key, p.UserID)
		}
		if a.Balance < p.Credits {
			return core.Errorf(core.EINVALID, "%s has %d credits left of the %d this payment bought; it cannot be refunded.",
				p.UserID, a.Balance, p.Credits)
		}
		a.Balance -= p.Credits
		e := core.LedgerEntry{UserID: p.UserID, Kind: core.LedgerPurchaseRefund, Amount: -p.Credits, Balance: a.Balance,
			Ref: key.String(), Note: "refund by " + by}
		if err := appendLedger(tx, &a, &e); err != nil {
			return err
		}
		p.Refund, p.Refunded = core.RefundPending, p.Credits
		if err := putPayment(tx, &p); err != nil {
			return err
		}
		return putAccount(tx, &a)
	})
	return p, err
}

// EndRefund settles a pending refund. See core.Store.
func (db *DB) EndRefund(ctx context.Context, key core.PaymentKey, done bool) (core.Payment, error) {
	if err := ctx.Err(); err != nil {
		return core.Payment{}, err
	}
	var p core.Payment
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		p, err = getPayment(tx, key)
		if err != nil || p.Refund != core.RefundPending {
			return err
		}
		if done {
			p.Refund = core.RefundDone
			return putPayment(tx, &p)
		}
		a, _, err := getAccount(tx, p.UserID)
		if err != nil {
			return err
		}
		a.Balance += p.Refunded
		e := core.LedgerEntry{UserID: p.UserID, Kind: core.LedgerPurchaseRefund, Amount: p.Refunded, Balance: a.Balance,
			Ref: key.String(), Note: "refund refused by " + key.Platform + ": credits returned"}
		if err := appendLedger(tx, &a, &e); err != nil {
			return err
		}
		p.Refund, p.Refunded = "", 0
		if err := putPayment(tx, &p); err != nil {
			return err
		}
		return putAccount(tx, &a)
	})
	return p, err
}

// PaymentRefunded records a refund the platform made. See core.Store.
func (db *DB) PaymentRefunded(ctx context.Context, key core.PaymentKey, userID string) (core.Payment, int, error) {
	if err := ctx.Err(); err != nil {
		return core.Payment{}, 0, err
	}
	if err := key.Check(); err != nil {
		return core.Payment{}, 0, err
	}
	if err := checkUser(userID); err != nil {
		return core.Payment{}, 0, err
	}
	var (
		p       core.Payment
		debited int
	)
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		debited = 0
		var err error
		p, err = getPayment(tx, key)
		switch {
		case core.ErrorCode(err) == core.ENOTFOUND:
			// Refunded before it was granted (a lost update): remember it,
			// so that recovery at start never grants it.
			p = core.Payment{Key: key, UserID: userID, Refund: core.RefundDone, Time: db.now()}
			return putPayment(tx, &p)
		case err != nil:
			return err
		case p.Refund == core.RefundDone:
			return nil
		case p.Refund == core.RefundPending:
			// Our own refund, confirmed: its credits were taken at its start.
			p.Refund = core.RefundDone
			return putPayment(tx, &p)
		}
		a, _, err := getAccount(tx, p.UserID)
		if err != nil {
			return err
		}
		debited = min(a.Balance, p.Credits-p.Refunded)
		if debited > 0 {
			a.Balance -= debited
			e := core.LedgerEntry{UserID: p.UserID, Kind: core.LedgerPurchaseRefund, Amount: -debited, Balance: a.Balance,
				Ref: key.String(), Note: "refunded by " + key.Platform}
			if err := appendLedger(tx, &a, &e); err != nil {
				return err
			}
			if err := putAccount(tx, &a); err != nil {
				return err
			}
		}
		p.Refund, p.Refunded, p.Consume = core.RefundDone, p.Refunded+debited, false
		return putPayment(tx, &p)
	})
	return p, debited, err
}

// PendingRefunds lists refunds begun and not settled, in key order.
func (db *DB) PendingRefunds(ctx context.Context) ([]core.Payment, error) {
	return db.listPayments(ctx, bucketRefunding)
}

// PendingConsumes lists payments granted with Consume and not consumed
// since, in key order.
func (db *DB) PendingConsumes(ctx context.Context) ([]core.Payment, error) {
	return db.listPayments(ctx, bucketConsume)
}

// MarkConsumed takes a payment off PendingConsumes. Errors: ENOTFOUND.
func (db *DB) MarkConsumed(ctx context.Context, key core.PaymentKey) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		p, err := getPayment(tx, key)
		if err != nil || !p.Consume {
			return err
		}
		p.Consume = false
		return putPayment(tx, &p)
	})
}

func (db *DB) listPayments(ctx context.Context, index []byte) ([]core.Payment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []core.Payment
	err := db.bolt.View(func(tx *bolt.Tx) error {
		pays := tx.Bucket(bucketPayments)
		return tx.Bucket(index).ForEach(func(k, _ []byte) error {
			var p core.Payment
			found, err := getJSON(pays, k, &p)
			if err != nil {
				return err
			}
			if !found {
				return fmt.Errorf("storage: %s lists payment %q, which does not exist", index, k)
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

func getPayment(tx *bolt.Tx, key core.PaymentKey) (core.Payment, error) {
	var p core.Payment
	found, err := getJSON(tx.Bucket(bucketPayments), []byte(key.String()), &p)
	if err == nil && !found {
		err = core.Errorf(core.ENOTFOUND, "There is no payment %s.", key.ID)
	}
	return p, err
}

// putPayment stores p and keeps the index buckets in step with its state.
func putPayment(tx *bolt.Tx, p *core.Payment) error {
	key := []byte(p.Key.String())
	if err := putJSON(tx.Bucket(bucketPayments), key, p); err != nil {
		return err
	}
	for _, ix := range []struct {
		bucket []byte
		on     bool
	}{{bucketRefunding, p.Refund == core.RefundPending}, {bucketConsume, p.Consume}} {
		var err error
		if ix.on {
			err = tx.Bucket(ix.bucket).Put(key, []byte{})
		} else {
			err = tx.Bucket(ix.bucket).Delete(key)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
