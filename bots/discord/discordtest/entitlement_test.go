package discordtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

const (
	skuCredits = "500000000000000001" // consumable
	skuForever = "500000000000000002" // durable
)

var bob = User{ID: "200000000000000002", Username: "bob"}

// newShop is a fake with two SKUs; its rate limits stay out of the way
// and a missing gateway is noticed at once.
func newShop(t *testing.T) *Server {
	t.Helper()
	srv := newServer(t, Options{RateLimit: 100, DispatchWait: 100 * time.Millisecond})
	srv.AddSKU(SKU{ID: skuCredits, Type: discordgo.SKUTypeConsumable, Name: "100 credits"})
	srv.AddSKU(SKU{ID: skuForever, Type: discordgo.SKUTypeDurable, Name: "Supporter"})
	return srv
}

// session is a discordgo session pointed at the fake, without a gateway.
func session(t *testing.T, srv *Server) *discordgo.Session {
	t.Helper()
	sess, err := discordgo.New("Bot " + testToken)
	if err != nil {
		t.Fatal(err)
	}
	srv.Apply(sess)
	return sess
}

func ids(es []*discordgo.Entitlement) string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return strings.Join(out, ",")
}

func TestSKUsAndEntitlementListing(t *testing.T) {
	srv := newShop(t)
	sess := session(t, srv)
	app := srv.Options().AppID

	skus, err := sess.SKUs(app)
	if err != nil {
		t.Fatal(err)
	}
	if len(skus) != 2 || skus[0].ID != skuCredits || skus[0].Type != discordgo.SKUTypeConsumable || skus[0].ApplicationID != app ||
		skus[0].Name != "100 credits" || skus[0].Flags&discordgo.SKUFlagAvailable == 0 || skus[1].Type != discordgo.SKUTypeDurable {
		t.Fatalf("SKUs = %+v", skus)
	}

	a1, err := srv.PurchaseOffline(alice.ID, skuCredits)
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := srv.PurchaseOffline(alice.ID, skuForever)
	b1, _ := srv.PurchaseOffline(bob.ID, skuCredits)
	if _, err := srv.PurchaseOffline(alice.ID, skuCredits); err == nil {
		t.Error("a second purchase of an unconsumed consumable was sold")
	}
	if _, err := srv.PurchaseOffline(alice.ID, "500000000000000099"); err == nil {
		t.Error("an unknown SKU was sold")
	}

	all, err := sess.Entitlements(app, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(all); got != strings.Join([]string{a1.ID, a2.ID, b1.ID}, ",") {
		t.Fatalf("all = %s", got)
	}
	e := all[0]
	if e.SKUID != skuCredits || e.UserID != alice.ID || e.ApplicationID != app || e.Type != discordgo.EntitlementTypePurchase ||
		e.Deleted || e.Consumed == nil || *e.Consumed || e.StartsAt == nil {
		t.Errorf("entitlement = %+v", e)
	}
	for _, tc := range []struct {
		f    *discordgo.EntitlementFilterOptions
		want []string
	}{
		{&discordgo.EntitlementFilterOptions{UserID: alice.ID}, []string{a1.ID, a2.ID}},
		{&discordgo.EntitlementFilterOptions{SkuIDs: []string{skuCredits}}, []string{a1.ID, b1.ID}},
		{&discordgo.EntitlementFilterOptions{UserID: bob.ID, SkuIDs: []string{skuForever}}, nil},
		{&discordgo.EntitlementFilterOptions{Limit: 2, ExcludeEnded: true}, []string{a1.ID, a2.ID}},
	} {
		got, err := sess.Entitlements(app, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if ids(got) != strings.Join(tc.want, ",") {
			t.Errorf("filter %+v = %s, want %v", tc.f, ids(got), tc.want)
		}
	}

	// Paging by entitlement id, as the API documents it.
	raw := func(query string) ([]*discordgo.Entitlement, error) {
		body, err := sess.RequestWithBucketID("GET", discordgo.EndpointEntitlements(app)+"?"+query, nil, discordgo.EndpointEntitlements(app))
		if err != nil {
			return nil, err
		}
		var out []*discordgo.Entitlement
		return out, json.Unmarshal(body, &out)
	}
	if got, err := raw("limit=1&after=" + a1.ID); err != nil || ids(got) != a2.ID {
		t.Errorf("after: %s, %v", ids(got), err)
	}
	if got, err := raw("limit=1&before=" + b1.ID); err != nil || ids(got) != a2.ID {
		t.Errorf("before: %s, %v", ids(got), err)
	}

	// Deleted entitlements are left out by default.
	if _, err := srv.RefundEntitlement(a2.ID); err == nil {
		t.Error("RefundEntitlement with no gateway reported delivery")
	}
	if got, _ := sess.Entitlements(app, &discordgo.EntitlementFilterOptions{UserID: alice.ID}); ids(got) != a1.ID {
		t.Errorf("after refund = %s", ids(got))
	}
	got, err := raw("user_id=" + alice.ID + "&exclude_deleted=false")
	if err != nil || ids(got) != a1.ID+","+a2.ID || !got[1].Deleted {
		t.Errorf("exclude_deleted=false: %+v, %v", got, err)
	}

	// What Discord rejects: discordgo's timestamp Before/After, bad limits,
	// bad snowflakes, another application.
	before := time.Now()
	_, err = sess.Entitlements(app, &discordgo.EntitlementFilterOptions{Before: &before})
	if re := restErr(t, err); re.Response.StatusCode != http.StatusBadRequest || re.Message.Code != 50035 || !strings.Contains(string(re.ResponseBody), `"before"`) {
		t.Errorf("timestamp before: %v", err)
	}
	for _, q := range []string{"limit=101", "limit=0", "user_id=alice", "sku_ids=1,x", "exclude_deleted=maybe"} {
		if _, err := raw(q); err == nil || restErr(t, err).Message.Code != 50035 {
			t.Errorf("%s: %v", q, err)
		}
	}
	if _, err := sess.Entitlements("900000000000000999", nil); err == nil || restErr(t, err).Message.Code != 20012 {
		t.Errorf("another application: %v", err)
	}
	noViolations(t, srv)
}

func TestConsumeEntitlement(t *testing.T) {
	srv := newShop(t)
	sess := session(t, srv)
	app := srv.Options().AppID
	e, _ := srv.PurchaseOffline(alice.ID, skuCredits)
	d, _ := srv.PurchaseOffline(alice.ID, skuForever)

	if err := sess.EntitlementConsume(app, e.ID); err != nil {
		t.Fatal(err)
	}
	got, ok := srv.WaitEntitlement(time.Second, e.ID, func(e Entitlement) bool { return e.Consumed })
	if !ok || got.ConsumeCalls != 1 {
		t.Fatalf("entitlement = %+v", got)
	}
	list, _ := sess.Entitlements(app, &discordgo.EntitlementFilterOptions{UserID: alice.ID, SkuIDs: []string{skuCredits}})
	if len(list) != 1 || list[0].Consumed == nil || !*list[0].Consumed {
		t.Errorf("listed after consume = %+v", list)
	}
	err := sess.EntitlementConsume(app, e.ID)
	if re := restErr(t, err); re.Response.StatusCode != http.StatusBadRequest || re.Message.Code != 0 {
		t.Errorf("second consume: %v", err)
	}
	if re := restErr(t, sess.EntitlementConsume(app, d.ID)); re.Message.Code != 40018 {
		t.Errorf("consume durable: %v", re)
	}
	if re := restErr(t, sess.EntitlementConsume(app, "600000000000000001")); re.Response.StatusCode != http.StatusNotFound || re.Message.Code != 10029 {
		t.Errorf("consume unknown: %v", re)
	}
	if got, _ := srv.Entitlement(e.ID); got.ConsumeCalls != 2 {
		t.Errorf("ConsumeCalls = %d, want 2", got.ConsumeCalls)
	}
	// Consumed, the SKU can be bought again.
	if _, err := srv.PurchaseOffline(alice.ID, skuCredits); err != nil {
		t.Errorf("repurchase after consume: %v", err)
	}
	noViolations(t, srv)
}

func TestPurchaseEventsAndInteractionEntitlements(t *testing.T) {
	srv := newShop(t)
	created := make(chan *discordgo.Entitlement, 4)
	deleted := make(chan *discordgo.Entitlement, 4)
	sess, inter := connect(t, srv, func(s *discordgo.Session) {
		s.AddHandler(func(_ *discordgo.Session, e *discordgo.EntitlementCreate) { created <- e.Entitlement })
		s.AddHandler(func(_ *discordgo.Session, e *discordgo.EntitlementDelete) { deleted <- e.Entitlement })
	})
	recv := func(ch <-chan *discordgo.Entitlement, what string) *discordgo.Entitlement {
		t.Helper()
		select {
		case e := <-ch:
			return e
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s", what)
			return nil
		}
	}

	e, err := srv.Purchase(alice.ID, skuCredits)
	if err != nil {
		t.Fatal(err)
	}
	ev := recv(created, "ENTITLEMENT_CREATE")
	if ev.ID != e.ID || ev.SKUID != skuCredits || ev.UserID != alice.ID || ev.Deleted || ev.Consumed == nil || *ev.Consumed {
		t.Fatalf("ENTITLEMENT_CREATE = %+v", ev)
	}
	if err := srv.RedispatchEntitlement(e.ID); err != nil {
		t.Fatal(err)
	}
	if again := recv(created, "replayed ENTITLEMENT_CREATE"); again.ID != e.ID {
		t.Errorf("replay = %+v", again)
	}

	srv.SlashCommand(guildID, channelID, alice, "balance", nil, nil)
	ic := receive(t, inter)
	if len(ic.Entitlements) != 1 || ic.Entitlements[0].ID != e.ID || ic.Entitlements[0].SKUID != skuCredits {
		t.Fatalf("interaction entitlements = %+v", ic.Entitlements)
	}
	srv.SlashCommand("", "", bob, "balance", nil, nil)
	if ic := receive(t, inter); len(ic.Entitlements) != 0 {
		t.Errorf("bob's interaction carries %+v", ic.Entitlements)
	}
	if err := sess.EntitlementConsume(srv.Options().AppID, e.ID); err != nil {
		t.Fatal(err)
	}
	srv.SlashCommand("", "", alice, "balance", nil, nil)
	if ic := receive(t, inter); len(ic.Entitlements) != 0 {
		t.Errorf("consumed entitlement still in interaction: %+v", ic.Entitlements)
	}

	refunded, err := srv.RefundEntitlement(e.ID)
	if err != nil || !refunded.Deleted {
		t.Fatalf("refund = %+v, %v", refunded, err)
	}
	if ev := recv(deleted, "ENTITLEMENT_DELETE"); ev.ID != e.ID || !ev.Deleted {
		t.Errorf("ENTITLEMENT_DELETE = %+v", ev)
	}
	if _, err := srv.RefundEntitlement(e.ID); err == nil {
		t.Error("refunded twice")
	}
}

func premium(sku string) discordgo.Button {
	return discordgo.Button{Style: discordgo.PremiumButton, SKUID: sku}
}

func TestPremiumButtons(t *testing.T) {
	srv := newShop(t)
	sess, inter := connect(t, srv, nil)
	row := func(b ...discordgo.MessageComponent) []discordgo.MessageComponent {
		return []discordgo.MessageComponent{discordgo.ActionsRow{Components: b}}
	}

	srv.SlashCommand(guildID, channelID, alice, "buy", nil, nil)
	ic := receive(t, inter)
	err := sess.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral,
			Components: row(premium(skuCredits), premium(skuForever))},
	})
	if err != nil {
		t.Fatalf("premium buttons refused: %v", err)
	}
	if r, ok := srv.Original(ic.ID); !ok || !strings.Contains(r.Components, `"sku_id":"`+skuCredits+`"`) || !strings.Contains(r.Components, `"style":6`) {
		t.Errorf("response = %+v", r)
	}

	labelled := premium(skuCredits)
	labelled.Label = "Buy"
	withID := premium(skuCredits)
	withID.CustomID = "buy"
	withURL := premium(skuCredits)
	withURL.URL = "https://example.com"
	withEmoji := premium(skuCredits)
	withEmoji.Emoji = &discordgo.ComponentEmoji{Name: "⭐"}
	primaryWithSKU := discordgo.Button{Label: "Buy", CustomID: "buy", SKUID: skuCredits}
	for _, tc := range []struct {
		name  string
		b     discordgo.Button
		field string
	}{
		{"no sku_id", premium(""), "sku_id"},
		{"unknown SKU", premium("500000000000000099"), "sku_id"},
		{"label", labelled, "style"},
		{"custom_id", withID, "style"},
		{"url", withURL, "style"},
		{"emoji", withEmoji, "style"},
		{"sku_id on a primary button", primaryWithSKU, "sku_id"},
	} {
		_, err := sess.ChannelMessageSendComplex(channelID, &discordgo.MessageSend{Content: "Buy credits", Components: row(tc.b)})
		re := restErr(t, err)
		var body struct {
			Errors map[string]map[string]map[string]map[string]map[string]any `json:"errors"`
		}
		_ = json.Unmarshal(re.ResponseBody, &body)
		if re.Message.Code != 50035 || body.Errors["components"]["0"]["components"]["0"][tc.field] == nil {
			t.Errorf("%s: %s", tc.name, re.ResponseBody)
		}
	}
	if _, err := sess.ChannelMessageSendComplex(channelID, &discordgo.MessageSend{Content: "Buy", Components: row(premium(skuCredits))}); err != nil {
		t.Errorf("premium button in a channel message: %v", err)
	}
	noViolations(t, srv)
}
