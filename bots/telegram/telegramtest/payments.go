package telegramtest

import (
	"context"
	"fmt"
	"time"

	"github.com/go-telegram/bot/models"
)

// Telegram Stars payments: a simulated paying user (Pay, PayInvoice),
// answerPreCheckoutQuery and the successful_payment message; invoices are
// in invoice.go, charges, refunds and star transactions in stars.go.

const defaultPreCheckoutTimeout = 10 * time.Second

// errQueryInvalid is Telegram's answer to a query that is unknown, answered
// already or past its deadline.
var errQueryInvalid = badRequest("query is too old and response timeout expired or query ID is invalid")

// PayOutcome is how a simulated payment ended.
type PayOutcome string

const (
	// PayPaid: the bot answered ok:true in time; the Stars moved.
	PayPaid PayOutcome = "paid"
	// PayDeclined: the bot answered ok:false (PayResult.ErrorMessage says why).
	PayDeclined PayOutcome = "declined"
	// PayExpired: the bot did not answer within PreCheckoutTimeout; an
	// answer after that fails and is listed in Violations.
	PayExpired PayOutcome = "expired"
	// PayUndelivered: the pre_checkout_query was dropped because the bot's
	// allowed_updates leave it out, so the bot never saw it (Telegram
	// would fail the payment when the 10 s run out).
	PayUndelivered PayOutcome = "undelivered"
)

// PayResult is what happened to one payment attempt.
type PayResult struct {
	Outcome       PayOutcome
	QueryID       string // pre_checkout_query id
	QueryUpdateID int64  // update_id of the pre_checkout_query
	ErrorMessage  string // the bot's error_message when declined
	// For PayPaid: the charge (telegram_payment_charge_id = ChargeID) and
	// the successful_payment message. UpdateID is 0 when the update was
	// lost (LoseNextPayments); Redeliver(UpdateID) sends it again.
	ChargeID string
	UpdateID int64
	Message  *models.Message
}

type preCheckout struct {
	id            string
	chatID        int64
	userID        int64
	payload       string
	currency      string
	amount        int
	done          chan struct{} // closed when answered or dropped
	answered      bool
	ok            bool
	errMsg        string
	expired       bool
	undelivered   bool
	timeout       time.Duration
	answeredLater bool
}

// payState is the Stars state of a Server; guarded by s.mu.
type payState struct {
	queries    map[string]*preCheckout
	charges    []*Charge // by creation
	byID       map[string]*Charge
	txs        []starTx // chronological
	nextQuery  int64
	nextCharge int64
	loseNext   int
}

func (p *payState) init() {
	if p.queries == nil {
		p.queries = map[string]*preCheckout{}
		p.byID = map[string]*Charge{}
	}
}

func addPaymentHandlers(h map[string]handlerFunc) {
	h["sendInvoice"] = (*Server).sendInvoice
	h["answerPreCheckoutQuery"] = (*Server).answerPreCheckoutQuery
	h["refundStarPayment"] = (*Server).refundStarPayment
	h["getStarTransactions"] = (*Server).getStarTransactions
}

// PayInvoice makes userID pay the invoice the bot sent as messageID in
// chatID, with the invoice's payload, currency and total; see Pay.
func (s *Server) PayInvoice(chatID, userID, messageID int64) (PayResult, error) {
	s.mu.Lock()
	var inv *Invoice
	if c := s.chats[chatID]; c != nil {
		if m := c.byID[int(messageID)]; m != nil && m.fromBot && !m.bot.Deleted {
			inv = m.bot.Invoice
		}
	}
	s.mu.Unlock()
	if inv == nil {
		return PayResult{}, fmt.Errorf("telegramtest: message %d in chat %d is not an invoice", messageID, chatID)
	}
	return s.pay(chatID, userID, inv.Payload, inv.Currency, inv.TotalAmount), nil
}

