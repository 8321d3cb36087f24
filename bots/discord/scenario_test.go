package discord_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/bots/discord"
	"sorabot/bots/discord/discordtest"
	"sorabot/core"
	"sorabot/storage"
)

const (
	token   = "discord-test-token.abc.def"
	guild   = "100"
	channel = "300"
)

// The shared command scenarios, as slash commands through discordgo and
// the fake REST + gateway.
func TestScenarios(t *testing.T) {
	chattest.Run(t, chattest.Frontend{Syntax: chat.Slash, User: dcUser, Start: func(t *testing.T, env chattest.Env) chattest.Driver {
		return startDiscord(t, env, env.Provider)
	}})
}

func dcUser(n int) string { return fmt.Sprintf("%s:%d", discord.Platform, 200+n) }

func dcTestUser(n int) discordtest.User {
	return discordtest.User{ID: fmt.Sprint(200 + n), Username: fmt.Sprintf("user%d", n)}
}

// dcDriver runs slash commands in one guild channel.
type dcDriver struct {
	fake *discordtest.Server
	svc  *core.Service

	mu   sync.Mutex
	jobs map[string]string // job id → the interaction that made it
}

// startDiscord runs the bot over the gateway on a service made of env with
// provider p. Progress edits are paced an hour apart, so the video
// requests' responses change only for final states.
func startDiscord(t *testing.T, env chattest.Env, p core.Provider) *dcDriver {
	fake := discordtest.New(discordtest.Options{Token: token})
	db, err := storage.Open(filepath.Join(t.TempDir(), "db"), storage.Options{StartCredits: env.StartCredits})
	if err != nil {
		t.Fatal(err)
	}
	svc := core.NewService(env.Config, db, p, env.Catalog)
	bot, err := discord.New(svc, discord.Options{Token: core.Secret(token), APIURL: fake.URL, GuildID: guild,
		Logger: slog.New(slog.DiscardHandler), Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetFrontend(discord.Platform, bot)
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- bot.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		svc.Stop()
		db.Close()
		if v := fake.Violations(); len(v) > 0 {
			t.Errorf("Discord API violations:\n%s", strings.Join(v, "\n"))
		}
		fake.Close()
	})
	deadline := time.Now().Add(chattest.Deadline)
	for len(fake.Commands(guild)) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("commands not registered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &dcDriver{fake: fake, svc: svc, jobs: map[string]string{}}
}

// options writes a command's arguments as its options, typed as the
// registered command declares them.
func options(name string, args []string) []*discordgo.ApplicationCommandInteractionDataOption {
	if name == chat.CmdVideo {
		return []*discordgo.ApplicationCommandInteractionDataOption{
			{Name: "prompt", Type: discordgo.ApplicationCommandOptionString, Value: strings.Join(args, " ")}}
	}
	sp := chat.Lookup(name)
	var opts []*discordgo.ApplicationCommandInteractionDataOption
	for i, v := range args {
		a := sp.Args[i]
		o := &discordgo.ApplicationCommandInteractionDataOption{Name: a.Name, Type: discordgo.ApplicationCommandOptionString, Value: v}
		switch a.Kind {
		case chat.ArgInt:
			var n int
			fmt.Sscan(v, &n)
			o.Type, o.Value = discordgo.ApplicationCommandOptionInteger, n
		case chat.ArgUser:
			o.Type, o.Value = discordgo.ApplicationCommandOptionUser, strings.TrimPrefix(v, discord.Platform+":")
		}
		opts = append(opts, o)
	}
	return opts
}

var jobRef = regexp.MustCompile(`Job #(\d+)`)

func (d *dcDriver) Send(t *testing.T, user int, name string, args ...string) string {
	t.Helper()
	i := d.fake.SlashCommand(guild, channel, dcTestUser(user), name, options(name, args), nil)
	r, ok := d.fake.WaitOriginal(chattest.Deadline, i.ID, func(r discordtest.Response) bool { return r.Content != "" })
	if !ok {
		t.Fatalf("/%s %v: no answer; followups %+v", name, args, d.fake.Followups(i.ID))
	}
	if name == chat.CmdVideo {
		if m := jobRef.FindStringSubmatch(r.Content); m != nil {
			d.mu.Lock()
			d.jobs[m[1]] = i.ID
			d.mu.Unlock()
		}
	}
	return r.Content
}

// WaitStatus waits on the original response of the /video that made the job.
func (d *dcDriver) WaitStatus(t *testing.T, user int, jobID, sub string) {
	t.Helper()
	d.mu.Lock()
	id := d.jobs[jobID]
	d.mu.Unlock()
	if id == "" {
		t.Fatalf("no /video made job %s", jobID)
	}
	if _, ok := d.fake.WaitOriginal(chattest.Deadline, id, func(r discordtest.Response) bool { return strings.Contains(r.Content, sub) }); !ok {
		r, _ := d.fake.Original(id)
		t.Fatalf("job %s's response is %q, want it to contain %q", jobID, r.Content, sub)
	}
}
