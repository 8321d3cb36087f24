package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/discord/discordtest"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
	"sorabot/storage"
)

// Buying credits through the real program: Telegram Stars and Discord SKUs
// with the platform fakes, promo codes and /buy on the console.

const testPacks = "SORABOT_PACKS=500:50,1500:125"

// buyPack has the user of private chat chatID press the buy button of
// payload under the bot message pressOn, and returns the invoice sent.
func (w *tgWorld) buyPack(chatID int64, pressOn telegramtest.BotMessage, payload string) telegramtest.BotMessage {
	w.t.Helper()
	if !strings.Contains(pressOn.ReplyMarkup, `"callback_data":"buy:`+payload+`"`) {
		w.t.Fatalf("message %q has no buy button for %s: %s", pressOn.Text, payload, pressOn.ReplyMarkup)
	}
	w.fake.PressButton(chatID, chatID, pressOn.MessageID, "buy:"+payload)
	return w.waitMsg(chatID, "invoice", func(m telegramtest.BotMessage) bool {
		return m.Kind == "invoice" && m.MessageID > pressOn.MessageID
	})
}

// verifyLedger runs `sorabot ledger verify` on the stopped program's database.
func verifyLedger(t *testing.T, dir string) string {
	t.Helper()
	var out bytes.Buffer
	m := &Main{Args: []string{"ledger", "verify"}, Env: []string{"SORABOT_DB=" + filepath.Join(dir, "data", "sorabot.db")}, Stdout: &out, Stderr: &out}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("ledger verify: %v\n%s", err, out.String())
	}
	return out.String()
}

// A user refused for lack of credits sees buy buttons; pressing one sends
// the invoice; paying it lets them make a video at once. A payment whose
// update was lost is granted at the next start. /paysupport and /terms
// answer with the built-in texts.
func TestTelegramBuyWithStars(t *testing.T) {
	w := newTGWorld(t, "sorapro", testPacks, "SORABOT_START_CREDITS=0").start()
	const chat = 7001
	w.fake.SendText(chat, chat, "/paysupport")
	w.waitText(chat, "Questions about a payment?")
	w.fake.SendText(chat, chat, "/terms")
	w.waitText(chat, "Credits have no cash value")

	w.fake.SendText(chat, chat, "/video a paid cat")
	refusal := w.waitText(chat, "⚠️")
	inv := w.buyPack(chat, refusal, "pack:500:50")
	if i := inv.Invoice; i.Currency != "XTR" || i.ProviderToken != "" || len(i.Prices) != 1 || i.TotalAmount != 50 {
		t.Fatalf("invoice %+v", i)
	}
	res, err := w.fake.PayInvoice(chat, chat, inv.MessageID)
	if err != nil || res.Outcome != telegramtest.PayPaid {
		t.Fatalf("payment %+v %v", res, err)
	}
	w.waitText(chat, "✅ Thank you! 500 credits added. Your balance: 500 credits.")
	w.fake.SendText(chat, chat, "/video a paid cat")
	w.waitVideo(chat)
	if b := w.balance(chat); b != "400 credits" {
		t.Fatalf("balance %q", b)
	}

	// The successful_payment of this one never comes.
	w.fake.LoseNextPayments(1)
	lost := w.fake.Pay(chat, chat, "pack:1500:125", 125)
	if lost.Outcome != telegramtest.PayPaid || lost.UpdateID != 0 {
		t.Fatalf("lost payment %+v", lost)
	}
	if !waitFor(20*time.Second, func() bool { return w.fake.PendingUpdates() == 0 }) {
		t.Fatal("updates left unconfirmed")
	}
	if err := w.p.stop(); err != nil {
		t.Fatal(err)
	}
	w.start()
	w.waitText(chat, "had not reached me is now counted: 1500 credits added. Your balance: 1900 credits.")
	if b := w.balance(chat); b != "1900 credits" {
		t.Fatalf("balance %q after the recovery", b)
	}
	if err := w.p.stop(); err != nil {
		t.Fatal(err)
	}
	if out := verifyLedger(t, w.dir); !strings.Contains(out, "purchase 2,") || !strings.Contains(out, "2 payments") {
		t.Errorf("ledger verify: %s", out)
	}
	w.noViolations()
}

