package discordtest

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestChannelMessagesAndDMs(t *testing.T) {
	srv := newServer(t, Options{})
	sess, _ := connect(t, srv, nil)
	srv.AddChannel(guildID, channelID)

	m, err := sess.ChannelMessageSendComplex(channelID, &discordgo.MessageSend{
		Content:         "<@" + alice.ID + "> your video is ready",
		AllowedMentions: &discordgo.MessageAllowedMentions{Users: []string{alice.ID}},
		Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Again", Style: discordgo.PrimaryButton, CustomID: "again:1"},
		}}},
		Files: []*discordgo.File{{Name: "v.mp4", ContentType: "video/mp4", Reader: strings.NewReader("mp4")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.ChannelMessages(channelID)
	if len(got) != 1 || got[0].ID != m.ID || !strings.Contains(got[0].AllowedMentions, alice.ID) ||
		!strings.Contains(got[0].Components, "again:1") || len(got[0].Files) != 1 || string(got[0].Files[0].Data) != "mp4" {
		t.Fatalf("channel messages = %+v", got)
	}
	// A reply to it, then an edit.
	if _, err := sess.ChannelMessageSendReply(channelID, "reply", m.Reference()); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.ChannelMessageEdit(channelID, m.ID, "edited"); err != nil {
		t.Fatal(err)
	}
	got = srv.ChannelMessages(channelID)
	if len(got) != 2 || got[0].Content != "edited" || got[0].Edits != 1 || !strings.Contains(got[1].Reference, m.ID) {
		t.Fatalf("after reply+edit = %+v", got)
	}
	// A button on that message reaches the bot with the message attached.
	b := srv.Button(guildID, channelID, alice, "again:1", m.ID)
	if b.Message == nil || b.Message.ID != m.ID || b.MessageComponentData().CustomID != "again:1" {
		t.Fatalf("button interaction = %+v", b)
	}

	dm, err := sess.UserChannelCreate(alice.ID)
	if err != nil || dm.Type != discordgo.ChannelTypeDM || dm.ID != srv.DMChannel(alice.ID) {
		t.Fatalf("DM channel = %+v, %v", dm, err)
	}
	if _, err := sess.ChannelMessageSend(dm.ID, "your video"); err != nil {
		t.Fatal(err)
	}
	if d := srv.DMs(alice.ID); len(d) != 1 || d[0].Content != "your video" {
		t.Fatalf("DMs = %+v", d)
	}
	if c, err := sess.Channel(channelID); err != nil || c.GuildID != guildID {
		t.Fatalf("GET channel = %+v, %v", c, err)
	}

	srv.DenyChannel(channelID)
	_, err = sess.ChannelMessageSend(channelID, "x")
	if re := restErr(t, err); re.Response.StatusCode != http.StatusForbidden || re.Message.Code != 50001 {
		t.Fatalf("denied channel: %v", err)
	}
	srv.DenyDM(alice.ID)
	_, err = sess.ChannelMessageSend(dm.ID, "x")
	if re := restErr(t, err); re.Message.Code != 50007 {
		t.Fatalf("denied DM: %v", err)
	}
	_, err = sess.ChannelMessageSend("400000000000000999", "x")
	if re := restErr(t, err); re.Message.Code != 10003 {
		t.Fatalf("unknown channel: %v", err)
	}
	_, err = sess.ChannelMessageSend(srv.DMChannel("200000000000000002"), "")
	if re := restErr(t, err); re.Message.Code != 50006 {
		t.Fatalf("empty message: %v", err)
	}
	_, err = sess.ChannelMessageSend(srv.DMChannel("200000000000000002"), strings.Repeat("a", 2001))
	if re := restErr(t, err); re.Message.Code != 50035 || !strings.Contains(string(re.ResponseBody), "BASE_TYPE_MAX_LENGTH") {
		t.Fatalf("long message: %v", err)
	}
	noViolations(t, srv)
}

func TestBulkOverwriteCommands(t *testing.T) {
	srv := newServer(t, Options{})
	sess, _ := connect(t, srv, nil)
	app := srv.Options().AppID
	cmds := []*discordgo.ApplicationCommand{
		{Name: "video", Description: "Make a video", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "prompt", Description: "What to show", Required: true},
			{Type: discordgo.ApplicationCommandOptionAttachment, Name: "image", Description: "Start frame"},
		}},
		{Name: "Animate", Type: discordgo.MessageApplicationCommand},
	}
	global, err := sess.ApplicationCommandBulkOverwrite(app, "", cmds)
	if err != nil || len(global) != 2 || global[0].ID == "" || global[1].Type != discordgo.MessageApplicationCommand {
		t.Fatalf("global = %+v, %v", global, err)
	}
	again, err := sess.ApplicationCommandBulkOverwrite(app, "", cmds)
	if err != nil || again[0].ID != global[0].ID {
		t.Fatalf("ids not stable: %+v, %v", again, err)
	}
	guild, err := sess.ApplicationCommandBulkOverwrite(app, guildID, cmds[:1])
	if err != nil || len(guild) != 1 || guild[0].GuildID != guildID {
		t.Fatalf("guild = %+v, %v", guild, err)
	}
	if len(srv.Commands("")) != 2 || len(srv.Commands(guildID)) != 1 {
		t.Fatalf("Commands: %d global, %d guild", len(srv.Commands("")), len(srv.Commands(guildID)))
	}
	listed, err := sess.ApplicationCommands(app, guildID)
	if err != nil || len(listed) != 1 {
		t.Fatalf("GET guild commands = %+v, %v", listed, err)
	}
	// The interaction carries the registered command id.
	if i := srv.SlashCommand(guildID, channelID, alice, "video", nil, nil); i.ApplicationCommandData().ID != guild[0].ID {
		t.Fatalf("command id %s, want %s", i.ApplicationCommandData().ID, guild[0].ID)
	}
	_, err = sess.ApplicationCommandBulkOverwrite(app, "", []*discordgo.ApplicationCommand{{Name: "Video", Description: "x"}})
	if re := restErr(t, err); re.Message.Code != 50035 {
		t.Fatalf("upper-case name: %v", err)
	}
	_, err = sess.ApplicationCommandBulkOverwrite("900000000000000009", "", cmds)
	if re := restErr(t, err); re.Response.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign application: %v", err)
	}
}

