package telegramtest

import (
	"context"
	"encoding/json"
	"regexp"

	"github.com/go-telegram/bot/models"
)

const (
	maxStarsAmount        = 10000 // XTR max_amount in Telegram's currencies.json
	maxInvoiceTitle       = 32
	maxInvoiceDescription = 255
	maxInvoicePayload     = 128 // bytes
)

// Invoice is an invoice the bot sent with sendInvoice.
type Invoice struct {
	ChatID, MessageID int64
	Title             string
	Description       string
	Payload           string
	Currency          string
	ProviderToken     string
	Prices            []models.LabeledPrice
	TotalAmount       int
	StartParameter    string
}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// checkInvoice applies the rules Telegram enforces on an invoice beyond the
// Bot API types; for XTR: no provider token, no tips, exactly one price.
func checkInvoice(r *request) (prices []models.LabeledPrice, total int, e *apiError) {
	if n := utf16Len(r.params["title"]); n < 1 || n > maxInvoiceTitle {
		return nil, 0, badRequest("invoice title must be 1-32 characters long")
	}
	if n := utf16Len(r.params["description"]); n < 1 || n > maxInvoiceDescription {
		return nil, 0, badRequest("invoice description must be 1-255 characters long")
	}
	if n := len(r.params["payload"]); n < 1 || n > maxInvoicePayload {
		return nil, 0, badRequest("INVOICE_PAYLOAD_INVALID")
	}
	currency := r.params["currency"]
	if !currencyRE.MatchString(currency) {
		return nil, 0, badRequest("CURRENCY_INVALID")
	}
	if err := json.Unmarshal([]byte(r.params["prices"]), &prices); err != nil || len(prices) == 0 {
		return nil, 0, badRequest("can't parse prices JSON object")
	}
	for _, p := range prices {
		total += p.Amount
	}
	if currency == "XTR" {
		_, tips := r.int64("max_tip_amount")
		if r.params["provider_token"] != "" || len(prices) != 1 || tips || r.params["suggested_tip_amounts"] != "" {
			return nil, 0, badRequest("STARS_INVOICE_INVALID")
		}
		if total < 1 || total > maxStarsAmount {
			return nil, 0, badRequest("CURRENCY_TOTAL_AMOUNT_INVALID")
		}
	} else {
		if r.params["provider_token"] == "" {
			return nil, 0, badRequest("PAYMENT_PROVIDER_INVALID")
		}
		if total < 1 {
			return nil, 0, badRequest("CURRENCY_TOTAL_AMOUNT_INVALID")
		}
	}
	return prices, total, nil
}

// checkPayButton enforces that an invoice's own keyboard starts with a Pay button.
func checkPayButton(kb *models.InlineKeyboardMarkup) *apiError {
	if kb == nil || len(kb.InlineKeyboard) == 0 || len(kb.InlineKeyboard[0]) == 0 {
		return nil
	}
	if !kb.InlineKeyboard[0][0].Pay {
		return badRequest("REPLY_MARKUP_BUY_EMPTY")
	}
	return nil
}

func (s *Server) sendInvoice(_ context.Context, r *request) (any, *apiError) {
	prices, total, e := checkInvoice(r)
	if e != nil {
		return nil, e
	}
	if _, kb := canonicalMarkup(r.params["reply_markup"]); kb != nil {
		if e := checkPayButton(kb); e != nil {
			return nil, e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, reply, e := s.targetLocked(r)
	if e != nil {
		return nil, e
	}
	msg := s.newBotMessageLocked(c, r, "invoice", reply)
	inv := &Invoice{
		ChatID: c.id, MessageID: int64(msg.m.ID), Title: r.params["title"], Description: r.params["description"],
		Payload: r.params["payload"], Currency: r.params["currency"], ProviderToken: r.params["provider_token"],
		Prices: prices, TotalAmount: total, StartParameter: r.params["start_parameter"],
	}
	msg.bot.Invoice = inv
	msg.m.Invoice = &models.Invoice{Title: inv.Title, Description: inv.Description, StartParameter: inv.StartParameter,
		Currency: inv.Currency, TotalAmount: total}
	s.notifyLocked()
	return copyMessage(&msg.m), nil
}

// Invoices returns the invoices the bot sent to a chat, oldest first.
func (s *Server) Invoices(chatID int64) []Invoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Invoice
	for _, m := range s.botMessagesLocked(chatID) {
		if m.Invoice != nil {
			out = append(out, *m.Invoice)
		}
	}
	return out
}
