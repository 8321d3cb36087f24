package chat

import (
	"reflect"
	"strings"
	"testing"

	"sorabot/core"
)

func TestParseCommands(t *testing.T) {
	tests := []struct {
		text string
		want Command
	}{
		{"hello there", Command{}},
		{"", Command{}},
		{"  /help", Command{Name: CmdHelp}},
		{"/HELP", Command{Name: CmdHelp}},
		{"/start", Command{Name: CmdStart}},
		{"/start@SoraBot", Command{Name: CmdStart, Bot: "SoraBot"}},
		{"/balance", Command{Name: CmdBalance}},
		{"/credits", Command{Name: CmdBalance}},
		{"/Credits@Sora_Bot", Command{Name: CmdBalance, Bot: "Sora_Bot"}},
		{"/history", Command{Name: CmdHistory}},
		{"/models extra words", Command{Name: CmdModels, Args: []string{"extra", "words"}}},
		{"/stats", Command{Name: CmdStats}},
		{"/job 12", Command{Name: CmdJob, Args: []string{"12"}, JobID: "12"}},
		{"/job #12", Command{Name: CmdJob, Args: []string{"#12"}, JobID: "12"}},
		{"/cancel@SoraBot #7", Command{Name: CmdCancel, Bot: "SoraBot", Args: []string{"#7"}, JobID: "7"}},
		{"/grant telegram:123 500", Command{Name: CmdGrant, Args: []string{"telegram:123", "500"}, Target: "telegram:123", Amount: 500}},
		{"/grant Telegram:123 =500", Command{Name: CmdGrant, Args: []string{"Telegram:123", "=500"}, Target: "telegram:123", Amount: 500, Set: true}},
		{"/grant discord:456 -100", Command{Name: CmdGrant, Args: []string{"discord:456", "-100"}, Target: "discord:456", Amount: -100}},
		{"/grant +50 console:ann", Command{Name: CmdGrant, Args: []string{"+50", "console:ann"}, Target: "console:ann", Amount: 50}},
		{"/grant 500", Command{Name: CmdGrant, Args: []string{"500"}, Amount: 500}},
		{"/grant =0", Command{Name: CmdGrant, Args: []string{"=0"}, Set: true}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.text)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.text, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}

func TestParseVideo(t *testing.T) {
	tests := []struct {
		text string
		want core.Request
	}{
		{"/video A cat", core.Request{Prompt: "A cat"}},
		{"/generate A cat", core.Request{Prompt: "A cat"}},
		{"/video", core.Request{}},
		{"/video --portrait", core.Request{Orientation: core.Portrait}},
		{"/video --portrait --15s A cat surfing", core.Request{Prompt: "A cat surfing", Orientation: core.Portrait, Duration: 15}},
		{"/video A cat --landscape surfing --10s", core.Request{Prompt: "A cat surfing", Orientation: core.Landscape, Duration: 10}},
		{"/video --25s --hd --pro --watermark --private --model=sora-2-pro x",
			core.Request{Prompt: "x", Duration: 25, Quality: "hd", Pro: true, Watermark: true, Private: true, Model: "sora-2-pro"}},
		{"/video --7s x", core.Request{Prompt: "x", Duration: 7}},
		{"/video --12sec x", core.Request{Prompt: "x", Duration: 12}},
		{"/video --15 x", core.Request{Prompt: "x", Duration: 15}},
		{"/video --PORTRAIT X", core.Request{Prompt: "X", Orientation: core.Portrait}},
		{"/video —portrait —15s A cat", core.Request{Prompt: "A cat", Orientation: core.Portrait, Duration: 15}},
		{"/video –hd A cat", core.Request{Prompt: "A cat", Quality: "hd"}},
		{"/video@SoraBot --pro A cat", core.Request{Prompt: "A cat", Pro: true}},
		// Dashes that are prose stay in the prompt.
		{"/video A city — at dusk", core.Request{Prompt: "A city — at dusk"}},
		{"/video A —quiet— city", core.Request{Prompt: "A —quiet— city"}},
		{"/video cat --> dog -- fast ---", core.Request{Prompt: "cat --> dog -- fast ---"}},
		{"/video A well-known --hd x-ray", core.Request{Prompt: "A well-known x-ray", Quality: "hd"}},
		// Spacing and line breaks are the user's.
		{"/video\nLine one,  two spaces\n--portrait\nLine three", core.Request{Prompt: "Line one,  two spaces\nLine three", Orientation: core.Portrait}},
		{"/video First line --hd\nSecond", core.Request{Prompt: "First line\nSecond", Quality: "hd"}},
		{"/video   padded   ", core.Request{Prompt: "padded"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.text)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.text, err)
			continue
		}
		if got.Name != CmdVideo {
			t.Errorf("Parse(%q).Name = %q", tt.text, got.Name)
		}
		if !reflect.DeepEqual(got.Request, tt.want) {
			t.Errorf("Parse(%q).Request = %+v, want %+v", tt.text, got.Request, tt.want)
		}
	}
}

