package chat

import (
	"errors"
	"strconv"
	"strings"

	"sorabot/core"
)

// Buying and earning credits: /buy, /redeem, /paysupport, /terms and the
// admins' /refund and /promo. The platforms' own parts (Telegram's
// invoices and payment updates, Discord's entitlements) are in their
// frontends; what they tell the user is in texts_pay.go.

// platformOf is the platform of a user id: "telegram" for "telegram:1".
func platformOf(user string) string {
	p, _, _ := strings.Cut(user, ":")
	return p
}

// offer is what a platform sells: Telegram packs, Discord SKUs, nothing
// elsewhere.
func offer(svc Service, platform string) ([]core.Pack, []core.SKU) {
	switch platform {
	case core.PlatformTelegram:
		return svc.Packs(), nil
	case core.PlatformDiscord:
		return nil, svc.SKUs()
	}
	return nil, nil
}

func (r *runner) buy() Reply {
	lang := r.call.Lang
	platform := platformOf(r.call.User)
	packs, skus := offer(r.svc, platform)
	switch {
	case platform != core.PlatformTelegram && platform != core.PlatformDiscord:
		return Reply{Text: BuyElsewhere(lang, r.call.Syntax)}
	case len(packs) > 0:
		return Reply{Text: BuyPacks(lang), Packs: packs}
	case len(skus) > 0:
		return Reply{Text: BuySKUs(lang), SKUs: skus}
	}
	return Reply{Text: NothingOnSale(lang)}
}

func (r *runner) paySupport() Reply {
	if t := r.svc.PaySupport(); t != "" {
		return Reply{Text: t}
	}
	return Reply{Text: DefaultPaySupport(r.call.Lang)}
}

func (r *runner) terms() Reply {
	if t := r.svc.Terms(); t != "" {
		return Reply{Text: t}
	}
	return Reply{Text: DefaultTerms(r.call.Lang)}
}

func (r *runner) redeem() Reply {
	lang, args := r.call.Lang, r.call.Command.Args
	if len(args) != 1 {
		return Reply{Text: RedeemUsage(lang, r.call.Syntax)}
	}
	a, p, err := r.svc.Redeem(r.ctx, r.call.User, args[0])
	switch {
	case errors.Is(err, core.ErrPromoUnknown):
		return Reply{Text: PromoUnknown(lang), Err: err}
	case errors.Is(err, core.ErrPromoUsedUp):
		return Reply{Text: PromoUsedUp(lang), Err: err}
	case errors.Is(err, core.ErrPromoRedeemed):
		return Reply{Text: PromoRedeemedBefore(lang), Err: err}
	case err != nil:
		return failed(lang, err)
	}
	return Reply{Text: Redeemed(lang, p, a)}
}

func (r *runner) refund() Reply {
	lang, args := r.call.Lang, r.call.Command.Args
	if r.call.Refund == nil {
		return Reply{Text: RefundElsewhere(lang)}
	}
	if len(args) != 1 {
		return Reply{Text: RefundUsage(lang)}
	}
	p, err := r.svc.RefundPurchase(r.ctx, r.call.User, args[0], r.call.Refund)
	if err != nil {
		return failed(lang, err)
	}
	return Reply{Text: RefundDone(lang, p)}
}

func (r *runner) promo() Reply {
	lang, args := r.call.Lang, r.call.Command.Args
	if len(args) == 0 {
		ps, err := r.svc.Promos(r.ctx, r.call.User)
		if err != nil {
			return failed(lang, err)
		}
		return Reply{Text: PromoList(lang, ps)}
	}
	if len(args) < 2 || len(args) > 3 {
		return Reply{Text: PromoUsage(lang)}
	}
	credits, err := strconv.Atoi(args[1])
	uses := 0
	if err == nil && len(args) == 3 {
		uses, err = strconv.Atoi(args[2])
	}
	if err != nil {
		return Reply{Text: PromoUsage(lang)}
	}
	p, err := r.svc.CreatePromo(r.ctx, r.call.User, args[0], credits, uses)
	if err != nil {
		return failed(lang, err)
	}
	return Reply{Text: PromoCreated(lang, p)}
}
