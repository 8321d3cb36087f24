package core

import "context"

// TaskState is a provider task's state, mapped from each protocol's words.
type TaskState int

const (
	TaskPending TaskState = iota // waiting at the provider
	TaskRunning
	TaskDone
	TaskFailed
)

func (s TaskState) String() string {
	return [...]string{"pending", "running", "done", "failed"}[s]
}

// TaskStatus is one answer of the provider's status call.
type TaskStatus struct {
	State TaskState
	// Progress is 0–100, or -1 when the provider did not say.
	Progress float64
	// VideoURL is the result link when State is TaskDone.
	VideoURL string
	// Err is the user-safe reason when State is TaskFailed.
	Err *Error
}

// Provider creates video tasks and reports on them. Implementations map
// their protocol's failures to *Error codes (EINVALID for content policy,
// EUNAVAILABLE for unknown or paused models and an exhausted provider
// account), and wrap errors worth retrying with Temporary. Submit marks an
// error Temporary only when the provider certainly did not accept the task.
type Provider interface {
	Submit(ctx context.Context, m *Model, r *Request) (taskID string, err error)
	Status(ctx context.Context, m *Model, taskID string) (TaskStatus, error)
}

// RequestChecker is implemented by providers that refuse some valid
// requests up front (for example images without a public URL).
type RequestChecker interface {
	CheckRequest(m *Model, r *Request) error
}

// BalanceChecker is implemented by providers that report the remaining
// credit of the operator's account.
type BalanceChecker interface {
	Balance(ctx context.Context) (float64, error)
}

// Access is what an authenticated read that creates nothing found out
// about a provider: whether it answered, whether it took the key, and its
// account's credit where the protocol reports one.
type Access struct {
	Reachable   bool
	KeyAccepted bool
	Balance     float64
	HasBalance  bool
	// Err is the failure for the operator (provider details, never the
	// key); nil when the provider answered and took the key.
	Err error
}

// AccessChecker is implemented by providers that can check their address
// and key without creating anything.
type AccessChecker interface {
	CheckAccess(ctx context.Context) Access
}
