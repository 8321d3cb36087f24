package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/discord/discordtest"
	"sorabot/core/provider/providertest"
	"sorabot/storage"
)

const dcToken = "discord-test-token.abc.def"

type dcWorld struct {
	t    *testing.T
	dir  string
	emu  *providertest.Server
	fake *discordtest.Server
	env  []string
	p    *prog
}

func newDCWorld(t *testing.T, opt discordtest.Options, extra ...string) *dcWorld {
	t.Helper()
	w := &dcWorld{t: t, dir: t.TempDir(), emu: newEmulator(t)}
	opt.Token = dcToken
	w.fake = discordtest.New(opt)
	t.Cleanup(w.fake.Close)
	w.env = append(baseEnv(w.dir, w.emu, "sorapro"),
		"DISCORD_TOKEN="+dcToken, "DISCORD_API_URL="+w.fake.URL, "DISCORD_GUILD_ID=100", "SORABOT_STATUS_INTERVAL=100ms")
	w.env = append(w.env, extra...)
	return w
}

func (w *dcWorld) start() *dcWorld {
	w.p = startMain(w.t, w.env, "serve")
	if !waitFor(20*time.Second, func() bool { return len(w.fake.Commands("100")) > 0 }) {
		var calls []string
		for _, c := range w.fake.Calls() {
			calls = append(calls, fmt.Sprintf("%s %s → %d %s", c.Method, c.Path, c.Status, c.Body))
		}
		select {
		case err := <-w.p.done:
			w.t.Logf("program ended: %v", err)
		default:
		}
		w.t.Fatalf("commands not registered\n%s\ncalls:\n%s\nviolations: %v", w.p.errOut.String(), strings.Join(calls, "\n"), w.fake.Violations())
	}
	return w
}

var alice = discordtest.User{ID: "200", Username: "alice"}
var bob = discordtest.User{ID: "201", Username: "bob"}

func strOpt(name, v string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: v}
}

func (w *dcWorld) video(u discordtest.User, channel string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	guild := "100"
	if channel == "" {
		guild = ""
	}
	return w.fake.SlashCommand(guild, channel, u, "video", opts, nil)
}

// original waits for the interaction's original response to match.
func (w *dcWorld) original(i *discordgo.Interaction, what string, match func(discordtest.Response) bool) discordtest.Response {
	w.t.Helper()
	r, ok := w.fake.WaitOriginal(20*time.Second, i.ID, match)
	if !ok {
		cur, _ := w.fake.Original(i.ID)
		w.t.Fatalf("interaction %s: no %s; now %+v\nfollowups %+v\nstderr:\n%s", i.ID, what, cur, w.fake.Followups(i.ID), w.p.errOut.String())
	}
	return r
}

func (w *dcWorld) videoDone(i *discordgo.Interaction) discordtest.Response {
	w.t.Helper()
	return w.original(i, "video", func(r discordtest.Response) bool { return len(r.Files) > 0 })
}

func (w *dcWorld) ephemeral(i *discordgo.Interaction, sub string) {
	w.t.Helper()
	ok := waitFor(20*time.Second, func() bool {
		if r, ok := w.fake.Original(i.ID); ok && r.Flags&64 != 0 && strings.Contains(r.Content, sub) {
			return true
		}
		for _, f := range w.fake.Followups(i.ID) {
			if strings.Contains(f.Content, sub) && f.Flags&64 != 0 {
				return true
			}
		}
		return false
	})
	if !ok {
		r, _ := w.fake.Original(i.ID)
		w.t.Fatalf("interaction %s: no private %q; original %+v followups %+v", i.ID, sub, r, w.fake.Followups(i.ID))
	}
}

func (w *dcWorld) balance(u discordtest.User) string {
	w.t.Helper()
	i := w.fake.SlashCommand("100", "300", u, "balance", nil, nil)
	r := w.original(i, "balance", func(r discordtest.Response) bool { return strings.Contains(r.Content, " credits") })
	return strings.SplitN(r.Content, "\n", 2)[0]
}

func (w *dcWorld) noViolations() {
	w.t.Helper()
	if v := w.fake.Violations(); len(v) > 0 {
		w.t.Errorf("Discord API violations:\n%s", strings.Join(v, "\n"))
	}
}

