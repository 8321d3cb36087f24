package discord

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/discord/discordtest"
	"sorabot/core"
)

// Over HTTP interactions the deferral is the HTTP answer, and Discord may
// not know it yet when the next edit of @original arrives (404 Unknown
// Webhook, 10015). The accepted text is edited again until it is shown, and
// a video delivered meanwhile waits for it, then lands in the original
// response over it (never under a late accepted text).
func TestEditsRightAfterTheDeferral(t *testing.T) {
	h := newHarness(t, discordtest.Options{AnswerLag: time.Second})
	h.run(t)
	i := h.fake.SlashCommand("100", "300", alice, "video", []*discordgo.ApplicationCommandInteractionDataOption{
		{Name: "prompt", Type: discordgo.ApplicationCommandOptionString, Value: "a cat surfing"}}, nil)
	h.original(t, i.ID, "deferral", func(r discordtest.Response) bool { return r.Type == 5 })

	// The accepted text has been refused once and is being tried again.
	var patched bool
	deadline := time.Now().Add(10 * time.Second)
	for !patched && time.Now().Before(deadline) {
		for _, c := range h.fake.Calls() {
			patched = patched || c.Method == http.MethodPatch && strings.HasSuffix(c.Path, "/messages/@original") && c.Status == http.StatusNotFound
		}
		if !patched {
			h.fake.WaitOriginal(100*time.Millisecond, "none", nil) // wakes on any change at the fake
		}
	}
	if !patched {
		t.Fatalf("no edit of @original answered 10015; calls %+v", h.fake.Calls())
	}
	jobs, err := h.svc.History(context.Background(), "discord:"+alice.ID, 1)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("history %v %v", jobs, err)
	}
	path := filepath.Join(t.TempDir(), "1.mp4")
	if err := os.WriteFile(path, []byte("mp4 bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	via, err := h.bot.Deliver(context.Background(), jobs[0], core.Video{Path: path, Size: 9})
	if err != nil || via != "interaction" {
		t.Fatalf("Deliver: via %q, err %v; logs %s", via, err, h.logs)
	}
	r, _ := h.fake.Original(i.ID)
	if len(r.Files) != 1 || string(r.Files[0].Data) != "mp4 bytes" || !strings.Contains(r.Content, "a cat surfing") || strings.Contains(r.Content, "credits") {
		t.Fatalf("original response %+v", r)
	}
	var shown []string
	for _, c := range h.fake.Calls() {
		if c.Method == http.MethodPatch && c.Status == http.StatusOK {
			shown = append(shown, fmt.Sprintf("%s files=%d", c.Body, len(c.Files)))
		}
	}
	if len(shown) != 2 || !strings.Contains(shown[0], "credits, balance 400") || !strings.Contains(shown[1], "files=1") {
		t.Fatalf("edits taken, in order: %q", shown)
	}
	h.noViolations(t)
}

// A progress edit that fails is logged with its job, and shown at the
// job's next turn when the failure may pass (here a 500).
func TestProgressEditFailures(t *testing.T) {
	h := newHarness(t, discordtest.Options{})
	h.run(t)
	i := h.fake.SlashCommand("100", "300", alice, "help", nil, nil)
	h.original(t, i.ID, "help", func(r discordtest.Response) bool { return strings.Contains(r.Content, "/video") })
	j := &core.Job{ID: "7", Origin: core.Origin{Platform: Platform, ChatID: "300", Extra: map[string]string{
		"app": h.fake.Options().AppID, "token": i.Token, "interaction": i.ID, "at": fmt.Sprint(time.Now().Unix())}}}

	h.fake.FailNext("PATCH /webhooks", 1, http.StatusInternalServerError, 0)
	h.bot.editor.set(j, "🎨 Job #7: 40%")
	h.original(t, i.ID, "progress after a 500", func(r discordtest.Response) bool { return r.Content == "🎨 Job #7: 40%" })
	if _, ok := h.logs.wait(func(r logRecord) bool {
		return r.level == slog.LevelWarn && r.msg == "progress edit failed; trying again" && r.attrs["job_id"] == "7" && r.attrs["status"] == "500"
	}); !ok {
		t.Fatalf("the 500 was not logged: %s", h.logs)
	}

	h.fake.FailNext("PATCH /webhooks", 1, http.StatusBadRequest, 0)
	h.bot.editor.set(j, "🎨 Job #7: 60%")
	if _, ok := h.logs.wait(func(r logRecord) bool {
		return r.level == slog.LevelWarn && r.msg == "progress edit failed" && r.attrs["job_id"] == "7" && r.attrs["status"] == "400"
	}); !ok {
		t.Fatalf("the 400 was not logged: %s", h.logs)
	}
	h.noViolations(t)
}