// In webhook mode the pre_checkout_query reaches the bot too.
func TestTelegramBuyWithStarsWebhook(t *testing.T) {
	addr := freeAddr(t)
	w := newTGWorld(t, "sorapro", testPacks, "SORABOT_PUBLIC_URL=http://"+addr, "SORABOT_HTTP_ADDR="+addr).start()
	const chat = 7002
	if !waitFor(20*time.Second, func() bool { u, _ := w.fake.Webhook(); return u != "" }) {
		t.Fatal("no webhook set")
	}
	w.fake.SendText(chat, chat, "/buy")
	buy := w.waitText(chat, "Telegram Stars")
	inv := w.buyPack(chat, buy, "pack:1500:125")
	res, err := w.fake.PayInvoice(chat, chat, inv.MessageID)
	if err != nil || res.Outcome != telegramtest.PayPaid {
		t.Fatalf("payment over the webhook: %+v %v", res, err)
	}
	w.waitText(chat, "Your balance: 2000 credits.")
	// A tampered payment is refused before any money moves.
	if res := w.fake.Pay(chat, chat, "pack:1500:1", 1); res.Outcome != telegramtest.PayDeclined || res.ErrorMessage == "" {
		t.Fatalf("tampered payment %+v", res)
	}
	if n := len(w.fake.Charges()); n != 1 {
		t.Fatalf("%d charges", n)
	}
	w.noViolations()
}

// The real binary killed -9 after granting a payment and before confirming
// its update: Telegram delivers the update again, and nothing is granted
// twice.
func TestTelegramPaymentKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildBinary(t)
	w := newTGWorld(t, "sorapro", testPacks, "SORABOT_START_CREDITS=0", "SORABOT_LOG_LEVEL=info")
	env := append(os.Environ(), w.env...)
	run := func() (*exec.Cmd, *syncBuf) {
		cmd := exec.Command(bin, "serve")
		cmd.Env, cmd.Dir = env, w.dir
		var logs syncBuf
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &logs
	}
	const chat = 7003
	cmd, logs := run()
	w.fake.SendText(chat, chat, "/buy")
	buy, ok := w.fake.WaitBotMessage(20*time.Second, chat, func(m telegramtest.BotMessage) bool { return strings.Contains(m.Text, "Telegram Stars") })
	if !ok {
		t.Fatalf("no answer to /buy:\n%s", logs.String())
	}
	w.fake.PressButton(chat, chat, buy.MessageID, "buy:pack:500:50")
	inv, ok := w.fake.WaitBotMessage(20*time.Second, chat, func(m telegramtest.BotMessage) bool { return m.Kind == "invoice" })
	if !ok {
		t.Fatalf("no invoice:\n%s", logs.String())
	}
	// The thank-you hangs, so the update stays unconfirmed after the grant.
	w.fake.SetDelay("sendMessage", time.Minute)
	res, err := w.fake.PayInvoice(chat, chat, inv.MessageID)
	if err != nil || res.Outcome != telegramtest.PayPaid {
		t.Fatalf("payment %+v %v", res, err)
	}
	if !waitFor(20*time.Second, func() bool { return strings.Contains(logs.String(), "purchase granted") }) {
		t.Fatalf("no grant:\n%s", logs.String())
	}
	cmd.Process.Kill()
	cmd.Wait()
	if w.fake.PendingUpdates() == 0 {
		t.Fatal("the payment's update was confirmed before the kill: the test proves nothing")
	}
	w.fake.SetDelay("sendMessage", 0)

	cmd, logs = run()
	if _, ok := w.fake.WaitBotMessage(20*time.Second, chat, func(m telegramtest.BotMessage) bool {
		return m.Text == "✅ Thank you! 500 credits added. Your balance: 500 credits."
	}); !ok {
		t.Fatalf("the redelivered payment was not answered:\n%s", logs.String())
	}
	if !waitFor(20*time.Second, func() bool { return w.fake.PendingUpdates() == 0 }) {
		t.Fatal("updates left unconfirmed")
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
	l, err := db.Ledger(context.Background(), "telegram:7003", 100)
	if err != nil {
		t.Fatal(err)
	}
	purchases := 0
	for _, e := range l {
		if e.Kind == core.LedgerPurchase {
			purchases++
		}
	}
	if purchases != 1 || l[0].Balance != 500 {
		t.Fatalf("%d purchases, balance %d; want one, 500", purchases, l[0].Balance)
	}
}

