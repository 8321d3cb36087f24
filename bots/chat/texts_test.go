package chat

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"sorabot/core"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func testJob() *core.Job {
	return &core.Job{
		ID: "12", UserID: "telegram:1", Price: 100, State: core.Queued, CreatedAt: t0,
		Req: core.Request{Model: "sora-2-text-to-video", Prompt: "A cat surfing", Duration: 10, Orientation: core.Landscape},
	}
}

func contains(t *testing.T, name, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q\nwant it to contain %q", name, got, w)
		}
	}
}

func TestHelpAndModels(t *testing.T) {
	cat := core.DefaultCatalog()
	help := Help("en", cat, core.ProtocolSoraPro, Typed)
	contains(t, "Help(sorapro)", help,
		"/video", "/storyboard", "/balance", "/cancel", "Attach a photo",
		"--portrait --landscape --10s --15s --hd --pro --watermark --model=<id>",
		"sora-2-text-to-video — Sora 2 text to video", "10 s: 100 · 15 s: 150",
		"10 s: 375 standard / 825 high · 15 s: 675 standard / 1575 high",
		"sora-2-pro-storyboard", "10 s: 375 · 15 s: 675 · 25 s: 875",
		"/storyboard\n5s A city at dusk\n5s A runner",
		"/video --portrait --15s", "--hd its higher quality")
	if strings.Contains(help, "--private") || strings.Contains(help, "sora-2-pro ") {
		t.Errorf("Help(sorapro) mentions videocreate things:\n%s", help)
	}
	vc := Help("en", cat, core.ProtocolVideoCreate, Typed)
	contains(t, "Help(videocreate)", vc, "--private", "--25s", "/video --portrait --15s", "sora-2-pro — Sora 2 Pro", "15 s: 675 small / 1575 large")
	if strings.Contains(vc, "/storyboard") {
		t.Errorf("Help(videocreate) offers storyboards:\n%s", vc)
	}
	models := Models("en", cat, core.ProtocolSoraPro, Typed)
	contains(t, "Models", models, "Models and prices (credits):", "• sora-2-image-to-video", "(needs an image)", "(storyboard, --pro)")
	cat.Models[0].Disabled = true
	if strings.Contains(Models("en", cat, core.ProtocolSoraPro, Typed), "sora-2-text-to-video") {
		t.Error("Models lists a disabled model")
	}
	if got := Models("en", &core.Catalog{}, core.ProtocolSoraPro, Typed); got != "No models are available right now." {
		t.Errorf("Models(empty) = %q", got)
	}
	contains(t, "Start", Start("en", core.DefaultCatalog(), core.ProtocolSoraPro, 500, Typed), "Welcome", "You have 500 credits; a video costs from 100 credits.", "/help")
}

func TestAccepted(t *testing.T) {
	j := testJob()
	j.Notes = []core.Message{{ID: "core.note_storyboard_only", Args: core.Args{"Asked": 25, "Made": 15}, English: "25 s is only for storyboards: making 15 s."}}
	got := Accepted(core.Accepted{Job: j, Position: 2, Balance: 900})
	want := "🎬 Job #12 queued (position 2) — 100 credits, balance 900 credits.\nℹ️ 25 s is only for storyboards: making 15 s."
	if got != want {
		t.Errorf("Accepted = %q, want %q", got, want)
	}
	contains(t, "Accepted(started)", Accepted(core.Accepted{Job: testJob(), Balance: 900}), "🎬 Job #12 started — 100 credits, balance 900 credits.")
	contains(t, "Accepted(duplicate)", Accepted(core.Accepted{Job: testJob(), Duplicate: true}), "already accepted")
}

func TestBalance(t *testing.T) {
	a := core.Account{UserID: "telegram:1", Balance: 400}
	if got := Balance("en", a, nil); got != "400 credits" {
		t.Errorf("Balance(no ledger) = %q", got)
	}
	got := Balance("en", a, []core.LedgerEntry{
		{Time: t0, Kind: core.LedgerCharge, Amount: -100, JobID: "12"},
		{Time: t0.Add(-time.Hour), Kind: core.LedgerGrant, Amount: 500},
	})
	if first, _, _ := strings.Cut(got, "\n"); first != "400 credits" {
		t.Errorf("Balance first line = %q", first)
	}
	contains(t, "Balance", got, "2026-03-04 05:06  charge -100  job #12", "2026-03-04 04:06  welcome credits +500")
}

