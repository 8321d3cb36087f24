package chat_test

import (
	"context"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/core"
	"sorabot/storage"
)

// newService is a real service over bbolt (not started: nothing reaches
// the provider); "test:admin" is an admin.
func newService(t *testing.T) *core.Service {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "db"), storage.Options{StartCredits: 500})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return core.NewService(core.Config{Protocol: core.ProtocolSoraPro, Admins: []string{"test:admin"}, VideoDir: t.TempDir()},
		db, &chattest.Provider{}, core.DefaultCatalog())
}

func run(t *testing.T, c *chat.Commands, user, text string, target string) chat.Reply {
	t.Helper()
	cmd, err := chat.Parse(text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return c.Run(context.Background(), chat.Call{User: user, Syntax: chat.Typed, Command: cmd, Target: target})
}

func TestCommandsGrant(t *testing.T) {
	c := chat.NewCommands(newService(t))
	tests := []struct {
		user, text, target string
		want               string
	}{
		{"test:user", "/grant test:user 100", "", chat.NotAdmin("en")},
		{"test:user", "/grant 100", "", chat.NotAdmin("en")}, // refused before asking whom
		{"test:admin", "/grant 100", "", chat.NoTarget("en")},
		{"test:admin", "/grant 100", "test:bob", "✅ test:bob now has 600 credits."},       // the replied-to user
		{"test:admin", "/grant test:ann =7", "test:bob", "✅ test:ann now has 7 credits."}, // the written user wins
		{"test:admin", "/grant test:ann -8", "", "⚠️ "},                                   // never below zero
		{"test:user", "/stats", "", chat.NotAdmin("en")},
		{"test:admin", "/stats", "", "📊 Users: 4"}, // every command opens its user's account
	}
	for _, tt := range tests {
		r := run(t, c, tt.user, tt.text, tt.target)
		if !strings.HasPrefix(r.Text, tt.want) {
			t.Errorf("%s %q (target %q) = %q, want %q", tt.user, tt.text, tt.target, r.Text, tt.want)
		}
	}
}

// tinyPNG is a valid 1×1 PNG.
var tinyPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAABJRU5ErkJggg==")

func TestCommandsSubmitAndRepeat(t *testing.T) {
	svc := newService(t)
	c := chat.NewCommands(svc)
	ctx := context.Background()
	origin := core.Origin{Platform: "test", ChatID: "c", Extra: map[string]string{"photos": "f1"}}
	acc, r := c.Submit(ctx, core.Submission{UserID: "test:ann", Key: "k1", Origin: origin,
		Request: core.Request{Prompt: "make it dance", Images: []core.Image{{Data: tinyPNG}}}})
	if r.Err != nil || r.Text != chat.Accepted(acc) || acc.Job.Req.Model != "sora-2-image-to-video" {
		t.Fatalf("Submit = %+v, %+v", acc, r)
	}
	_, r = c.Submit(ctx, core.Submission{UserID: "test:ann", Key: "k2", Origin: origin, Request: core.Request{}})
	if core.ErrorCode(r.Err) != core.EINVALID || !strings.HasPrefix(r.Text, "⚠️ ") {
		t.Fatalf("Submit(no prompt) = %+v", r)
	}

	data := chat.RepeatData(acc.Job.ID)
	j, r := c.Repeat(ctx, "test:ann", "en", data)
	if j == nil || r.Text != chat.RepeatStarted("en") || j.Req.Prompt != "make it dance" || len(j.Req.Images) != 0 ||
		j.Origin.Extra["photos"] != "f1" || j.UserID != "test:ann" {
		t.Fatalf("Repeat by the owner = %+v, %+v", j, r)
	}
	for _, tt := range []struct{ user, data, want string }{
		{"test:bob", data, chat.RepeatNotYours("en")},
		{"test:admin", data, chat.RepeatNotYours("en")}, // an admin may see the job, not repeat it
		{"test:ann", chat.RepeatData("999"), chat.RepeatNotYours("en")},
		{"test:ann", "something-else", ""},
	} {
		if j, r := c.Repeat(ctx, tt.user, "en", tt.data); j != nil || r.Text != tt.want || r.Err != nil {
			t.Errorf("Repeat(%s, %q) = %+v, %+v; want %q", tt.user, tt.data, j, r, tt.want)
		}
	}
}

// fakeService is a chat.Service whose methods are the Fn fields; the
// others panic (the embedded interface is nil).
type fakeService struct {
	chat.Service
	BalanceFn func(ctx context.Context, user string, lines int) (core.Account, []core.LedgerEntry, error)
	JobFn     func(ctx context.Context, user, id string) (*core.Job, error)
}

func (f *fakeService) Balance(ctx context.Context, user string, lines int) (core.Account, []core.LedgerEntry, error) {
	return f.BalanceFn(ctx, user, lines)
}

func (f *fakeService) Job(ctx context.Context, user, id string) (*core.Job, error) {
	return f.JobFn(ctx, user, id)
}

func (f *fakeService) IsAdmin(string) bool { return false }

func (f *fakeService) DefaultLanguage() string { return "" }

func (f *fakeService) Language(context.Context, string) (string, error) { return "", nil }

func (f *fakeService) Touch(context.Context, string) (core.Account, error) {
	return core.Account{}, nil
}

// A failure on our side is returned (so that Telegram can take the update
// again) and shown only as an apology, never its text.
func TestCommandsInternalErrors(t *testing.T) {
	boom := errors.New("bbolt: disk on fire at /data/sorabot.db")
	var asked int
	f := &fakeService{
		BalanceFn: func(_ context.Context, _ string, lines int) (core.Account, []core.LedgerEntry, error) {
			asked = lines
			return core.Account{}, nil, boom
		},
		JobFn: func(context.Context, string, string) (*core.Job, error) { return nil, boom },
	}
	c := chat.NewCommands(f)
	for _, text := range []string{"/balance", "/start", "/job 1"} {
		r := run(t, c, "test:ann", text, "")
		if !errors.Is(r.Err, boom) || core.ErrorCode(r.Err) != core.EINTERNAL || strings.Contains(r.Text, "disk") ||
			r.Text != chat.ErrorText("en", boom) {
			t.Errorf("%s = %+v", text, r)
		}
	}
	if asked != 0 {
		t.Errorf("/start asked for %d ledger lines", asked)
	}
	run(t, c, "test:ann", "/balance", "")
	if asked != chat.BalanceLines {
		t.Errorf("/balance asked for %d ledger lines, want %d", asked, chat.BalanceLines)
	}
	if j, r := c.Repeat(context.Background(), "test:ann", "en", chat.RepeatData("1")); j != nil || !errors.Is(r.Err, boom) {
		t.Errorf("Repeat = %+v, %+v", j, r)
	}
	// Commands that need nothing from the store still answer.
	if r := run(t, c, "test:ann", "/stats", ""); r.Text != chat.NotAdmin("en") {
		t.Errorf("/stats = %+v", r)
	}
}
