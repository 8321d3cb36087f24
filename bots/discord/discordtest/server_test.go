package discordtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

const testToken = "test-token"

var alice = User{ID: "200000000000000001", Username: "alice"}

const (
	guildID   = "300000000000000001"
	channelID = "400000000000000001"
)

func newServer(t *testing.T, opt Options) *Server {
	t.Helper()
	if opt.Token == "" {
		opt.Token = testToken
	}
	srv := New(opt)
	t.Cleanup(srv.Close)
	return srv
}

// connect opens a real discordgo session against the fake and returns the
// channel its InteractionCreate handler feeds.
func connect(t *testing.T, srv *Server, tweak func(*discordgo.Session)) (*discordgo.Session, <-chan *discordgo.InteractionCreate) {
	t.Helper()
	sess, err := discordgo.New("Bot " + testToken)
	if err != nil {
		t.Fatal(err)
	}
	sess.ShouldReconnectOnError = false
	srv.Apply(sess)
	if tweak != nil {
		tweak(sess)
	}
	ready := make(chan *discordgo.Ready, 1)
	inter := make(chan *discordgo.InteractionCreate, 16)
	sess.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { ready <- r })
	sess.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) { inter <- i })
	if err := sess.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = sess.Close() })
	select {
	case r := <-ready:
		if r.User == nil || r.User.ID != srv.Options().BotUserID || r.SessionID == "" {
			t.Fatalf("READY = %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no READY")
	}
	return sess, inter
}

func receive(t *testing.T, ch <-chan *discordgo.InteractionCreate) *discordgo.InteractionCreate {
	t.Helper()
	select {
	case i := <-ch:
		return i
	case <-time.After(5 * time.Second):
		t.Fatal("no INTERACTION_CREATE")
		return nil
	}
}

func restErr(t *testing.T, err error) *discordgo.RESTError {
	t.Helper()
	var re *discordgo.RESTError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a RESTError", err, err)
	}
	return re
}

func noViolations(t *testing.T, srv *Server) {
	t.Helper()
	if v := srv.Violations(); len(v) > 0 {
		t.Errorf("violations: %q", v)
	}
}

func TestSlashCommandDeferEditFiles(t *testing.T) {
	srv := newServer(t, Options{AttachmentSizeLimit: 3 << 20})
	sess, inter := connect(t, srv, nil)

	att := srv.AddAttachment("cat.png", "image/png", []byte("png-bytes"))
	sent := srv.SlashCommand(guildID, channelID, alice, "video", []*discordgo.ApplicationCommandInteractionDataOption{
		{Name: "prompt", Type: discordgo.ApplicationCommandOptionString, Value: "a cat"},
		{Name: "image", Type: discordgo.ApplicationCommandOptionAttachment, Value: att.ID},
	}, &discordgo.ApplicationCommandInteractionDataResolved{
		Attachments: map[string]*discordgo.MessageAttachment{att.ID: &att},
	})
	ic := receive(t, inter)
	if ic.ID != sent.ID || ic.Token == "" || ic.Member == nil || ic.Member.User.ID != alice.ID || ic.GuildID != guildID {
		t.Fatalf("interaction = %+v", ic.Interaction)
	}
	data := ic.ApplicationCommandData()
	if data.Name != "video" || data.GetOption("prompt").StringValue() != "a cat" || data.Resolved.Attachments[att.ID].URL != att.URL {
		t.Fatalf("data = %+v", data)
	}
	var raw struct {
		AttachmentSizeLimit int64 `json:"attachment_size_limit"`
	}
	if err := json.Unmarshal(srv.InteractionPayload(sent), &raw); err != nil || raw.AttachmentSizeLimit != 3<<20 {
		t.Fatalf("attachment_size_limit = %d, %v", raw.AttachmentSizeLimit, err)
	}

	if err := sess.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != nil {
		t.Fatalf("defer: %v", err)
	}
	if r, ok := srv.Original(ic.ID); !ok || r.Type != 5 || r.Flags&flagLoading == 0 {
		t.Fatalf("after defer: %+v %v", r, ok)
	}
	content := "Queued: a cat"
	if _, err := sess.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{Content: &content}); err != nil {
		t.Fatalf("edit: %v", err)
	}
	if r, ok := srv.WaitOriginal(time.Second, ic.ID, func(r Response) bool { return r.Content == content }); !ok || r.Flags&flagLoading != 0 || r.Edits != 1 {
		t.Fatalf("after edit: %+v", r)
	}

	video := bytes.Repeat([]byte("v"), 2<<20) // over the 1 MiB kept in memory
	done := "Done"
	msg, err := sess.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{Content: &done,
		Files: []*discordgo.File{{Name: "video.mp4", ContentType: "video/mp4", Reader: bytes.NewReader(video)}}})
	if err != nil {
		t.Fatalf("edit with file: %v", err)
	}
	if len(msg.Attachments) != 1 || msg.Attachments[0].Filename != "video.mp4" || !strings.HasPrefix(msg.Attachments[0].URL, "https://cdn.discordapp.com/attachments/") {
		t.Fatalf("returned message attachments = %+v", msg.Attachments)
	}
	r, _ := srv.Original(ic.ID)
	sum := sha256.Sum256(video)
	if r.Content != "Done" || len(r.Files) != 1 || r.Files[0].Size != int64(len(video)) || r.Files[0].SHA256 != hex.EncodeToString(sum[:]) ||
		r.Files[0].Data != nil || r.Files[0].ContentType != "video/mp4" || r.Files[0].Field != "files[0]" || r.Edits != 2 {
		t.Fatalf("original = %+v", r)
	}

	big := bytes.Repeat([]byte("x"), 3<<20+1)
	_, err = sess.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{
		Files: []*discordgo.File{{Name: "big.mp4", ContentType: "video/mp4", Reader: bytes.NewReader(big)}}})
	if re := restErr(t, err); re.Response.StatusCode != http.StatusRequestEntityTooLarge || re.Message == nil || re.Message.Code != 40005 {
		t.Fatalf("oversized: %v", err)
	}

	srv.ExpireTokens()
	_, err = sess.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{Content: &content})
	if re := restErr(t, err); re.Response.StatusCode != http.StatusUnauthorized || re.Message.Code != 50027 {
		t.Fatalf("expired token: %v", err)
	}
	noViolations(t, srv)
}

