// Package chattest is one list of command scenarios run against every chat
// frontend (Telegram, Discord, the console), each through its real client
// and platform fake, over a real core.Service: what the commands answer is
// the same everywhere, only the syntax differs.
package chattest

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"sorabot/bots/chat"
	"sorabot/core"
)

// StartCredits is the balance of a new user in the scenarios.
const StartCredits = 5000

// Deadline is how long a driver waits for an answer.
const Deadline = 20 * time.Second

// Frontend is one frontend under test.
type Frontend struct {
	Syntax chat.Syntax
	// User is the platform's id of test user n (n ≥ 1), e.g. "telegram:1001".
	User func(n int) string
	// Start runs the frontend on a service made of env (and a real store
	// with env.StartCredits) and returns its driver. It stops everything
	// with t.Cleanup.
	Start func(t *testing.T, env Env) Driver
}

// Env is what a scenario's service is made of.
type Env struct {
	// Config makes user 1 an admin and lets one job at a time reach the
	// provider, without per-user limits.
	Config       core.Config
	Catalog      *core.Catalog
	Provider     *Provider
	StartCredits int
}

// Driver talks to a running frontend as its users do.
type Driver interface {
	// Send has user n run command name with its arguments, written as the
	// platform writes them ("/job 12", or /job with option job:12), and
	// returns the text answered to it.
	Send(t *testing.T, user int, name string, args ...string) string
	// WaitStatus waits until what the platform shows of job id (its status
	// message, the video request's response, the console's output) contains
	// sub.
	WaitStatus(t *testing.T, user int, jobID, sub string)
}

// Provider is a core.Provider whose tasks run until the test ends: the
// first job holds the only provider slot and the others stay queued.
type Provider struct {
	mu      sync.Mutex
	creates int
}

// Submit starts a task.
func (p *Provider) Submit(ctx context.Context, m *core.Model, r *core.Request) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.creates++
	return fmt.Sprintf("task-%d", p.creates), nil
}

// Status says every task is still running.
func (p *Provider) Status(ctx context.Context, m *core.Model, id string) (core.TaskStatus, error) {
	return core.TaskStatus{State: core.TaskRunning, Progress: -1}, nil
}

// Creates is the number of tasks started.
func (p *Provider) Creates() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.creates
}

// WaitCreates waits until n tasks were started.
func (p *Provider) WaitCreates(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(Deadline)
	for p.Creates() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d tasks started, want %d", p.Creates(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// hold has user 3 ask for a video that takes the only provider slot until
// the test ends.
func hold(t *testing.T, env Env, d Driver) {
	t.Helper()
	wantContains(t, "holder's /video", d.Send(t, 3, chat.CmdVideo, "holds the provider"), "Job #1 ")
	env.Provider.WaitCreates(t, 1)
}

// Run runs every scenario against the frontend, each on a fresh service.
func Run(t *testing.T, f Frontend) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			env := NewEnv(t, f)
			s.run(t, f, env, f.Start(t, env))
		})
	}
}

// NewEnv is the scenarios' service: user 1 of f is an admin, one job at a
// time reaches the provider, users have no limits.
func NewEnv(t *testing.T, f Frontend) Env {
	return Env{
		Config: core.Config{
			Protocol: core.ProtocolSoraPro, MaxInflight: 1,
			UserMaxActive: -1, UserRate: rate.Inf, UserBurst: 1000, ProviderRate: rate.Inf,
			VideoDir: t.TempDir(), Admins: []string{f.User(1)},
		},
		Catalog: core.DefaultCatalog(), Provider: &Provider{}, StartCredits: StartCredits,
	}
}

var scenarios = []struct {
	name string
	run  func(t *testing.T, f Frontend, env Env, d Driver)
}{
	{"HelpSpeaksThePlatformsSyntax", helpScenario},
	{"BalanceShowsTheLastFiveChanges", balanceScenario},
	{"HistoryShowsTheLastTenJobs", historyScenario},
	{"JobAndCancel", jobAndCancelScenario},
	{"AdminCommands", adminScenario},
}

func wantContains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q\nwant it to contain %q", what, got, w)
		}
	}
}

func wantNot(t *testing.T, what, got string, nots ...string) {
	t.Helper()
	for _, n := range nots {
		if strings.Contains(got, n) {
			t.Errorf("%s = %q\nwant it not to contain %q", what, got, n)
		}
	}
}

func helpScenario(t *testing.T, f Frontend, env Env, d Driver) {
	got := d.Send(t, 2, chat.CmdHelp)
	if want := chat.Help(env.Catalog, env.Config.Protocol, f.Syntax); !strings.HasPrefix(got, want) {
		t.Fatalf("/help = %q\nwant it to start with %q", got, want)
	}
	job, cancel := chat.Lookup(chat.CmdJob), chat.Lookup(chat.CmdCancel)
	wantContains(t, "/help", got, f.Syntax.Usage(job), f.Syntax.Usage(cancel), "/balance", "/history", "/models")
	// Admin commands are not advertised.
	wantNot(t, "/help", got, "/grant", "/stats")
	if f.Syntax == chat.Slash {
		// Discord has options, not Telegram's words.
		wantContains(t, "/help", got, "/video prompt:<prompt>", "/job job:<id>", "/cancel job:<id>", "orientation")
		wantNot(t, "/help", got, "--", "/video [options]", "/job <id>")
	} else {
		wantContains(t, "/help", got, "/video [options] <prompt>", "/job <id>", "--portrait", "--pro")
		wantNot(t, "/help", got, "job:<id>", "prompt:")
	}
}

