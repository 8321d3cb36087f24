package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
	"sorabot/core/provider/providertest"
	"sorabot/storage"
)

const tgToken = "777000111:AAFakeTelegramTestTokenForSoraBot"

type tgWorld struct {
	t    *testing.T
	dir  string
	emu  *providertest.Server
	fake *telegramtest.Server
	env  []string
	p    *prog
}

func newTGWorld(t *testing.T, protocol string, extra ...string) *tgWorld {
	t.Helper()
	return newTGWorldWith(t, telegramtest.Options{}, protocol, extra...)
}

// newTGWorldWith is newTGWorld with a fake Bot API configured by opt.
func newTGWorldWith(t *testing.T, opt telegramtest.Options, protocol string, extra ...string) *tgWorld {
	t.Helper()
	w := &tgWorld{t: t, dir: t.TempDir(), emu: newEmulator(t)}
	opt.Token = tgToken
	w.fake = telegramtest.New(opt)
	t.Cleanup(w.fake.Close)
	w.env = append(baseEnv(w.dir, w.emu, protocol),
		"TELEGRAM_TOKEN="+tgToken, "TELEGRAM_API_URL="+w.fake.URL, "SORABOT_STATUS_INTERVAL=100ms")
	w.env = append(w.env, extra...)
	return w
}

func (w *tgWorld) start() *tgWorld {
	w.p = startMain(w.t, w.env, "serve")
	return w
}

// waitMsg waits for a bot message in chat that matches.
func (w *tgWorld) waitMsg(chat int64, what string, match func(telegramtest.BotMessage) bool) telegramtest.BotMessage {
	w.t.Helper()
	m, ok := w.fake.WaitBotMessage(20*time.Second, chat, match)
	if !ok {
		var texts []string
		for _, m := range w.fake.BotMessages(chat) {
			texts = append(texts, fmt.Sprintf("[%s] %q", m.Kind, m.Text+m.Caption))
		}
		w.t.Fatalf("chat %d: no %s among:\n%s\nstderr:\n%s", chat, what, strings.Join(texts, "\n"), w.p.errOut.String())
	}
	return m
}

func (w *tgWorld) waitText(chat int64, sub string) telegramtest.BotMessage {
	w.t.Helper()
	return w.waitMsg(chat, fmt.Sprintf("text with %q", sub), func(m telegramtest.BotMessage) bool {
		return strings.Contains(m.Text, sub)
	})
}

func (w *tgWorld) waitVideo(chat int64) telegramtest.BotMessage {
	w.t.Helper()
	return w.waitMsg(chat, "video", func(m telegramtest.BotMessage) bool { return m.Kind == "video" })
}

// balance asks /balance and returns the first line of the answer.
func (w *tgWorld) balance(chat int64) string {
	w.t.Helper()
	before := len(w.fake.BotMessages(chat))
	w.fake.SendText(chat, chat, "/balance")
	var line string
	ok := waitFor(20*time.Second, func() bool {
		msgs := w.fake.BotMessages(chat)
		for _, m := range msgs[min(before, len(msgs)):] {
			first := strings.SplitN(m.Text, "\n", 2)[0]
			if m.Kind == "text" && strings.HasSuffix(first, " credits") {
				line = first
				return true
			}
		}
		return false
	})
	if !ok {
		w.t.Fatalf("chat %d: no answer to /balance\nstderr:\n%s", chat, w.p.errOut.String())
	}
	return line
}

func (w *tgWorld) noViolations() {
	w.t.Helper()
	if v := w.fake.Violations(); len(v) > 0 {
		w.t.Errorf("Bot API violations:\n%s", strings.Join(v, "\n"))
	}
}

