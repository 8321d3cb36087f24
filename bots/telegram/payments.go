package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"sorabot/bots/chat"
	"sorabot/core"
	"sorabot/i18n"
)

// Telegram Stars: buy buttons that send a pack's invoice, the answer to a
// pre_checkout_query, successful_payment and refunded_payment messages,
// /refund through refundStarPayment, and at start the star transactions
// whose update never came. What each payment grants or takes is the
// core's; every grant is keyed by the telegram_payment_charge_id.

// buyPrefix starts the callback data of a buy button: "buy:" and the pack's
// invoice payload.
const buyPrefix = "buy:"

// buyMarkup is one button per pack, each sending that pack's invoice; nil
// for no packs.
func buyMarkup(lang string, packs []core.Pack) models.ReplyMarkup {
	if len(packs) == 0 {
		return nil
	}
	kb := &models.InlineKeyboardMarkup{}
	for _, p := range packs {
		kb.InlineKeyboard = append(kb.InlineKeyboard, []models.InlineKeyboardButton{
			{Text: chat.BuyButton(lang, p), CallbackData: buyPrefix + p.Payload()}})
	}
	return kb
}

// buyButton sends the invoice of the pack a pressed buy button names, when
// it is still on sale.
func (b *Bot) buyButton(ctx context.Context, q *models.CallbackQuery, payload string) {
	lang := b.lang(ctx, &q.From)
	text := ""
	if p, ok := b.svc.PackFor(payload); !ok {
		text = chat.PackGone(lang)
	} else {
		chatID := q.From.ID
		switch {
		case q.Message.Message != nil:
			chatID = q.Message.Message.Chat.ID
		case q.Message.InaccessibleMessage != nil:
			chatID = q.Message.InaccessibleMessage.Chat.ID
		}
		if err := b.sendInvoice(ctx, chatID, lang, p); err != nil {
			b.log.Warn("sendInvoice failed", "chat_id", chatID, "pack", p.Payload(), "err", redact(err, b.opt.Token))
			text = chat.InvoiceFailed(lang)
		}
	}
	if _, err := b.api.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: q.ID, Text: text, ShowAlert: text != ""}); err != nil {
		b.log.Debug("answerCallbackQuery", "err", redact(err, b.opt.Token))
	}
}

// sendInvoice sends a pack's invoice: Telegram Stars, one price, no
// provider token, the pack's payload.
func (b *Bot) sendInvoice(ctx context.Context, chatID int64, lang string, p core.Pack) error {
	return b.call(ctx, chatID, true, func() error {
		_, err := b.api.SendInvoice(ctx, &tg.SendInvoiceParams{
			ChatID: chatID, Title: chat.InvoiceTitle(lang, p), Description: chat.InvoiceDescription(lang, p),
			Payload: p.Payload(), Currency: core.CurrencyStars,
			Prices: []models.LabeledPrice{{Label: chat.PriceLabel(lang, p), Amount: p.Stars}},
		})
		return err
	})
}

// preCheckoutAnswer bounds the answer to a pre_checkout_query: Telegram
// fails the payment when it has none within 10 s.
const preCheckoutAnswer = 8 * time.Second

// preCheckout accepts a payment only for a pack on sale now at that price
// in Stars; otherwise it tells the user why. No money moves before this
// answer, and none is granted until successful_payment.
func (b *Bot) preCheckout(ctx context.Context, q *models.PreCheckoutQuery) {
	ctx, cancel := context.WithTimeout(ctx, preCheckoutAnswer)
	defer cancel()
	var user string
	if q.From != nil {
		user = userID(q.From.ID)
	}
	log := b.log.With("user", user, "query_id", q.ID, "payload", q.InvoicePayload, "currency", q.Currency, "amount", q.TotalAmount)
	params := &tg.AnswerPreCheckoutQueryParams{PreCheckoutQueryID: q.ID, OK: true}
	if _, err := b.svc.CheckPreCheckout(q.InvoicePayload, q.Currency, q.TotalAmount); err != nil {
		params.OK, params.ErrorMessage = false, chat.ErrorMessage(b.lang(ctx, q.From), err)
		log = log.With("reason", core.ErrorMessage(err))
	}
	if _, err := b.api.AnswerPreCheckoutQuery(ctx, params); err != nil {
		log.Warn("answerPreCheckoutQuery failed; Telegram fails the payment", "ok", params.OK, "err", redact(err, b.opt.Token))
		return
	}
	if params.OK {
		log.Info("pre-checkout accepted")
	} else {
		log.Info("pre-checkout refused")
	}
}

