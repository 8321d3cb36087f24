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
	"sorabot/i18n"
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
	want := []string{"video", "storyboard", "balance", "buy", "redeem", "history", "job", "cancel", "models", "language", "help", "grant", "stats", "Animate"}
	if !slices.Equal(names, want) {
		t.Fatalf("registered %v, want %v", names, want)
	}
	for _, name := range []string{"job", "cancel"} {
		c := byName[name]
		if len(c.Options) != 1 || c.Options[0].Name != "job" || !c.Options[0].Required || c.Options[0].Type != discordgo.ApplicationCommandOptionString {
			t.Errorf("/%s options %+v", name, c.Options)
		}
	}
	// /language code: one choice per language, named in itself.
	if l := byName["language"].Options; len(l) != 1 || l[0].Name != "code" || l[0].Required || len(l[0].Choices) != 6 ||
		l[0].Choices[1].Name != "Italiano" || l[0].Choices[1].Value != "it" || l[0].Choices[2].Value != "zh" {
		t.Errorf("/language options %+v", l)
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
		if byName[name].DefaultMemberPermissions != nil || byName[name].Description != chat.Lookup(name).SummaryIn(i18n.Default) {
			t.Errorf("/%s: %+v", name, byName[name])
		}
	}
}

// Commands, options and choices carry their texts in Italian, Chinese,
// Spanish, Portuguese and Russian under Discord's locale keys; the names
// stay English. (The fake refuses keys and lengths Discord refuses, so a
// registration that went through is also a valid one.)
func TestDiscordRegistersTranslations(t *testing.T) {
	env := chattest.NewEnv(t, dcFrontend)
	d := startDiscord(t, env, env.Provider)
	locales := []discordgo.Locale{discordgo.Italian, discordgo.ChineseCN, discordgo.SpanishES, discordgo.PortugueseBR, discordgo.Russian}
	byName := map[string]*discordgo.ApplicationCommand{}
	for _, c := range d.fake.Commands(guild) {
		byName[c.Name] = c
		if c.Type == discordgo.MessageApplicationCommand {
			continue
		}
		if c.NameLocalizations != nil {
			t.Errorf("/%s has localized names %v", c.Name, *c.NameLocalizations)
		}
		if c.DescriptionLocalizations == nil || len(*c.DescriptionLocalizations) != len(locales) {
			t.Errorf("/%s description localizations %v", c.Name, c.DescriptionLocalizations)
			continue
		}
		for _, loc := range locales {
			if tr := (*c.DescriptionLocalizations)[loc]; tr == "" || tr == c.Description {
				t.Errorf("/%s in %s: %q", c.Name, loc, tr)
			}
		}
		for _, o := range c.Options {
			if len(o.DescriptionLocalizations) != len(locales) || o.NameLocalizations != nil {
				t.Errorf("/%s %s: %+v", c.Name, o.Name, o)
			}
			for _, ch := range o.Choices {
				// Model ids and language names ("Italiano") are the same in
				// every locale.
				if len(ch.NameLocalizations) != len(locales) && o.Name != "model" && c.Name != "language" {
					t.Errorf("/%s %s choice %q: %v", c.Name, o.Name, ch.Name, ch.NameLocalizations)
				}
			}
		}
	}
	desc := func(cmd string) map[discordgo.Locale]string { return *byName[cmd].DescriptionLocalizations }
	option := func(cmd, name string) *discordgo.ApplicationCommandOption {
		for _, o := range byName[cmd].Options {
			if o.Name == name {
				return o
			}
		}
		t.Fatalf("/%s has no option %s", cmd, name)
		return nil
	}
	for _, c := range []struct{ got, want string }{
		{desc("balance")[discordgo.Italian], "I tuoi crediti e gli ultimi movimenti"},
		{desc("balance")[discordgo.ChineseCN], "你的积分和最近的变动"},
		{desc("history")[discordgo.SpanishES], "Tus últimas tareas"},
		{desc("models")[discordgo.PortugueseBR], "Os modelos e seus preços"},
		{desc("cancel")[discordgo.Russian], "Отменить задание, которое ещё ждёт (кредиты вернутся)"},
		{option("job", "job").DescriptionLocalizations[discordgo.Italian], "Il numero della richiesta"},
		{option("video", "prompt").DescriptionLocalizations[discordgo.ChineseCN], "视频的内容"},
		{option("video", "orientation").Choices[1].NameLocalizations[discordgo.Italian], "verticale"},
		{option("video", "orientation").Choices[0].NameLocalizations[discordgo.ChineseCN], "横屏"},
		{option("video", "duration").Choices[0].NameLocalizations[discordgo.Russian], "10 с"},
		{option("video", "duration").Choices[0].Name, "10 s"},
		{option("grant", "amount").DescriptionLocalizations[discordgo.Russian], "Кредиты (отрицательное число — списать)"},
		{desc("language")[discordgo.ChineseCN], "选择我使用的语言"},
		{option("language", "code").DescriptionLocalizations[discordgo.Italian], "Un codice di lingua: en, it, zh, es, pt, ru"},
		{option("language", "code").Choices[1].Name, "Italiano"},
		{option("language", "code").Choices[1].Value.(string), "it"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// Model choices are model ids, in every language.
	for _, ch := range option("video", "model").Choices {
		if ch.NameLocalizations != nil || ch.Name != ch.Value {
			t.Errorf("model choice %+v", ch)
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