func TestTelegramTextVideo(t *testing.T) {
	w := newTGWorld(t, "sorapro").start()
	const chat = 1001
	w.fake.SendText(chat, chat, "/video a cat surfing")
	v := w.waitVideo(chat)
	if v.Video == nil || v.Video.Size != int64(len(providertest.SampleMP4())) {
		t.Fatalf("video %+v", v.Video)
	}
	if v.Caption != "a cat surfing" || v.ReplyTo == 0 || !strings.Contains(v.ReplyMarkup, "repeat:1") {
		t.Errorf("video message caption %q reply %d markup %s", v.Caption, v.ReplyTo, v.ReplyMarkup)
	}
	w.waitText(chat, "✅ Job #1 done")
	if b := w.balance(chat); b != "400 credits" {
		t.Fatalf("balance %q", b)
	}
	if len(w.fake.Commands()) == 0 {
		t.Error("no setMyCommands")
	}
	// One status message, edited in place.
	status := 0
	for _, m := range w.fake.BotMessages(chat) {
		if strings.Contains(m.Text, "Job #1") {
			status++
		}
	}
	if status != 1 {
		t.Errorf("%d status messages for job 1", status)
	}
	// /job re-sends the finished video (by its Telegram file id).
	w.fake.SendText(chat, chat, "/job 1")
	again := w.waitMsg(chat, "a second video", func(m telegramtest.BotMessage) bool {
		return m.Kind == "video" && m.MessageID != v.MessageID
	})
	if again.VideoRef == "" && again.Video == nil {
		t.Errorf("re-sent video %+v", again)
	}
	w.noViolations()
}

func TestTelegramOptionsGroupsAndStoryboard(t *testing.T) {
	w := newTGWorld(t, "sorapro", "SORABOT_START_CREDITS=5000").start()
	const group, alice = -500, 2002
	w.fake.SendText(group, alice, "/video@SoraTestBot --portrait --15s a dog on a skateboard")
	w.waitVideo(group)
	w.fake.SendText(group, alice, "/video@SomeOtherBot not for us")
	w.fake.SendText(group, alice, "just chatting in the group")
	w.fake.SendText(alice, alice, "/storyboard\n5s A city at dusk\n5s A runner in the rain")
	w.waitVideo(alice)
	c := creates(w.emu)
	if len(c) != 2 {
		t.Fatalf("%d creates", len(c))
	}
	if c[0]["aspectRatio"] != "portrait" || c[0]["nFrames"] != "15" || c[0]["prompt"] != "a dog on a skateboard" {
		t.Errorf("options body %v", c[0])
	}
	if c[1]["model"] != "sora-2-pro-storyboard" {
		t.Errorf("storyboard body %v", c[1])
	}
	for _, m := range w.fake.BotMessages(group) {
		if strings.Contains(m.Text, "not for us") || strings.Contains(m.Text, "/video followed") {
			t.Errorf("the bot answered a message not meant for it: %q", m.Text)
		}
	}
	if b := w.balance(alice); b != fmt.Sprintf("%d credits", 5000-150-375) {
		t.Fatalf("balance %q", b)
	}
	w.noViolations()
}

func TestTelegramImages(t *testing.T) {
	addr := freeAddr(t)
	w := newTGWorld(t, "videocreate", "SORABOT_PUBLIC_URL=http://"+addr, "SORABOT_HTTP_ADDR="+addr).start()
	const chat = 3003
	// A photo with the command as caption.
	w.fake.SendPhoto(chat, chat, "/video make it dance", tinyPNG, "")
	w.waitText(chat, "✅ Job #1 done")
	// An image sent as a document.
	w.fake.SendDocument(chat, chat, "/video wave hello", "cat.png", "image/png", tinyPNG, "")
	w.waitText(chat, "✅ Job #2 done")
	// A reply to a message with a photo.
	w.fake.SendPhoto(chat, chat, "", tinyPNG, "")
	photoMsg := int64(0)
	for id := int64(1); id < 100; id++ {
		if m, ok := w.fake.UserMessage(chat, id); ok && len(m.Photo) > 0 && m.Caption == "" {
			photoMsg = id
		}
	}
	w.fake.SendReply(chat, chat, "/video spin around", photoMsg)
	w.waitText(chat, "✅ Job #3 done")
	// An album with the command as caption of its first picture.
	w.fake.SendPhoto(chat, chat, "/video the two of them meet", tinyPNG, "album-1")
	w.fake.SendPhoto(chat, chat, "", tinyPNG, "album-1")
	w.waitText(chat, "✅ Job #4 done")
	c := creates(w.emu)
	if len(c) != 4 {
		t.Fatalf("%d creates", len(c))
	}
	for i, want := range []int{1, 1, 1, 2} {
		imgs, _ := c[i]["images"].([]any)
		if len(imgs) != want {
			t.Errorf("job %d: %d images, want %d", i+1, len(imgs), want)
		}
		for _, u := range imgs {
			if strings.Contains(fmt.Sprint(u), "/file/bot") || strings.Contains(fmt.Sprint(u), tgToken) {
				t.Fatalf("a Telegram file URL reached the provider: %v", u)
			}
		}
	}
	for _, r := range w.emu.Requests() {
		if strings.Contains(string(r.Raw), tgToken) {
			t.Fatal("the bot token reached the provider")
		}
	}
	w.noViolations()
}

