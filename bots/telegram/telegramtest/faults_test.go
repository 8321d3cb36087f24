package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

func TestTooManyRequests(t *testing.T) {
	s := newServer(t, Options{})
	b, _, _ := newClient(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	s.AddChat(42, 42)
	s.FailNext("sendMessage", 1, 429, 3)
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: "hi"})
	var tmr *bot.TooManyRequestsError
	if !errors.As(err, &tmr) || tmr.RetryAfter != 3 || !strings.Contains(tmr.Message, "Too Many Requests: retry after 3") {
		t.Fatalf("err = %v", err)
	}
	if len(s.Violations()) != 0 {
		t.Fatalf("violations before sending into the window: %v", s.Violations())
	}
	// Sending again inside the window is what Telegram punishes.
	_, err = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 42, Text: "hi"})
	if !errors.As(err, &tmr) || tmr.RetryAfter < 1 {
		t.Fatalf("err in window = %v", err)
	}
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], "429 window") {
		t.Errorf("violations = %v", v)
	}

	s.AddChat(43, 43)
	s.Throttle(43, 1)
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: 43, MessageID: 1, Text: "x"}); !errors.As(err, &tmr) || tmr.RetryAfter != 1 {
		t.Errorf("throttled edit: %v", err)
	}
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 44, Text: "other chat"}); errors.As(err, &tmr) {
		t.Errorf("another chat was throttled: %v", err)
	}

	s.FailNext("getFile", 2, 502, 0)
	for i := 0; i < 2; i++ {
		if _, err := b.GetFile(ctx, &bot.GetFileParams{FileID: "x"}); err == nil || !strings.Contains(err.Error(), "502") {
			t.Errorf("scripted 502: %v", err)
		}
	}
}

func TestBlockedUser(t *testing.T) {
	s := newServer(t, Options{})
	b, _, _ := newClient(t, s, bot.WithSkipGetMe())
	s.AddChat(42, 42)
	s.Block(42)
	_, err := b.SendMessage(context.Background(), &bot.SendMessageParams{ChatID: 42, Text: "hi"})
	if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "bot was blocked by the user") {
		t.Fatalf("err = %v", err)
	}
}

func TestDelay(t *testing.T) {
	s := newServer(t, Options{})
	s.SetDelay("getMe", 50*time.Millisecond)
	start := time.Now()
	if st, _ := raw(t, s, "getMe", nil); st != 200 {
		t.Fatalf("status %d", st)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Error("delay not applied")
	}
}