func TestParseStoryboard(t *testing.T) {
	shots := func(v ...any) []core.Shot {
		var s []core.Shot
		for i := 0; i < len(v); i += 2 {
			s = append(s, core.Shot{Duration: v[i].(int), Scene: v[i+1].(string)})
		}
		return s
	}
	tests := []struct {
		text string
		want core.Request
	}{
		{"/storyboard\n5s A city at dusk\n5s A runner", core.Request{Storyboard: true, Shots: shots(5, "A city at dusk", 5, "A runner")}},
		{"/storyboard --portrait\n5 s A city\n\n10sec A runner\n", core.Request{Storyboard: true, Orientation: core.Portrait, Shots: shots(5, "A city", 10, "A runner")}},
		{"/storyboard 5s A city | 5s A runner", core.Request{Storyboard: true, Shots: shots(5, "A city", 5, "A runner")}},
		{"/storyboard --25s 10s A | 15s B", core.Request{Storyboard: true, Duration: 25, Shots: shots(10, "A", 15, "B")}},
		{"/storyboard\n5: A city\n5 seconds - A runner", core.Request{Storyboard: true, Shots: shots(5, "A city", 5, "A runner")}},
		{"/storyboard\n- 5s A city\n• 5S A runner", core.Request{Storyboard: true, Shots: shots(5, "A city", 5, "A runner")}},
		{"/storyboard\n1. 5s A city\n2) 5s A runner", core.Request{Storyboard: true, Shots: shots(5, "A city", 5, "A runner")}},
		{"/storyboard\n5s — A city\n5s: A runner", core.Request{Storyboard: true, Shots: shots(5, "A city", 5, "A runner")}},
		{"/storyboard\n5s A city\n--portrait\n5s A runner", core.Request{Storyboard: true, Orientation: core.Portrait, Shots: shots(5, "A city", 5, "A runner")}},
		{"/storyboard\r\n5s A city\r\n5s A runner\r\n", core.Request{Storyboard: true, Shots: shots(5, "A city", 5, "A runner")}},
		{"/storyboard 5s", core.Request{Storyboard: true, Shots: shots(5, "")}},
		{"/storyboard", core.Request{Storyboard: true}},
		// A shot line's dashes are scene text, not options.
		{"/storyboard\n5s A city --at dusk\n5s B", core.Request{Storyboard: true, Shots: shots(5, "A city --at dusk", 5, "B")}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.text)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.text, err)
			continue
		}
		if got.Name != CmdStoryboard {
			t.Errorf("Parse(%q).Name = %q", tt.text, got.Name)
		}
		if !reflect.DeepEqual(got.Request, tt.want) {
			t.Errorf("Parse(%q).Request = %+v, want %+v", tt.text, got.Request, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		text    string
		wantMsg string // a part of the message
		bot     string
	}{
		{"/frobnicate", "I don't know the command /frobnicate", ""},
		{"/frobnicate@OtherBot x", "/help", "OtherBot"},
		{"/", "I don't know the command /", ""},
		{"/path/to/file", "I don't know", ""},
		{"/vidéo x", "I don't know", ""},
		{"/video --foo A cat", "Unknown option --foo. Options: --portrait", ""},
		{"/video@SoraBot --square A cat", "--square", "SoraBot"},
		{"/video --model A cat", "--model=<id>", ""},
		{"/video --model= A cat", "--model=<id>", ""},
		{"/video —model= A cat", "--model=<id>", ""},
		{"/video --0s A cat", "--0s is not a duration", ""},
		{"/video --99999999s A cat", "is not a duration", ""},
		{"/video --hd=yes A cat", "Unknown option --hd=yes", ""},
		{"/storyboard\n5s A city\nA runner", `Shot 2 needs a duration, like "5s A runner".`, ""},
		{"/storyboard 5s A city | A runner", `Shot 2 needs a duration`, ""},
		{"/storyboard My film\n5s A city", `Shot 1 needs a duration, like "5s My film".`, ""},
		{"/storyboard\n5sunsets", `Shot 1 needs a duration`, ""},
		{"/storyboard\n2.5s A city", `whole seconds`, ""},
		{"/storyboard\n99999999s A city", `far too long`, ""},
		{"/storyboard --nope\n5s A", `Unknown option --nope`, ""},
		{"/job", "Which job? Write /job 12", ""},
		{"/cancel", "Which job? Write /cancel 12", ""},
		{"/job #", "is not a job number", ""},
		{"/job 1;2", "is not a job number", ""},
		{"/grant", "Usage: /grant", ""},
		{"/grant telegram:1", "Usage: /grant", ""},
		{"/grant telegram:1 5 6", "Usage: /grant", ""},
		{"/grant bob 5", `"bob" is not a user`, ""},
		{"/grant telegram:1 =-5", "Usage: /grant", ""},
		{"/grant =-5", `"=-5" is not a user`, ""},
		{"/grant telegram:1 discord:2", "Usage: /grant", ""},
		{"/grant telegram:1 9999999999", "Usage: /grant", ""},
	}
	for _, tt := range tests {
		c, err := Parse(tt.text)
		if err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", tt.text, c)
			continue
		}
		if core.ErrorCode(err) != core.EINVALID {
			t.Errorf("Parse(%q) error code = %q, want %q", tt.text, core.ErrorCode(err), core.EINVALID)
		}
		if msg := core.ErrorMessage(err); !strings.Contains(msg, tt.wantMsg) {
			t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.text, msg, tt.wantMsg)
		}
		if c.Bot != tt.bot {
			t.Errorf("Parse(%q).Bot = %q, want %q", tt.text, c.Bot, tt.bot)
		}
	}
}

