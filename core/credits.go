package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Buying and earning credits: packs sold for Telegram Stars, Discord SKUs,
// refunds of both, the daily allowance and promo codes. Every credit
// movement is one ledger entry that the store writes in the transaction
// recording what it pays for, keyed (payment key, day, code) so that a
// redelivered update, a retry or a restart never moves it twice.

// CurrencyStars is the currency code of Telegram Stars.
const CurrencyStars = "XTR"

// Touch is the account read of a user's command: it creates the account
// if new and applies the daily allowance at the user's first command of a
// UTC day, in one transaction (Accept and Redeem do so in theirs).
// Frontends call it for every command that is not /video or /redeem.
func (s *Service) Touch(ctx context.Context, userID string) (Account, error) {
	return s.store.Account(ctx, userID)
}

// Packs returns the packs on sale, in the order to offer them.
func (s *Service) Packs() []Pack { return slices.Clone(s.cfg.Packs) }

// PackFor returns the pack on sale now that an invoice payload names.
func (s *Service) PackFor(payload string) (Pack, bool) {
	p, err := ParsePackPayload(payload)
	if err != nil {
		return Pack{}, false
	}
	return p, slices.Contains(s.cfg.Packs, p)
}

// CheckPreCheckout decides a Telegram pre_checkout_query: the pack the
// payload names, when it is on sale now at that price in Stars; otherwise
// an EINVALID *Error whose message tells the user why.
func (s *Service) CheckPreCheckout(payload, currency string, amount int) (Pack, error) {
	p, ok := s.PackFor(payload)
	if !ok {
		if q, err := ParsePackPayload(payload); err == nil {
			if i := slices.IndexFunc(s.cfg.Packs, func(c Pack) bool { return c.Credits == q.Credits }); i >= 0 {
				return Pack{}, msgPackPriceChanged.Err(EINVALID, Args{"Stars": s.cfg.Packs[i].Stars})
			}
		}
		return Pack{}, msgPackGone.Err(EINVALID, nil)
	}
	if currency != CurrencyStars {
		return Pack{}, msgPackCurrency.Err(EINVALID, nil)
	}
	if amount != p.Stars {
		return Pack{}, msgPackAmount.Err(EINVALID, Args{"Stars": p.Stars, "Amount": amount})
	}
	return p, nil
}

// StarPayment grants the pack of a Telegram successful_payment (or of an
// incoming payment found by getStarTransactions at start) once, keyed by
// its telegram_payment_charge_id. The pack is the one the payload names,
// on sale or not: the user paid for it. A payload that names no pack, or
// an amount or currency that does not match it, grants nothing and is an
// error matching ErrPaymentMismatch, for the log.
func (s *Service) StarPayment(ctx context.Context, userID, chargeID, payload, currency string, amount int) (Account, bool, error) {
	p, err := ParsePackPayload(payload)
	if err != nil {
		return Account{}, false, fmt.Errorf("star payment %s of %s: %w: %v", chargeID, userID, ErrPaymentMismatch, err)
	}
	if currency != CurrencyStars || amount != p.Stars {
		return Account{}, false, fmt.Errorf("star payment %s of %s: %w: %d %s paid for pack %s; not granted",
			chargeID, userID, ErrPaymentMismatch, amount, currency, payload)
	}
	return s.purchase(ctx, Payment{Key: TelegramCharge(chargeID), UserID: userID, Credits: p.Credits, Stars: p.Stars, Note: p.Payload()})
}

// Purchase grants credits for a payment once per key; a key seen before
// grants nothing and reports duplicate (with the buyer's account).
func (s *Service) Purchase(ctx context.Context, userID string, key PaymentKey, credits, stars int, note string) (Account, bool, error) {
	return s.purchase(ctx, Payment{Key: key, UserID: userID, Credits: credits, Stars: stars, Note: note})
}

func (s *Service) purchase(ctx context.Context, p Payment) (Account, bool, error) {
	a, dup, err := s.store.Purchase(ctx, p)
	if err != nil {
		return a, dup, err
	}
	if dup {
		s.log.Info("payment seen before, nothing granted", "payment", p.Key.String(), "user", p.UserID)
	} else {
		s.log.Info("purchase granted", "payment", p.Key.String(), "user", p.UserID, "credits", p.Credits, "stars", p.Stars, "balance", a.Balance)
	}
	return a, dup, nil
}

// PaySupport is the operator's /paysupport text, "" for the built-in one.
func (s *Service) PaySupport() string { return s.cfg.PaySupport }

// Terms is the operator's /terms text, "" for the built-in one.
func (s *Service) Terms() string { return s.cfg.Terms }