// paid grants a successful_payment's pack, once per charge id, and shows
// the new balance. An error (the grant was not stored) leaves the update
// unconfirmed, so that Telegram delivers it again.
func (b *Bot) paid(ctx context.Context, m *models.Message) error {
	sp := m.SuccessfulPayment
	user, lang := userID(m.From.ID), b.lang(ctx, m.From)
	a, dup, err := b.svc.StarPayment(ctx, user, sp.TelegramPaymentChargeID, sp.InvoicePayload, sp.Currency, sp.TotalAmount)
	switch {
	case errors.Is(err, core.ErrPaymentMismatch):
		b.log.Error("a payment matches no pack; nothing granted, the buyer is sent to /paysupport", "user", user,
			"charge_id", sp.TelegramPaymentChargeID, "payload", sp.InvoicePayload, "currency", sp.Currency, "amount", sp.TotalAmount, "err", err)
		b.reply(ctx, m, chat.PaymentMismatch(lang))
		return nil
	case err != nil:
		return fmt.Errorf("successful_payment %s of %s: %w", sp.TelegramPaymentChargeID, user, err)
	}
	p, _ := core.ParsePackPayload(sp.InvoicePayload) // StarPayment checked it
	if dup {
		b.log.Info("successful_payment seen again; granted before", "user", user, "charge_id", sp.TelegramPaymentChargeID)
	}
	b.reply(ctx, m, chat.Paid(lang, p.Credits, a.Balance))
	return nil
}

// refunded records a refunded_payment message: what is left of the
// purchase's credits is taken back, at most the balance, once.
func (b *Bot) refunded(ctx context.Context, m *models.Message) error {
	rp := m.RefundedPayment
	user := userID(m.From.ID)
	p, _, err := b.svc.PaymentRefunded(ctx, user, core.TelegramCharge(rp.TelegramPaymentChargeID))
	if err != nil {
		return fmt.Errorf("refunded_payment %s of %s: %w", rp.TelegramPaymentChargeID, user, err)
	}
	b.reply(ctx, m, chat.PaymentRefunded(b.lang(ctx, m.From), rp.TotalAmount, p.Refunded))
	return nil
}

// refundStar asks Telegram to refund a payment (core.RefundFunc).
func (b *Bot) refundStar(ctx context.Context, p core.Payment) error {
	id, err := strconv.ParseInt(strings.TrimPrefix(p.UserID, Platform+":"), 10, 64)
	if err != nil || !strings.HasPrefix(p.UserID, Platform+":") {
		return chat.Refusal(core.EINVALID, "chat.refund_not_telegram", i18n.Args{"User": p.UserID})
	}
	_, err = b.api.RefundStarPayment(ctx, &tg.RefundStarPaymentParams{UserID: id, TelegramPaymentChargeID: p.Key.ID})
	return refundError(redact(err, b.opt.Token))
}

// refundError maps refundStarPayment's failures onto what core.RefundFunc
// promises: already refunded, refused (Telegram's reason for the admin),
// or unknown (anything else: the refund stays pending and is tried again).
func refundError(err error) error {
	switch {
	case err == nil:
		return nil
	case strings.Contains(err.Error(), "CHARGE_ALREADY_REFUNDED"):
		return fmt.Errorf("%w: %v", core.ErrAlreadyRefunded, err)
	case errors.Is(err, tg.ErrorBadRequest), errors.Is(err, tg.ErrorForbidden), errors.Is(err, tg.ErrorNotFound):
		return chat.Refusal(core.EINVALID, "chat.telegram_says", i18n.Args{"Reason": err.Error()})
	}
	return core.Temporary(err)
}

