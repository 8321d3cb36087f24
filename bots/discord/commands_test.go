package discord_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/bots/discord/discordtest"
	"sorabot/core"
	"sorabot/core/provider/providertest"
	"sorabot/core/provider/sorapro"
)

var dcFrontend = chattest.Frontend{Syntax: chat.Slash, User: dcUser}

// Every command of the shared list is registered, with its arguments as
// options; the admin ones only for server administrators; /start is
// Telegram's.
func TestDiscordRegistersEveryCommand(t *testing.T) {
	env := chattest.NewEnv(t, dcFrontend)
	d := startDiscord(t, env, env.Provider)
	byName := map[string]*discordgo.ApplicationCommand{}
	var names []string
	for _, c := range d.fake.Commands(guild) {
		byName[c.Name] = c
		names = append(names, c.Name)
	}
	// /paysupport, /terms, /refund and /promo are Telegram's (and the console's).
	want := []string{"video", "storyboard", "balance", "buy", "redeem", "history", "job", "cancel", "models", "help", "grant", "stats", "Animate"}
	if !slices.Equal(names, want) {
		t.Fatalf("registered %v, want %v", names, want)
	}
	for _, name := range []string{"job", "cancel"} {
		c := byName[name]
		if len(c.Options) != 1 || c.Options[0].Name != "job" || !c.Options[0].Required || c.Options[0].Type != discordgo.ApplicationCommandOptionString {
			t.Errorf("/%s options %+v", name, c.Options)
		}
	}
	g := byName["grant"].Options
	if len(g) != 2 || g[0].Name != "user" || g[0].Type != discordgo.ApplicationCommandOptionUser ||
		g[1].Name != "amount" || g[1].Type != discordgo.ApplicationCommandOptionInteger {
		t.Errorf("/grant options %+v", g)
	}
	for _, name := range []string{"grant", "stats"} {
		if p := byName[name].DefaultMemberPermissions; p == nil || *p != discordgo.PermissionAdministrator {
			t.Errorf("/%s is not for administrators only", name)
		}
	}
	if r := byName["redeem"].Options; len(r) != 1 || r[0].Name != "code" || !r[0].Required || r[0].Type != discordgo.ApplicationCommandOptionString {
		t.Errorf("/redeem options %+v", r)
	}
	for _, name := range []string{"balance", "job", "help", "buy"} {
		if byName[name].DefaultMemberPermissions != nil || byName[name].Description != chat.Lookup(name).Summary {
			t.Errorf("/%s: %+v", name, byName[name])
		}
	}
}

// /job job:<id> of a delivered video attaches it again, privately.
func TestDiscordJobSendsTheVideoAgain(t *testing.T) {
	emu := providertest.New(providertest.Options{Key: "k", Duration: 50 * time.Millisecond})
	t.Cleanup(emu.Close)
	env := chattest.NewEnv(t, dcFrontend)
	env.Config.Poll = core.PollConfig{First: 10 * time.Millisecond, KeepAlive: 50 * time.Millisecond, MinGap: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	d := startDiscord(t, env, sorapro.New(emu.URL, "k"))

	d.Send(t, 2, chat.CmdVideo, "a cat surfing")
	d.WaitStatus(t, 2, "1", "✅ Job #1 done")
	// The response says done once Discord has the video; the job is
	// recorded as delivered right after.
	deadline := time.Now().Add(chattest.Deadline)
	for j, _ := d.svc.Job(context.Background(), dcUser(2), "1"); j == nil || j.State != core.Delivered; j, _ = d.svc.Job(context.Background(), dcUser(2), "1") {
		if time.Now().After(deadline) {
			t.Fatalf("job 1 not delivered: %+v", j)
		}
		time.Sleep(5 * time.Millisecond)
	}

	i := d.fake.SlashCommand(guild, channel, dcTestUser(2), "job", options("job", []string{"1"}), nil)
	r, ok := d.fake.WaitOriginal(chattest.Deadline, i.ID, func(r discordtest.Response) bool { return r.Content != "" })
	if !ok {
		t.Fatal("no answer to /job")
	}
	if !strings.Contains(r.Content, "✅ Job #1: delivered") || r.Flags&int(discordgo.MessageFlagsEphemeral) == 0 {
		t.Fatalf("/job answer %+v", r)
	}
	if len(r.Files) != 1 || r.Files[0].Size != int64(len(providertest.SampleMP4())) {
		t.Fatalf("/job attached %+v, want the video", r.Files)
	}
	// Someone else's job: no details, no video.
	other := d.fake.SlashCommand(guild, channel, dcTestUser(3), "job", options("job", []string{"1"}), nil)
	r, _ = d.fake.WaitOriginal(chattest.Deadline, other.ID, func(r discordtest.Response) bool { return r.Content != "" })
	if !strings.Contains(r.Content, "You have no job 1") || len(r.Files) != 0 {
		t.Fatalf("/job of another's job: %+v", r)
	}
}