func balanceScenario(t *testing.T, f Frontend, env Env, d Driver) {
	if got := d.Send(t, 2, chat.CmdBalance); !strings.HasPrefix(got, fmt.Sprintf("%d credits", env.StartCredits)) {
		t.Fatalf("first /balance = %q", got)
	}
	for i := 1; i <= 7; i++ {
		got := d.Send(t, 1, chat.CmdGrant, f.User(2), "1")
		if want := fmt.Sprintf("✅ %s now has %d credits.", f.User(2), env.StartCredits+i); got != want {
			t.Fatalf("grant %d = %q, want %q", i, got, want)
		}
	}
	got := d.Send(t, 2, chat.CmdBalance)
	lines := strings.Split(got, "\n")
	if lines[0] != fmt.Sprintf("%d credits", env.StartCredits+7) {
		t.Fatalf("/balance = %q", got)
	}
	var changes []string
	for _, l := range lines {
		if strings.Contains(l, " admin +1") {
			changes = append(changes, l)
		}
	}
	if len(changes) != chat.BalanceLines || len(lines) != 3+chat.BalanceLines {
		t.Fatalf("/balance shows %d changes in %q, want the last %d", len(changes), got, chat.BalanceLines)
	}
	wantNot(t, "/balance", got, "welcome credits")
}

var jobLine = regexp.MustCompile(`(?m)^\S+ #(\d+) `)

func historyScenario(t *testing.T, f Frontend, env Env, d Driver) {
	wantContains(t, "empty /history", d.Send(t, 2, chat.CmdHistory), "No jobs yet. Try: "+f.Syntax.Example(chat.CmdVideo, ""))
	hold(t, env, d)
	for i := 1; i <= 12; i++ {
		got := d.Send(t, 2, chat.CmdVideo, fmt.Sprintf("clip %d", i))
		wantContains(t, "/video", got, fmt.Sprintf("Job #%d queued (position %d)", i+1, i))
	}
	got := d.Send(t, 2, chat.CmdHistory)
	var ids []string
	for _, m := range jobLine.FindAllStringSubmatch(got, -1) {
		ids = append(ids, m[1])
	}
	want := []string{"13", "12", "11", "10", "9", "8", "7", "6", "5", "4"}
	if strings.Join(ids, " ") != strings.Join(want, " ") || len(want) != chat.HistoryJobs {
		t.Fatalf("/history lists jobs %v in %q, want the newest %d, newest first", ids, got, chat.HistoryJobs)
	}
	wantContains(t, "/history", got, "— clip 12", "Details: "+f.Syntax.Usage(chat.Lookup(chat.CmdJob)))
	wantNot(t, "/history", got, "holds the provider", "— clip 2\n")
}

func jobAndCancelScenario(t *testing.T, f Frontend, env Env, d Driver) {
	hold(t, env, d)
	wantContains(t, "/video", d.Send(t, 2, chat.CmdVideo, "a cat in line"),
		fmt.Sprintf("🎬 Job #2 queued (position 1) — 100 credits, balance %d.", env.StartCredits-100))
	wantContains(t, "/job", d.Send(t, 2, chat.CmdJob, "2"),
		"⏳ Job #2: queued", "Prompt: a cat in line", "Cancel it with "+f.Syntax.Example(chat.CmdCancel, "2"))
	wantContains(t, "/job of another's job", d.Send(t, 3, chat.CmdJob, "2"), "⚠️ You have no job 2.")
	wantContains(t, "/job of no job", d.Send(t, 2, chat.CmdJob, "99"), "⚠️ There is no job")
	wantContains(t, "/cancel of another's job", d.Send(t, 3, chat.CmdCancel, "2"), "⚠️ You have no job 2.")
	wantContains(t, "/cancel of a job at the provider", d.Send(t, 3, chat.CmdCancel, "1"), "⚠️ Job 1 is already being made")

	canceled := "🚫 Job #2 canceled. Your 100 credits were refunded."
	if got := d.Send(t, 2, chat.CmdCancel, "#2"); got != canceled {
		t.Fatalf("/cancel = %q, want %q", got, canceled)
	}
	// The job's own status shows it too: the service told the frontend.
	d.WaitStatus(t, 2, "2", canceled)
	if got := d.Send(t, 2, chat.CmdBalance); !strings.HasPrefix(got, fmt.Sprintf("%d credits\n", env.StartCredits)) {
		t.Fatalf("/balance after /cancel = %q", got)
	}
	wantContains(t, "second /cancel", d.Send(t, 2, chat.CmdCancel, "2"), "⚠️ Job 2 is already canceled.")
	if n := env.Provider.Creates(); n != 1 {
		t.Fatalf("%d tasks created, want the holder's only", n)
	}
}

func adminScenario(t *testing.T, f Frontend, env Env, d Driver) {
	for _, c := range []struct {
		name string
		args []string
	}{{chat.CmdStats, nil}, {chat.CmdGrant, []string{f.User(2), "100"}}} {
		if got := d.Send(t, 2, c.name, c.args...); got != chat.NotAdmin() {
			t.Errorf("/%s by a user = %q, want %q", c.name, got, chat.NotAdmin())
		}
	}
	wantContains(t, "/grant", d.Send(t, 1, chat.CmdGrant, f.User(3), "-100"),
		fmt.Sprintf("✅ %s now has %d credits.", f.User(3), env.StartCredits-100))
	wantContains(t, "/grant below zero", d.Send(t, 1, chat.CmdGrant, f.User(3), "-999999"), "⚠️")
	wantContains(t, "/video", d.Send(t, 2, chat.CmdVideo, "counted in the stats"), "Job #1 ")
	got := d.Send(t, 1, chat.CmdStats)
	wantContains(t, "/stats", got, "📊 Users: ", " total 1", "Credits charged: 100, refunded: 0")
}