func TestUncompressedGatewayAndFollowup(t *testing.T) {
	srv := newServer(t, Options{})
	sess, inter := connect(t, srv, func(s *discordgo.Session) { s.Compress = false; s.Identify.Compress = false })
	sent := srv.SlashCommand("", "", alice, "balance", nil, nil)
	ic := receive(t, inter)
	if ic.User == nil || ic.User.ID != alice.ID || ic.GuildID != "" || ic.ChannelID != srv.DMChannel(alice.ID) {
		t.Fatalf("DM interaction = %+v", ic.Interaction)
	}
	err := sess.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "10 credits", Flags: discordgo.MessageFlagsEphemeral},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := srv.Original(sent.ID); r.Type != 4 || r.Content != "10 credits" || r.Flags&flagEphemeral == 0 {
		t.Fatalf("original = %+v", r)
	}
	m, err := sess.FollowupMessageCreate(ic.Interaction, true, &discordgo.WebhookParams{Content: "more"})
	if err != nil || m.Content != "more" {
		t.Fatalf("followup: %v %+v", err, m)
	}
	if f := srv.Followups(sent.ID); len(f) != 1 || f[0].Content != "more" {
		t.Fatalf("followups = %+v", f)
	}
	// A second initial response is refused.
	err = sess.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
	if re := restErr(t, err); re.Message.Code != 40060 {
		t.Fatalf("second ack: %v", err)
	}
	if v := srv.Violations(); len(v) != 1 || !strings.Contains(v[0], "acknowledged twice") {
		t.Fatalf("violations = %q", v)
	}
}

