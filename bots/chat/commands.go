package chat

import (
	"strings"

	"sorabot/i18n"
)

// Command names.
const (
	CmdVideo      = "video"
	CmdStoryboard = "storyboard"
	CmdBalance    = "balance"
	CmdHistory    = "history"
	CmdJob        = "job"
	CmdCancel     = "cancel"
	CmdModels     = "models"
	CmdHelp       = "help"
	CmdStart      = "start"
	CmdGrant      = "grant"
	CmdStats      = "stats"
	CmdLanguage   = "language"

	// Buying and earning credits (pay.go).
	CmdBuy        = "buy"
	CmdRedeem     = "redeem"
	CmdPaySupport = "paysupport"
	CmdTerms      = "terms"
	CmdRefund     = "refund"
	CmdPromo      = "promo"
)

// How much /balance and /history show.
const (
	BalanceLines = 5  // ledger lines under the balance
	HistoryJobs  = 10 // newest jobs
)

// Spec is one command as every platform offers it. The grammar (Parse,
// NewCommand), the help text, Telegram's command menu and Discord's
// registered commands are all built from Specs, so a command is added here
// and only translated by each frontend.
type Spec struct {
	Name string
	// Aliases are other words for it in the typed syntax (/credits).
	Aliases []string
	// Summary is the id of the message that says what it does, as a menu
	// entry ("cmd.history": "Your last jobs"); SummaryIn renders it.
	Summary string
	Args    []Arg
	// Admin commands are for the configured admins: they are left out of
	// menus and help, and Discord shows them to server administrators only.
	Admin bool
	// Hidden commands are in no menu and not on Discord (/start).
	Hidden bool
	// Request marks /video and /storyboard: each frontend gathers the
	// platform's pictures and calls Commands.Submit itself.
	Request bool
	// TypedOnly commands exist only in the typed syntax (Telegram and the
	// console): Discord does not register them.
	TypedOnly bool
	// touches: the command's own service call applies the daily
	// allowance (Balance, Redeem), so Run does not Touch first.
	touches bool

	parse func(c *Command) error // checks Args and fills in the Command's fields
	run   func(r *runner) Reply  // answers it
}

// ArgKind is what an argument holds; Discord picks its option type by it.
type ArgKind int

const (
	ArgText ArgKind = iota // a word
	ArgInt                 // a whole number
	ArgUser                // a user: "telegram:123" typed, a user picker on Discord
)

// Arg is one argument of a command, in the order the typed syntax takes them.
type Arg struct {
	// Name is the Discord option's name, as in "/job job:12".
	Name string
	// Hint is the placeholder in usage lines: "id" gives "/job <id>".
	Hint string
	// Help is the id of the message that describes it (Discord shows it
	// under the option); HelpIn renders it.
	Help     string
	Kind     ArgKind
	Optional bool
	// Choices are the only values it takes, offered as choices where the
	// platform has them (Discord).
	Choices []Choice
}

// Choice is one value an argument may take, with its label.
type Choice struct {
	Label string
	Value string
}

var (
	jobArg    = Arg{Name: "job", Hint: "id", Help: "arg.job"}
	userArg   = Arg{Name: "user", Hint: "user", Help: "arg.user", Kind: ArgUser}
	amountArg = Arg{Name: "amount", Hint: "amount", Help: "arg.amount", Kind: ArgInt}
	codeArg   = Arg{Name: "code", Hint: "code", Help: "arg.code"}
)

// specs are every command, in the order menus and help list them. They are
// set in init because the help command's answer lists them.
var specs []*Spec