func TestDiscordRegistrationAndTextVideo(t *testing.T) {
	w := newDCWorld(t, discordtest.Options{}).start()
	names := map[string]*discordgo.ApplicationCommand{}
	for _, c := range w.fake.Commands("100") {
		names[c.Name] = c
	}
	for _, n := range []string{"video", "storyboard", "balance", "history", "models", "cancel", "grant", "Animate"} {
		if names[n] == nil {
			t.Errorf("command %s not registered", n)
		}
	}
	if g := names["grant"]; g == nil || g.DefaultMemberPermissions == nil || *g.DefaultMemberPermissions != discordgo.PermissionAdministrator {
		t.Errorf("/grant is not hidden from non-administrators")
	}
	if a := names["Animate"]; a == nil || a.Type != discordgo.MessageApplicationCommand {
		t.Errorf("Animate is not a message command")
	}
	if len(w.fake.Commands("")) != 0 {
		t.Errorf("commands registered globally with DISCORD_GUILD_ID set")
	}

	i := w.video(alice, "300", strOpt("prompt", "a cat surfing"))
	r := w.videoDone(i)
	if r.Files[0].Size != int64(len(providertest.SampleMP4())) || !strings.Contains(r.Components, "repeat:1") ||
		!strings.Contains(r.Content, "a cat surfing") {
		t.Fatalf("original response %+v", r)
	}
	if b := w.balance(alice); b != "400 credits" {
		t.Fatalf("balance %q", b)
	}
	// In a DM too.
	d := w.video(bob, "", strOpt("prompt", "a dog in a DM"))
	w.videoDone(d)
	w.noViolations()
}

func TestDiscordAttachmentStoryboardAndAnimate(t *testing.T) {
	w := newDCWorld(t, discordtest.Options{}, "SORABOT_START_CREDITS=5000", "SORABOT_USER_RATE=1000").start()
	att := w.fake.AddAttachment("cat.png", "image/png", tinyPNG)
	i := w.fake.SlashCommand("100", "300", alice, "video",
		[]*discordgo.ApplicationCommandInteractionDataOption{strOpt("prompt", "make it dance"),
			{Name: "image", Type: discordgo.ApplicationCommandOptionAttachment, Value: att.ID},
			strOpt("orientation", "portrait")},
		&discordgo.ApplicationCommandInteractionDataResolved{Attachments: map[string]*discordgo.MessageAttachment{att.ID: &att}})
	w.videoDone(i)

	s := w.fake.SlashCommand("100", "300", alice, "storyboard", []*discordgo.ApplicationCommandInteractionDataOption{
		strOpt("shots", "5s A city at dusk | 5s A runner in the rain")}, nil)
	w.videoDone(s)

	// Without shots, a modal asks for them.
	m := w.fake.SlashCommand("100", "300", alice, "storyboard", nil, nil)
	w.original(m, "modal", func(r discordtest.Response) bool { return r.Type == 9 })
	ms := w.fake.ModalSubmit("100", "300", alice, "storyboard:", map[string]string{"shots": "10s A quiet harbor\n5s Gulls take off"})
	w.videoDone(ms)

	// The message command turns a message's picture into a video.
	pic := w.fake.AddAttachment("photo.jpg", "image/png", tinyPNG)
	target := &discordgo.Message{ID: "777", ChannelID: "300", Content: "look", Author: &discordgo.User{ID: bob.ID},
		Attachments: []*discordgo.MessageAttachment{&pic}}
	a := w.fake.MessageCommand("100", "300", alice, "Animate", target)
	modal := w.original(a, "modal", func(r discordtest.Response) bool { return r.Type == 9 })
	if !strings.Contains(string(modal.Data), "animate:"+a.ID) {
		t.Fatalf("modal %s", modal.Data)
	}
	as := w.fake.ModalSubmit("100", "300", alice, "animate:"+a.ID, map[string]string{"prompt": "the cat jumps"})
	w.videoDone(as)

	c := creates(w.emu)
	if len(c) != 4 {
		t.Fatalf("%d creates", len(c))
	}
	if c[0]["model"] != "sora-2-image-to-video" || c[0]["aspectRatio"] != "portrait" || !strings.HasPrefix(fmt.Sprint(c[0]["imageData"]), "data:image/png;base64,") {
		t.Errorf("attachment body %v", c[0])
	}
	if c[1]["model"] != "sora-2-pro-storyboard" || c[2]["nFrames"] != "15" {
		t.Errorf("storyboard bodies %v %v", c[1], c[2])
	}
	if c[3]["model"] != "sora-2-image-to-video" || c[3]["prompt"] != "the cat jumps" {
		t.Errorf("animate body %v", c[3])
	}
	w.noViolations()
}