func TestAckDeadline(t *testing.T) {
	srv := newServer(t, Options{AckTimeout: 150 * time.Millisecond})
	sess, inter := connect(t, srv, nil)
	srv.SlashCommand(guildID, channelID, alice, "video", nil, nil)
	ic := receive(t, inter)
	if !srv.waitFor(5*time.Second, func() bool { return len(srv.violations) > 0 }) {
		t.Fatal("no violation for a missed deadline")
	}
	err := sess.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
	if re := restErr(t, err); re.Response.StatusCode != http.StatusNotFound || re.Message.Code != 10062 {
		t.Fatalf("late ack: %v", err)
	}
	if v := srv.Violations(); len(v) != 1 || !strings.Contains(v[0], "not acknowledged") {
		t.Fatalf("violations = %q", v)
	}

	// Redelivery: the bot must not answer the same interaction twice.
	srv2 := newServer(t, Options{})
	sess2, inter2 := connect(t, srv2, nil)
	first := srv2.SlashCommand(guildID, channelID, alice, "video", nil, nil)
	ic1 := receive(t, inter2)
	if err := sess2.InteractionRespond(ic1.Interaction, &discordgo.InteractionResponse{Type: 5}); err != nil {
		t.Fatal(err)
	}
	srv2.Redeliver(first)
	ic2 := receive(t, inter2)
	if ic2.ID != first.ID || ic2.Token != first.Token {
		t.Fatalf("redelivered %s, want %s", ic2.ID, first.ID)
	}
	err = sess2.InteractionRespond(ic2.Interaction, &discordgo.InteractionResponse{Type: 5})
	if re := restErr(t, err); re.Message.Code != 40060 {
		t.Fatalf("ack of redelivery: %v", err)
	}
}

func TestRateLimitRetry(t *testing.T) {
	srv := newServer(t, Options{})
	sess, _ := connect(t, srv, nil)
	srv.AddChannel(guildID, channelID)
	srv.FailNext("POST /channels/"+channelID+"/messages", 1, http.StatusTooManyRequests, 0.2)
	if _, err := sess.ChannelMessageSend(channelID, "hello"); err != nil {
		t.Fatalf("send after 429: %v", err)
	}
	var statuses []int
	for _, c := range srv.Calls() {
		if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/messages") {
			statuses = append(statuses, c.Status)
		}
	}
	if len(statuses) != 2 || statuses[0] != 429 || statuses[1] != 200 {
		t.Fatalf("statuses = %v", statuses)
	}
	if n := len(srv.ChannelMessages(channelID)); n != 1 {
		t.Fatalf("%d messages", n)
	}
	// discordgo honours X-RateLimit-Remaining: 7 sends in a 5/s bucket wait, never 429.
	for range 7 {
		if _, err := sess.ChannelMessageSend(channelID, "again"); err != nil {
			t.Fatal(err)
		}
	}
	noViolations(t, srv)
}