// Pay simulates userID paying amount Stars for an invoice with payload in
// chatID (payload and amount are taken as given, e.g. an old invoice of a
// pack that no longer exists). It sends a pre_checkout_query and waits up
// to PreCheckoutTimeout for answerPreCheckoutQuery. On ok:true it records
// the charge (a star transaction) and delivers a successful_payment message
// in chatID; otherwise no money moves. It blocks until the outcome is known.
func (s *Server) Pay(chatID, userID int64, payload string, amount int) PayResult {
	return s.pay(chatID, userID, payload, "XTR", amount)
}

func (s *Server) pay(chatID, userID int64, payload, currency string, amount int) PayResult {
	s.mu.Lock()
	s.stars.init()
	s.stars.nextQuery++
	q := &preCheckout{
		id:     fmt.Sprintf("%d%09d", s.opt.BotID, s.stars.nextQuery),
		chatID: chatID, userID: userID, payload: payload, currency: currency, amount: amount,
		done: make(chan struct{}), timeout: s.opt.PreCheckoutTimeout,
	}
	s.stars.queries[q.id] = q
	from := *s.userLocked(userID)
	s.chatLocked(chatID)
	res := PayResult{QueryID: q.id}
	res.QueryUpdateID = s.pushLocked(&models.Update{PreCheckoutQuery: &models.PreCheckoutQuery{
		ID: q.id, From: &from, Currency: currency, TotalAmount: amount, InvoicePayload: payload,
	}})
	s.mu.Unlock()

	t := time.NewTimer(q.timeout)
	defer t.Stop()
	select {
	case <-q.done:
	case <-t.C:
	case <-s.ctx.Done():
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case q.undelivered:
		res.Outcome = PayUndelivered
		return res
	case !q.answered:
		q.expired = true
		res.Outcome = PayExpired
		return res
	case !q.ok:
		res.Outcome, res.ErrorMessage = PayDeclined, q.errMsg
		return res
	}
	ch := s.chargeLocked(q)
	res.Outcome, res.ChargeID = PayPaid, ch.ID
	if s.stars.loseNext > 0 {
		s.stars.loseNext--
		return res
	}
	msg := s.userMessageLocked(chatID, userID)
	msg.m.SuccessfulPayment = &models.SuccessfulPayment{
		Currency: currency, TotalAmount: amount, InvoicePayload: payload,
		TelegramPaymentChargeID: ch.ID, ProviderPaymentChargeID: ch.ProviderChargeID,
	}
	res.Message = copyMessage(&msg.m)
	ch.UpdateID = s.pushLocked(&models.Update{Message: copyMessage(&msg.m)})
	res.UpdateID = ch.UpdateID
	return res
}

// droppedLocked learns that an update was dropped because allowed_updates
// leaves its kind out. s.mu is held.
func (s *Server) droppedLocked(u *models.Update) {
	if u.PreCheckoutQuery == nil {
		return
	}
	if q := s.stars.queries[u.PreCheckoutQuery.ID]; q != nil && !q.answered && !q.undelivered {
		q.undelivered = true
		close(q.done)
	}
}

func (s *Server) answerPreCheckoutQuery(_ context.Context, r *request) (any, *apiError) {
	ok := r.bool("ok")
	if !ok && r.params["error_message"] == "" {
		return nil, badRequest("error_message must be non-empty if ok is False")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.params["pre_checkout_query_id"]
	q := s.stars.queries[id]
	switch {
	case q == nil:
		return nil, errQueryInvalid
	case q.expired:
		s.violations = append(s.violations, fmt.Sprintf("answerPreCheckoutQuery: query %s answered after its %s deadline; the payment had already failed", id, q.timeout))
		return nil, errQueryInvalid
	case q.answered:
		s.violations = append(s.violations, "answerPreCheckoutQuery: query "+id+" answered twice")
		return nil, errQueryInvalid
	case q.undelivered:
		return nil, errQueryInvalid
	}
	q.answered, q.ok, q.errMsg = true, ok, r.params["error_message"]
	close(q.done)
	s.notifyLocked()
	return true, nil
}

// LoseNextPayments makes the next n accepted payments record their charge
// (getStarTransactions lists it) without ever sending the successful_payment
// update, as when the bot missed it.
func (s *Server) LoseNextPayments(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stars.loseNext += n
}
