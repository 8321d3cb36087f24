package chat

import (
	"strings"

	"sorabot/core"
	"sorabot/i18n"
)

// Texts about buying and earning credits, in the user's language (the
// messages are in i18n/locales/pay.<lang>.json). Amounts of credits and
// Stars go through the plural messages.

func credits(lang string, n int) string { return i18n.Credits(lang, n) }

// Stars is "<N> Stars" in lang ("1 звезда", "5 звёзд").
func Stars(lang string, n int) string { return i18n.N(lang, "pay.stars", n, nil) }

// BuyPacks introduces the buy buttons of /buy on Telegram.
func BuyPacks(lang string) string { return i18n.T(lang, "pay.buy.packs", nil) }

// BuySKUs introduces Discord's premium buttons.
func BuySKUs(lang string) string { return i18n.T(lang, "pay.buy.skus", nil) }

// NothingOnSale answers /buy where no pack or SKU is configured.
func NothingOnSale(lang string) string { return i18n.T(lang, "pay.buy.none", nil) }

// BuyElsewhere answers /buy where nothing can be paid (the console).
func BuyElsewhere(lang string, s Syntax) string {
	return i18n.T(lang, "pay.buy.elsewhere", i18n.Args{"Redeem": s.Usage(Lookup(CmdRedeem))})
}

// BuyButton labels the button that sends a pack's invoice.
func BuyButton(lang string, p core.Pack) string {
	return i18n.T(lang, "pay.buy.button", i18n.Args{"Credits": credits(lang, p.Credits), "Stars": Stars(lang, p.Stars)})
}

// PackGone answers a buy button of a pack that is no longer on sale.
func PackGone(lang string) string { return i18n.T(lang, "pay.buy.gone", nil) }

// InvoiceFailed answers a buy button whose invoice could not be sent.
func InvoiceFailed(lang string) string { return i18n.T(lang, "pay.invoice.failed", nil) }

// InvoiceTitle is a pack's invoice title (at most 32 characters).
func InvoiceTitle(lang string, p core.Pack) string { return truncate(credits(lang, p.Credits), 32) }

// InvoiceDescription is a pack's invoice description (at most 255 characters).
func InvoiceDescription(lang string, p core.Pack) string {
	return truncate(i18n.T(lang, "pay.invoice.description", i18n.Args{"Credits": credits(lang, p.Credits)}), 255)
}

// PriceLabel labels an invoice's one price.
func PriceLabel(lang string, p core.Pack) string { return credits(lang, p.Credits) }

// Paid confirms a payment (a Telegram pack, a Discord SKU): what it added
// and the new balance.
func Paid(lang string, added, balance int) string {
	return i18n.T(lang, "pay.paid", i18n.Args{"Credits": credits(lang, added), "Balance": credits(lang, balance)})
}

// PaymentRecovered tells a user that a payment whose update was lost was
// counted at start.
func PaymentRecovered(lang string, added, balance int) string {
	return i18n.T(lang, "pay.recovered", i18n.Args{"Credits": credits(lang, added), "Balance": credits(lang, balance)})
}

// PaymentMismatch answers a payment that names no pack (or not at its
// price): nothing was added.
func PaymentMismatch(lang string) string { return i18n.T(lang, "pay.mismatch", nil) }

// PaymentRefunded tells a buyer that Telegram refunded their payment and
// how many credits that took back.
func PaymentRefunded(lang string, stars, taken int) string {
	return i18n.T(lang, "pay.refunded", i18n.Args{"Stars": Stars(lang, stars), "Credits": credits(lang, taken)})
}

// DefaultPaySupport answers /paysupport when the operator set no text.
func DefaultPaySupport(lang string) string { return i18n.T(lang, "pay.support.default", nil) }

// DefaultTerms answers /terms when the operator set no text.
func DefaultTerms(lang string) string { return i18n.T(lang, "pay.terms.default", nil) }

// RedeemUsage answers /redeem without a code.
func RedeemUsage(lang string, s Syntax) string {
	return i18n.T(lang, "pay.redeem.usage", i18n.Args{"Example": s.Example(CmdRedeem, "WELCOME")})
}

// Redeemed confirms /redeem.
func Redeemed(lang string, p core.Promo, a core.Account) string {
	return i18n.T(lang, "pay.redeem.done", i18n.Args{"Code": p.Code, "Credits": credits(lang, p.Credits), "Balance": credits(lang, a.Balance)})
}

// PromoUnknown, PromoUsedUp and PromoRedeemedBefore are /redeem's refusals.
func PromoUnknown(lang string) string        { return i18n.T(lang, "pay.redeem.unknown", nil) }
func PromoUsedUp(lang string) string         { return i18n.T(lang, "pay.redeem.usedup", nil) }
func PromoRedeemedBefore(lang string) string { return i18n.T(lang, "pay.redeem.again", nil) }

// RefundUsage answers /refund without a charge id.
func RefundUsage(lang string) string { return i18n.T(lang, "pay.refund.usage", nil) }

// RefundElsewhere answers /refund where payments cannot be refunded (the console).
func RefundElsewhere(lang string) string { return i18n.T(lang, "pay.refund.elsewhere", nil) }

// RefundDone confirms /refund.
func RefundDone(lang string, p core.Payment) string {
	return i18n.T(lang, "pay.refund.done", i18n.Args{"Charge": p.Key.ID, "Credits": credits(lang, p.Refunded), "User": p.UserID})
}

// PromoUsage answers /promo with arguments it cannot read.
func PromoUsage(lang string) string { return i18n.T(lang, "pay.promo.usage", nil) }

// PromoCreated confirms /promo <code> <credits> [uses].
func PromoCreated(lang string, p core.Promo) string {
	return i18n.T(lang, "pay.promo.created", i18n.Args{"Code": p.Code, "Credits": credits(lang, p.Credits), "Uses": promoUses(lang, p)})
}

// promoUses says how many users may redeem a code.
func promoUses(lang string, p core.Promo) string {
	if p.Uses == 0 {
		return i18n.T(lang, "pay.promo.anyone", nil)
	}
	return i18n.N(lang, "pay.promo.users", p.Uses, nil)
}

// PromoList is /promo alone: every code, with its credits and uses.
func PromoList(lang string, ps []core.Promo) string {
	if len(ps) == 0 {
		return i18n.T(lang, "pay.promo.none", nil)
	}
	var b strings.Builder
	b.WriteString(i18n.T(lang, "pay.promo.list", nil))
	for _, p := range ps {
		b.WriteString("\n" + i18n.T(lang, "pay.promo.line", i18n.Args{"Code": p.Code, "Credits": credits(lang, p.Credits),
			"Used": p.Used, "Uses": promoUses(lang, p)}))
	}
	return b.String()
}