// recoverPayments runs at start: it finishes refunds begun before a
// restart, then reads every star transaction and grants each payment of a
// pack that the ledger lacks (its successful_payment update was lost), and
// takes back what Telegram refunded without a refunded_payment reaching the
// bot. Both are keyed by the charge id, so nothing counts twice.
func (b *Bot) recoverPayments(ctx context.Context) {
	if err := b.svc.ResumeRefunds(ctx, Platform, b.refundStar); err != nil {
		b.log.Error("resuming refunds failed; tried again at the next start", "err", err)
	}
	txs, err := b.starTransactions(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("getStarTransactions failed: payments whose update was lost are recovered at the next start", "err", err)
		}
		return
	}
	refunded := map[string]bool{}
	for _, tx := range txs {
		if r := tx.Receiver; r != nil && r.User != nil && r.User.TransactionType == "invoice_payment" {
			refunded[tx.ID] = true
		}
	}
	recovered := 0
	for _, tx := range txs {
		if ctx.Err() != nil {
			return // stopping: the next start goes on
		}
		src := tx.Source
		if src == nil || src.User == nil || src.User.TransactionType != "invoice_payment" {
			continue
		}
		p, err := core.ParsePackPayload(src.User.InvoicePayload)
		if err != nil {
			continue // not one of our packs
		}
		u := src.User.User
		user := userID(u.ID)
		if refunded[tx.ID] {
			if _, _, err := b.svc.PaymentRefunded(ctx, user, core.TelegramCharge(tx.ID)); err != nil {
				b.log.Error("recording a refunded payment failed; tried again at the next start", "user", user, "charge_id", tx.ID, "err", err)
			}
			continue
		}
		a, dup, err := b.svc.StarPayment(ctx, user, tx.ID, src.User.InvoicePayload, core.CurrencyStars, paidStars(tx, src.User))
		switch {
		case err != nil:
			b.log.Error("recovering a payment failed; tried again at the next start", "user", user, "charge_id", tx.ID, "err", err)
		case !dup:
			recovered++
			b.log.Info("payment recovered at start", "user", user, "charge_id", tx.ID, "credits", p.Credits, "balance", a.Balance)
			b.send(ctx, u.ID, 0, chat.PaymentRecovered(b.lang(ctx, &u), p.Credits, a.Balance), nil)
		}
	}
	b.log.Info("star transactions checked", "transactions", len(txs), "recovered", recovered)
}

// paidStars is what the buyer paid for an incoming star transaction: the
// amount the bot received plus an affiliate's commission, rounded up to a
// whole star when fractions were split off.
func paidStars(tx models.StarTransaction, src *models.TransactionPartnerUser) int {
	stars, nano := tx.Amount, tx.NanostarAmount
	if a := src.Affiliate; a != nil {
		stars, nano = stars+a.Amount, nano+a.NanostarAmount
	}
	if nano > 0 {
		stars += (nano + 999_999_999) / 1_000_000_000
	}
	return stars
}

// starTransactions reads every star transaction, a page of 100 at a time;
// a failing page is tried a few times.
func (b *Bot) starTransactions(ctx context.Context) ([]models.StarTransaction, error) {
	const page = 100
	var all []models.StarTransaction
	for offset := 0; ; offset += page {
		var (
			r   *models.StarTransactions
			err error
		)
		for attempt, wait := 0, time.Second; ; attempt, wait = attempt+1, 2*wait {
			r, err = b.api.GetStarTransactions(ctx, &tg.GetStarTransactionsParams{Offset: offset, Limit: page})
			if err == nil || attempt == 4 || ctx.Err() != nil {
				break
			}
			var tm *tg.TooManyRequestsError
			if errors.As(err, &tm) {
				wait = max(wait, time.Duration(tm.RetryAfter)*time.Second)
			}
			b.log.Warn("getStarTransactions failed; trying again", "offset", offset, "retry_in", wait, "err", redact(err, b.opt.Token))
			if !core.Sleep(ctx, wait) {
				break
			}
		}
		if err != nil {
			return all, fmt.Errorf("getStarTransactions at offset %d: %v", offset, redact(err, b.opt.Token))
		}
		all = append(all, r.Transactions...)
		if len(r.Transactions) < page {
			return all, nil
		}
	}
}
