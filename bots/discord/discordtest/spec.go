package discordtest

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Discord's own OpenAPI description of its HTTP API (v10, MIT; see spec/LICENSE).
//
//go:embed spec/discord-openapi.json
var specJSON []byte

//go:embed spec/LICENSE
var specLicense string

var (
	specOnce   sync.Once
	specLoaded *specDoc
)

// loadSpec parses the embedded OpenAPI document once per process.
func loadSpec() *specDoc {
	specOnce.Do(func() {
		var raw struct {
			Paths      map[string]map[string]json.RawMessage `json:"paths"`
			Components struct {
				Schemas map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(specJSON, &raw); err != nil {
			panic("discordtest: embedded OpenAPI spec: " + err.Error())
		}
		d := &specDoc{schemas: raw.Components.Schemas}
		for tmpl, item := range raw.Paths {
			r := &route{template: tmpl, segs: strings.Split(strings.Trim(tmpl, "/"), "/"), ops: map[string]*operation{}, params: map[string]any{}}
			for _, s := range r.segs {
				if !strings.HasPrefix(s, "{") {
					r.literal++
				}
			}
			var shared []specParam
			if p, ok := item["parameters"]; ok {
				_ = json.Unmarshal(p, &shared)
			}
			for _, p := range shared {
				if p.In == "path" {
					r.params[p.Name] = p.Schema
				}
			}
			for method, rawOp := range item {
				if method == "parameters" {
					continue
				}
				var op struct {
					Parameters  []specParam `json:"parameters"`
					RequestBody *struct {
						Required bool `json:"required"`
						Content  map[string]struct {
							Schema any `json:"schema"`
						} `json:"content"`
					} `json:"requestBody"`
					Security []map[string]any `json:"security"`
				}
				if err := json.Unmarshal(rawOp, &op); err != nil {
					panic("discordtest: embedded OpenAPI spec: " + tmpl + ": " + err.Error())
				}
				o := &operation{method: strings.ToUpper(method), botOnly: true, query: map[string]any{}}
				for _, p := range op.Parameters {
					switch p.In {
					case "path":
						r.params[p.Name] = p.Schema
					case "query":
						o.query[p.Name] = p.Schema
					}
				}
				if op.RequestBody != nil {
					o.bodyRequired = op.RequestBody.Required
					if c, ok := op.RequestBody.Content["application/json"]; ok {
						o.body = c.Schema
					}
				}
				for _, sec := range op.Security {
					if len(sec) == 0 {
						o.botOnly = false
					}
				}
				if op.Security == nil {
					o.botOnly = false
				}
				r.ops[o.method] = o
			}
			d.routes = append(d.routes, r)
		}
		d.routes = append(d.routes, specGaps()...)
		// Most literal first, so /messages/@original wins over /messages/{message_id}.
		sort.Slice(d.routes, func(i, j int) bool {
			if d.routes[i].literal != d.routes[j].literal {
				return d.routes[i].literal > d.routes[j].literal
			}
			return d.routes[i].template < d.routes[j].template
		})
		specLoaded = d
	})
	return specLoaded
}

type specParam struct {
	Name   string `json:"name"`
	In     string `json:"in"`
	Schema any    `json:"schema"`
}

type specDoc struct {
	routes  []*route
	schemas map[string]any
}

type route struct {
	template string
	segs     []string
	literal  int
	params   map[string]any
	ops      map[string]*operation
}

type operation struct {
	method       string
	body         any // JSON schema of an application/json body, nil if none
	bodyRequired bool
	botOnly      bool           // security has no anonymous alternative
	query        map[string]any // schemas of the query parameters
}

// match finds the route for an API path such as "/channels/1/messages".
func (d *specDoc) match(path string) (*route, map[string]string) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, r := range d.routes {
		if len(r.segs) != len(segs) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i, s := range r.segs {
			if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				if segs[i] == "" {
					ok = false
					break
				}
				params[s[1:len(s)-1]] = segs[i]
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return r, params
		}
	}
	return nil, nil
}

// fieldErrors is Discord's nested error tree: {"field":{"_errors":[{"code","message"}]}}.
type fieldErrors map[string]any

func leafError(code, msg string) fieldErrors {
	return fieldErrors{"_errors": []map[string]string{{"code": code, "message": msg}}}
}

// checkParams validates path parameters against their schemas (snowflakes).
func (d *specDoc) checkParams(r *route, params map[string]string) fieldErrors {
	errs := fieldErrors{}
	for name, v := range params {
		s := d.resolve(r.params[name])
		if s == nil {
			continue
		}
		if s["format"] == "snowflake" && !snowflakeRE.MatchString(v) {
			errs[name] = leafError("NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not snowflake.", v))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

var snowflakeRE = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// SpecLicense returns the license of the embedded OpenAPI description.
func SpecLicense() string { return specLicense }
