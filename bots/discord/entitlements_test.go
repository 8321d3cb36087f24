package discord

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/chat"
	"sorabot/bots/chat/chattest"
	"sorabot/bots/discord/discordtest"
	"sorabot/core"
	"sorabot/storage"
)

// Discord consumable SKUs through discordgo and the fake's gateway, REST
// and store, over a real service and bbolt file.

const (
	shopGuild   = "100"
	shopChannel = "300"
	shopSKU     = "1288888888888888888"
)

// shop is a running gateway bot that sells shopSKU for 300 credits;
// restart stops it and starts it again on the same database and fake.
type shop struct {
	t    *testing.T
	fake *discordtest.Server
	path string
	logs *logRecorder // the running bot's
	db   *storage.DB
	stop func()
	// notSelling: the bot runs without DISCORD_SKUS.
	notSelling bool
}

func newShop(t *testing.T) *shop {
	t.Helper()
	s := &shop{t: t, fake: discordtest.New(discordtest.Options{Token: testToken}), path: filepath.Join(t.TempDir(), "db")}
	s.fake.AddSKU(discordtest.SKU{ID: shopSKU, Type: discordgo.SKUTypeConsumable, Name: "300 credits"})
	t.Cleanup(func() {
		if s.stop != nil {
			s.stop()
		}
		if v := s.fake.Violations(); len(v) > 0 {
			t.Errorf("Discord API violations:\n%s", strings.Join(v, "\n"))
		}
		s.fake.Close()
	})
	return s
}

