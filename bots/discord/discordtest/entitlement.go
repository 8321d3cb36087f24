package discordtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Entitlement is the fake's record of an entitlement to a SKU.
type Entitlement struct {
	ID, SKUID, UserID string
	GuildID           string // "" for a user's own purchase
	Type              discordgo.EntitlementType
	Consumed          bool
	Deleted           bool // refunded (RefundEntitlement)
	ConsumeCalls      int  // consume requests received for it, refused ones included
	Created           time.Time
}

var (
	errUnknownEntitlement = func() *apiError { return errCode(http.StatusNotFound, 10029, "Unknown Entitlement") }
	errNotConsumable      = func() *apiError {
		return errCode(http.StatusBadRequest, 40018, "Only consumable SKUs can be consumed")
	}
	// Discord does not document the answer to consuming an entitlement
	// twice; the fake answers a 400 with the general error code 0.
	errAlreadyConsumed = func() *apiError {
		return errCode(http.StatusBadRequest, 0, "This entitlement has already been consumed")
	}
)

// dispatchShop runs the SKU and entitlement routes; handled is false for others.
func (s *Server) dispatchShop(r *http.Request, key string, p map[string]string, _ *body) (rep reply, handled bool) {
	switch key {
	case "GET /applications/{application_id}/skus":
		return s.handleListSKUs(p["application_id"]), true
	case "GET /applications/{application_id}/entitlements":
		return s.handleListEntitlements(p["application_id"], r.URL.Query()), true
	case "GET /applications/{application_id}/entitlements/{entitlement_id}":
		return s.handleGetEntitlement(p["application_id"], p["entitlement_id"]), true
	case "POST /applications/{application_id}/entitlements/{entitlement_id}/consume":
		return s.handleConsume(p["application_id"], p["entitlement_id"]), true
	}
	return reply{}, false
}

func (s *Server) renderEntitlement(e *Entitlement) map[string]any {
	out := map[string]any{
		"id": e.ID, "sku_id": e.SKUID, "application_id": s.opt.AppID, "user_id": e.UserID, "type": int(e.Type),
		"deleted": e.Deleted, "consumed": e.Consumed, "starts_at": timestamp(e.Created), "ends_at": nil,
		"gift_code_flags": 0, "promotion_id": nil,
	}
	if e.GuildID != "" {
		out["guild_id"] = e.GuildID
	}
	return out
}

// sortedEntitlementsLocked returns every entitlement by id. s.mu is held.
func (s *Server) sortedEntitlementsLocked() []*Entitlement {
	out := make([]*Entitlement, 0, len(s.shop.entitlements))
	for _, e := range s.shop.entitlements {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return lessID(out[i].ID, out[j].ID) })
	return out
}

func queryBool(q url.Values, name string, def bool) bool {
	vs, ok := q[name]
	if !ok || len(vs) == 0 {
		return def
	}
	switch vs[len(vs)-1] {
	case "true", "True", "1":
		return true
	}
	return false
}

// handleListEntitlements lists entitlements by id, ascending: after= gives
// the first limit ids above it, before= the last limit ids below it.
// Deleted ones are left out unless exclude_deleted=false, as on Discord.
// Nothing ends in the fake, so exclude_ended and only_active change nothing.
func (s *Server) handleListEntitlements(appID string, q url.Values) reply {
	if appID != s.opt.AppID {
		return fail(errNotApplication())
	}
	var skus map[string]bool
	if v := q.Get("sku_ids"); v != "" {
		skus = map[string]bool{}
		for _, id := range strings.Split(v, ",") {
			id = strings.TrimSpace(id)
			if !snowflakeRE.MatchString(id) {
				return fail(errForm(fieldErrors{"sku_ids": leafError("NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not snowflake.", id))}))
			}
			skus[id] = true
		}
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		_, _ = fmt.Sscan(v, &limit)
	}
	userID, guildID, before, after := q.Get("user_id"), q.Get("guild_id"), q.Get("before"), q.Get("after")
	excludeDeleted := queryBool(q, "exclude_deleted", true)

	s.mu.Lock()
	defer s.mu.Unlock()
	var match []*Entitlement
	for _, e := range s.sortedEntitlementsLocked() {
		switch {
		case userID != "" && e.UserID != userID,
			guildID != "" && e.GuildID != guildID,
			skus != nil && !skus[e.SKUID],
			excludeDeleted && e.Deleted,
			after != "" && !lessID(after, e.ID),
			before != "" && !lessID(e.ID, before):
			continue
		}
		match = append(match, e)
	}
	if len(match) > limit {
		if before != "" && after == "" {
			match = match[len(match)-limit:]
		} else {
			match = match[:limit]
		}
	}
	out := []any{}
	for _, e := range match {
		out = append(out, s.renderEntitlement(e))
	}
	return ok(out)
}

