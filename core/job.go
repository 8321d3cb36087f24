package core

import "time"

// State is where a job is in its life.
type State string

// Job states. Queued → Submitting → Submitted → Succeeded → Delivered, or
// Failed (refunded) from any of them, or Canceled (refunded) from Queued.
// Submitting is stored before the provider is called, so that a crash between
// the call and storing the task id is detected and refunded, never resubmitted.
const (
	Queued     State = "queued"
	Submitting State = "submitting"
	Submitted  State = "submitted"
	Succeeded  State = "succeeded"
	Delivered  State = "delivered"
	Failed     State = "failed"
	Canceled   State = "canceled"
)

// Terminal reports whether the job will not change any more.
func (s State) Terminal() bool { return s == Delivered || s == Failed || s == Canceled }

// Active states are every state that is not terminal.
var ActiveStates = []State{Queued, Submitting, Submitted, Succeeded}

// Origin says where a job came from and where its results go. Platform picks
// the Frontend; the rest is the frontend's to interpret.
type Origin struct {
	Platform  string            `json:"platform"`
	ChatID    string            `json:"chat_id,omitempty"`
	MessageID string            `json:"message_id,omitempty"`
	Extra     map[string]string `json:"extra,omitempty"`
}

// Job is one accepted request and everything that happened to it.
type Job struct {
	ID     string  `json:"id"`
	UserID string  `json:"user_id"`
	Key    string  `json:"key,omitempty"` // idempotency key (the triggering event)
	Origin Origin  `json:"origin"`
	Req    Request `json:"request"`
	Price  int     `json:"price"`
	// Lang is the language the job was asked in: its status messages,
	// caption and buttons use it, also after a restart.
	Lang  string    `json:"lang,omitempty"`
	Notes []Message `json:"notes,omitempty"`

	State     State  `json:"state"`
	TaskID    string `json:"task_id,omitempty"`
	VideoURL  string `json:"video_url,omitempty"`  // provider's result link
	VideoPath string `json:"video_path,omitempty"` // downloaded file
	VideoSize int64  `json:"video_size,omitempty"`
	// DeliveredVia says how the video reached the user ("upload", "link", ...).
	DeliveredVia string `json:"delivered_via,omitempty"`
	// ErrCode and Err are the user-safe reason of a failure (Err in
	// English, for logs); ErrID and ErrArgs name its message, which the
	// user sees in their language (empty in jobs stored before).
	ErrCode  string `json:"err_code,omitempty"`
	Err      string `json:"err,omitempty"`
	ErrID    string `json:"err_id,omitempty"`
	ErrArgs  Args   `json:"err_args,omitempty"`
	Refunded bool   `json:"refunded,omitempty"`

	// Provider is the configured provider the job was sent to and WireModel
	// the model's name there; both are empty while it is queued, and in jobs
	// stored before several providers existed.
	Provider  string `json:"provider,omitempty"`
	WireModel string `json:"wire_model,omitempty"`
	// Tried lists the providers that refused the job or failed its task for
	// their own reasons; the job is never sent to them again.
	Tried []string `json:"tried,omitempty"`

	CreatedAt   time.Time `json:"created_at"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	DoneAt      time.Time `json:"done_at,omitzero"`
}

// Clone returns a copy of j that shares nothing mutable with it.
func (j *Job) Clone() *Job {
	c := *j
	c.Notes = append([]Message(nil), j.Notes...)
	c.Tried = append([]string(nil), j.Tried...)
	c.Req.Images = append([]Image(nil), j.Req.Images...)
	c.Req.Shots = append([]Shot(nil), j.Req.Shots...)
	if j.Origin.Extra != nil {
		c.Origin.Extra = make(map[string]string, len(j.Origin.Extra))
		for k, v := range j.Origin.Extra {
			c.Origin.Extra[k] = v
		}
	}
	return &c
}