// Discord: /buy shows the premium button; a purchase seen on the gateway,
// one carried by an interaction and one made while the program was down
// are each granted once and consumed.
func TestDiscordBuyEntitlements(t *testing.T) {
	const sku = "1288888888888888888"
	w := newDCWorld(t, discordtest.Options{}, "DISCORD_SKUS="+sku+":300", "SORABOT_START_CREDITS=0")
	w.fake.AddSKU(discordtest.SKU{ID: sku, Type: discordgo.SKUTypeConsumable, Name: "300 credits"})
	w.start()
	i := w.fake.SlashCommand("100", "300", alice, "buy", nil, nil)
	r := w.original(i, "premium button", func(r discordtest.Response) bool { return r.Content != "" })
	if r.Flags&64 == 0 || !strings.Contains(r.Components, `"sku_id":"`+sku+`"`) || !strings.Contains(r.Components, `"style":6`) {
		t.Fatalf("/buy = %+v", r)
	}
	consumed := func(id string) {
		t.Helper()
		if _, ok := w.fake.WaitEntitlement(20*time.Second, id, func(e discordtest.Entitlement) bool { return e.Consumed }); !ok {
			t.Fatalf("entitlement %s not consumed:\n%s", id, w.p.errOut.String())
		}
	}
	e1, err := w.fake.Purchase(alice.ID, sku)
	if err != nil {
		t.Fatal(err)
	}
	consumed(e1.ID)
	if err := w.fake.RedispatchEntitlement(e1.ID); err != nil {
		t.Fatal(err)
	}
	e2, err := w.fake.PurchaseOffline(bob.ID, sku)
	if err != nil {
		t.Fatal(err)
	}
	if b := w.balance(bob); b != "300 credits" {
		t.Fatalf("bob's balance %q", b)
	}
	consumed(e2.ID)
	if err := w.p.stop(); err != nil {
		t.Fatal(err)
	}
	e3, err := w.fake.PurchaseOffline(alice.ID, sku)
	if err != nil {
		t.Fatal(err)
	}
	w.start()
	consumed(e3.ID)
	if b := w.balance(alice); b != "600 credits" {
		t.Fatalf("alice's balance %q, want two purchases of 300", b)
	}
	if err := w.p.stop(); err != nil {
		t.Fatal(err)
	}
	if out := verifyLedger(t, w.dir); !strings.Contains(out, "purchase 3,") {
		t.Errorf("ledger verify: %s", out)
	}
	w.noViolations()
}

// The console sells nothing (it says where to buy) and redeems promo codes.
func TestConsoleBuyAndRedeem(t *testing.T) {
	dir := t.TempDir()
	p := startMain(t, append(baseEnv(dir, newEmulator(t), "sorapro"), testPacks, "SORABOT_ADMINS=console:alice"), "console")
	p.send("/buy")
	p.wait("Credits are bought in the bot's Telegram or Discord chat", 1)
	p.send("/promo WELCOME 50 1")
	p.wait("🎟 Promo code WELCOME: 50 credits per user, for 1 user.", 1)
	p.send("/redeem welcome")
	p.wait("🎁 Code WELCOME redeemed: 50 credits added. Your balance: 550 credits.", 1)
	p.send("/redeem welcome")
	p.wait("You have already redeemed this promo code.", 1)
	p.send("/balance")
	p.wait("promo code +50", 1)
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
}