func TestDiscordInvalidInputsArePrivateAndFree(t *testing.T) {
	w := newDCWorld(t, discordtest.Options{}).start()
	w.ephemeral(w.video(alice, "300", strOpt("prompt", "   ")), "prompt")
	w.ephemeral(w.video(alice, "300", strOpt("prompt", "x"), strOpt("model", "sora-9")), "unavailable")
	w.ephemeral(w.video(alice, "300", strOpt("prompt", strings.Repeat("x", 2001))), "2000")
	txt := w.fake.AddAttachment("notes.txt", "text/plain", []byte("hello"))
	w.ephemeral(w.fake.SlashCommand("100", "300", alice, "video",
		[]*discordgo.ApplicationCommandInteractionDataOption{strOpt("prompt", "animate"),
			{Name: "image", Type: discordgo.ApplicationCommandOptionAttachment, Value: txt.ID}},
		&discordgo.ApplicationCommandInteractionDataResolved{Attachments: map[string]*discordgo.MessageAttachment{txt.ID: &txt}}), "not a picture")
	fake := w.fake.AddAttachment("fake.png", "image/png", []byte("GIF89a not a png"))
	w.ephemeral(w.fake.SlashCommand("100", "300", alice, "video",
		[]*discordgo.ApplicationCommandInteractionDataOption{strOpt("prompt", "animate"),
			{Name: "image", Type: discordgo.ApplicationCommandOptionAttachment, Value: fake.ID}},
		&discordgo.ApplicationCommandInteractionDataResolved{Attachments: map[string]*discordgo.MessageAttachment{fake.ID: &fake}}), "PNG, JPEG or WebP")
	w.ephemeral(w.fake.SlashCommand("100", "300", alice, "storyboard", []*discordgo.ApplicationCommandInteractionDataOption{
		strOpt("shots", "3s too short")}, nil), "add up")
	w.ephemeral(w.fake.MessageCommand("100", "300", alice, "Animate", &discordgo.Message{ID: "5", ChannelID: "300", Content: "no picture"}), "no picture")
	// Not enough credits: private, nothing charged.
	w.ephemeral(w.video(alice, "300", strOpt("prompt", "x"), &discordgo.ApplicationCommandInteractionDataOption{
		Name: "pro", Type: discordgo.ApplicationCommandOptionBoolean, Value: true}, strOpt("quality", "high"),
		&discordgo.ApplicationCommandInteractionDataOption{Name: "duration", Type: discordgo.ApplicationCommandOptionInteger, Value: 15}), "1575")
	if b := w.balance(alice); b != "500 credits" {
		t.Fatalf("balance %q", b)
	}
	if n := len(creates(w.emu)); n != 0 {
		t.Fatalf("%d creates", n)
	}
	w.noViolations()
}

func TestDiscordFailureRefundAndRedelivery(t *testing.T) {
	w := newDCWorld(t, discordtest.Options{}).start()
	w.emu.FailNextTasks(1, providertest.ReasonContentPolicy)
	i := w.video(alice, "300", strOpt("prompt", "flagged"))
	w.original(i, "failure", func(r discordtest.Response) bool { return strings.Contains(r.Content, "refunded") })
	if b := w.balance(alice); b != "500 credits" {
		t.Fatalf("balance %q", b)
	}
	ok := w.video(alice, "300", strOpt("prompt", "fine"))
	w.videoDone(ok)
	w.fake.Redeliver(ok)
	if b := w.balance(alice); b != "400 credits" {
		t.Fatalf("balance %q after a redelivered interaction", b)
	}
	if n := w.emu.Creates(); n != 2 {
		t.Fatalf("%d creates", n)
	}
}