func TestTelegramInvalidInputs(t *testing.T) {
	w := newTGWorld(t, "sorapro").start()
	const chat = 4004
	for _, text := range []string{
		"/video",
		"/video --model=sora-9 a cat",
		"/video --sideways a cat",
		"/video --portrait --hd " + strings.Repeat("x", 2001),
		"/storyboard 3s too short",
		"/storyboard\n5s A city\nno duration here",
		"/cancel 99",
		"/job 12345",
		"/frobnicate",
	} {
		w.fake.SendText(chat, chat, text)
	}
	w.fake.SendDocument(chat, chat, "/video animate this", "cat.png", "image/png", []byte("GIF89a not really a png"), "")
	w.fake.SendPhoto(chat, chat, "/video --pro --hd --15s expensive", tinyPNG, "")
	deadline := time.Now().Add(20 * time.Second)
	for {
		n := 0
		for _, m := range w.fake.BotMessages(chat) {
			if strings.HasPrefix(m.Text, "⚠️") || strings.Contains(m.Text, "don't know") {
				n++
			}
		}
		if n >= 11 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d error replies; messages: %+v", n, w.fake.BotMessages(chat))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b := w.balance(chat); b != "500 credits" {
		t.Fatalf("balance %q after invalid input", b)
	}
	if n := len(creates(w.emu)); n != 0 {
		t.Fatalf("%d creates", n)
	}
	w.noViolations()
}

func TestTelegramFailuresRefund(t *testing.T) {
	w := newTGWorld(t, "sorapro").start()
	const chat = 5005
	w.emu.FailNextTasks(1, providertest.ReasonContentPolicy)
	w.fake.SendText(chat, chat, "/video something flagged")
	w.waitText(chat, "refunded")
	if b := w.balance(chat); b != "500 credits" {
		t.Fatalf("balance %q after a failed job", b)
	}
	// Transient provider errors while polling do not fail the job.
	w.emu.FailPolls(3, providertest.Fault{Status: 500})
	w.emu.FailPolls(1, providertest.Fault{Status: 429, RetryAfter: 1})
	w.fake.SendText(chat, chat, "/video resilient")
	w.waitVideo(chat)
	if b := w.balance(chat); b != "400 credits" {
		t.Fatalf("balance %q", b)
	}
	// Not enough credits: a clear message, nothing charged.
	w.fake.SendText(chat, chat, "/video --pro --hd --15s too expensive")
	w.waitText(chat, "1575")
	w.noViolations()
}

func TestTelegram429Flood(t *testing.T) {
	w := newTGWorld(t, "sorapro").start()
	const chat = 6006
	w.fake.Throttle(chat, 2)
	w.fake.FailNext("editMessageText", 3, 429, 1)
	w.fake.SendText(chat, chat, "/video patient cat")
	w.waitVideo(chat)
	w.waitText(chat, "✅ Job #1 done")
	w.noViolations()
}

func TestTelegramTooBigVideoIsALink(t *testing.T) {
	// The fake stands for the public Bot API here: 50 MB uploads.
	w := newTGWorld(t, "sorapro", "TELEGRAM_MAX_UPLOAD=50MB").start()
	const chat = 7007
	w.emu.SetResultSize(51 << 20)
	w.fake.SendText(chat, chat, "/video a very long cat")
	m := w.waitText(chat, "/files/")
	if !strings.Contains(m.ReplyMarkup, "repeat:1") {
		t.Errorf("link message markup %s", m.ReplyMarkup)
	}
	if len(w.fake.CallsTo("sendVideo")) != 0 {
		t.Error("a 51 MB video was uploaded")
	}
	if b := w.balance(chat); b != "400 credits" {
		t.Fatalf("balance %q: a link delivery is charged", b)
	}
}

