package core

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits on what an operator can sell or give.
const (
	// MaxCredits bounds a pack's, SKU's or promo code's credits, so that
	// sums never overflow.
	MaxCredits = 1_000_000_000
	// MaxStars bounds a pack's price in Telegram Stars.
	MaxStars = 100_000
	// maxPaymentID bounds a payment id (a Telegram charge id, a Discord
	// entitlement id).
	maxPaymentID = 256
)

// Platforms that take payments.
const (
	PlatformTelegram = "telegram"
	PlatformDiscord  = "discord"
)

// PaymentKey names one payment on one platform: a Telegram
// telegram_payment_charge_id or a Discord entitlement id. It is the
// payment's idempotency key: it grants credits at most once.
type PaymentKey struct {
	Platform string
	ID       string
}

// TelegramCharge is the key of a Telegram Stars payment.
func TelegramCharge(chargeID string) PaymentKey { return PaymentKey{PlatformTelegram, chargeID} }

// DiscordEntitlement is the key of a Discord entitlement.
func DiscordEntitlement(id string) PaymentKey { return PaymentKey{PlatformDiscord, id} }

// String is "<platform>:<id>", the form stored in the ledger.
func (k PaymentKey) String() string { return k.Platform + ":" + k.ID }

// Check reports a key that cannot name a payment (EINVALID).
func (k PaymentKey) Check() error {
	if (k.Platform != PlatformTelegram && k.Platform != PlatformDiscord) ||
		k.ID == "" || len(k.ID) > maxPaymentID || strings.ContainsAny(k.ID, "\x00\n") {
		return Errorf(EINVALID, "Invalid payment %q.", k.String())
	}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (k PaymentKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *PaymentKey) UnmarshalText(b []byte) error {
	p, id, ok := strings.Cut(string(b), ":")
	if !ok {
		return fmt.Errorf("payment key %q has no platform", b)
	}
	*k = PaymentKey{p, id}
	return nil
}

// RefundState is where a payment's refund is.
type RefundState string

const (
	// RefundPending: the credits were taken back and the platform was (or
	// is about to be) asked to refund the payment.
	RefundPending RefundState = "pending"
	// RefundDone: the platform refunded the payment.
	RefundDone RefundState = "done"
)

// Payment is a purchase as the store records it.
type Payment struct {
	Key     PaymentKey `json:"key"`
	UserID  string     `json:"user_id"`
	Credits int        `json:"credits"`
	// Stars is what a Telegram payment cost (0 elsewhere).
	Stars int    `json:"stars,omitempty"`
	Note  string `json:"note,omitempty"`
	// Seq is the purchase's ledger entry; 0 when the platform refunded the
	// payment before it was granted (it never will be).
	Seq uint64 `json:"seq,omitempty"`
	// Consume: the payment still has to be consumed on the platform
	// (Discord consumable entitlements).
	Consume  bool        `json:"consume,omitempty"`
	Refund   RefundState `json:"refund,omitempty"`
	Refunded int         `json:"refunded,omitempty"` // credits taken back
	Time     time.Time   `json:"time"`
}

// ErrAlreadyRefunded is what a refund function returns (wrapped or not)
// when the platform says the payment was refunded before
// (CHARGE_ALREADY_REFUNDED): the refund counts as done.
var ErrAlreadyRefunded = errors.New("sorabot: payment already refunded")

// Pack is a number of credits sold for Telegram Stars.
type Pack struct {
	Credits int
	Stars   int
}

// packPrefix starts every pack's invoice payload.
const packPrefix = "pack:"

// Payload is the invoice payload naming the pack, "pack:<credits>:<stars>"
// (at most 26 bytes; Telegram allows 128).
func (p Pack) Payload() string { return fmt.Sprintf("%s%d:%d", packPrefix, p.Credits, p.Stars) }

func (p Pack) check() error {
	if p.Credits < 1 || p.Credits > MaxCredits {
		return fmt.Errorf("credits %d not in 1..%d", p.Credits, MaxCredits)
	}
	if p.Stars < 1 || p.Stars > MaxStars {
		return fmt.Errorf("stars %d not in 1..%d", p.Stars, MaxStars)
	}
	return nil
}

// ParsePackPayload reads an invoice payload made by Pack.Payload.
func ParsePackPayload(payload string) (Pack, error) {
	rest, ok := strings.CutPrefix(payload, packPrefix)
	c, s, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return Pack{}, fmt.Errorf("payload %q does not name a pack", payload)
	}
	p, err := parsePack(c, s)
	if err != nil {
		return Pack{}, fmt.Errorf("payload %q: %w", payload, err)
	}
	return p, nil
}

func parsePack(credits, stars string) (Pack, error) {
	c, err1 := strconv.Atoi(credits)
	s, err2 := strconv.Atoi(stars)
	if err1 != nil || err2 != nil || strconv.Itoa(c) != credits || strconv.Itoa(s) != stars {
		return Pack{}, fmt.Errorf("%q is not <credits>:<stars>", credits+":"+stars)
	}
	p := Pack{Credits: c, Stars: s}
	return p, p.check()
}

// ParsePacks reads a comma list of <credits>:<stars> (SORABOT_PACKS), e.g.
// "500:50,1500:125". Empty means no packs.
func ParsePacks(s string) ([]Pack, error) {
	var packs []Pack
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		c, st, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not <credits>:<stars>", item)
		}
		p, err := parsePack(strings.TrimSpace(c), strings.TrimSpace(st))
		if err != nil {
			return nil, fmt.Errorf("%q: %w", item, err)
		}
		for _, q := range packs {
			if q.Credits == p.Credits {
				return nil, fmt.Errorf("two packs of %d credits", p.Credits)
			}
		}
		packs = append(packs, p)
	}
	return packs, nil
}

// SKU is a Discord consumable SKU and the credits it grants.
type SKU struct {
	ID      string
	Credits int
}

// ParseSKUs reads a comma list of <sku_id>:<credits> (DISCORD_SKUS).
// Empty means none.
func ParseSKUs(s string) ([]SKU, error) {
	var skus []SKU
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		id, cs, ok := strings.Cut(item, ":")
		id, cs = strings.TrimSpace(id), strings.TrimSpace(cs)
		c, err := strconv.Atoi(cs)
		if !ok || err != nil || id == "" || strings.Trim(id, "0123456789") != "" || len(id) > 20 {
			return nil, fmt.Errorf("%q is not <sku_id>:<credits> (a Discord id, digits only)", item)
		}
		if c < 1 || c > MaxCredits {
			return nil, fmt.Errorf("%q: credits %d not in 1..%d", item, c, MaxCredits)
		}
		for _, k := range skus {
			if k.ID == id {
				return nil, fmt.Errorf("SKU %s is listed twice", id)
			}
		}
		skus = append(skus, SKU{ID: id, Credits: c})
	}
	return skus, nil
}
