package telegramtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/go-telegram/bot/models"
)

// Charge is a Stars payment the fake holds (one incoming star transaction,
// plus its refund when refunded).
type Charge struct {
	ID               string // telegram_payment_charge_id, also the StarTransaction id
	ProviderChargeID string
	ChatID, UserID   int64
	Payload          string
	Currency         string
	Amount           int
	Date             time.Time
	UpdateID         int64 // the successful_payment update; 0 when lost
	Refunded         bool
	RefundedBy       string // "bot" (refundStarPayment) or "telegram" (RefundByTelegram)
	RefundUpdateID   int64  // the refunded_payment update, 0 when none was sent
}

// starTx is one star transaction: an incoming payment (source) or an
// outgoing refund (receiver).
type starTx struct {
	ID       string        `json:"id"`
	Amount   int           `json:"amount"`
	Date     int           `json:"date"`
	Source   *starsPartner `json:"source,omitempty"`
	Receiver *starsPartner `json:"receiver,omitempty"`
}

// starsPartner is a TransactionPartnerUser (go-telegram/bot's
// TransactionPartner has no JSON encoding of its own).
type starsPartner struct {
	Type            string         `json:"type"`
	TransactionType string         `json:"transaction_type"`
	User            models.User    `json:"user"`
	Affiliate       *affiliateInfo `json:"affiliate,omitempty"`
	InvoicePayload  string         `json:"invoice_payload,omitempty"`
}

// affiliateInfo is an AffiliateInfo: the affiliate's cut of a payment.
type affiliateInfo struct {
	AffiliateUser      *models.User `json:"affiliate_user,omitempty"`
	CommissionPerMille int          `json:"commission_per_mille"`
	Amount             int          `json:"amount"`
}

// chargeLocked records an accepted payment. s.mu is held.
func (s *Server) chargeLocked(q *preCheckout) *Charge {
	s.stars.nextCharge++
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	now := time.Now()
	ch := &Charge{
		ID:               "stx" + base64.RawURLEncoding.EncodeToString(b),
		ProviderChargeID: fmt.Sprintf("%d_%d", q.userID, s.stars.nextCharge),
		ChatID:           q.chatID, UserID: q.userID, Payload: q.payload, Currency: q.currency,
		Amount: q.amount, Date: now,
	}
	s.stars.charges = append(s.stars.charges, ch)
	s.stars.byID[ch.ID] = ch
	tx := starTx{ID: ch.ID, Amount: ch.Amount, Date: int(now.Unix()), Source: s.partnerLocked(ch)}
	if pm := s.opt.AffiliatePerMille; pm > 0 {
		// The bot receives the price less the affiliate's commission.
		cut := ch.Amount * pm / 1000
		tx.Amount -= cut
		tx.Source.Affiliate = &affiliateInfo{AffiliateUser: &models.User{ID: 777, FirstName: "Affiliate"},
			CommissionPerMille: pm, Amount: cut}
	}
	s.stars.txs = append(s.stars.txs, tx)
	s.notifyLocked()
	return ch
}

func (s *Server) partnerLocked(ch *Charge) *starsPartner {
	return &starsPartner{Type: "user", TransactionType: "invoice_payment", User: *s.userLocked(ch.UserID), InvoicePayload: ch.Payload}
}

var (
	errChargeInvalid   = badRequest("CHARGE_ID_INVALID")
	errAlreadyRefunded = badRequest("CHARGE_ALREADY_REFUNDED")
)

// refundLocked refunds a charge once: marks it, records the outgoing
// transaction and, when notify is set, delivers a refunded_payment message.
func (s *Server) refundLocked(ch *Charge, by string, notify bool) {
	ch.Refunded, ch.RefundedBy = true, by
	s.stars.txs = append(s.stars.txs, starTx{ID: ch.ID, Amount: ch.Amount, Date: int(time.Now().Unix()),
		Receiver: s.partnerLocked(ch)})
	if notify {
		msg := s.userMessageLocked(ch.ChatID, ch.UserID)
		msg.m.RefundedPayment = &models.RefundedPayment{Currency: ch.Currency, TotalAmount: ch.Amount,
			InvoicePayload: ch.Payload, TelegramPaymentChargeID: ch.ID, ProviderPaymentChargeID: ch.ProviderChargeID}
		ch.RefundUpdateID = s.pushLocked(&models.Update{Message: copyMessage(&msg.m)})
	}
	s.notifyLocked()
}

func (s *Server) refundStarPayment(_ context.Context, r *request) (any, *apiError) {
	userID, _ := r.int64("user_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.stars.byID[r.params["telegram_payment_charge_id"]]
	switch {
	case ch == nil:
		return nil, errChargeInvalid
	case ch.UserID != userID:
		return nil, badRequest("USER_ID_INVALID")
	case ch.Refunded:
		return nil, errAlreadyRefunded
	}
	s.refundLocked(ch, "bot", s.opt.NotifyBotRefunds)
	return true, nil
}

// RefundByTelegram refunds a charge the way Telegram does on its own (a
// dispute, a chargeback): the refund transaction is recorded and a
// refunded_payment message is delivered in the charge's chat. It returns
// that message's update_id.
func (s *Server) RefundByTelegram(chargeID string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.stars.byID[chargeID]
	if ch == nil {
		return 0, fmt.Errorf("telegramtest: unknown charge %q", chargeID)
	}
	if ch.Refunded {
		return 0, errors.New("telegramtest: charge " + chargeID + " is already refunded")
	}
	s.refundLocked(ch, "telegram", true)
	return ch.RefundUpdateID, nil
}

func (s *Server) getStarTransactions(_ context.Context, r *request) (any, *apiError) {
	limit := 100
	if n, ok := r.int64("limit"); ok {
		if n < 1 || n > 100 {
			s.violate(fmt.Sprintf("getStarTransactions: limit %d outside 1-100", n))
		}
		limit = int(min(max(n, 1), 100))
	}
	offset, _ := r.int64("offset")
	offset = max(offset, 0)
	s.mu.Lock()
	defer s.mu.Unlock()
	txs := append([]starTx(nil), s.stars.txs...)
	if s.opt.StarTransactionsNewestFirst {
		for i, j := 0, len(txs)-1; i < j; i, j = i+1, j-1 {
			txs[i], txs[j] = txs[j], txs[i]
		}
	}
	out := []starTx{}
	if offset < int64(len(txs)) {
		out = txs[offset:min(int(offset)+limit, len(txs))]
	}
	return map[string]any{"transactions": out}, nil
}

// Charges returns every payment recorded, oldest first.
func (s *Server) Charges() []Charge {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Charge, 0, len(s.stars.charges))
	for _, ch := range s.stars.charges {
		out = append(out, *ch)
	}
	return out
}

// WaitCharge waits until the charge satisfies match (e.g. the bot refunded
// it) and returns it; false when timeout passes first or the server closes.
func (s *Server) WaitCharge(timeout time.Duration, chargeID string, match func(Charge) bool) (Charge, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		var got Charge
		found := false
		if ch := s.stars.byID[chargeID]; ch != nil {
			got, found = *ch, true
		}
		changed := s.changed
		s.mu.Unlock()
		if found && (match == nil || match(got)) {
			return got, true
		}
		select {
		case <-changed:
		case <-t.C:
			return got, false
		case <-s.ctx.Done():
			return got, false
		}
	}
}