// ErrPaymentMismatch: a payment whose payload names no pack, or whose
// amount or currency is not the pack's. Nothing is granted, and retrying
// does not change that.
var ErrPaymentMismatch = errors.New("sorabot: payment does not match a pack")

// SKUs returns the Discord SKUs on sale.
func (s *Service) SKUs() []SKU { return slices.Clone(s.cfg.SKUs) }

// GrantEntitlement grants the credits of a Discord entitlement to one of
// our SKUs once, keyed by the entitlement id, and remembers it until
// MarkConsumed. After it returns without error (a duplicate included) the
// frontend consumes the entitlement on Discord, unless Discord says it is
// consumed, and then calls MarkConsumed; PendingConsumes lists what a crash
// left unconsumed. Errors: ENOTFOUND for an SKU that is not ours.
func (s *Service) GrantEntitlement(ctx context.Context, userID, entitlementID, skuID string) (Account, bool, error) {
	i := slices.IndexFunc(s.cfg.SKUs, func(k SKU) bool { return k.ID == skuID })
	if i < 0 {
		return Account{}, false, msgSKUUnknown.Err(ENOTFOUND, Args{"SKU": skuID})
	}
	return s.purchase(ctx, Payment{Key: DiscordEntitlement(entitlementID), UserID: userID,
		Credits: s.cfg.SKUs[i].Credits, Note: "sku " + skuID, Consume: true})
}

// PendingConsumes lists the Discord entitlements granted and not yet
// marked consumed.
func (s *Service) PendingConsumes(ctx context.Context) ([]Payment, error) {
	ps, err := s.store.PendingConsumes(ctx)
	return slices.DeleteFunc(ps, func(p Payment) bool { return p.Key.Platform != PlatformDiscord }), err
}

// MarkConsumed records that a Discord entitlement was consumed.
func (s *Service) MarkConsumed(ctx context.Context, entitlementID string) error {
	return s.store.MarkConsumed(ctx, DiscordEntitlement(entitlementID))
}

// RefundFunc asks a platform to refund a payment (Telegram:
// refundStarPayment). It returns nil when the platform refunded it, an
// error matching ErrAlreadyRefunded when it had been refunded before, a
// Temporary error when the outcome is unknown (timeout, 5xx, 429: the
// refund stays pending and is tried again), and any other error when the
// platform refused (the credits go back to the buyer; a *Error's message
// is shown to the admin).
type RefundFunc func(ctx context.Context, p Payment) error

// RefundPurchase refunds a Telegram Stars payment for an admin (/refund
// <telegram_payment_charge_id>), when the buyer still has the credits it
// bought. The credits are taken back first (one purchase_refund entry,
// refund pending), then refund asks Telegram, then the outcome is
// recorded: done, or on a refusal the credits are given back. A refund
// whose outcome stays unknown remains pending: /refund again or
// ResumeRefunds at start finishes it, and Telegram's "already refunded"
// counts as done, so the ledger and Telegram never disagree for long and
// the credits are never taken twice. Errors: EFORBIDDEN, EINVALID,
// ENOTFOUND, ERATELIMITED (the same refund is under way), EUNAVAILABLE
// (outcome unknown).
func (s *Service) RefundPurchase(ctx context.Context, actor, chargeID string, refund RefundFunc) (Payment, error) {
	if !s.IsAdmin(actor) {
		return Payment{}, msgAdminRefund.Err(EFORBIDDEN, nil)
	}
	key := TelegramCharge(strings.TrimSpace(chargeID))
	if key.Check() != nil {
		return Payment{}, msgRefundNeedsID.Err(EINVALID, nil)
	}
	if !s.lockRefund(key) {
		return Payment{}, msgRefundRunning.Err(ERATELIMITED, Args{"Payment": key.ID})
	}
	defer s.refunds.Delete(key)
	p, err := s.store.BeginRefund(ctx, key, actor)
	if err != nil {
		return p, err
	}
	return s.settleRefund(ctx, p, refund)
}

// ResumeRefunds finishes the refunds of a platform that were begun and not
// settled (a crash, or an unknown outcome); call it at start.
func (s *Service) ResumeRefunds(ctx context.Context, platform string, refund RefundFunc) error {
	ps, err := s.store.PendingRefunds(ctx)
	if err != nil {
		return fmt.Errorf("pending refunds: %w", err)
	}
	for _, p := range ps {
		if p.Key.Platform != platform || !s.lockRefund(p.Key) {
			continue
		}
		s.log.Info("resuming a refund", "payment", p.Key.String(), "user", p.UserID)
		s.settleRefund(ctx, p, refund) // logs its outcome
		s.refunds.Delete(p.Key)
	}
	return nil
}

func (s *Service) lockRefund(key PaymentKey) bool {
	_, busy := s.refunds.LoadOrStore(key, true)
	return !busy
}