func TestParseShots(t *testing.T) {
	got, err := ParseShots("5s A city | 5s A runner\n 5 sec  The end ")
	want := []core.Shot{{Scene: "A city", Duration: 5}, {Scene: "A runner", Duration: 5}, {Scene: "The end", Duration: 5}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseShots = %+v, %v; want %+v", got, err, want)
	}
	if got, err := ParseShots("  \n | "); err != nil || got != nil {
		t.Fatalf("ParseShots(blank) = %+v, %v; want nil, nil", got, err)
	}
	if _, err := ParseShots("5s A | B"); core.ErrorMessage(err) != `Shot 2 needs a duration, like "5s B".` {
		t.Fatalf("ParseShots(no duration) error = %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	ok := map[string]int{"15": 15, "15s": 15, " 15 s ": 15, "10sec": 10, "25 seconds": 25, "5 Secs": 5}
	for in, want := range ok {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "s", "0", "0s", "-5s", "15m", "fifteen", "15 s x", "9999999s", "99999"} {
		if got, err := ParseDuration(in); err == nil || core.ErrorCode(err) != core.EINVALID {
			t.Errorf("ParseDuration(%q) = %d, %v; want an EINVALID error", in, got, err)
		}
	}
}

// isOptionWord reports whether w is a word Parse would consume as an option.
func isOptionWord(w string) bool {
	var r core.Request
	ok, err := applyOption(w, &r)
	return ok && err == nil
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"/video --portrait --15s A cat", "/video A city — at dusk", "/video\n--hd\nx --pro",
		"/storyboard --portrait\n5s A\n5s B", "/storyboard 5s A | 5s B", "/grant telegram:1 =5",
		"/job #12", "/video@Bot —model=x y", "/cancel", "hello", "/video --x", "/storyboard\n1. 5s a\n2.5s b",
		"/video a\t--hd \r\n b", "/video \u2028--pro\u00a0x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Parse(text)
		if err != nil {
			if core.ErrorCode(err) != core.EINVALID {
				t.Fatalf("Parse(%q) error code %q", text, core.ErrorCode(err))
			}
			return
		}
		switch c.Name {
		case CmdVideo:
			for _, w := range strings.Fields(c.Request.Prompt) {
				if isOptionWord(w) {
					t.Fatalf("Parse(%q): prompt %q keeps option %q", text, c.Request.Prompt, w)
				}
			}
			if c.Request.Prompt != strings.TrimSpace(c.Request.Prompt) {
				t.Fatalf("Parse(%q): prompt %q is not trimmed", text, c.Request.Prompt)
			}
		case CmdStoryboard:
			if !c.Request.Storyboard || c.Request.Prompt != "" {
				t.Fatalf("Parse(%q): storyboard request %+v", text, c.Request)
			}
			for _, s := range c.Request.Shots {
				if s.Duration < 0 || s.Scene != strings.TrimSpace(s.Scene) {
					t.Fatalf("Parse(%q): bad shot %+v", text, s)
				}
			}
		case CmdGrant:
			if c.Amount < -maxGrant || c.Amount > maxGrant || (c.Set && c.Amount < 0) {
				t.Fatalf("Parse(%q): grant amount %d set=%v", text, c.Amount, c.Set)
			}
		case CmdJob, CmdCancel:
			if c.JobID == "" {
				t.Fatalf("Parse(%q): empty job id", text)
			}
		case "":
			if strings.HasPrefix(strings.TrimSpace(text), "/") {
				t.Fatalf("Parse(%q): a command came back as plain text", text)
			}
		}
		if c.Request.Duration < 0 || c.Request.Duration > maxSeconds {
			t.Fatalf("Parse(%q): duration %d", text, c.Request.Duration)
		}
	})
}
