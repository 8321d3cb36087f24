package storage

import (
	"bytes"
	"encoding/json"
	"time"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
)

// creditCheck is the part of Verify that checks the credits bought and
// earned: purchases and their refunds against the payment records, the
// daily allowance, and promo codes against their redemptions.
type creditCheck struct {
	pays      map[string]*payTally // payment key → its entries
	allowance map[[2]string]int    // {user, day} → allowance entries
	lastDay   map[string]string    // user → newest allowance day
	promos    map[string]map[string][]uint64
	counters  map[string]int // recounted meta counters
}

// payTally is what the ledger holds for one payment key.
type payTally struct {
	purchases int
	seq       uint64 // the (first) purchase entry
	credits   int
	user      string
	refunds   int // running sum of purchase_refund amounts
}

func newCreditCheck() *creditCheck {
	return &creditCheck{
		pays:      map[string]*payTally{},
		allowance: map[[2]string]int{},
		lastDay:   map[string]string{},
		promos:    map[string]map[string][]uint64{},
		counters:  map[string]int{},
	}
}

// entry checks one ledger entry of the kinds this check owns, in sequence
// order.
func (c *creditCheck) entry(r *Report, e *core.LedgerEntry) {
	if e.Kind != core.LedgerPurchaseRefund && e.Amount <= 0 {
		r.problem("%s entry %d of %s grants %d credits", e.Kind, e.Seq, e.UserID, e.Amount)
	}
	switch e.Kind {
	case core.LedgerPurchase:
		var k core.PaymentKey
		if k.UnmarshalText([]byte(e.Ref)) != nil || k.Check() != nil {
			r.problem("purchase entry %d of %s names no payment (%q)", e.Seq, e.UserID, e.Ref)
		}
		t := c.pay(e.Ref)
		t.purchases++
		if t.purchases == 1 {
			t.seq, t.credits, t.user = e.Seq, e.Amount, e.UserID
		} else {
			r.problem("payment %s granted twice: purchase entries %d and %d", e.Ref, t.seq, e.Seq)
		}
		c.counters[metaPurchases]++
		c.counters[metaPurchaseCredits] += e.Amount
	case core.LedgerPurchaseRefund:
		t := c.pay(e.Ref)
		c.counters[metaPurchaseRefunded] -= e.Amount
		if t.purchases == 0 {
			r.problem("purchase_refund entry %d of %s refers to %q, which has no purchase before it", e.Seq, e.UserID, e.Ref)
			return
		}
		if e.UserID != t.user {
			r.problem("purchase_refund entry %d is of %s; payment %s was made by %s", e.Seq, e.UserID, e.Ref, t.user)
		}
		t.refunds += e.Amount
		if t.refunds < -t.credits || t.refunds > 0 {
			r.problem("refunds of payment %s total %d after entry %d; it bought %d credits", e.Ref, -t.refunds, e.Seq, t.credits)
		}
	case core.LedgerAllowance:
		c.counters[metaAllowance] += e.Amount
		if _, err := time.Parse(time.DateOnly, e.Ref); err != nil {
			r.problem("allowance entry %d of %s names no day (%q)", e.Seq, e.UserID, e.Ref)
		} else if got := e.Time.UTC().Format(time.DateOnly); got != e.Ref {
			r.problem("allowance entry %d of %s for %s was made on %s", e.Seq, e.UserID, e.Ref, got)
		}
		k := [2]string{e.UserID, e.Ref}
		if c.allowance[k]++; c.allowance[k] == 2 {
			r.problem("%s got the daily allowance twice on %s", e.UserID, e.Ref)
		}
		c.lastDay[e.UserID] = max(c.lastDay[e.UserID], e.Ref)
	case core.LedgerPromo:
		c.counters[metaPromo] += e.Amount
		users := c.promos[e.Ref]
		if users == nil {
			users = map[string][]uint64{}
			c.promos[e.Ref] = users
		}
		users[e.UserID] = append(users[e.UserID], e.Seq)
		if len(users[e.UserID]) == 2 {
			r.problem("%s redeemed promo code %s twice (entries %d and %d)", e.UserID, e.Ref, users[e.UserID][0], e.Seq)
		}
	}
}

func (c *creditCheck) pay(key string) *payTally {
	t := c.pays[key]
	if t == nil {
		t = &payTally{}
		c.pays[key] = t
	}
	return t
}

// account checks the allowance day an account remembers.
func (c *creditCheck) account(r *Report, a *accountRecord) {
	if last := c.lastDay[a.UserID]; last > a.Day {
		r.problem("%s got the daily allowance on %s but its account says it was last checked on %q", a.UserID, last, a.Day)
	}
}

// finish checks the payment and promo records against what the ledger
// held, and the indexes beside them.
func (c *creditCheck) finish(tx *bolt.Tx, r *Report) error {
	if err := c.payments(tx, r); err != nil {
		return err
	}
	if err := c.promoCodes(tx, r); err != nil {
		return err
	}
	for _, name := range []string{metaPurchases, metaPurchaseCredits, metaPurchaseStars, metaPurchaseRefunded, metaAllowance, metaPromo} {
		if got := getCounter(tx, name); got != c.counters[name] {
			r.problem("counter %s is %d; recounted %d", name, got, c.counters[name])
		}
	}
	return nil
}