func TestDiscordPastTheToken(t *testing.T) {
	w := newDCWorld(t, discordtest.Options{}).start()
	w.emu.SetDuration(1500 * time.Millisecond)
	// The token expires while the video is made: a channel message mentioning the user.
	i := w.video(alice, "300", strOpt("prompt", "a slow cat"))
	w.original(i, "queued", func(r discordtest.Response) bool { return strings.Contains(r.Content, "Job #1") })
	w.fake.ExpireTokens()
	m, ok := w.fake.WaitChannelMessage(20*time.Second, "300", func(m discordtest.ChannelMessage) bool { return len(m.Files) > 0 })
	if !ok || !strings.Contains(m.Content, "<@200>") || !strings.Contains(m.AllowedMentions, "200") {
		t.Fatalf("channel delivery %+v", m)
	}
	// The channel is not writable either: a direct message.
	w.fake.AddChannel("100", "301")
	w.fake.DenyChannel("301")
	j := w.video(bob, "301", strOpt("prompt", "a secret dog"))
	w.original(j, "queued", func(r discordtest.Response) bool { return strings.Contains(r.Content, "Job #2") })
	w.fake.ExpireTokens()
	if _, ok := w.fake.WaitDM(20*time.Second, bob.ID, func(m discordtest.ChannelMessage) bool { return len(m.Files) > 0 }); !ok {
		t.Fatalf("no DM delivery; stderr:\n%s", w.p.errOut.String())
	}
	if err := w.p.stop(); err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(filepath.Join(w.dir, "data", "sorabot.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for id, want := range map[string]string{"1": "channel", "2": "dm"} {
		j, err := db.Job(context.Background(), id)
		if err != nil || j.DeliveredVia != want {
			t.Errorf("job %s delivered via %q, want %q (%v)", id, j.DeliveredVia, want, err)
		}
	}
}

func TestDiscordTooBigVideoIsALink(t *testing.T) {
	w := newDCWorld(t, discordtest.Options{}).start()
	w.emu.SetResultSize(11 << 20)
	i := w.video(alice, "300", strOpt("prompt", "a big cat"))
	r := w.original(i, "link", func(r discordtest.Response) bool { return strings.Contains(r.Content, "/files/") })
	if len(r.Files) != 0 {
		t.Fatalf("an 11 MiB file was attached: %+v", r.Files)
	}
	if b := w.balance(alice); b != "400 credits" {
		t.Fatalf("balance %q", b)
	}
}

func TestDiscordRepeatAndAdmin(t *testing.T) {
	w := newDCWorld(t, discordtest.Options{}, "SORABOT_ADMINS=discord:999").start()
	i := w.video(alice, "300", strOpt("prompt", "again and again"))
	w.videoDone(i)
	w.ephemeral(w.fake.Button("100", "300", bob, "repeat:1", ""), "Only the person")
	again := w.fake.Button("100", "300", alice, "repeat:1", "")
	w.videoDone(again)
	if b := w.balance(alice); b != "300 credits" {
		t.Fatalf("balance %q after repeat", b)
	}
	w.ephemeral(w.fake.SlashCommand("100", "300", alice, "models", nil, nil), "sora-2-text-to-video")
	w.ephemeral(w.fake.SlashCommand("100", "300", alice, "help", nil, nil), "/video")
	h := w.fake.SlashCommand("100", "300", alice, "history", nil, nil)
	w.original(h, "history", func(r discordtest.Response) bool { return strings.Contains(r.Content, "#2") && r.Flags&64 != 0 })
	c := w.fake.SlashCommand("100", "300", bob, "cancel", []*discordgo.ApplicationCommandInteractionDataOption{strOpt("job", "1")}, nil)
	w.original(c, "refusal", func(r discordtest.Response) bool { return strings.Contains(r.Content, "no job 1") })
	userOpt := &discordgo.ApplicationCommandInteractionDataOption{Name: "user", Type: discordgo.ApplicationCommandOptionUser, Value: alice.ID}
	amount := &discordgo.ApplicationCommandInteractionDataOption{Name: "amount", Type: discordgo.ApplicationCommandOptionInteger, Value: 700}
	w.ephemeral(w.fake.SlashCommand("100", "300", bob, "grant", []*discordgo.ApplicationCommandInteractionDataOption{userOpt, amount}, nil), "Only admins")
	g := w.fake.SlashCommand("100", "300", discordtest.User{ID: "999", Username: "root"}, "grant",
		[]*discordgo.ApplicationCommandInteractionDataOption{userOpt, amount}, nil)
	w.original(g, "grant", func(r discordtest.Response) bool { return strings.Contains(r.Content, "1000") })
	if b := w.balance(alice); b != "1000 credits" {
		t.Fatalf("balance %q after grant", b)
	}
}

func TestDiscordHTTPInteractions(t *testing.T) {
	addr := freeAddr(t)
	fakeOpt := discordtest.Options{}
	w := newDCWorld(t, fakeOpt)
	w.env = append(w.env, "SORABOT_HTTP_ADDR="+addr, "SORABOT_PUBLIC_URL=http://"+addr,
		"DISCORD_PUBLIC_KEY="+hex.EncodeToString(w.fake.PublicKey()), "DISCORD_APP_ID="+w.fake.Options().AppID)
	w.start()
	endpoint := "http://" + addr + "/discord/interactions"
	if err := w.fake.SetInteractionsEndpoint(endpoint); err != nil {
		t.Fatalf("Discord would refuse the endpoint: %v", err)
	}
	i := w.video(alice, "300", strOpt("prompt", "over HTTP"))
	w.videoDone(i)
	// A forged request is refused.
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(string(w.fake.InteractionPayload(i))))
	req.Header.Set("X-Signature-Ed25519", strings.Repeat("00", 64))
	req.Header.Set("X-Signature-Timestamp", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad signature: HTTP %d", resp.StatusCode)
	}
	if n := w.emu.Creates(); n != 1 {
		t.Fatalf("%d creates", n)
	}
	w.noViolations()
}

