package chat

import (
	"context"
	"fmt"
	"strings"

	"sorabot/core"
	"sorabot/i18n"
)

// Service is what the commands need from the core; *core.Service is one.
type Service interface {
	Catalog() *core.Catalog
	Protocol() string
	// Accept charges and queues a request (the job's frontend sees
	// EventQueued before it returns).
	Accept(ctx context.Context, sub core.Submission) (core.Accepted, error)
	Job(ctx context.Context, userID, jobID string) (*core.Job, error)
	// Cancel refunds a queued job (the job's frontend sees EventCanceled
	// before it returns).
	Cancel(ctx context.Context, userID, jobID string) (*core.Job, error)
	History(ctx context.Context, userID string, limit int) ([]*core.Job, error)
	Balance(ctx context.Context, userID string, lines int) (core.Account, []core.LedgerEntry, error)
	IsAdmin(userID string) bool
	Grant(ctx context.Context, actor, target string, amount int, set bool) (core.Account, error)
	Stats(ctx context.Context, actor string) (core.Stats, error)
	// Language is the language the user chose ("" for none), SetLanguage
	// stores a choice, DefaultLanguage is the operator's default.
	Language(ctx context.Context, userID string) (string, error)
	SetLanguage(ctx context.Context, userID, lang string) error
	DefaultLanguage() string

	// Touch applies the daily allowance at the user's first command of a
	// day (Balance, Accept and Redeem do so in their own transactions).
	Touch(ctx context.Context, userID string) (core.Account, error)
	Packs() []core.Pack
	SKUs() []core.SKU
	PaySupport() string
	Terms() string
	Redeem(ctx context.Context, userID, code string) (core.Account, core.Promo, error)
	CreatePromo(ctx context.Context, actor, code string, credits, uses int) (core.Promo, error)
	Promos(ctx context.Context, actor string) ([]core.Promo, error)
	RefundPurchase(ctx context.Context, actor, chargeID string, refund core.RefundFunc) (core.Payment, error)
}

var _ Service = (*core.Service)(nil)

// Commands answers commands the same way on every platform; the frontends
// only translate the platform's input into a Call and render the Reply.
type Commands struct {
	svc Service
}

// NewCommands returns the commands over svc.
func NewCommands(svc Service) *Commands { return &Commands{svc: svc} }

// Lang is the language to answer user in: the one they chose with
// /language, else the one their platform reports (tag: Telegram's
// language_code, Discord's locale; "" for none), else the operator's
// default, else English. Unknown tags fall back by base language ("pt-br"
// → pt). On an error reading the choice it still returns the best other
// language, with the error.
func (c *Commands) Lang(ctx context.Context, user, tag string) (string, error) {
	chosen, err := c.svc.Language(ctx, user)
	if err != nil {
		err = fmt.Errorf("language of %s: %w", user, err)
	}
	return i18n.Pick(c.svc.DefaultLanguage(), chosen, tag), err
}

// DefaultLang is the language of a user nothing is known of.
func (c *Commands) DefaultLang() string { return i18n.Pick(c.svc.DefaultLanguage()) }

// Call is one command as a user gave it.
type Call struct {
	// User is the caller ("telegram:123").
	User string
	// Lang is the caller's language (Commands.Lang).
	Lang string
	// Syntax is the platform's, for the texts that show commands.
	Syntax  Syntax
	Command Command
	// Target is the user the message points at otherwise (Telegram: the
	// author of the message it replies to); /grant takes it when
	// Command.Target is empty.
	Target string
	// Refund asks the platform to refund a payment (/refund; Telegram's
	// refundStarPayment); nil where payments are not refunded from the chat.
	Refund core.RefundFunc
}

// Reply is the answer to a command, for the frontend to render.
type Reply struct {
	// Text is shown to the caller; on failure it is the user-safe message.
	Text string
	// Err is the failure, if any. An EINTERNAL error is worth retrying:
	// Telegram leaves the update unconfirmed so that it comes again.
	Err error
	// Resend is a delivered job whose video the frontend sends again (/job).
	Resend *core.Job
	// Buttons are offered under Text where the platform has buttons
	// (Telegram); their Value is the data the pressed button sends back.
	Buttons []Choice
	// Packs are offered as buttons that send their invoices (Telegram:
	// /buy, and a refusal for lack of credits); SKUs as premium buttons
	// (Discord).
	Packs []core.Pack
	SKUs  []core.SKU
}

func failed(lang string, err error) Reply { return Reply{Text: ErrorText(lang, err), Err: err} }

// Run answers every command that is not a video request. Unknown commands,
// and admin commands from others, are answered with a text, never an error.
func (c *Commands) Run(ctx context.Context, call Call) Reply {
	if call.Lang == "" {
		call.Lang = i18n.Pick(c.svc.DefaultLanguage())
	}
	sp := Lookup(call.Command.Name)
	if sp == nil || sp.run == nil {
		return Reply{Text: UnknownCommand(call.Lang, "/"+call.Command.Name)}
	}
	if !sp.touches {
		// The daily allowance comes with the user's first command of the day.
		if _, err := c.svc.Touch(ctx, call.User); err != nil {
			return failed(call.Lang, err)
		}
	}
	if sp.Admin && !c.svc.IsAdmin(call.User) {
		return Reply{Text: NotAdmin(call.Lang)}
	}
	return sp.run(&runner{ctx: ctx, svc: c.svc, call: call})
}