func (c *creditCheck) payments(tx *bolt.Tx, r *Report) error {
	refunding, consume := tx.Bucket(bucketRefunding), tx.Bucket(bucketConsume)
	err := tx.Bucket(bucketPayments).ForEach(func(k, v []byte) error {
		r.Payments++
		var p core.Payment
		if err := json.Unmarshal(v, &p); err != nil {
			r.problem("payment %q: %v", k, err)
			return nil
		}
		if p.Key.String() != string(k) {
			r.problem("payment %q has key %q", k, p.Key.String())
		}
		t := c.pays[string(k)]
		delete(c.pays, string(k))
		if t == nil {
			t = &payTally{}
		}
		if p.Seq == 0 {
			// Refunded before it was granted.
			if t.purchases != 0 || p.Refund != core.RefundDone || p.Refunded != 0 || p.Consume {
				r.problem("payment %s was never granted but has %d purchase entries, refund %q, %d refunded, consume=%v",
					k, t.purchases, p.Refund, p.Refunded, p.Consume)
			}
		} else {
			c.counters[metaPurchaseStars] += p.Stars
			if t.purchases != 1 || t.seq != p.Seq || t.credits != p.Credits || t.user != p.UserID {
				r.problem("payment %s (%d credits to %s, entry %d) does not match its %d purchase entries (first %d: %d credits to %q)",
					k, p.Credits, p.UserID, p.Seq, t.purchases, t.seq, t.credits, t.user)
			}
			if -t.refunds != p.Refunded || (p.Refund == "" && p.Refunded != 0) {
				r.problem("payment %s (refund %q) says %d credits refunded; its refund entries total %d", k, p.Refund, p.Refunded, -t.refunds)
			}
		}
		if (refunding.Get(k) != nil) != (p.Refund == core.RefundPending) {
			r.problem("payment %s has refund %q but is %s the pending refunds", k, p.Refund, inOrNot(refunding.Get(k) != nil))
		}
		if (consume.Get(k) != nil) != p.Consume {
			r.problem("payment %s has consume=%v but is %s the pending consumes", k, p.Consume, inOrNot(consume.Get(k) != nil))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for k, t := range c.pays {
		r.problem("ledger has %d purchase entries for %q, which has no payment record", t.purchases, k)
	}
	pays := tx.Bucket(bucketPayments)
	for _, ix := range [][]byte{bucketRefunding, bucketConsume} {
		err := tx.Bucket(ix).ForEach(func(k, _ []byte) error {
			if pays.Get(k) == nil {
				r.problem("%s index holds payment %q, which does not exist", ix, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *creditCheck) promoCodes(tx *bolt.Tx, r *Report) error {
	ledger := tx.Bucket(bucketLedger)
	redeemed := tx.Bucket(bucketRedeemed)
	err := tx.Bucket(bucketPromos).ForEach(func(k, v []byte) error {
		r.Promos++
		var p core.Promo
		if err := json.Unmarshal(v, &p); err != nil {
			r.problem("promo %q: %v", k, err)
			return nil
		}
		if p.Code != string(k) {
			r.problem("promo %q has code %q", k, p.Code)
		}
		users := c.promos[p.Code]
		delete(c.promos, p.Code)
		if len(users) != p.Used {
			r.problem("promo code %s counts %d uses; %d users redeemed it", p.Code, p.Used, len(users))
		}
		if p.Uses > 0 && p.Used > p.Uses {
			r.problem("promo code %s was used %d times; it allows %d", p.Code, p.Used, p.Uses)
		}
		for user, seqs := range users {
			if !bytes.Equal(redeemed.Get(redeemKey(p.Code, user)), itob(seqs[0])) {
				r.problem("promo code %s: the redemption of %s is not recorded as entry %d", p.Code, user, seqs[0])
			}
			for _, seq := range seqs {
				var e core.LedgerEntry
				if _, err := getJSON(ledger, itob(seq), &e); err == nil && e.Amount != p.Credits {
					r.problem("promo entry %d of %s grants %d; code %s grants %d", seq, user, e.Amount, p.Code, p.Credits)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for code, users := range c.promos {
		r.problem("ledger has promo entries for %d users of code %q, which does not exist", len(users), code)
	}
	promos := tx.Bucket(bucketPromos)
	return redeemed.ForEach(func(k, v []byte) error {
		code, user, _ := bytes.Cut(k, []byte{0})
		var e core.LedgerEntry
		found, err := getJSON(ledger, v, &e)
		if err != nil || !found || e.Kind != core.LedgerPromo || e.Ref != string(code) || e.UserID != string(user) || promos.Get(code) == nil {
			r.problem("redemption %q points at entry %x, which is not its promo entry", k, v)
		}
		return nil
	})
}

func inOrNot(in bool) string {
	if in {
		return "in"
	}
	return "not in"
}