// Over HTTP interactions Discord may not know the deferral yet when the
// next edit of @original arrives (404 Unknown Webhook, 10015): the accepted
// text, the answers to private commands, the video and a failure's text
// still arrive, in the original response.
func TestDiscordHTTPInteractionsUnknownWebhook(t *testing.T) {
	addr := freeAddr(t)
	w := newDCWorld(t, discordtest.Options{AnswerLag: 700 * time.Millisecond})
	w.env = append(w.env, "SORABOT_HTTP_ADDR="+addr, "SORABOT_PUBLIC_URL=http://"+addr,
		"DISCORD_PUBLIC_KEY="+hex.EncodeToString(w.fake.PublicKey()), "DISCORD_APP_ID="+w.fake.Options().AppID)
	w.start()
	if err := w.fake.SetInteractionsEndpoint("http://" + addr + "/discord/interactions"); err != nil {
		t.Fatalf("Discord would refuse the endpoint: %v", err)
	}
	i := w.video(alice, "300", strOpt("prompt", "over HTTP, quickly"))
	w.videoDone(i)
	if b := w.balance(alice); b != "400 credits" {
		t.Fatalf("balance %q", b)
	}
	w.emu.FailNextTasks(1, providertest.ReasonContentPolicy)
	f := w.video(alice, "300", strOpt("prompt", "flagged"))
	w.original(f, "failure", func(r discordtest.Response) bool { return strings.Contains(r.Content, "refunded") })
	unknown, accepted := 0, 0
	for _, c := range w.fake.Calls() {
		if c.Method != http.MethodPatch || !strings.HasSuffix(c.Path, "/messages/@original") {
			continue
		}
		if c.Status == http.StatusNotFound {
			unknown++
		}
		if c.Status == http.StatusOK && strings.Contains(string(c.Body), "credits, balance") {
			accepted++
		}
	}
	if unknown == 0 || accepted != 2 {
		t.Fatalf("%d edits answered 10015, %d accepted texts shown (want some, and 2)", unknown, accepted)
	}
	if ms := w.fake.ChannelMessages("300"); len(ms) != 0 {
		t.Fatalf("delivered as channel messages instead of in the original response: %+v", ms)
	}
	w.noViolations()
}

// TestDiscordKill9 kills the real binary while jobs are at the provider and
// restarts it: every user gets one video, charged once.
func TestDiscordKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildBinary(t)
	w := newDCWorld(t, discordtest.Options{})
	w.emu.SetDuration(1500 * time.Millisecond)
	env := append(os.Environ(), w.env...)
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		cmd.Env, cmd.Dir = env, w.dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if !w.fake.WaitReady(20 * time.Second) {
			t.Fatal("no gateway session")
		}
		return cmd
	}
	cmd := run()
	users := []discordtest.User{{ID: "501"}, {ID: "502"}, {ID: "503"}, {ID: "504"}}
	var inters []*discordgo.Interaction
	for _, u := range users {
		inters = append(inters, w.video(u, "300", strOpt("prompt", "user "+u.ID)))
	}
	waitFor(20*time.Second, func() bool { return w.emu.Creates() >= len(users) })
	cmd.Process.Kill()
	cmd.Wait()
	cmd = run()
	for _, i := range inters {
		w.fake.WaitOriginal(30*time.Second, i.ID, func(r discordtest.Response) bool {
			return len(r.Files) > 0 || strings.Contains(r.Content, "refunded")
		})
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	db, err := storage.Open(filepath.Join(w.dir, "data", "sorabot.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	for n, u := range users {
		r, _ := w.fake.Original(inters[n].ID)
		a, _ := db.Account(context.Background(), "discord:"+u.ID)
		jobs, _ := db.History(context.Background(), "discord:"+u.ID, 0)
		if len(jobs) != 1 || (len(r.Files) == 1) != (a.Balance == 400) || len(r.Files) > 1 {
			t.Errorf("user %s: %d jobs, %d files, balance %d", u.ID, len(jobs), len(r.Files), a.Balance)
		}
	}
}