// settleRefund asks the platform to make a pending refund and records the
// outcome. The records are written even when ctx ends meanwhile: the
// platform may have acted.
func (s *Service) settleRefund(ctx context.Context, p Payment, refund RefundFunc) (Payment, error) {
	log := s.log.With("payment", p.Key.String(), "user", p.UserID, "credits", p.Refunded)
	err := refund(ctx, p)
	store := context.WithoutCancel(ctx)
	switch {
	case err == nil || errors.Is(err, ErrAlreadyRefunded):
		q, serr := s.store.EndRefund(store, p.Key, true)
		if serr != nil {
			log.Error("payment refunded but not recorded as settled; settled at the next start", "err", serr)
			return p, fmt.Errorf("refund %s: record: %w", p.Key, serr)
		}
		log.Info("purchase refunded", "already_refunded", err != nil)
		return q, nil
	case IsTemporary(err) || ctx.Err() != nil:
		log.Warn("refund outcome unknown; it stays pending", "err", err)
		return p, msgRefundUnconfirmed.Err(EUNAVAILABLE, Args{"Payment": p.Key.ID, "Credits": p.Refunded})
	}
	q, serr := s.store.EndRefund(store, p.Key, false)
	if serr != nil {
		log.Error("refund refused, and giving the credits back failed; retried at the next start", "refusal", err, "err", serr)
		return p, fmt.Errorf("refund %s: give credits back: %w", p.Key, serr)
	}
	log.Warn("refund refused by the platform; credits given back", "err", err)
	args := Args{"Payment": p.Key.ID, "Credits": p.Credits, "User": p.UserID}
	if e := AsError(err); e != nil {
		args["Why"] = Message{ID: e.ID, Args: e.Args, English: e.Message}
		return q, msgRefundRefusedWhy.Err(EINVALID, args)
	}
	return q, msgRefundRefused.Err(EINVALID, args)
}

// Payment returns the payment recorded under key. Errors: ENOTFOUND.
func (s *Service) Payment(ctx context.Context, key PaymentKey) (Payment, error) {
	return s.store.Payment(ctx, key)
}

// PaymentRefunded records a refund the platform made on its own (a
// Telegram refunded_payment message, a Discord ENTITLEMENT_DELETE): it
// takes back what is left of the purchase's credits, at most the balance,
// once. It returns how many credits it took.
func (s *Service) PaymentRefunded(ctx context.Context, userID string, key PaymentKey) (Payment, int, error) {
	p, debited, err := s.store.PaymentRefunded(ctx, key, userID)
	if err != nil {
		return p, 0, fmt.Errorf("payment %s refunded: %w", key, err)
	}
	s.log.Info("payment refunded by the platform", "payment", key.String(), "user", p.UserID, "debited", debited, "bought", p.Credits)
	return p, debited, nil
}

// CreatePromo makes a promo code granting credits once to each of at most
// uses users (0: any number); only admins may. Errors: EFORBIDDEN,
// EINVALID (bad values, or the code exists).
func (s *Service) CreatePromo(ctx context.Context, actor, code string, credits, uses int) (Promo, error) {
	if !s.IsAdmin(actor) {
		return Promo{}, msgAdminPromo.Err(EFORBIDDEN, nil)
	}
	c, err := PromoCode(code)
	if err != nil {
		return Promo{}, err
	}
	if credits < 1 || credits > MaxCredits {
		return Promo{}, msgPromoCredits.Err(EINVALID, Args{"Max": MaxCredits})
	}
	if uses < 0 || uses > MaxPromoUses {
		return Promo{}, msgPromoUses.Err(EINVALID, Args{"Max": MaxPromoUses})
	}
	p, err := s.store.CreatePromo(ctx, Promo{Code: c, Credits: credits, Uses: uses, By: actor})
	if err == nil {
		s.log.Info("promo code made", "code", c, "credits", credits, "uses", uses, "by", actor)
	}
	return p, err
}

// Promos lists the promo codes; only admins may.
func (s *Service) Promos(ctx context.Context, actor string) ([]Promo, error) {
	if !s.IsAdmin(actor) {
		return nil, msgAdminPromos.Err(EFORBIDDEN, nil)
	}
	return s.store.Promos(ctx)
}

// Redeem grants a promo code's credits to the user, once per user while
// uses remain (and applies the daily allowance, as any command). Errors:
// ErrPromoUnknown, ErrPromoUsedUp, ErrPromoRedeemed.
func (s *Service) Redeem(ctx context.Context, userID, code string) (Account, Promo, error) {
	c, err := PromoCode(code)
	if err != nil {
		return Account{}, Promo{}, ErrPromoUnknown
	}
	return s.store.Redeem(ctx, userID, c)
}