// Submit accepts a video or storyboard request in sub.Lang (the job keeps
// it). Reply.Text is the acceptance (for a new job the same text the job's
// EventQueued renders as) or the reason it was refused.
func (c *Commands) Submit(ctx context.Context, sub core.Submission) (core.Accepted, Reply) {
	acc, err := c.svc.Accept(ctx, sub)
	if err != nil {
		r := failed(i18n.Pick(c.svc.DefaultLanguage(), sub.Lang), err)
		if core.ErrorCode(err) == core.ENOCREDITS {
			r.Packs, r.SKUs = offer(c.svc, sub.Origin.Platform)
		}
		return acc, r
	}
	return acc, Reply{Text: Accepted(acc)}
}

const repeatPrefix = "repeat:"

// RepeatData is the button data (Telegram callback_data, Discord custom_id)
// of the 🔁 button under job jobID's video.
func RepeatData(jobID string) string { return repeatPrefix + jobID }

// Repeat serves a pressed 🔁 button, answering in lang (the presser's): it
// returns the user's job to make again, with the request's pictures left
// out (the frontend fetches them again from the job's origin). Otherwise
// the job is nil and the Reply says why; it is empty for data that is not
// a repeat button's.
func (c *Commands) Repeat(ctx context.Context, user, lang, data string) (*core.Job, Reply) {
	id, ok := strings.CutPrefix(data, repeatPrefix)
	if !ok {
		return nil, Reply{}
	}
	j, err := c.svc.Job(ctx, user, id)
	if core.ErrorCode(err) == core.EINTERNAL {
		return nil, failed(lang, err)
	}
	if err != nil || j.UserID != user {
		return nil, Reply{Text: RepeatNotYours(lang)}
	}
	j = j.Clone()
	j.Req.Images = nil
	return j, Reply{Text: RepeatStarted(lang)}
}

// runner runs one command.
type runner struct {
	ctx  context.Context
	svc  Service
	call Call
}

func (r *runner) balance() Reply {
	a, l, err := r.svc.Balance(r.ctx, r.call.User, BalanceLines)
	if err != nil {
		return failed(r.call.Lang, err)
	}
	return Reply{Text: Balance(r.call.Lang, a, l)}
}

func (r *runner) history() Reply {
	jobs, err := r.svc.History(r.ctx, r.call.User, HistoryJobs)
	if err != nil {
		return failed(r.call.Lang, err)
	}
	return Reply{Text: History(r.call.Lang, jobs, r.call.Syntax)}
}

func (r *runner) job() Reply {
	j, err := r.svc.Job(r.ctx, r.call.User, r.call.Command.JobID)
	if err != nil {
		return failed(r.call.Lang, err)
	}
	rep := Reply{Text: JobInfo(r.call.Lang, j, r.call.Syntax)}
	if j.State == core.Delivered {
		rep.Resend = j
	}
	return rep
}

func (r *runner) cancel() Reply {
	j, err := r.svc.Cancel(r.ctx, r.call.User, r.call.Command.JobID)
	if err != nil {
		return failed(r.call.Lang, err)
	}
	return Reply{Text: Canceled(j)}
}

func (r *runner) models() Reply {
	return Reply{Text: Models(r.call.Lang, r.svc.Catalog(), r.svc.Protocol(), r.call.Syntax)}
}

func (r *runner) help() Reply {
	return Reply{Text: Help(r.call.Lang, r.svc.Catalog(), r.svc.Protocol(), r.call.Syntax)}
}

func (r *runner) start() Reply {
	a, _, err := r.svc.Balance(r.ctx, r.call.User, 0)
	if err != nil {
		return failed(r.call.Lang, err)
	}
	return Reply{Text: Start(r.call.Lang, r.svc.Catalog(), r.svc.Protocol(), a.Balance, r.call.Syntax)}
}

func (r *runner) grant() Reply {
	target := r.call.Command.Target
	if target == "" {
		target = r.call.Target
	}
	if target == "" {
		return Reply{Text: NoTarget(r.call.Lang)}
	}
	a, err := r.svc.Grant(r.ctx, r.call.User, target, r.call.Command.Amount, r.call.Command.Set)
	if err != nil {
		return failed(r.call.Lang, err)
	}
	return Reply{Text: Granted(r.call.Lang, a)}
}

func (r *runner) stats() Reply {
	s, err := r.svc.Stats(r.ctx, r.call.User)
	if err != nil {
		return failed(r.call.Lang, err)
	}
	return Reply{Text: Stats(r.call.Lang, s)}
}
