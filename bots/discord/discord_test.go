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
	help := func(r discordtest.Response) bool { return r.Type == 4 && strings.Contains(r.Content, "/video") }
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
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); rec.Code != http.StatusOK || err != nil ||
		resp.Type != discordgo.InteractionResponseChannelMessageWithSource || resp.Data == nil || !strings.Contains(resp.Data.Content, "/video") {
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