func (s *shop) start() *shop {
	t := s.t
	t.Helper()
	db, err := storage.Open(s.path, storage.Options{StartCredits: 0})
	if err != nil {
		t.Fatal(err)
	}
	cfg := chattest.NewEnv(t, chattest.Frontend{User: func(n int) string { return "discord:1" }}).Config
	cfg.SKUs = []core.SKU{{ID: shopSKU, Credits: 300}}
	if s.notSelling {
		cfg.SKUs = nil
	}
	svc := core.NewService(cfg, db, &chattest.Provider{}, core.DefaultCatalog())
	s.logs = &logRecorder{changed: make(chan struct{})}
	b, err := New(svc, Options{Token: testToken, APIURL: s.fake.URL, GuildID: shopGuild, Logger: slog.New(s.logs), Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetFrontend(Platform, b)
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	s.db = db
	s.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		svc.Stop()
		db.Close()
		s.stop = nil
	}
	s.log("discord ready", "")
	return s
}

func (s *shop) restart() {
	s.stop()
	s.start()
}

// log waits for a record with message msg (about entitlement id, if set).
func (s *shop) log(msg, id string) {
	s.t.Helper()
	if _, ok := s.logs.wait(func(r logRecord) bool { return r.msg == msg && (id == "" || r.attrs["entitlement_id"] == id) }); !ok {
		s.t.Fatalf("no log %q about %q:%s", msg, id, s.logs)
	}
}

func (s *shop) consumed(id string) {
	s.t.Helper()
	if e, ok := s.fake.WaitEntitlement(chattest.Deadline, id, func(e discordtest.Entitlement) bool { return e.Consumed }); !ok {
		s.t.Fatalf("entitlement %+v not consumed:%s", e, s.logs)
	}
}

func (s *shop) ledger(user, kind string) []core.LedgerEntry {
	s.t.Helper()
	l, err := s.db.Ledger(context.Background(), user, 1000)
	if err != nil {
		s.t.Fatal(err)
	}
	return slices.DeleteFunc(l, func(e core.LedgerEntry) bool { return kind != "" && e.Kind != kind })
}

func (s *shop) balance(user string) int {
	if l := s.ledger(user, ""); len(l) > 0 {
		return l[0].Balance
	}
	return 0
}

// slash runs a command and returns its answer.
func (s *shop) slash(u discordtest.User, name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) (*discordgo.Interaction, discordtest.Response) {
	s.t.Helper()
	i := s.fake.SlashCommand(shopGuild, shopChannel, u, name, opts, nil)
	r, ok := s.fake.WaitOriginal(chattest.Deadline, i.ID, func(r discordtest.Response) bool { return r.Content != "" })
	if !ok && name != chat.CmdVideo {
		s.t.Fatalf("/%s: no answer:%s", name, s.logs)
	}
	return i, r
}

func user(id string) discordtest.User { return discordtest.User{ID: id, Username: "user" + id} }

// An entitlement seen through the gateway, an interaction or the listing
// at start is granted once and consumed; a crash between the two is healed
// at the next start; a refund takes back at most the balance, once.
func TestEntitlements(t *testing.T) {
	s := newShop(t).start()
	ann, bob, cy, dan := user("201"), user("202"), user("203"), user("204")

	// /buy: one premium button per SKU, privately.
	_, r := s.slash(ann, chat.CmdBuy)
	if r.Content != chat.BuySKUs("en") || r.Flags&int(discordgo.MessageFlagsEphemeral) == 0 ||
		!strings.Contains(r.Components, `"style":6`) || !strings.Contains(r.Components, `"sku_id":"`+shopSKU+`"`) {
		t.Fatalf("/buy = %+v", r)
	}

	// Through the gateway: granted, the buyer told, then consumed.
	e, err := s.fake.Purchase(ann.ID, shopSKU)
	if err != nil {
		t.Fatal(err)
	}
	s.consumed(e.ID)
	if _, ok := s.fake.WaitDM(chattest.Deadline, ann.ID, func(m discordtest.ChannelMessage) bool {
		return m.Content == "✅ Thank you! 300 credits added. Your balance: 300 credits."
	}); !ok {
		t.Errorf("no DM to the buyer: %+v", s.fake.DMs(ann.ID))
	}
	// The same event again grants nothing.
	if err := s.fake.RedispatchEntitlement(e.ID); err != nil {
		t.Fatal(err)
	}
	s.log("entitlement granted before", e.ID)

	// Bought while the bot was not listening: the buyer's next interaction
	// carries it, and the credits are there in its answer.
	e2, err := s.fake.PurchaseOffline(bob.ID, shopSKU)
	if err != nil {
		t.Fatal(err)
	}
	if _, r := s.slash(bob, chat.CmdBalance); !strings.HasPrefix(r.Content, "300 credits") {
		t.Fatalf("/balance with an entitlement = %q", r.Content)
	}
	s.consumed(e2.ID)

	// Bought while the bot was down: found at start.
	s.stop()
	e3, err := s.fake.PurchaseOffline(cy.ID, shopSKU)
	if err != nil {
		t.Fatal(err)
	}
	s.start()
	s.consumed(e3.ID)

	// Granted, then the consume fails (as if the bot died in between): the
	// next start consumes it, granting nothing more.
	s.fake.FailNext("POST /applications/"+s.fake.Options().AppID+"/entitlements", 1, 500, 0)
	e4, err := s.fake.Purchase(dan.ID, shopSKU)
	if err != nil {
		t.Fatal(err)
	}
	s.log("consuming an entitlement failed; tried again at the next start", e4.ID)
	if got, _ := s.fake.Entitlement(e4.ID); got.Consumed {
		t.Fatal("consumed despite the failure")
	}
	s.restart()
	s.consumed(e4.ID)

	for _, u := range []discordtest.User{ann, bob, cy, dan} {
		id := "discord:" + u.ID
		if p := s.ledger(id, core.LedgerPurchase); len(p) != 1 || s.balance(id) != 300 {
			t.Errorf("%s: purchases %+v, balance %d; want one of 300", id, p, s.balance(id))
		}
	}

	// Ann spends 100; Discord refunds her purchase: 200 are taken back,
	// never below zero, once (a restart changes nothing).
	if _, r := s.slash(ann, chat.CmdVideo, &discordgo.ApplicationCommandInteractionDataOption{
		Name: "prompt", Type: discordgo.ApplicationCommandOptionString, Value: "a paid video"}); !strings.Contains(r.Content, "Job #1") {
		t.Fatalf("/video = %q", r.Content)
	}
	if _, err := s.fake.RefundEntitlement(e.ID); err != nil {
		t.Fatal(err)
	}
	s.log("entitlement refunded", e.ID)
	s.restart()
	refunds := s.ledger("discord:201", core.LedgerPurchaseRefund)
	if len(refunds) != 1 || refunds[0].Amount != -200 || s.balance("discord:201") != 0 {
		t.Fatalf("refund entries %+v, balance %d", refunds, s.balance("discord:201"))
	}
	if n := s.fake.Entitlements(); len(n) != 4 {
		t.Fatalf("%d entitlements", len(n))
	}
	for _, e := range s.fake.Entitlements() {
		if e.ConsumeCalls > 1 && e.ID != e4.ID {
			t.Errorf("entitlement %s consumed %d times", e.ID, e.ConsumeCalls)
		}
	}
}

// A request refused for lack of credits shows the premium buttons.
func TestNoCreditsShowsPremiumButtons(t *testing.T) {
	s := newShop(t).start()
	i := s.fake.SlashCommand(shopGuild, shopChannel, user("205"), chat.CmdVideo, []*discordgo.ApplicationCommandInteractionDataOption{
		{Name: "prompt", Type: discordgo.ApplicationCommandOptionString, Value: "a cat"}}, nil)
	deadline := time.Now().Add(chattest.Deadline)
	for len(s.fake.Followups(i.ID)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no private refusal:%s", s.logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	f := s.fake.Followups(i.ID)[0]
	if !strings.HasPrefix(f.Content, "⚠️") || f.Flags&int(discordgo.MessageFlagsEphemeral) == 0 ||
		!strings.Contains(f.Components, `"sku_id":"`+shopSKU+`"`) {
		t.Fatalf("refusal %+v", f)
	}
}

// What a purchase tells the buyer follows the language they chose with
// /language over their client's locale: the /buy text, and the direct
// message of an entitlement from the gateway (no locale comes with it).
func TestEntitlementTextsFollowTheLanguageChoice(t *testing.T) {
	s := newShop(t).start()
	eva := discordtest.User{ID: "206", Username: "eva", Locale: "es-ES"}
	if _, r := s.slash(eva, chat.CmdLanguage, &discordgo.ApplicationCommandInteractionDataOption{
		Name: "code", Type: discordgo.ApplicationCommandOptionString, Value: "zh"}); r.Content != "从现在起我用简体中文和你交流。" {
		t.Fatalf("/language zh = %q", r.Content)
	}
	if _, r := s.slash(eva, chat.CmdBuy); r.Content != chat.BuySKUs("zh") {
		t.Errorf("/buy = %q, want it in Chinese", r.Content)
	}
	e, err := s.fake.Purchase(eva.ID, shopSKU)
	if err != nil {
		t.Fatal(err)
	}
	s.consumed(e.ID)
	want := chat.Paid("zh", 300, 300)
	if _, ok := s.fake.WaitDM(chattest.Deadline, eva.ID, func(m discordtest.ChannelMessage) bool { return m.Content == want }); !ok {
		t.Errorf("DMs %+v, want %q", s.fake.DMs(eva.ID), want)
	}
}

// A refund of a SKU the bot no longer sells (the operator took it out of
// DISCORD_SKUS) still takes back the credits it granted.
func TestRefundOfASKUNoLongerSold(t *testing.T) {
	s := newShop(t).start()
	eve := user("301")
	e, err := s.fake.Purchase(eve.ID, shopSKU)
	if err != nil {
		t.Fatal(err)
	}
	s.consumed(e.ID)
	s.notSelling = true
	s.restart()
	if _, err := s.fake.RefundEntitlement(e.ID); err != nil {
		t.Fatal(err)
	}
	s.log("entitlement refunded", e.ID)
	if b := s.balance("discord:301"); b != 0 {
		t.Fatalf("balance %d after the refund, want 0", b)
	}
}
