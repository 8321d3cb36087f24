package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/core"
)

// Discord consumable SKUs: /buy shows one premium button per SKU; an
// entitlement to one of them (from ENTITLEMENT_CREATE, from an
// interaction's entitlements, or listed at start) grants its credits once,
// keyed by the entitlement id, and is then consumed so that the user can
// buy again. A crash between the two is healed at start; ENTITLEMENT_DELETE
// (a refund) takes the credits back, at most the balance, once.

// lang is the language of the answers to Discord user userID: the one
// they chose with /language, else locale (their Discord client's, "" when
// not known), else the operator's default.
func (b *Bot) lang(ctx context.Context, userID, locale string) string {
	l, err := chat.NewCommands(b.svc).Lang(ctx, Platform+":"+userID, locale)
	if err != nil {
		b.log.Warn("read the user's language", "user", Platform+":"+userID, "err", err)
	}
	return l
}

// premiumButtons is one premium button per SKU, five to a row.
func premiumButtons(skus []core.SKU) []discordgo.MessageComponent {
	var rows []discordgo.MessageComponent
	for chunk := range slices.Chunk(skus, 5) {
		var row discordgo.ActionsRow
		for _, k := range chunk {
			row.Components = append(row.Components, discordgo.Button{Style: discordgo.PremiumButton, SKUID: k.ID})
		}
		rows = append(rows, row)
	}
	return rows
}

// sells reports whether skuID is one of the configured SKUs.
func (b *Bot) sells(skuID string) bool {
	return slices.ContainsFunc(b.svc.SKUs(), func(k core.SKU) bool { return k.ID == skuID })
}

func (b *Bot) entitlementLog(e *discordgo.Entitlement, source string) *slog.Logger {
	return b.log.With("entitlement_id", e.ID, "sku_id", e.SKUID, "user", Platform+":"+e.UserID, "source", source)
}

// ours reports a live entitlement of a user to one of our SKUs.
func (b *Bot) ours(e *discordgo.Entitlement) bool {
	return e != nil && !e.Deleted && e.UserID != "" && b.sells(e.SKUID)
}

// grant grants an entitlement's credits, once; ok is false when that
// failed (it is left for later). tell is what to tell the buyer, "" when
// it was granted before.
func (b *Bot) grant(ctx context.Context, e *discordgo.Entitlement, lang string, log *slog.Logger) (tell string, ok bool) {
	a, dup, err := b.svc.GrantEntitlement(ctx, Platform+":"+e.UserID, e.ID, e.SKUID)
	switch {
	case err != nil:
		log.Error("granting an entitlement failed; tried again when Discord shows it again or at the next start", "err", err)
		return "", false
	case dup:
		log.Debug("entitlement granted before")
		return "", true
	}
	log.Info("entitlement granted", "balance", a.Balance)
	return chat.Paid(lang, b.skuCredits(e.SKUID), a.Balance), true
}

// entitled grants an entitlement to one of our SKUs (once), tells the
// buyer in their language and consumes it.
func (b *Bot) entitled(ctx context.Context, e *discordgo.Entitlement, source string) {
	if !b.ours(e) {
		return
	}
	log := b.entitlementLog(e, source)
	tell, ok := b.grant(ctx, e, b.lang(ctx, e.UserID, ""), log)
	if !ok {
		return
	}
	if tell != "" {
		b.tell(ctx, e.UserID, tell, log)
	}
	b.consume(ctx, e.UserID, e.ID, e.Consumed != nil && *e.Consumed, log)
}

// entitledNow is entitled for an entitlement an interaction carries: the
// grant comes before the interaction is answered, the rest in the
// background.
func (b *Bot) entitledNow(e *discordgo.Entitlement, lang string) {
	if !b.ours(e) || e.Consumed != nil && *e.Consumed {
		return
	}
	ctx, log := b.context(), b.entitlementLog(e, "interaction")
	tell, ok := b.grant(ctx, e, lang, log)
	if !ok {
		return
	}
	b.spawn(func() {
		if tell != "" {
			b.tell(ctx, e.UserID, tell, log)
		}
		b.consume(ctx, e.UserID, e.ID, false, log)
	})
}

func (b *Bot) skuCredits(skuID string) int {
	for _, k := range b.svc.SKUs() {
		if k.ID == skuID {
			return k.Credits
		}
	}
	return 0
}

// consume consumes a granted entitlement on Discord (unless Discord says
// it is consumed) and records that. A failure leaves it to the next start.
func (b *Bot) consume(ctx context.Context, userID, id string, consumed bool, log *slog.Logger) {
	if !consumed {
		err := b.sess.EntitlementConsume(b.app(), id, discordgo.WithContext(ctx))
		status, code := restCode(err)
		switch {
		case err == nil:
		case code == 10029: // Unknown Entitlement: deleted, that is refunded
			log.Warn("a granted entitlement is gone from Discord: taking its credits back")
			b.refunded(ctx, userID, id, log)
			return
		case status == http.StatusBadRequest && strings.Contains(strings.ToLower(restMessage(err)), "already"):
			log.Info("entitlement consumed before")
		default:
			log.Warn("consuming an entitlement failed; tried again at the next start", "err", redact(err, b.opt.Token))
			return
		}
	}
	if err := b.svc.MarkConsumed(ctx, id); err != nil {
		log.Error("recording a consumed entitlement failed; consumed again at the next start", "err", err)
	}
}