func (s *Server) handleGetEntitlement(appID, id string) reply {
	if appID != s.opt.AppID {
		return fail(errNotApplication())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.shop.entitlements[id]
	if e == nil {
		return fail(errUnknownEntitlement())
	}
	return ok(s.renderEntitlement(e))
}

func (s *Server) handleConsume(appID, id string) reply {
	if appID != s.opt.AppID {
		return fail(errNotApplication())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.shop.entitlements[id]
	if e == nil || e.Deleted {
		return fail(errUnknownEntitlement())
	}
	e.ConsumeCalls++
	s.notifyLocked()
	switch {
	case s.shop.skus[e.SKUID].Type != discordgo.SKUTypeConsumable:
		return fail(errNotConsumable())
	case e.Consumed:
		return fail(errAlreadyConsumed())
	}
	e.Consumed = true
	return noContent()
}

// activeEntitlementsLocked renders what an interaction from userID (in
// guildID, "" for a DM) carries in "entitlements": the user's (and the
// guild's) entitlements that are neither deleted nor consumed. s.mu is held.
func (s *Server) activeEntitlementsLocked(userID, guildID string) []any {
	out := []any{}
	for _, e := range s.sortedEntitlementsLocked() {
		mine := e.GuildID == "" && e.UserID == userID || guildID != "" && e.GuildID == guildID
		if mine && !e.Deleted && !e.Consumed {
			out = append(out, s.renderEntitlement(e))
		}
	}
	return out
}

// newEntitlement records a purchase, refusing what Discord's store would
// not sell: an unknown SKU, or a one-time SKU the user already holds (a
// consumable until the bot consumes it).
func (s *Server) newEntitlement(userID, skuID string) (*Entitlement, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shop.init()
	sku, ok := s.shop.skus[skuID]
	if !ok {
		return nil, fmt.Errorf("discordtest: unknown SKU %s (AddSKU it first)", skuID)
	}
	if sku.Type == discordgo.SKUTypeConsumable || sku.Type == discordgo.SKUTypeDurable {
		for _, e := range s.shop.entitlements {
			if e.UserID == userID && e.SKUID == skuID && !e.Deleted && !e.Consumed {
				return nil, fmt.Errorf("discordtest: user %s already holds entitlement %s to SKU %s; Discord sells it again only after it is consumed", userID, e.ID, skuID)
			}
		}
	}
	e := &Entitlement{ID: newID(), SKUID: skuID, UserID: userID, Type: discordgo.EntitlementTypePurchase, Created: time.Now()}
	s.shop.entitlements[e.ID] = e
	if _, known := s.users[userID]; !known {
		s.users[userID] = User{ID: userID, Username: "user" + userID}
	}
	s.notifyLocked()
	return e, nil
}

// Purchase simulates userID buying skuID in Discord's store (what pressing
// a premium button leads to): an entitlement is created and ENTITLEMENT_CREATE
// is dispatched on the gateway, and later interactions from the user carry
// it in "entitlements" until it is consumed. The error is non-nil when the
// store refuses the sale or when no gateway session was ready within
// DispatchWait; in the latter case the entitlement exists all the same.
func (s *Server) Purchase(userID, skuID string) (Entitlement, error) {
	e, err := s.newEntitlement(userID, skuID)
	if err != nil {
		return Entitlement{}, err
	}
	err = s.dispatchEntitlement("ENTITLEMENT_CREATE", e.ID)
	got, _ := s.Entitlement(e.ID)
	return got, err
}

// PurchaseOffline is Purchase while the bot is not connected: the
// entitlement exists (listing and interactions show it), but no event is sent.
func (s *Server) PurchaseOffline(userID, skuID string) (Entitlement, error) {
	e, err := s.newEntitlement(userID, skuID)
	if err != nil {
		return Entitlement{}, err
	}
	got, _ := s.Entitlement(e.ID)
	return got, nil
}

// RefundEntitlement simulates Discord refunding an entitlement: it is
// marked deleted and ENTITLEMENT_DELETE is dispatched.
func (s *Server) RefundEntitlement(id string) (Entitlement, error) {
	s.mu.Lock()
	e := s.shop.entitlements[id]
	if e == nil || e.Deleted {
		s.mu.Unlock()
		return Entitlement{}, fmt.Errorf("discordtest: no live entitlement %s", id)
	}
	e.Deleted = true
	s.notifyLocked()
	s.mu.Unlock()
	err := s.dispatchEntitlement("ENTITLEMENT_DELETE", id)
	got, _ := s.Entitlement(id)
	return got, err
}

// RedispatchEntitlement sends ENTITLEMENT_CREATE for an existing
// entitlement again, as a duplicated or replayed event would.
func (s *Server) RedispatchEntitlement(id string) error {
	return s.dispatchEntitlement("ENTITLEMENT_CREATE", id)
}

func (s *Server) dispatchEntitlement(t, id string) error {
	s.mu.Lock()
	e := s.shop.entitlements[id]
	if e == nil {
		s.mu.Unlock()
		return fmt.Errorf("discordtest: unknown entitlement %s", id)
	}
	d, err := json.Marshal(s.renderEntitlement(e))
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := s.dispatch(t, d); err != nil {
		return errors.New("discordtest: " + t + " not delivered: " + err.Error())
	}
	return nil
}

// Entitlement returns one entitlement's current state.
func (s *Server) Entitlement(id string) (Entitlement, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.shop.entitlements[id]; e != nil {
		return *e, true
	}
	return Entitlement{}, false
}

// Entitlements returns every entitlement, oldest first.
func (s *Server) Entitlements() []Entitlement {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Entitlement
	for _, e := range s.sortedEntitlementsLocked() {
		out = append(out, *e)
	}
	return out
}

// WaitEntitlement waits until entitlement id satisfies match (e.g. the bot
// consumed it) and returns its state; false when timeout passes first.
func (s *Server) WaitEntitlement(timeout time.Duration, id string, match func(Entitlement) bool) (Entitlement, bool) {
	var got Entitlement
	ok := s.waitFor(timeout, func() bool {
		e := s.shop.entitlements[id]
		if e == nil {
			return false
		}
		got = *e
		return match == nil || match(got)
	})
	return got, ok
}