func TestRateLimitViolation(t *testing.T) {
	srv := newServer(t, Options{Token: testToken})
	srv.AddChannel(guildID, channelID)
	srv.FailNext("POST /channels", 1, http.StatusTooManyRequests, 5)
	post := func() *http.Response {
		req, _ := http.NewRequest(http.MethodPost, "https://discord.com/api/v9/channels/"+channelID+"/messages", strings.NewReader(`{"content":"x"}`))
		req.Header.Set("Authorization", "Bot "+testToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Transport().RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	r1 := post()
	if r1.StatusCode != 429 || r1.Header.Get("Retry-After") != "5" || r1.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("first: %d %v", r1.StatusCode, r1.Header)
	}
	if r2 := post(); r2.StatusCode != 429 {
		t.Fatalf("second: %d", r2.StatusCode)
	}
	if v := srv.Violations(); len(v) != 1 || !strings.Contains(v[0], "rate limited") {
		t.Fatalf("violations = %q", v)
	}
}

func rawCall(t *testing.T, srv *Server, method, path, auth, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return resp.StatusCode, out
}

func TestSpecValidation(t *testing.T) {
	srv := newServer(t, Options{})
	srv.AddChannel(guildID, channelID)
	bot := "Bot " + testToken
	tests := []struct {
		name, method, path, auth, body string
		status                         int
		code                           float64
		errPath                        string // key that must appear in errors
	}{
		{"unknown route", "GET", "/api/v9/nope/at/all", bot, "", 404, 0, ""},
		{"unknown version", "GET", "/api/v7/gateway", bot, "", 404, 0, ""},
		{"wrong method", "DELETE", "/api/v9/gateway", bot, "", 405, 0, ""},
		{"no token", "GET", "/api/v9/users/@me", "", "", 401, 0, ""},
		{"wrong token", "GET", "/api/v10/users/@me", "Bot nope", "", 401, 0, ""},
		{"gateway is public", "GET", "/api/v10/gateway", "", "", 200, -1, ""},
		{"required property missing", "PUT", "/api/v9/applications/" + srv.Options().AppID + "/commands", bot, `[{"description":"no name"}]`, 400, 50035, "0"},
		{"callback type missing", "POST", "/api/v9/interactions/1/tok/callback", "", `{"data":{"content":"x"}}`, 400, 50035, "type"},
		{"wrong JSON type", "POST", "/api/v9/channels/" + channelID + "/messages", bot, `{"content":5}`, 400, 50035, "content"},
		{"nested wrong type", "POST", "/api/v9/channels/" + channelID + "/messages", bot, `{"content":"x","message_reference":{"message_id":7}}`, 400, 50035, "message_reference"},
		{"bad snowflake", "GET", "/api/v9/channels/general", bot, "", 400, 50035, "channel_id"},
		{"invalid JSON", "POST", "/api/v9/channels/" + channelID + "/messages", bot, `{"content":`, 400, 50109, ""},
		{"button custom_id too long", "POST", "/api/v9/channels/" + channelID + "/messages", bot,
			`{"components":[{"type":1,"components":[{"type":2,"style":1,"label":"x","custom_id":"` + strings.Repeat("c", 101) + `"}]}]}`, 400, 50035, "components"},
		{"ok", "POST", "/api/v9/channels/" + channelID + "/messages", bot, `{"content":"fine"}`, 200, -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := rawCall(t, srv, tt.method, tt.path, tt.auth, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d (%v)", status, tt.status, out)
			}
			if tt.code >= 0 && out["code"] != tt.code {
				t.Fatalf("code %v, want %v (%v)", out["code"], tt.code, out)
			}
			if tt.status == 404 && out["message"] != "404: Not Found" {
				t.Fatalf("404 body %v", out)
			}
			if tt.errPath != "" {
				errs, _ := out["errors"].(map[string]any)
				if _, ok := errs[tt.errPath]; !ok || out["message"] != "Invalid Form Body" {
					t.Fatalf("errors %v lack %q", out, tt.errPath)
				}
			}
		})
	}
}

func TestHTTPInteractions(t *testing.T) {
	srv := newServer(t, Options{})
	var sess *discordgo.Session
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !discordgo.VerifyInteraction(r, srv.PublicKey()) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var i discordgo.Interaction
		if err := json.NewDecoder(r.Body).Decode(&i); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if i.Type == discordgo.InteractionPing {
			_, _ = w.Write([]byte(`{"type":1}`))
			return
		}
		_ = json.NewEncoder(w).Encode(discordgo.InteractionResponse{Type: 5})
		go func() {
			c := "later"
			_, _ = sess.InteractionResponseEdit(&i, &discordgo.WebhookEdit{Content: &c})
		}()
	})
	endpoint := &http.Server{Handler: h}
	ln := listen(t)
	go func() { _ = endpoint.Serve(ln) }()
	t.Cleanup(func() { _ = endpoint.Close() })

	sess, _ = discordgo.New("Bot " + testToken)
	srv.Apply(sess)
	if err := srv.SetInteractionsEndpoint("http://" + ln.Addr().String()); err != nil {
		t.Fatal(err)
	}
	i := srv.SlashCommand(guildID, channelID, alice, "video", nil, nil)
	if r, ok := srv.WaitOriginal(5*time.Second, i.ID, func(r Response) bool { return r.Content == "later" }); !ok || r.Type != 5 {
		t.Fatalf("original = %+v, %v; violations %q", r, ok, srv.Violations())
	}
	noViolations(t, srv)
}