func restMessage(err error) string {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Message
	}
	return ""
}

// refunded takes back what is left of an entitlement's credits, at most
// the balance, once.
func (b *Bot) refunded(ctx context.Context, userID, id string, log *slog.Logger) {
	if _, debited, err := b.svc.PaymentRefunded(ctx, Platform+":"+userID, core.DiscordEntitlement(id)); err != nil {
		log.Error("recording a refunded entitlement failed", "err", err)
	} else {
		log.Info("entitlement refunded", "debited", debited)
	}
}

// entitlementDeleted handles ENTITLEMENT_DELETE: Discord refunded it.
func (b *Bot) entitlementDeleted(ctx context.Context, e *discordgo.Entitlement) {
	if e == nil || e.UserID == "" {
		return
	}
	if !b.sells(e.SKUID) {
		// A SKU no longer on sale may still have been bought here.
		if _, err := b.svc.Payment(ctx, core.DiscordEntitlement(e.ID)); err != nil {
			if core.ErrorCode(err) != core.ENOTFOUND {
				b.entitlementLog(e, "ENTITLEMENT_DELETE").Error("reading the payment of a refunded entitlement failed", "err", err)
			}
			return
		}
	}
	b.refunded(ctx, e.UserID, e.ID, b.entitlementLog(e, "ENTITLEMENT_DELETE"))
}

// tell sends a user a direct message; a failure is only logged (the
// credits are in /balance all the same).
func (b *Bot) tell(ctx context.Context, userID, text string, log *slog.Logger) {
	ch, err := b.sess.UserChannelCreate(userID, discordgo.WithContext(ctx))
	if err == nil {
		_, err = b.sess.ChannelMessageSend(ch.ID, clip(text), discordgo.WithContext(ctx))
	}
	if err != nil {
		log.Warn("telling the buyer by direct message failed", "err", redact(err, b.opt.Token))
	}
}

// healEntitlements runs at start: it consumes what was granted but not
// consumed (a crash in between), then grants and consumes every
// unconsumed entitlement to our SKUs that Discord lists (bought while the
// bot was away).
func (b *Bot) healEntitlements(ctx context.Context) {
	ps, err := b.svc.PendingConsumes(ctx)
	if err != nil {
		b.log.Error("listing entitlements left unconsumed failed; tried again at the next start", "err", err)
	}
	for _, p := range ps {
		if ctx.Err() != nil {
			return // stopping: the next start goes on
		}
		log := b.log.With("entitlement_id", p.Key.ID, "user", p.UserID, "source", "start")
		b.consume(ctx, strings.TrimPrefix(p.UserID, Platform+":"), p.Key.ID, false, log)
	}
	var ids []string
	for _, k := range b.svc.SKUs() {
		ids = append(ids, k.ID)
	}
	if len(ids) == 0 {
		return
	}
	ents, err := b.listEntitlements(ctx, ids)
	if err != nil {
		b.log.Error("listing entitlements failed; purchases made while the bot was away are granted at the next start", "err", redact(err, b.opt.Token))
	}
	for _, e := range ents {
		if ctx.Err() != nil {
			return
		}
		if e.Consumed == nil || !*e.Consumed {
			b.entitled(ctx, e, "start")
		}
	}
}

// listEntitlements lists the application's live entitlements to skus, a
// page of 100 at a time in id order. (discordgo's Entitlements sends
// before/after as timestamps, which Discord refuses.)
func (b *Bot) listEntitlements(ctx context.Context, skus []string) ([]*discordgo.Entitlement, error) {
	const page = 100
	endpoint := discordgo.EndpointEntitlements(b.app())
	var all []*discordgo.Entitlement
	after := ""
	for {
		q := url.Values{"sku_ids": {strings.Join(skus, ",")}, "exclude_ended": {"true"}, "exclude_deleted": {"true"},
			"limit": {strconv.Itoa(page)}}
		if after != "" {
			q.Set("after", after)
		}
		body, err := b.sess.RequestWithBucketID(http.MethodGet, endpoint+"?"+q.Encode(), nil, endpoint, discordgo.WithContext(ctx))
		if err != nil {
			return all, err
		}
		var got []*discordgo.Entitlement
		if err := json.Unmarshal(body, &got); err != nil {
			return all, fmt.Errorf("entitlements: %w", err)
		}
		all = append(all, got...)
		if len(got) < page {
			return all, nil
		}
		after = got[len(got)-1].ID
	}
}
