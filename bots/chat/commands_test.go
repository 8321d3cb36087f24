package chat

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"sorabot/core"
	"sorabot/i18n"
)

// The command list is valid for both platforms: names Telegram and Discord
// accept, descriptions within Discord's 100 characters, no name twice.
func TestSpecs(t *testing.T) {
	seen := map[string]bool{}
	for _, sp := range Specs() {
		for _, name := range append([]string{sp.Name}, sp.Aliases...) {
			if seen[name] || name != strings.ToLower(name) || !validCommandWord(name, "") {
				t.Errorf("command word %q: repeated or not a lower-case command", name)
			}
			seen[name] = true
			if Lookup(name) != sp || Lookup(strings.ToUpper(name)) != sp {
				t.Errorf("Lookup(%q) does not find /%s", name, sp.Name)
			}
		}
		for _, lang := range i18n.Languages {
			if n := utf8.RuneCountInString(sp.SummaryIn(lang)); n == 0 || n > 100 {
				t.Errorf("/%s summary in %s has %d characters", sp.Name, lang, n)
			}
			for _, a := range sp.Args {
				if n := utf8.RuneCountInString(a.HelpIn(lang)); n == 0 || n > 100 {
					t.Errorf("/%s %s help in %s has %d characters", sp.Name, a.Name, lang, n)
				}
			}
		}
		if sp.run == nil && !sp.Request {
			t.Errorf("/%s has no answer", sp.Name)
		}
		optional := false
		for _, a := range sp.Args {
			if a.Name == "" || a.Name != strings.ToLower(a.Name) || a.Hint == "" || a.Help == "" {
				t.Errorf("/%s argument %+v", sp.Name, a)
			}
			if optional && !a.Optional {
				t.Errorf("/%s: a required argument after an optional one", sp.Name)
			}
			optional = a.Optional
		}
	}
	if Lookup("frobnicate") != nil || Lookup("") != nil {
		t.Error("Lookup found a command that does not exist")
	}
}

// Summary and Help are message ids, so that the menus of every platform
// and language come from the catalog: English text put there instead
// shows up here (i18n.T gives back an unknown id as it is).
func TestSpecTextsAreMessages(t *testing.T) {
	for _, sp := range Specs() {
		if sp.SummaryIn(i18n.Default) == sp.Summary {
			t.Errorf("/%s: summary %q is not a message id of the catalog (i18n/locales/commands.*.json)", sp.Name, sp.Summary)
		}
		for _, a := range sp.Args {
			if a.HelpIn(i18n.Default) == a.Help {
				t.Errorf("/%s %s: help %q is not a message id of the catalog", sp.Name, a.Name, a.Help)
			}
		}
	}
	if got := Lookup(CmdBalance).SummaryIn("it"); got != "I tuoi crediti e gli ultimi movimenti" {
		t.Errorf("/balance in Italian: %q", got)
	}
}