func TestCallbackWithFileAndScriptedFailures(t *testing.T) {
	srv := newServer(t, Options{MaxRequestBytes: 1 << 20})
	sess, inter := connect(t, srv, nil)
	srv.SlashCommand(guildID, channelID, alice, "video", nil, nil)
	ic := receive(t, inter)
	// A 502 is retried by discordgo; the answer then carries the file.
	srv.FailNext("POST /interactions", 1, http.StatusBadGateway, 0)
	err := sess.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "here", Files: []*discordgo.File{{Name: "a.txt", Reader: strings.NewReader("abc")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := srv.Original(ic.ID)
	if r.Type != 4 || r.Content != "here" || len(r.Files) != 1 || string(r.Files[0].Data) != "abc" || r.Files[0].ContentType != "application/octet-stream" {
		t.Fatalf("original = %+v", r)
	}
	// A whole request over MaxRequestBytes is refused with 40005.
	_, err = sess.FollowupMessageCreate(ic.Interaction, true, &discordgo.WebhookParams{Files: []*discordgo.File{
		{Name: "1.bin", Reader: bytes.NewReader(make([]byte, 600<<10))},
		{Name: "2.bin", Reader: bytes.NewReader(make([]byte, 600<<10))},
	}})
	if re := restErr(t, err); re.Message.Code != 40005 {
		t.Fatalf("oversized request: %v", err)
	}
	// Followups before any acknowledgement are refused.
	srv.SlashCommand(guildID, channelID, alice, "video", nil, nil)
	ic2 := receive(t, inter)
	_, err = sess.FollowupMessageCreate(ic2.Interaction, true, &discordgo.WebhookParams{Content: "x"})
	if re := restErr(t, err); re.Message.Code != 10015 {
		t.Fatalf("followup before ack: %v", err)
	}
	if err := sess.InteractionRespond(ic2.Interaction, &discordgo.InteractionResponse{Type: 5}); err != nil {
		t.Fatal(err)
	}
	empty := ""
	_, err = sess.InteractionResponseEdit(ic2.Interaction, &discordgo.WebhookEdit{Content: &empty})
	if re := restErr(t, err); re.Message.Code != 50006 {
		t.Fatalf("empty edit: %v", err)
	}
	noViolations(t, srv)
}

// With AnswerLag, Discord does not know the HTTP answer at once: an edit of
// @original sent before it or right after it answers 404 Unknown Webhook
// (10015); once the lag has passed the same edit goes through.
func TestHTTPInteractionsAnswerLag(t *testing.T) {
	for _, tt := range []struct {
		name string
		lag  time.Duration
	}{{"long", time.Hour}, {"short", 50 * time.Millisecond}} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, Options{AnswerLag: tt.lag})
			sess, _ := discordgo.New("Bot " + testToken)
			srv.Apply(sess)
			before := make(chan error, 1)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !discordgo.VerifyInteraction(r, srv.PublicKey()) {
					http.Error(w, "bad signature", http.StatusUnauthorized)
					return
				}
				var i discordgo.Interaction
				if err := json.NewDecoder(r.Body).Decode(&i); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				if i.Type == discordgo.InteractionPing {
					_, _ = w.Write([]byte(`{"type":1}`))
					return
				}
				c := "too early"
				_, err := sess.InteractionResponseEdit(&i, &discordgo.WebhookEdit{Content: &c})
				before <- err
				_ = json.NewEncoder(w).Encode(discordgo.InteractionResponse{Type: 5})
			})
			endpoint := &http.Server{Handler: h}
			ln := listen(t)
			go func() { _ = endpoint.Serve(ln) }()
			t.Cleanup(func() { _ = endpoint.Close() })
			if err := srv.SetInteractionsEndpoint("http://" + ln.Addr().String()); err != nil {
				t.Fatal(err)
			}
			i := srv.SlashCommand(guildID, channelID, alice, "video", nil, nil)
			if re := restErr(t, <-before); re.Response.StatusCode != http.StatusNotFound || re.Message.Code != 10015 {
				t.Fatalf("edit before the answer: %v", re)
			}
			if _, ok := srv.WaitOriginal(5*time.Second, i.ID, nil); !ok {
				t.Fatal("the deferral was not taken")
			}
			c := "later"
			edit := func() error {
				_, err := sess.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &c})
				return err
			}
			err := edit()
			if tt.lag == time.Hour {
				if re := restErr(t, err); re.Message.Code != 10015 {
					t.Fatalf("edit right after the answer: %v", err)
				}
				noViolations(t, srv)
				return
			}
			deadline := time.Now().Add(5 * time.Second)
			for err != nil && time.Now().Before(deadline) {
				if re := restErr(t, err); re.Message.Code != 10015 {
					t.Fatalf("edit after the answer: %v", err)
				}
				err = edit()
			}
			if err != nil {
				t.Fatalf("edit past the lag: %v", err)
			}
			if r, _ := srv.Original(i.ID); r.Content != "later" {
				t.Fatalf("original = %+v", r)
			}
			noViolations(t, srv)
		})
	}
}
