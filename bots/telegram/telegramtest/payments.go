package telegramtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/go-telegram/bot/models"
)

// Telegram Stars payments: sendInvoice, a simulated paying user (Pay,
// PayInvoice), answerPreCheckoutQuery, successful_payment and
// refunded_payment messages, refundStarPayment and getStarTransactions.

const (
	defaultPreCheckoutTimeout = 10 * time.Second
	maxStarsAmount            = 10000 // XTR max_amount in Telegram's currencies.json
	maxInvoiceTitle           = 32
	maxInvoiceDescription     = 255
	maxInvoicePayload         = 128 // bytes
)

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
	Type            string      `json:"type"`
	TransactionType string      `json:"transaction_type"`
	User            models.User `json:"user"`
	InvoicePayload  string      `json:"invoice_payload,omitempty"`
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
	c, e := s.chatForLocked(r)
	if e != nil {
		return nil, e
	}
	reply, e := s.replyTargetLocked(c, r)
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
	s.stars.txs = append(s.stars.txs, starTx{ID: ch.ID, Amount: ch.Amount, Date: int(now.Unix()),
		Source: s.partnerLocked(ch)})
	s.notifyLocked()
	return ch
}

func (s *Server) partnerLocked(ch *Charge) *starsPartner {
	return &starsPartner{Type: "user", TransactionType: "invoice_payment", User: *s.userLocked(ch.UserID), InvoicePayload: ch.Payload}
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