func init() {
	specs = []*Spec{
		{Name: CmdVideo, Aliases: []string{"generate"}, Summary: "cmd.video", Request: true,
			Args: []Arg{{Name: "prompt", Hint: "prompt", Help: "arg.prompt"}}},
		{Name: CmdStoryboard, Summary: "cmd.storyboard", Request: true,
			Args: []Arg{{Name: "shots", Hint: "shots", Help: "arg.shots", Optional: true}}},
		{Name: CmdBalance, Aliases: []string{"credits"}, Summary: "cmd.balance", touches: true, run: (*runner).balance},
		{Name: CmdBuy, Summary: "cmd.buy", run: (*runner).buy},
		{Name: CmdRedeem, Summary: "cmd.redeem", Args: []Arg{codeArg}, touches: true, run: (*runner).redeem},
		{Name: CmdHistory, Summary: "cmd.history", run: (*runner).history},
		{Name: CmdJob, Summary: "cmd.job", Args: []Arg{jobArg},
			parse: parseJobArg, run: (*runner).job},
		{Name: CmdCancel, Summary: "cmd.cancel", Args: []Arg{jobArg},
			parse: parseJobArg, run: (*runner).cancel},
		{Name: CmdModels, Summary: "cmd.models", run: (*runner).models},
		{Name: CmdLanguage, Summary: "cmd.language", Args: []Arg{languageArg()},
			run: (*runner).language},
		{Name: CmdHelp, Summary: "cmd.help", run: (*runner).help},
		{Name: CmdPaySupport, Summary: "cmd.paysupport", TypedOnly: true, run: (*runner).paySupport},
		{Name: CmdTerms, Summary: "cmd.terms", TypedOnly: true, run: (*runner).terms},
		{Name: CmdStart, Summary: "cmd.start", Hidden: true, touches: true, run: (*runner).start},
		{Name: CmdGrant, Summary: "cmd.grant", Admin: true, Args: []Arg{userArg, amountArg},
			parse: parseGrantArgs, run: (*runner).grant},
		{Name: CmdStats, Summary: "cmd.stats", Admin: true, run: (*runner).stats},
		{Name: CmdRefund, Summary: "cmd.refund", Admin: true, TypedOnly: true,
			Args: []Arg{{Name: "charge", Hint: "charge id", Help: "arg.charge"}}, run: (*runner).refund},
		{Name: CmdPromo, Summary: "cmd.promo", Admin: true, TypedOnly: true,
			Args: []Arg{{Name: "code", Hint: "code", Help: "arg.promo_code", Optional: true},
				{Name: "credits", Hint: "credits", Help: "arg.promo_credits", Kind: ArgInt, Optional: true},
				{Name: "uses", Hint: "uses", Help: "arg.promo_uses", Kind: ArgInt, Optional: true}},
			run: (*runner).promo},
	}
}

// Specs returns every command, in menu order; the caller must not change them.
func Specs() []*Spec { return specs }

// SummaryIn is the command's Summary in lang.
func (sp *Spec) SummaryIn(lang string) string { return i18n.T(lang, sp.Summary, nil) }

// HelpIn is the argument's Help in lang.
func (a Arg) HelpIn(lang string) string { return i18n.T(lang, a.Help, nil) }

// Lookup returns the command called name (or one of its aliases), nil for none.
func Lookup(name string) *Spec {
	name = strings.ToLower(name)
	for _, s := range specs {
		if s.Name == name {
			return s
		}
		for _, a := range s.Aliases {
			if a == name {
				return s
			}
		}
	}
	return nil
}

// Syntax is how a platform writes commands.
type Syntax int

const (
	// Typed is Telegram's and the console's: "/job 12", "/video --portrait A cat".
	Typed Syntax = iota
	// Slash is Discord's: "/job job:12", "/video prompt:A cat orientation:portrait".
	Slash
)

// Usage is how a command is written, with placeholders: "/job <id>" typed,
// "/job job:<id>" on Discord; optional arguments are in brackets.
func (s Syntax) Usage(sp *Spec) string {
	var b strings.Builder
	b.WriteString("/" + sp.Name)
	for _, a := range sp.Args {
		w := "<" + a.Hint + ">"
		if s == Slash {
			w = a.Name + ":" + w
		}
		if a.Optional {
			w = "[" + w + "]"
		}
		b.WriteString(" " + w)
	}
	return b.String()
}

// Example writes a command with values for its arguments, in order:
// Example(CmdCancel, "12") is "/cancel 12" typed, "/cancel job:12" on Discord.
func (s Syntax) Example(name string, values ...string) string {
	sp := Lookup(name)
	if sp == nil {
		return "/" + name
	}
	var b strings.Builder
	b.WriteString("/" + sp.Name)
	for i, v := range values {
		if s == Slash && i < len(sp.Args) {
			v = sp.Args[i].Name + ":" + v
		}
		b.WriteString(" " + v)
	}
	return b.String()
}
