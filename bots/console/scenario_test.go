package console

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/core"
	"sorabot/storage"
)

// The shared command scenarios, typed into consoles (one per user).
func TestScenarios(t *testing.T) {
	chattest.Run(t, chattest.Frontend{Syntax: chat.Typed, User: consoleUser, Start: startConsoles})
}

func consoleUser(n int) string { return fmt.Sprintf("%s:u%d", Platform, n) }

// transcript is a console's output.
type transcript struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *transcript) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *transcript) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// consoles is one console per user, all on one service: the service has
// one frontend per platform, so this passes each event to its user's console.
type consoles struct {
	svc *core.Service
	dir string

	mu  sync.Mutex
	m   map[string]*Console
	out map[string]*transcript
}

var _ core.Frontend = (*consoles)(nil)

func (cs *consoles) get(user string) (*Console, *transcript) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c := cs.m[user]
	if c == nil {
		out := &transcript{}
		c = New(cs.svc, Options{Out: out, User: strings.TrimPrefix(user, Platform+":"), OutDir: cs.dir})
		cs.m[user], cs.out[user] = c, out
	}
	return c, cs.out[user]
}

func (cs *consoles) Notify(ctx context.Context, ev core.Event) {
	c, _ := cs.get(ev.Job.UserID)
	c.Notify(ctx, ev)
}

func (cs *consoles) MaxUpload(j *core.Job) int64 {
	c, _ := cs.get(j.UserID)
	return c.MaxUpload(j)
}

func (cs *consoles) Deliver(ctx context.Context, j *core.Job, v core.Video) (string, error) {
	c, _ := cs.get(j.UserID)
	return c.Deliver(ctx, j, v)
}

func startConsoles(t *testing.T, env chattest.Env) chattest.Driver {
	db, err := storage.Open(filepath.Join(t.TempDir(), "db"), storage.Options{StartCredits: env.StartCredits})
	if err != nil {
		t.Fatal(err)
	}
	svc := core.NewService(env.Config, db, env.Provider, env.Catalog)
	cs := &consoles{svc: svc, dir: t.TempDir(), m: map[string]*Console{}, out: map[string]*transcript{}}
	svc.SetFrontend(Platform, cs)
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Stop()
		db.Close()
	})
	return cs
}

// Send types the command into the user's console and returns what the
// console printed while handling it.
func (cs *consoles) Send(t *testing.T, user int, name string, args ...string) string {
	t.Helper()
	c, out := cs.get(consoleUser(user))
	before := len(out.String())
	c.handle(context.Background(), strings.Join(append([]string{"/" + name}, args...), " "))
	return strings.TrimSuffix(out.String()[before:], "\n")
}

// WaitStatus looks in the user's console output: the console shows a job's
// states as lines (the answers to its own commands included).
func (cs *consoles) WaitStatus(t *testing.T, user int, jobID, sub string) {
	t.Helper()
	if _, out := cs.get(consoleUser(user)); !strings.Contains(out.String(), sub) {
		t.Fatalf("console %d printed %q, want %q", user, out.String(), sub)
	}
}

// The console shows the answers to /video and /cancel once, although the
// service also tells it of the queued and canceled job.
func TestConsoleShowsEachAnswerOnce(t *testing.T) {
	f := chattest.Frontend{Syntax: chat.Typed, User: consoleUser, Start: startConsoles}
	env := chattest.NewEnv(t, f)
	cs := startConsoles(t, env).(*consoles)
	cs.Send(t, 3, chat.CmdVideo, "holds the provider")
	env.Provider.WaitCreates(t, 1)
	cs.Send(t, 2, chat.CmdVideo, "waits")
	cs.Send(t, 2, chat.CmdCancel, "2")
	_, out := cs.get(consoleUser(2))
	for _, s := range []string{"🎬 Job #2 queued", "🚫 Job #2 canceled"} {
		if n := strings.Count(out.String(), s); n != 1 {
			t.Errorf("%q printed %d times in:\n%s", s, n, out.String())
		}
	}
}
