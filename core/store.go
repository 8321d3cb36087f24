package core

import (
	"context"
	"time"
)

// Ledger entry kinds.
const (
	LedgerGrant  = "grant"  // start credits
	LedgerCharge = "charge" // a job was accepted
	LedgerRefund = "refund" // a job failed or was canceled
	LedgerAdmin  = "admin"  // an admin granted or set credits

	// LedgerPurchase grants a paid pack or SKU; Ref is the payment's key.
	LedgerPurchase = "purchase"
	// LedgerPurchaseRefund takes a purchase's credits back (negative), or
	// returns them when the platform refused the refund (positive); Ref is
	// the payment's key.
	LedgerPurchaseRefund = "purchase_refund"
	// LedgerAllowance tops a balance up to the daily allowance; Ref is the
	// UTC day (2006-01-02).
	LedgerAllowance = "allowance"
	// LedgerPromo grants a promo code's credits; Ref is the code.
	LedgerPromo = "promo"
)

// LedgerKinds lists every ledger kind.
var LedgerKinds = []string{LedgerGrant, LedgerCharge, LedgerRefund, LedgerAdmin,
	LedgerPurchase, LedgerPurchaseRefund, LedgerAllowance, LedgerPromo}

// LedgerEntry is one line of the append-only credit ledger.
type LedgerEntry struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	UserID  string    `json:"user_id"`
	Kind    string    `json:"kind"`
	Amount  int       `json:"amount"`  // signed change
	Balance int       `json:"balance"` // after the change
	JobID   string    `json:"job_id,omitempty"`
	// Ref is what an entry of the newer kinds is keyed by (see the kinds).
	Ref  string `json:"ref,omitempty"`
	Note string `json:"note,omitempty"`
}

// Account is a user's credit balance.
type Account struct {
	UserID  string `json:"user_id"`
	Balance int    `json:"balance"`
	// Active counts the user's jobs that are not terminal.
	Active  int       `json:"active"`
	Created time.Time `json:"created"`
}

// AcceptResult is what Store.Accept did.
type AcceptResult struct {
	Job *Job
	// Duplicate: the key was seen before; Job is the earlier job, nothing was charged.
	Duplicate bool
	Balance   int // balance after the charge
}

// Stats are totals for operators.
type Stats struct {
	Users    int
	Jobs     map[State]int
	Charged  int
	Refunded int
	Credits  int // sum of balances
	// Purchases counts paid packs and SKUs; PurchaseStars is what they
	// cost in Telegram Stars, PurchaseCredits what they granted and
	// PurchaseRefunded what refunds took back.
	Purchases        int
	PurchaseStars    int
	PurchaseCredits  int
	PurchaseRefunded int
	// Allowance and Promo are the credits given by the daily allowance and
	// by promo codes.
	Allowance int
	Promo     int
}

