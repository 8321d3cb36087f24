package discord

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/discord/discordtest"
)

// The interactions endpoint is mounted before Run starts: interactions that
// arrive before and while Run starts are served without a data race (run
// with -race), and once Run has returned they are refused with 503 instead
// of starting work nobody waits for.
func TestInteractionsWhileRunStarts(t *testing.T) {
	h := newHarness(t, discordtest.Options{})
	help := func(r discordtest.Response) bool { return strings.Contains(r.Content, "/video") }
	before := h.fake.SlashCommand("", "", alice, "help", nil, nil)
	h.original(t, before.ID, "help before Run", help)

	// The same interaction again, straight into the handler while Run
	// starts: no network in between that would order the two for the race
	// detector.
	payload := h.fake.InteractionPayload(before)
	req := httptest.NewRequest(http.MethodPost, "/discord/interactions", bytes.NewReader(payload))
	sig, ts := h.fake.Sign(payload)
	req.Header.Set("X-Signature-Ed25519", sig)
	req.Header.Set("X-Signature-Timestamp", ts)
	handler := h.bot.InteractionsHandler()
	answered := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		answered <- rec
	}()
	stop := h.run(t)
	rec := <-answered
	var resp discordgo.InteractionResponse
	err := json.Unmarshal(rec.Body.Bytes(), &resp)
	answer := resp.Type == discordgo.InteractionResponseChannelMessageWithSource && resp.Data != nil && strings.Contains(resp.Data.Content, "/video")
	deferred := resp.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource
	if rec.Code != http.StatusOK || err != nil || !(answer || deferred) {
		t.Fatalf("help while Run starts: HTTP %d %s", rec.Code, rec.Body)
	}

	deadline := time.Now().Add(10 * time.Second)
	for len(h.fake.Commands("")) == 0 && time.Now().Before(deadline) {
		h.fake.WaitOriginal(100*time.Millisecond, "none", nil) // wakes on any change at the fake
	}
	if len(h.fake.Commands("")) == 0 {
		t.Fatalf("commands not registered; logs %s", h.logs)
	}
	stop()
	if code := h.post(t, payload); code != http.StatusServiceUnavailable {
		t.Fatalf("interaction after Run returned: HTTP %d, want 503", code)
	}
	h.noViolations(t)
}

// Over HTTP, an interaction whose first response is not ready in time is
// answered with a public deferral. A modal that comes after that cannot be
// shown: the deferral is removed and the user told privately, instead of
// the modal being dropped silently under a "thinking…" that never ends.
func TestResponseAfterTheHTTPAnswer(t *testing.T) {
	h := newHarness(t, discordtest.Options{})
	h.bot.answerWait = 50 * time.Millisecond
	h.run(t)
	pic := h.fake.AddAttachment("cat.png", "image/png", []byte("\x89PNG\r\n\x1a\n"))
	// Animate keeps the message's pictures before it shows its modal: hold
	// that cache so the modal is late.
	h.bot.images.mu.Lock()
	a := h.fake.MessageCommand("100", "300", alice, "Animate", &discordgo.Message{ID: "777", ChannelID: "300",
		Attachments: []*discordgo.MessageAttachment{&pic}})
	h.original(t, a.ID, "deferral", func(r discordtest.Response) bool { return r.Type == 5 })
	h.bot.images.mu.Unlock()
	if _, ok := h.logs.wait(func(r logRecord) bool { return r.msg == "interaction failed" && r.attrs["interaction_id"] == a.ID }); !ok {
		t.Fatalf("the late modal was not logged: %s", h.logs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(h.fake.Followups(a.ID)) == 0 && time.Now().Before(deadline) {
		h.fake.WaitOriginal(100*time.Millisecond, "none", nil) // wakes on any change at the fake
	}
	f := h.fake.Followups(a.ID)
	if len(f) != 1 || f[0].Flags&64 == 0 || !strings.HasPrefix(f[0].Content, "⚠️") {
		t.Fatalf("follow-ups %+v", f)
	}
	deleted := false
	for _, c := range h.fake.Calls() {
		deleted = deleted || c.Method == http.MethodDelete && strings.HasSuffix(c.Path, "/messages/@original") && c.Status == http.StatusNoContent
	}
	if !deleted {
		t.Fatal("the public deferral was left")
	}
	h.noViolations(t)
}