func TestLowerFirst(t *testing.T) {
	for in, want := range map[string]string{
		"Make a video": "make a video", "Создать видео": "создать видео", "Élan": "élan", "根据描述": "根据描述", "": "",
	} {
		if got := lowerFirst(in); got != want {
			t.Errorf("lowerFirst(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSyntax(t *testing.T) {
	tests := []struct {
		s          Syntax
		cmd        string
		usage      string
		args       []string
		example    string
		exampleCmd string
	}{
		{Typed, CmdJob, "/job <id>", []string{"12"}, "/job 12", CmdJob},
		{Slash, CmdJob, "/job job:<id>", []string{"12"}, "/job job:12", CmdJob},
		{Typed, CmdGrant, "/grant <user> <amount>", []string{"telegram:1", "5"}, "/grant telegram:1 5", CmdGrant},
		{Slash, CmdGrant, "/grant user:<user> amount:<amount>", []string{"@ann", "5"}, "/grant user:@ann amount:5", CmdGrant},
		{Slash, CmdStoryboard, "/storyboard [shots:<shots>]", []string{"5s A"}, "/storyboard shots:5s A", CmdStoryboard},
		{Slash, CmdBalance, "/balance", nil, "/video prompt:A cat", CmdVideo},
		{Typed, CmdBalance, "/balance", nil, "/video A cat", CmdVideo},
	}
	for _, tt := range tests {
		if got := tt.s.Usage(Lookup(tt.cmd)); got != tt.usage {
			t.Errorf("Usage(%s, %d) = %q, want %q", tt.cmd, tt.s, got, tt.usage)
		}
		args := tt.args
		if tt.exampleCmd == CmdVideo {
			args = []string{"A cat"}
		}
		if got := tt.s.Example(tt.exampleCmd, args...); got != tt.example {
			t.Errorf("Example(%s, %q) = %q, want %q", tt.exampleCmd, args, got, tt.example)
		}
	}
}

// NewCommand checks Discord's options as Parse checks typed arguments.
func TestNewCommand(t *testing.T) {
	ok := []struct {
		name string
		args []string
		want Command
	}{
		{"balance", nil, Command{Name: CmdBalance}},
		{"credits", nil, Command{Name: CmdBalance}},
		{"job", []string{"#12"}, Command{Name: CmdJob, Args: []string{"#12"}, JobID: "12"}},
		{"cancel", []string{"7"}, Command{Name: CmdCancel, Args: []string{"7"}, JobID: "7"}},
		{"grant", []string{"discord:5", "-100"}, Command{Name: CmdGrant, Args: []string{"discord:5", "-100"}, Target: "discord:5", Amount: -100}},
		{"stats", nil, Command{Name: CmdStats}},
	}
	for _, tt := range ok {
		got, err := NewCommand(tt.name, tt.args...)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("NewCommand(%s, %q) = %+v, %v; want %+v", tt.name, tt.args, got, err, tt.want)
		}
		// The same command typed parses to the same thing.
		typed, err := Parse(strings.Join(append([]string{"/" + tt.name}, tt.args...), " "))
		if err != nil || !reflect.DeepEqual(typed, tt.want) {
			t.Errorf("Parse of the typed /%s = %+v, %v", tt.name, typed, err)
		}
	}
	bad := []struct {
		name string
		args []string
		msg  string
	}{
		{"video", []string{"a cat"}, "I don't know the command /video"},
		{"frobnicate", nil, "I don't know the command /frobnicate"},
		{"job", nil, "Which job?"},
		{"job", []string{"1;2"}, "is not a job number"},
		{"grant", []string{"discord:5", "lots"}, "Usage: /grant"},
	}
	for _, tt := range bad {
		_, err := NewCommand(tt.name, tt.args...)
		if core.ErrorCode(err) != core.EINVALID || !strings.Contains(core.ErrorMessage(err), tt.msg) {
			t.Errorf("NewCommand(%s, %q) error %v, want %q", tt.name, tt.args, err, tt.msg)
		}
	}
}

// Each syntax shows only its own way of writing commands.
func TestHelpSyntax(t *testing.T) {
	for _, protocol := range []string{core.ProtocolSoraPro, core.ProtocolVideoCreate} {
		slash := Help("en", core.DefaultCatalog(), protocol, Slash)
		contains(t, "Help(Slash)", slash, "/video prompt:<prompt>", "/job job:<id>", "/cancel job:<id>", "image:<picture>",
			"Options of /video: orientation (landscape, portrait), duration", "/video prompt:A corgi", ", pro)")
		for _, typed := range []string{"--", "/video [options]", "/job <id>", "caption"} {
			if strings.Contains(slash, typed) {
				t.Errorf("Help(%s, Slash) contains %q:\n%s", protocol, typed, slash)
			}
		}
		if n := utf8.RuneCountInString(slash); n > 2000 {
			t.Errorf("Help(%s, Slash) has %d characters, more than a Discord message takes", protocol, n)
		}
		typed := Help("en", core.DefaultCatalog(), protocol, Typed)
		if strings.Contains(typed, "job:<id>") || strings.Contains(typed, "prompt:") {
			t.Errorf("Help(%s, Typed) speaks Discord:\n%s", protocol, typed)
		}
		for _, h := range []string{typed, slash} {
			if strings.Contains(h, "/grant") || strings.Contains(h, "/stats") || strings.Contains(h, "/start") {
				t.Errorf("help advertises admin or hidden commands:\n%s", h)
			}
		}
	}
	sb := Help("en", core.DefaultCatalog(), core.ProtocolSoraPro, Slash)
	contains(t, "Help(sorapro, Slash)", sb, "/storyboard [shots:<shots>]", "/storyboard shots:5s A city at dusk | 5s A runner crosses the bridge")
	contains(t, "Models(Slash)", Models("en", core.DefaultCatalog(), core.ProtocolSoraPro, Slash), "(storyboard, pro)")
	contains(t, "History(nil, Slash)", History("en", nil, Slash), "Try: /video prompt:A corgi")
	contains(t, "JobInfo(Slash)", JobInfo("en", testJob(), Slash), "Cancel it with /cancel job:12")
	contains(t, "Start(Slash)", Start("en", core.DefaultCatalog(), core.ProtocolSoraPro, 500, Slash), "Try: /video prompt:A corgi")
}

func TestRedact(t *testing.T) {
	const tok = core.Secret("123:SECRET")
	err := Redact(errors.New(`Post "https://api.telegram.org/bot123:SECRET/getMe": timeout`), tok)
	if strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "bot[redacted]/getMe") {
		t.Errorf("Redact = %v", err)
	}
	plain := errors.New("no token here")
	if Redact(plain, tok) != plain || Redact(nil, tok) != nil || Redact(plain, "") != plain {
		t.Error("Redact changed an error without the token")
	}
}
