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
)

// LedgerEntry is one line of the append-only credit ledger.
type LedgerEntry struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	UserID  string    `json:"user_id"`
	Kind    string    `json:"kind"`
	Amount  int       `json:"amount"`  // signed change
	Balance int       `json:"balance"` // after the change
	JobID   string    `json:"job_id,omitempty"`
	Note    string    `json:"note,omitempty"`
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
}

// Store keeps accounts, the ledger and jobs durably.
type Store interface {
	// Accept atomically checks the idempotency key, grants start credits to a
	// new user, checks the user's balance and active-job limit, debits the
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
	// Account returns the user's account, creating it (with start credits) if new.
	Account(ctx context.Context, userID string) (Account, error)
	// Ledger returns the user's newest ledger entries first.
	Ledger(ctx context.Context, userID string, limit int) ([]LedgerEntry, error)
	// AdjustCredits adds delta (set=false) or sets the balance to delta
	// (set=true), recording an admin ledger entry. EINVALID if the balance
	// would go negative.
	AdjustCredits(ctx context.Context, userID string, delta int, set bool, by string) (Account, error)
	// Stats returns operator totals.
	Stats(ctx context.Context) (Stats, error)
}