func TestTelegramRedeliveredUpdateAndRepeat(t *testing.T) {
	w := newTGWorld(t, "sorapro").start()
	const chat, other = 8008, 8009
	up := w.fake.SendText(chat, chat, "/video once only")
	v := w.waitVideo(chat)
	w.fake.Redeliver(up)
	if b := w.balance(chat); b != "400 credits" {
		t.Fatalf("balance %q after a redelivered update", b)
	}
	if n := w.emu.Creates(); n != 1 {
		t.Fatalf("%d creates after a redelivered update", n)
	}
	// Someone else cannot press the button; the requester can, and pays again.
	w.fake.PressButton(chat, other, v.MessageID, "repeat:1")
	w.fake.PressButton(chat, chat, v.MessageID, "repeat:1")
	w.waitText(chat, "✅ Job #2 done")
	if b := w.balance(chat); b != "300 credits" {
		t.Fatalf("balance %q after repeat", b)
	}
	answers := w.fake.CallsTo("answerCallbackQuery")
	if len(answers) != 2 || !strings.Contains(answers[0].Params["text"]+answers[1].Params["text"], "Only the person") {
		t.Errorf("callback answers %+v", answers)
	}
	w.noViolations()
}

func TestTelegramBlockedUserDoesNotRetryForever(t *testing.T) {
	w := newTGWorld(t, "sorapro").start()
	const chat = 9009
	w.fake.SendText(chat, chat, "/video nobody will see this")
	w.waitText(chat, "Job #1")
	w.fake.Block(chat)
	// The job fails and is refunded, then its status message says so: the
	// edit (refused too while the chat is blocked) comes after the refund.
	refunded := func() bool {
		for _, c := range w.fake.Calls() {
			if (c.Method == "editMessageText" || c.Method == "sendMessage") && c.Params["chat_id"] == fmt.Sprint(chat) &&
				strings.Contains(c.Params["text"], "refunded") {
				return true
			}
		}
		return false
	}
	if !waitFor(20*time.Second, refunded) {
		t.Fatalf("no refund shown; calls to sendVideo: %d\nstderr:\n%s", len(w.fake.CallsTo("sendVideo")), w.p.errOut.String())
	}
	w.fake.Unblock(chat)
	if b := w.balance(chat); b != "500 credits" {
		t.Fatalf("balance %q: an undeliverable video is refunded", b)
	}
	if n := len(w.fake.CallsTo("sendVideo")); n != 1 {
		t.Fatalf("%d sendVideo calls to a blocked chat", n)
	}
}

func TestTelegramAdmin(t *testing.T) {
	w := newTGWorld(t, "sorapro", "SORABOT_ADMINS=telegram:1111").start()
	const admin, user = 1111, 2222
	w.fake.SendText(user, user, "/grant telegram:2222 1000")
	w.waitText(user, "Only admins")
	w.fake.SendText(user, user, "/stats")
	w.waitText(user, "⛔")
	w.fake.SendText(admin, admin, "/grant telegram:2222 250")
	w.waitText(admin, "750")
	if b := w.balance(user); b != "750 credits" {
		t.Fatalf("balance %q", b)
	}
	w.fake.SendText(admin, admin, "/stats")
	w.waitText(admin, "Users")
}

func TestTelegramWebhook(t *testing.T) {
	addr := freeAddr(t)
	w := newTGWorld(t, "sorapro", "SORABOT_PUBLIC_URL=http://"+addr, "SORABOT_HTTP_ADDR="+addr).start()
	const chat = 1212
	deadline := time.Now().Add(10 * time.Second)
	for {
		if u, _ := w.fake.Webhook(); u != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no webhook set")
		}
		time.Sleep(10 * time.Millisecond)
	}
	url, secret := w.fake.Webhook()
	if url != "http://"+addr+"/telegram/webhook" || secret == "" {
		t.Fatalf("webhook %q secret %q", url, secret)
	}
	w.fake.SendText(chat, chat, "/video over the webhook")
	w.waitVideo(chat)
	// An update the bot could not handle (the picture could not be fetched)
	// is answered with 500: Telegram delivers it again and it goes through.
	w.fake.FailNext("getFile", 1, 502, 0)
	w.fake.SendPhoto(chat, chat, "/video after a hiccup", tinyPNG, "")
	w.waitText(chat, "✅ Job #2 done")
	if n := w.emu.Creates(); n != 2 {
		t.Fatalf("%d creates after a redelivered webhook update", n)
	}
	if !strings.Contains(w.p.errOut.String(), "Telegram will deliver it again") {
		t.Errorf("the failed update was not answered with an error:\n%s", w.p.errOut.String())
	}
	post := func(secret, body string) int {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	forged := fmt.Sprintf(`{"update_id":99999,"message":{"message_id":1,"date":1,"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,"first_name":"M"},"text":"/video forged"}}`, chat, chat)
	if code := post("wrong-secret", forged); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: HTTP %d", code)
	}
	if code := post(secret, "{not json"); code != http.StatusBadRequest {
		t.Fatalf("garbage: HTTP %d", code)
	}
	if n := w.emu.Creates(); n != 2 {
		t.Fatalf("%d creates: a forged update was accepted", n)
	}
	w.noViolations()
}