func TestJobTexts(t *testing.T) {
	j := testJob()
	contains(t, "JobInfo(queued, Typed)", JobInfo("en", j, Typed), "⏳ Job #12: queued", "sora-2-text-to-video, 10 s, landscape", "Price: 100 credits", "Prompt: A cat surfing", "/cancel 12")

	j.State, j.Err, j.Refunded = core.Failed, "The provider refused the prompt", true
	contains(t, "JobInfo(failed, Typed)", JobInfo("en", j, Typed), "❌ Job #12: failed", "(refunded)", "Reason: The provider refused the prompt.")
	if got, want := Failed(j), "❌ Job #12 failed: The provider refused the prompt. Your 100 credits were refunded."; got != want {
		t.Errorf("Failed = %q, want %q", got, want)
	}
	j.Err = ""
	contains(t, "Failed(no reason)", Failed(j), "failed: something went wrong.")
	if got, want := Canceled(j), "🚫 Job #12 canceled. Your 100 credits were refunded."; got != want {
		t.Errorf("Canceled = %q, want %q", got, want)
	}

	sb := testJob()
	sb.Req = core.Request{Model: "sora-2-pro-storyboard", Storyboard: true, Duration: 10, Shots: []core.Shot{{Scene: "A city", Duration: 5}, {Scene: "A runner", Duration: 5}}}
	sb.State, sb.DeliveredVia = core.Delivered, "link"
	contains(t, "JobInfo(storyboard, Typed)", JobInfo("en", sb, Typed), "✅ Job #12: delivered", "Shots:\n  5s A city\n  5s A runner", "as a link")

	h := History("en", []*core.Job{testJob(), sb}, Typed)
	contains(t, "History", h, "⏳ #12 queued · sora-2-text-to-video · 10 s · 2026-03-04 — A cat surfing", "✅ #12 delivered", "storyboard, 2 shots: A city")
	contains(t, "History(empty)", History("en", nil, Typed), "No jobs yet")
	// One job's state is singular, unlike /stats' columns ("consegnate").
	contains(t, "History(it)", History("it", []*core.Job{sb}, Typed), "✅ #12 consegnata ·")
	contains(t, "JobInfo(it)", JobInfo("it", sb, Typed), "#12: consegnata")

	contains(t, "Link", Link(j, "https://x.example/v.mp4"), "Job #12", "too big", "https://x.example/v.mp4")
	if got := Granted("en", core.Account{UserID: "discord:9", Balance: 700}); got != "✅ discord:9 now has 700 credits." {
		t.Errorf("Granted = %q", got)
	}
}

func TestCaption(t *testing.T) {
	j := testJob()
	if got := Caption(j, TelegramCaptionMax); got != "A cat surfing" {
		t.Errorf("Caption = %q", got)
	}
	j.Req.Prompt = strings.Repeat("😀", 600) // 1200 UTF-16 units
	got := Caption(j, TelegramCaptionMax)
	if n := utf16Len(got); n > TelegramCaptionMax || !strings.HasSuffix(got, "…") || !utf8.ValidString(got) {
		t.Errorf("Caption(long) has %d UTF-16 units, ends %q", n, got[len(got)-6:])
	}
	j.Req.Prompt = strings.Repeat("a", 2000)
	if got := Caption(j, TelegramCaptionMax); utf16Len(got) != TelegramCaptionMax {
		t.Errorf("Caption(ascii) has %d units, want %d", utf16Len(got), TelegramCaptionMax)
	}
	if got := Caption(j, 0); got != j.Req.Prompt {
		t.Error("Caption(max 0) cut the prompt")
	}
	j.Req = core.Request{Shots: []core.Shot{{Scene: "A", Duration: 5}, {Scene: "B", Duration: 10}}}
	if got := Caption(j, 100); got != "5s A\n10s B" {
		t.Errorf("Caption(storyboard) = %q", got)
	}
}

func TestStatsAndErrors(t *testing.T) {
	s := Stats("en", core.Stats{Users: 3, Jobs: map[core.State]int{core.Delivered: 5, core.Queued: 1, "weird": 2}, Charged: 900, Refunded: 100, Credits: 1200})
	contains(t, "Stats", s, "Users: 3", "queued 1 · delivered 5 · weird 2 · total 8", "charged: 900, refunded: 100, held by users: 1200")
	contains(t, "Stats(empty)", Stats("en", core.Stats{}), "Jobs: none")

	if got := ErrorText("en", testErrorf(core.ENOCREDITS, "Not enough credits.")); got != "⚠️ Not enough credits." {
		t.Errorf("ErrorText = %q", got)
	}
	if got := ErrorText("en", fmt.Errorf("wrapped: %w", errors.New("db path /secret"))); strings.Contains(got, "secret") || !strings.HasPrefix(got, "⚠️ ") {
		t.Errorf("ErrorText(internal) = %q", got)
	}
	if ErrorText("en", nil) != "" {
		t.Error("ErrorText(nil) is not empty")
	}
	_, err := Parse("/nope")
	if got := ErrorText("en", err); got != "⚠️ I don't know the command /nope. Send /help to see what I can do." {
		t.Errorf("ErrorText(unknown command) = %q", got)
	}
	for name, s := range map[string]string{"NotAdmin": NotAdmin("en"), "PlainText": PlainText("en"), "NoTarget": NoTarget("en"), "RepeatButton": RepeatButton("en")} {
		if s == "" {
			t.Errorf("%s is empty", name)
		}
	}
}

func TestCreditTexts(t *testing.T) {
	got := Balance("en", core.Account{Balance: 600}, []core.LedgerEntry{
		{Time: t0, Kind: core.LedgerPurchase, Amount: 500},
		{Time: t0, Kind: core.LedgerPurchaseRefund, Amount: -500},
		{Time: t0, Kind: core.LedgerAllowance, Amount: 70},
		{Time: t0, Kind: core.LedgerPromo, Amount: 30},
	})
	contains(t, "Balance", got, "purchase +500", "purchase refund -500", "daily credits +70", "promo code +30")
	s := Stats("en", core.Stats{Purchases: 2, PurchaseStars: 175, PurchaseCredits: 2000, PurchaseRefunded: 500, Allowance: 90, Promo: 40})
	contains(t, "Stats", s, "Purchases: 2 (175 ⭐, 2000 credits, 500 refunded)", "daily credits: 90", "promo codes: 40")
}

// testErrorf is a user-facing error whose message is no catalog message.
func testErrorf(code, format string, args ...any) *core.Error {
	return &core.Error{Code: code, ID: "test.error", Message: fmt.Sprintf(format, args...)}
}
