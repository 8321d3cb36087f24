package storage

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// Promo codes live in the promos bucket; who redeemed which code in the
// redeemed bucket (code NUL user → the promo entry's sequence number),
// written in the transaction of the entry and of the code's Used count.
// bbolt runs one write transaction at a time, so concurrent redemptions
// see each other's counts.

// CreatePromo stores a new promo code (p.Code already normalized by
// core.PromoCode). Errors: EINVALID (bad values, or the code exists).
func (db *DB) CreatePromo(ctx context.Context, p core.Promo) (core.Promo, error) {
	if err := ctx.Err(); err != nil {
		return core.Promo{}, err
	}
	if c, err := core.PromoCode(p.Code); err != nil || c != p.Code {
		return core.Promo{}, core.Errorf(core.EINVALID, "Invalid promo code %q.", p.Code)
	}
	if p.Credits < 1 || p.Credits > core.MaxCredits || p.Uses < 0 || p.Uses > core.MaxPromoUses {
		return core.Promo{}, core.Errorf(core.EINVALID, "A promo code grants 1 to %d credits to at most %d users.", core.MaxCredits, core.MaxPromoUses)
	}
	p.Used, p.Created = 0, db.now()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPromos)
		if b.Get([]byte(p.Code)) != nil {
			return core.Errorf(core.EINVALID, "The promo code %s exists already.", p.Code)
		}
		return putJSON(b, []byte(p.Code), &p)
	})
	if err != nil {
		return core.Promo{}, err
	}
	return p, nil
}

// Promos lists every promo code, by code.
func (db *DB) Promos(ctx context.Context) ([]core.Promo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []core.Promo
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPromos).ForEach(func(k, v []byte) error {
			var p core.Promo
			if _, err := getJSON(tx.Bucket(bucketPromos), k, &p); err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// Redeem grants a promo code's credits to the user once. See core.Store.
// The refusals are core.ErrPromoUnknown, ErrPromoUsedUp and
// ErrPromoRedeemed; the daily allowance is applied (and kept) even then.
func (db *DB) Redeem(ctx context.Context, userID, code string) (core.Account, core.Promo, error) {
	if err := ctx.Err(); err != nil {
		return core.Account{}, core.Promo{}, err
	}
	if err := checkUser(userID); err != nil {
		return core.Account{}, core.Promo{}, err
	}
	code, err := core.PromoCode(code)
	if err != nil {
		return core.Account{}, core.Promo{}, core.ErrPromoUnknown
	}
	var (
		a      accountRecord
		p      core.Promo
		refuse error
	)
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		var err error
		refuse = nil
		if a, err = db.touchAccount(tx, userID); err != nil {
			return err
		}
		promos := tx.Bucket(bucketPromos)
		found, err := getJSON(promos, []byte(code), &p)
		switch {
		case err != nil:
			return err
		case !found:
			refuse = core.ErrPromoUnknown
			return nil
		}
		redeemed := tx.Bucket(bucketRedeemed)
		rkey := redeemKey(p.Code, userID)
		switch {
		case redeemed.Get(rkey) != nil:
			refuse = core.ErrPromoRedeemed
			return nil
		case p.Uses > 0 && p.Used >= p.Uses:
			refuse = core.ErrPromoUsedUp
			return nil
		}
		a.Balance += p.Credits
		e := core.LedgerEntry{UserID: userID, Kind: core.LedgerPromo, Amount: p.Credits, Balance: a.Balance, Ref: p.Code}
		if err := appendLedger(tx, &a, &e); err != nil {
			return err
		}
		p.Used++
		if err := putJSON(promos, []byte(p.Code), &p); err != nil {
			return err
		}
		if err := redeemed.Put(rkey, itob(e.Seq)); err != nil {
			return err
		}
		return putAccount(tx, &a)
	})
	if err != nil {
		return core.Account{}, core.Promo{}, fmt.Errorf("storage: redeem %s: %w", code, err)
	}
	return a.Account, p, refuse
}

func redeemKey(code, userID string) []byte { return []byte(code + "\x00" + userID) }