// TestTelegramKill9 kills the real binary mid-job (commands just received,
// jobs at the provider) while users talk to it, and restarts it: every user
// gets exactly one video, charged once.
func TestTelegramKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildBinary(t)
	w := newTGWorld(t, "sorapro")
	w.emu.SetDuration(1500 * time.Millisecond)
	env := append(os.Environ(), w.env...)
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		cmd.Env, cmd.Dir = env, w.dir
		cmd.Stdout, cmd.Stderr = &syncBuf{}, &syncBuf{}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	users := []int64{101, 102, 103, 104, 105, 106}
	cmd := run()
	for i, u := range users {
		w.fake.SendText(u, u, fmt.Sprintf("/video user %d wants a video", u))
		if i == 2 {
			waitFor(10*time.Second, func() bool { return w.emu.Creates() > 0 })
			cmd.Process.Kill()
			cmd.Wait()
			cmd = run()
		}
	}
	// Killed again while the provider works on the jobs. (A kill in the
	// instant between Telegram taking a video and the job being marked
	// delivered would send that video again after the restart: delivery is
	// at least once. The console's kill test covers kills while delivering.)
	waitFor(10*time.Second, func() bool { return w.emu.Creates() >= 4 })
	cmd.Process.Kill()
	cmd.Wait()
	cmd = run()
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	for _, u := range users {
		w.fake.WaitBotMessage(30*time.Second, u, func(m telegramtest.BotMessage) bool {
			return m.Kind == "video" || strings.Contains(m.Text, "refunded")
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
	for _, u := range users {
		videos := 0
		for _, m := range w.fake.BotMessages(u) {
			if m.Kind == "video" {
				videos++
			}
		}
		jobs, _ := db.History(context.Background(), fmt.Sprintf("telegram:%d", u), 0)
		a, _ := db.Account(context.Background(), fmt.Sprintf("telegram:%d", u))
		switch {
		case len(jobs) != 1:
			t.Errorf("user %d has %d jobs", u, len(jobs))
		case videos == 1 && a.Balance != 400, videos == 0 && a.Balance != 500, videos > 1:
			t.Errorf("user %d: %d videos, balance %d (job %s %s)", u, videos, a.Balance, jobs[0].ID, jobs[0].State)
		}
	}
}

// TestTelegramMaxUpload: TELEGRAM_MAX_UPLOAD decides what is uploaded and
// what goes as a link; unset, a self-hosted Bot API server takes 2000 MB.
func TestTelegramMaxUpload(t *testing.T) {
	t.Run("local Bot API server", func(t *testing.T) {
		w := newTGWorldWith(t, telegramtest.Options{MaxUpload: 2000 << 20}, "sorapro").start()
		const chat = 1414
		w.emu.SetResultSize(51 << 20)
		w.fake.SendText(chat, chat, "/video a long cat")
		if v := w.waitVideo(chat); v.Video == nil || v.Video.Size != 51<<20 {
			t.Fatalf("video %+v, want a 51 MB upload", v.Video)
		}
		w.noViolations()
	})
	t.Run("configured", func(t *testing.T) {
		w := newTGWorld(t, "sorapro", "TELEGRAM_MAX_UPLOAD=300KB").start()
		const chat = 1415
		w.emu.SetResultSize(400 << 10)
		w.fake.SendText(chat, chat, "/video over the limit")
		w.waitText(chat, "/files/")
		w.waitText(chat, "✅ Job #1 done")
		if n := len(w.fake.CallsTo("sendVideo")); n != 0 {
			t.Fatalf("%d sendVideo calls for a video over TELEGRAM_MAX_UPLOAD", n)
		}
		w.emu.SetResultSize(200 << 10)
		w.fake.SendText(chat, chat, "/video under the limit")
		if v := w.waitVideo(chat); v.Video == nil || v.Video.Size != 200<<10 {
			t.Fatalf("video %+v, want a 200 KB upload", v.Video)
		}
		w.noViolations()
	})
}

// pngOf is a valid w×h PNG of one colour: pictures that differ.
func pngOf(w, h int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// TestTelegramAlbumLongPolling: over long polling an album is one request
// too; with more pictures than the model takes, the first one is used and
// the status message says so.
func TestTelegramAlbumLongPolling(t *testing.T) {
	w := newTGWorld(t, "sorapro").start()
	const chat = 1313
	first, second := pngOf(2, 2, color.RGBA{R: 255, A: 255}), pngOf(3, 3, color.RGBA{B: 255, A: 255})
	w.fake.SendPhoto(chat, chat, "/video the two of them", first, "album-lp")
	w.fake.SendPhoto(chat, chat, "", second, "album-lp")
	w.waitVideo(chat)
	w.waitText(chat, "✅ Job #1 done")
	if b := w.balance(chat); b != "400 credits" {
		t.Fatalf("balance %q", b)
	}
	c := creates(w.emu)
	if len(c) != 1 {
		t.Fatalf("%d creates for one album", len(c))
	}
	if got, want := fmt.Sprint(c[0]["imageData"]), "data:image/png;base64,"+base64.StdEncoding.EncodeToString(first); got != want {
		t.Errorf("the provider got %.60s..., want the album's first picture", got)
	}
	var status []string
	for _, call := range w.fake.CallsTo("sendMessage") {
		if strings.Contains(call.Params["text"], "Job #1") {
			status = append(status, call.Params["text"])
		}
	}
	if len(status) != 1 || !strings.Contains(status[0], "takes one image: using the first of the 2 you sent") {
		t.Errorf("status messages %q, want one that says the first picture is used", status)
	}
	// The album's updates are confirmed by the getUpdates after it was handled.
	if !waitFor(20*time.Second, func() bool { return w.fake.PendingUpdates() == 0 }) {
		t.Fatalf("%d updates left unconfirmed", w.fake.PendingUpdates())
	}
	w.noViolations()
}

// TestTelegramAlbumKill9: an album whose parts arrive in one order, then
// (after a kill -9) again in another, is one job charged once.
func TestTelegramAlbumKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildBinary(t)
	addr := freeAddr(t)
	// Over a webhook the parts reach the bot one by one, in the order the
	// fake posts them.
	w := newTGWorld(t, "sorapro", "SORABOT_PUBLIC_URL=http://"+addr, "SORABOT_HTTP_ADDR="+addr)
	const chat = 1616
	var ids []int64
	for i, c := range []color.RGBA{{R: 255, A: 255}, {G: 255, A: 255}, {B: 255, A: 255}} {
		caption := ""
		if i == 0 {
			caption = "/video all three of them"
		}
		ids = append(ids, w.fake.SendPhoto(chat, chat, caption, pngOf(2, 2, c), "album-k9"))
	}
	w.fake.DeliverInOrder(ids[2], ids[0], ids[1])
	env := append(os.Environ(), w.env...)
	run := func() (*exec.Cmd, *syncBuf) {
		cmd := exec.Command(bin, "serve")
		stderr := &syncBuf{}
		cmd.Env, cmd.Dir = env, w.dir
		cmd.Stdout, cmd.Stderr = &syncBuf{}, stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, stderr
	}
	cmd, stderr := run()
	if _, ok := w.fake.WaitBotMessage(30*time.Second, chat, func(m telegramtest.BotMessage) bool { return strings.Contains(m.Text, "Job #1") }); !ok {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no status message for the album\nstderr:\n%s", stderr.String())
	}
	cmd.Process.Kill()
	cmd.Wait()

	// Telegram delivers the album again; this time in another order.
	w.fake.DeliverInOrder(ids[1], ids[2], ids[0])
	cmd, stderr = run()
	if !waitFor(30*time.Second, func() bool { return w.fake.PendingUpdates() == 0 }) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the album was not delivered again\nstderr:\n%s", stderr.String())
	}
	// A clean stop waits for the album being gathered to be handled.
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("stop: %v\nstderr:\n%s", err, stderr.String())
	}

	db, err := storage.Open(filepath.Join(w.dir, "data", "sorabot.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	user := fmt.Sprintf("telegram:%d", chat)
	jobs, _ := db.History(context.Background(), user, 0)
	a, _ := db.Account(context.Background(), user)
	if len(jobs) != 1 {
		t.Fatalf("%d jobs for one album (balance %d)", len(jobs), a.Balance)
	}
	if want := 500 - jobs[0].Price; a.Balance != want && !(jobs[0].State == core.Failed && a.Balance == 500) {
		t.Errorf("balance %d, job %s %s: want one charge (%d)", a.Balance, jobs[0].ID, jobs[0].State, want)
	}
	if n := w.emu.Creates(); n > 1 {
		t.Errorf("%d creates for one album", n)
	}
}