func TestSpecValidation(t *testing.T) {
	s := newServer(t, Options{})
	s.AddChat(42, 42)
	tests := []struct {
		name   string
		method string
		form   url.Values
		status int
		desc   string
	}{
		{"missing chat_id", "sendMessage", url.Values{"text": {"hi"}}, 400, "Bad Request: chat_id is required"},
		{"missing text", "sendMessage", url.Values{"chat_id": {"42"}}, 400, "Bad Request: text is required"},
		{"unknown method", "sendHologram", url.Values{"chat_id": {"42"}}, 404, "Not Found"},
		{"integer", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"x"}, "message_thread_id": {"abc"}}, 400, "message_thread_id must be of type Integer"},
		{"boolean", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"x"}, "protect_content": {"maybe"}}, 400, "protect_content"},
		{"markup not JSON", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"x"}, "reply_markup": {"{"}}, 400, "reply_markup"},
		{"markup is an array", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"x"}, "reply_markup": {"[]"}}, 400, "reply_markup"},
		{"text button in inline keyboard", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"x"}, "reply_markup": {`{"inline_keyboard":[[{"text":"a"}]]}`}}, 400, "Text buttons are unallowed"},
		{"entities not an array", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"x"}, "entities": {`{"type":"bold"}`}}, 400, "entities"},
		{"entity missing offset", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"x"}, "entities": {`[{"type":"bold","length":1}]`}}, 400, "offset is required"},
		{"bad scope", "setMyCommands", url.Values{"commands": {`[]`}, "scope": {`{"type":"nowhere"}`}}, 400, "scope"},
		{"good", "sendMessage", url.Values{"chat_id": {"42"}, "text": {"x"}, "reply_markup": {`{"remove_keyboard":true}`}}, 200, ""},
		{"case-insensitive method", "SENDMESSAGE", url.Values{"chat_id": {"42"}, "text": {"x"}}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, v := raw(t, s, tt.method, tt.form)
			desc, _ := v["description"].(string)
			if st != tt.status || !strings.Contains(desc, tt.desc) {
				t.Errorf("got %d %q, want %d %q", st, desc, tt.status, tt.desc)
			}
			if st != 200 && (v["ok"] != false || int(v["error_code"].(float64)) != st) {
				t.Errorf("error body = %v", v)
			}
		})
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations: %v", v)
	}

	// Unknown fields pass, as in Telegram, but are reported.
	if st, _ := raw(t, s, "sendMessage", url.Values{"chat_id": {"42"}, "text": {"x"}, "colour": {"red"}}); st != 200 {
		t.Errorf("unknown field: status %d", st)
	}
	if v := s.Violations(); len(v) != 1 || !strings.Contains(v[0], `unknown field "colour"`) {
		t.Errorf("violations = %v", v)
	}

	// Wrong token.
	resp, err := http.PostForm(s.URL+"/bot1:WRONG/getMe", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.Contains(string(body), `"Unauthorized"`) {
		t.Errorf("wrong token: %d %s", resp.StatusCode, body)
	}

	// JSON bodies and query strings are accepted too.
	resp, err = http.Post(s.URL+"/bot"+s.Token+"/sendMessage", "application/json", strings.NewReader(`{"chat_id":42,"text":"json","reply_parameters":{"message_id":1,"allow_sending_without_reply":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("JSON body: %d", resp.StatusCode)
	}
	resp, err = http.Get(s.URL + "/bot" + s.Token + "/sendMessage?chat_id=42&text=query")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("query string: %d", resp.StatusCode)
	}
}

func TestParseModes(t *testing.T) {
	tests := []struct {
		text, mode string
		ok         bool
		plain      string
	}{
		{"<b>bold</b> &amp; <i>it</i>", "HTML", true, "bold & it"},
		{"<b>open", "HTML", false, ""},
		{"1 < 2", "HTML", false, ""},
		{"<div>x</div>", "HTML", false, ""},
		{`<a href="https://x">x</a>`, "HTML", true, "x"},
		{`*bold* and \.`, "MarkdownV2", true, "bold and ."},
		{"Done.", "MarkdownV2", false, ""},
		{"*open", "MarkdownV2", false, ""},
		{"[link](https://example.com/a)", "MarkdownV2", true, "link"},
		{"`code.with.dots`", "MarkdownV2", true, "code.with.dots"},
		{"*bold* _it_", "Markdown", true, "bold it"},
		{"*open", "Markdown", false, ""},
		{"plain <b>", "", true, "plain <b>"},
	}
	for _, tt := range tests {
		plain, err := plainText(tt.text, tt.mode)
		if (err == nil) != tt.ok || (tt.ok && plain != tt.plain) {
			t.Errorf("plainText(%q, %s) = %q, %v", tt.text, tt.mode, plain, err)
		}
	}
}

func TestWebhookDelivery(t *testing.T) {
	s := newServer(t, Options{})
	var mu sync.Mutex
	var got []int64
	var secrets []string
	fail := true
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u models.Update
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &u); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		got = append(got, u.ID)
		secrets = append(secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		if fail {
			fail = false
			w.WriteHeader(500)
		}
	}))
	defer hook.Close()

	b, err := bot.New(s.Token, bot.WithServerURL(s.URL), bot.WithSkipGetMe())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: hook.URL + "/tg", SecretToken: "s3cr3t_-X"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: hook.URL, SecretToken: "bad secret!"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("bad secret accepted: %v", err)
	}
	if u, sec := s.Webhook(); u != hook.URL+"/tg" || sec != "s3cr3t_-X" {
		t.Errorf("Webhook() = %q %q", u, sec)
	}
	st, v := raw(t, s, "getUpdates", nil)
	if st != 409 || !strings.Contains(v["description"].(string), "webhook is active") {
		t.Errorf("getUpdates with webhook: %d %v", st, v)
	}

	id := s.SendText(42, 42, "hello")
	eventually(t, "redelivery", func() bool { return s.PendingUpdates() == 0 })
	mu.Lock()
	if len(got) != 2 || got[0] != id || got[1] != id || secrets[0] != "s3cr3t_-X" || secrets[1] != "s3cr3t_-X" {
		t.Errorf("deliveries = %v, secrets = %v", got, secrets)
	}
	mu.Unlock()
	info, err := b.GetWebhookInfo(ctx)
	if err != nil || info.URL != hook.URL+"/tg" || info.LastErrorDate == 0 || !strings.Contains(info.LastErrorMessage, "500") {
		t.Errorf("webhook info = %+v, %v", info, err)
	}

	s.Redeliver(id)
	eventually(t, "Redeliver", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })

	if st, err := s.PostUpdateRaw("forged", []byte(`{"update_id":1}`)); err != nil || st != 200 {
		t.Errorf("PostUpdateRaw = %d, %v", st, err)
	}

	if _, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{DropPendingUpdates: true}); err != nil {
		t.Fatal(err)
	}
	if st, _ := raw(t, s, "getUpdates", nil); st != 200 {
		t.Errorf("getUpdates after deleteWebhook: %d", st)
	}
}

// DeliverInOrder posts updates to the webhook in the order asked, new or
// already confirmed; getUpdates keeps update_id order.
func TestDeliverInOrder(t *testing.T) {
	s := newServer(t, Options{})
	a := s.SendText(42, 42, "a")
	b := s.SendText(42, 42, "b")
	c := s.SendText(42, 42, "c")
	s.DeliverInOrder(c, a)
	if st, v := raw(t, s, "getUpdates", url.Values{"timeout": {"0"}}); st != 200 || fmt.Sprint(updateIDs(v)) != fmt.Sprint([]int64{a, b, c}) {
		t.Fatalf("getUpdates = %d %v, want update_id order", st, v)
	}
	var mu sync.Mutex
	var got []int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var u models.Update
		json.NewDecoder(r.Body).Decode(&u)
		mu.Lock()
		got = append(got, u.ID)
		mu.Unlock()
	}))
	defer hook.Close()
	if st, _ := raw(t, s, "setWebhook", url.Values{"url": {hook.URL}}); st != 200 {
		t.Fatalf("setWebhook: %d", st)
	}
	posted := func(n int) []int64 {
		eventually(t, fmt.Sprint(n, " webhook posts"), func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= n })
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
	if p := posted(3); !slices.Equal(p, []int64{c, a, b}) {
		t.Fatalf("posted %v, want %v", p, []int64{c, a, b})
	}
	eventually(t, "confirmation", func() bool { return s.PendingUpdates() == 0 })
	s.DeliverInOrder(b, c, a)
	if p := posted(6); !slices.Equal(p[3:], []int64{b, c, a}) {
		t.Fatalf("posted again %v, want %v", p[3:], []int64{b, c, a})
	}
}

func updateIDs(v map[string]any) []int64 {
	var ids []int64
	res, _ := v["result"].([]any)
	for _, u := range res {
		m, _ := u.(map[string]any)
		id, _ := m["update_id"].(float64)
		ids = append(ids, int64(id))
	}
	return ids
}
