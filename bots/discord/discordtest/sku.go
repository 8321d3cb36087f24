package discordtest

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// SKU is a premium offering of the application.
type SKU struct {
	ID    string
	Type  discordgo.SKUType // 3 consumable, 2 durable, 5 subscription
	Name  string
	Flags discordgo.SKUFlags
}

// shop holds the application's SKUs and entitlements; guarded by s.mu.
type shop struct {
	skus         map[string]SKU
	entitlements map[string]*Entitlement
}

func (sh *shop) init() {
	if sh.skus == nil {
		sh.skus = map[string]SKU{}
		sh.entitlements = map[string]*Entitlement{}
	}
}

// AddSKU registers a SKU of the application (listed by GET
// /applications/{id}/skus, buyable with Purchase, and the only SKUs a
// premium button may name). Flags default to AVAILABLE.
func (s *Server) AddSKU(sku SKU) {
	if sku.Flags == 0 {
		sku.Flags = discordgo.SKUFlagAvailable
	}
	if sku.Name == "" {
		sku.Name = "SKU " + sku.ID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shop.init()
	s.shop.skus[sku.ID] = sku
}

func (s *Server) renderSKU(k SKU) map[string]any {
	return map[string]any{
		"id": k.ID, "type": int(k.Type), "application_id": s.opt.AppID, "name": k.Name,
		"slug": strings.ToLower(strings.ReplaceAll(k.Name, " ", "-")), "flags": int(k.Flags),
		"dependent_sku_id": nil, "manifest_labels": nil, "access_type": 1, "features": []any{},
		"release_date": nil, "premium": false, "show_age_gate": false,
	}
}

func (s *Server) handleListSKUs(appID string) reply {
	if appID != s.opt.AppID {
		return fail(errNotApplication())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.shop.skus))
	for id := range s.shop.skus {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return lessID(ids[i], ids[j]) })
	out := []any{}
	for _, id := range ids {
		out = append(out, s.renderSKU(s.shop.skus[id]))
	}
	return ok(out)
}

// specGaps are routes Discord documents that its OpenAPI description lacks.
func specGaps() []*route {
	snowflake := map[string]any{"$ref": "#/components/schemas/SnowflakeType"}
	return []*route{{
		template: "/applications/{application_id}/skus",
		segs:     []string{"applications", "{application_id}", "skus"},
		literal:  2,
		params:   map[string]any{"application_id": snowflake},
		ops:      map[string]*operation{"GET": {method: "GET", botOnly: true, query: map[string]any{}}},
	}}
}

// checkPremiumButtons applies Discord's rules for buttons anywhere in a
// message or interaction response: a premium button (type 2, style 6) has
// a sku_id naming one of the application's SKUs and no custom_id, label,
// url or emoji; other buttons have no sku_id. An empty label counts as none
// (discordgo always sends "label").
func (s *Server) checkPremiumButtons(b *body) fieldErrors {
	if b == nil || b.val == nil {
		return nil
	}
	s.mu.Lock()
	known := map[string]bool{}
	for id := range s.shop.skus {
		known[id] = true
	}
	s.mu.Unlock()
	errs := fieldErrors{}
	walkButtons(b.val, nil, func(path []string, c map[string]any) {
		var e fieldErrors
		sku, _ := c["sku_id"].(string)
		if fmt.Sprint(c["style"]) == "6" {
			switch {
			case sku == "":
				e = fieldErrors{"sku_id": leafError("BASE_TYPE_REQUIRED", "This field is required")}
			case present(c["custom_id"]), present(c["label"]), present(c["url"]), present(c["emoji"]):
				e = fieldErrors{"style": leafError("BUTTON_COMPONENT_INVALID", "Premium buttons cannot have a custom_id, label, url or emoji")}
			case !known[sku]:
				e = fieldErrors{"sku_id": leafError("BUTTON_COMPONENT_INVALID_SKU", fmt.Sprintf("Unknown SKU %q", sku))}
			}
		} else if present(c["sku_id"]) {
			e = fieldErrors{"sku_id": leafError("BUTTON_COMPONENT_INVALID", "Only premium buttons can have a sku_id")}
		}
		if e != nil {
			nest(errs, path, e)
		}
	})
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// present reports whether a JSON value is set to something (not null, "" or {}).
func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case map[string]any:
		return len(x) > 0
	}
	return true
}

// walkButtons calls f for every button object (type 2) in a JSON value,
// with its path in Discord's error-tree form.
func walkButtons(v any, path []string, f func([]string, map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if fmt.Sprint(x["type"]) == "2" {
			if _, hasStyle := x["style"]; hasStyle {
				f(path, x)
				return
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkButtons(x[k], append(append([]string(nil), path...), k), f)
		}
	case []any:
		for i, it := range x {
			walkButtons(it, append(append([]string(nil), path...), fmt.Sprint(i)), f)
		}
	}
}

// nest puts leaf at path inside an error tree.
func nest(errs fieldErrors, path []string, leaf fieldErrors) {
	cur := errs
	for _, k := range path {
		next, ok := cur[k].(fieldErrors)
		if !ok {
			next = fieldErrors{}
			cur[k] = next
		}
		cur = next
	}
	for k, v := range leaf {
		cur[k] = v
	}
}