// Store keeps accounts, the ledger and jobs durably.
type Store interface {
	// Accept atomically checks the idempotency key, grants start credits to a
	// new user, applies the daily allowance (as Account does), checks the
	// user's balance and active-job limit, debits the
	// price, appends the ledger entry and stores the job (state Queued) with
	// its image bytes. It fills in j.ID. Errors: ENOCREDITS, ERATELIMITED
	// (maxActive reached); a repeated key is a Duplicate result, not an error.
	Accept(ctx context.Context, j *Job, maxActive int) (AcceptResult, error)
	// Job returns a job by id (ENOTFOUND).
	Job(ctx context.Context, id string) (*Job, error)
	// Images returns the image bytes stored with a job (nil once dropped).
	Images(ctx context.Context, id string) ([][]byte, error)
	// Transition applies fn to the job if its state is one of from, and
	// stores it. It returns ok=false (and the stored job) when the state is
	// not one of from. fn must not move the job to a terminal state.
	Transition(ctx context.Context, id string, from []State, fn func(*Job)) (j *Job, ok bool, err error)
	// Finish moves the job to a terminal state if its state is one of from;
	// for Failed and Canceled it records code and reason and refunds the
	// price (exactly once); for Delivered, reason is how the video went
	// (DeliveredVia). It always releases the user's active-job slot and drops
	// stored images.
	Finish(ctx context.Context, id string, from []State, to State, code, reason string) (j *Job, ok bool, err error)
	// ActiveJobs returns every non-terminal job in id order, without
	// scanning finished history.
	ActiveJobs(ctx context.Context) ([]*Job, error)
	// History returns a user's newest jobs first.
	History(ctx context.Context, userID string, limit int) ([]*Job, error)
	// Account returns the user's account, creating it (with start credits)
	// if new, and tops it up to the daily allowance at the user's first
	// command of a UTC day (Accept and Redeem do the same in their own
	// transactions).
	Account(ctx context.Context, userID string) (Account, error)
	// Ledger returns the user's newest ledger entries first.
	Ledger(ctx context.Context, userID string, limit int) ([]LedgerEntry, error)
	// AdjustCredits adds delta (set=false) or sets the balance to delta
	// (set=true), recording an admin ledger entry. EINVALID if the balance
	// would go negative.
	AdjustCredits(ctx context.Context, userID string, delta int, set bool, by string) (Account, error)
	// Stats returns operator totals.
	Stats(ctx context.Context) (Stats, error)

	// Purchase grants p.Credits to p.UserID with a purchase ledger entry and
	// records the payment under p.Key, in one transaction; a key seen
	// before (granted, or refunded before it was granted) grants nothing
	// and reports duplicate. With p.Consume the payment is listed by
	// PendingConsumes until MarkConsumed. Errors: EINVALID.
	Purchase(ctx context.Context, p Payment) (a Account, duplicate bool, err error)
	// Payment returns the payment recorded under key (ENOTFOUND).
	Payment(ctx context.Context, key PaymentKey) (Payment, error)
	// BeginRefund debits a purchase's credits back (a purchase_refund
	// entry noting by) and marks its refund pending, when the buyer still
	// has them.
	// A refund already pending is returned as it is, to be tried again.
	// Errors: ENOTFOUND, EINVALID (already refunded, or the buyer has spent
	// the credits).
	BeginRefund(ctx context.Context, key PaymentKey, by string) (Payment, error)
	// EndRefund settles a pending refund: done, or (done=false, the
	// platform refused it) undone, giving the credits back. Settling a
	// refund that is not pending changes nothing.
	EndRefund(ctx context.Context, key PaymentKey, done bool) (Payment, error)
	// PaymentRefunded records that the platform refunded the payment: it
	// debits what is left of the purchase's credits, at most the balance,
	// once; a pending refund is settled as done without a second debit. An
	// unknown key is recorded for userID so that it is never granted later.
	PaymentRefunded(ctx context.Context, key PaymentKey, userID string) (p Payment, debited int, err error)
	// PendingRefunds lists refunds begun but not settled.
	PendingRefunds(ctx context.Context) ([]Payment, error)
	// PendingConsumes lists payments granted with Consume and not yet
	// marked consumed (nor refunded).
	PendingConsumes(ctx context.Context) ([]Payment, error)
	// MarkConsumed takes a payment off PendingConsumes (ENOTFOUND).
	MarkConsumed(ctx context.Context, key PaymentKey) error

	// CreatePromo stores a new promo code. Errors: EINVALID (it exists).
	CreatePromo(ctx context.Context, p Promo) (Promo, error)
	// Promos lists every promo code by code.
	Promos(ctx context.Context) ([]Promo, error)
	// Redeem grants a promo code's credits to the user, once per user and
	// never beyond its uses, in the transaction that counts the use (and
	// applies the daily allowance, as any command). Errors: ENOTFOUND
	// (unknown code), EINVALID (used up, already redeemed by the user).
	Redeem(ctx context.Context, userID, code string) (Account, Promo, error)
}