func TestMessageCommandModalButton(t *testing.T) {
	srv := newServer(t, Options{})
	sess, inter := connect(t, srv, nil)
	target := &discordgo.Message{Content: "look", Attachments: []*discordgo.MessageAttachment{ptr(srv.AddAttachment("a.png", "image/png", []byte("img")))}}
	srv.MessageCommand(guildID, channelID, alice, "Animate", target)
	ic := receive(t, inter)
	d := ic.ApplicationCommandData()
	if d.CommandType != discordgo.MessageApplicationCommand || d.Resolved.Messages[d.TargetID] == nil ||
		d.Resolved.Messages[d.TargetID].Attachments[0].Filename != "a.png" {
		t.Fatalf("message command data = %+v", d)
	}
	err := sess.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{CustomID: "animate:1", Title: "Animate", Components: []discordgo.MessageComponent{
			discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.TextInput{CustomID: "prompt", Label: "Prompt", Style: discordgo.TextInputShort, Required: true},
			}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := srv.Original(ic.ID); r.Type != 9 || !strings.Contains(r.Components, "prompt") {
		t.Fatalf("modal response = %+v", r)
	}
	srv.ModalSubmit(guildID, channelID, alice, "animate:1", map[string]string{"prompt": "make it move"})
	mc := receive(t, inter)
	md := mc.ModalSubmitData()
	row := md.Components[0].(*discordgo.ActionsRow)
	if md.CustomID != "animate:1" || row.Components[0].(*discordgo.TextInput).Value != "make it move" {
		t.Fatalf("modal submit = %+v", md)
	}
	if err := sess.InteractionRespond(mc.Interaction, &discordgo.InteractionResponse{Type: 5}); err != nil {
		t.Fatal(err)
	}
	// Buttons: type 7 updates the message the button is on.
	m, err := sess.FollowupMessageCreate(mc.Interaction, true, &discordgo.WebhookParams{Content: "pick", Components: []discordgo.MessageComponent{
		discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.Button{Label: "Go", CustomID: "go", Style: discordgo.SuccessButton}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv.Button(guildID, channelID, alice, "go", m.ID)
	bc := receive(t, inter)
	err = sess.InteractionRespond(bc.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage,
		Data: &discordgo.InteractionResponseData{Content: "going"}})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := srv.Original(bc.ID); r.Type != 7 || r.Content != "going" {
		t.Fatalf("update = %+v", r)
	}
	noViolations(t, srv)
	srv.ModalSubmit(guildID, channelID, alice, "never-shown", nil)
	receive(t, inter)
	if v := srv.Violations(); len(v) == 0 || !strings.Contains(v[0], "never-shown") {
		t.Fatalf("violations = %q", v)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCDN(t *testing.T) {
	srv := newServer(t, Options{})
	att := srv.AddAttachment("in put.png", "image/png", []byte("pixels"))
	client := &http.Client{Transport: srv.Transport()}
	get := func(u string) (int, string) {
		resp, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(att.URL); code != 200 || body != "pixels" {
		t.Fatalf("GET %s = %d %q", att.URL, code, body)
	}
	if code, _ := get(att.ProxyURL); code != 200 {
		t.Fatalf("proxy GET = %d", code)
	}
	if code, _ := get(strings.Split(att.URL, "?")[0]); code != 404 {
		t.Fatalf("unsigned GET = %d", code)
	}
	srv.ExpireAttachments()
	if code, _ := get(att.URL); code != 404 {
		t.Fatalf("expired GET = %d", code)
	}
}
