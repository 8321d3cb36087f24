package core

import (
	"fmt"
	"slices"
	"strings"
)

// Route is one way to make a catalog model: a configured provider, and the
// model's name there when it differs from the catalog id (a provider of
// another protocol always names its own model).
type Route struct {
	Provider string `json:"provider"`
	Model    string `json:"model,omitempty"`
}

// ProviderInfo is what route planning needs to know of a configured provider.
type ProviderInfo struct {
	Name     string
	Protocol string // ProtocolSoraPro, ProtocolVideoCreate or ProtocolDemo
	Disabled bool
}

// serves reports whether a provider of protocol p speaks protocol.
func serves(p, protocol string) bool { return p == protocol || p == ProtocolDemo }

// plan is one route of a model resolved against the configured providers.
type plan struct {
	provider string
	// wire is the model as the provider's protocol sends it: its ID is the
	// model's name there, its Protocol the protocol spoken.
	wire *Model
	// quality maps the catalog model's qualities (and "" when it has none)
	// to the wire's; "" on the wire means "the provider's default".
	quality map[string]string
}

// request translates a request normalized for the catalog model into the
// request the route's provider gets: its model name, its quality names;
// seconds are seconds on both protocols.
func (p *plan) request(r *Request) *Request {
	w := *r
	w.Model = p.wire.ID
	if q, ok := p.quality[r.Quality]; ok {
		w.Quality = q
	} else {
		w.Quality = wireQuality(r.Quality, p.wire.Protocol)
	}
	w.Private = w.Private && p.wire.PrivateOption
	w.Watermark = w.Watermark && p.wire.WatermarkOption
	return &w
}

// qualityOn names each protocol's equivalent of the other's qualities.
var qualityOn = map[string]map[string]string{
	ProtocolSoraPro:     {"small": "standard", "large": "high"},
	ProtocolVideoCreate: {"standard": "small", "high": "large"},
}

func wireQuality(q, protocol string) string {
	if t, ok := qualityOn[protocol][q]; ok {
		return t
	}
	return q
}

// caps is what a route's far end can express.
type caps struct {
	durations []int // nil: any whole number of seconds
	qualities []string
	// defQuality is sent for a model without qualities ("": the provider's default).
	defQuality string
	storyboard bool // makes storyboards rather than prompt videos
	eitherKind bool // the protocol has both kinds; the wire model decides
	minImages  int
	maxImages  int
	watermark  bool
	private    bool
}

func modelCaps(m *Model) caps {
	return caps{durations: m.Durations, qualities: m.Qualities, defQuality: m.DefaultQuality(), storyboard: m.Storyboard,
		minImages: m.MinImages, maxImages: m.MaxImages, watermark: m.WatermarkOption, private: m.PrivateOption}
}

// protocolCaps are the protocols' own limits (docs/PROTOCOLS.md), for a
// wire model the catalog does not describe.
var protocolCaps = map[string]caps{
	ProtocolSoraPro: {durations: []int{10, 15, 25}, qualities: []string{"standard", "high"}, eitherKind: true,
		maxImages: 1, watermark: true},
	ProtocolVideoCreate: {qualities: []string{"small", "large"}, maxImages: 100, watermark: true, private: true},
}

// express checks that every option of m can be said on the far end, and
// returns the quality translation.
func (c caps) express(m *Model, protocol string) (map[string]string, error) {
	if !c.eitherKind && c.storyboard != m.Storyboard {
		if m.Storyboard {
			return nil, fmt.Errorf("it makes no storyboards")
		}
		return nil, fmt.Errorf("it makes storyboards only")
	}
	for _, d := range m.Durations {
		if c.durations != nil && !slices.Contains(c.durations, d) {
			return nil, fmt.Errorf("it cannot make %d s videos (it makes %s s)", d, Either(joinInts(c.durations), "or"))
		}
	}
	q := map[string]string{}
	if len(m.Qualities) == 0 {
		q[""] = c.defQuality
	}
	for _, mq := range m.Qualities {
		t := wireQuality(mq, protocol)
		switch {
		case slices.Contains(c.qualities, t):
			q[mq] = t
		case len(c.qualities) <= 1 && len(m.Qualities) == 1:
			q[mq] = c.defQuality // one quality on both ends
		default:
			have := "none"
			if len(c.qualities) > 0 {
				have = strings.Join(c.qualities, ", ")
			}
			return nil, fmt.Errorf("quality %q has no equivalent there (it has %s)", mq, have)
		}
	}
	if m.MaxImages > c.maxImages {
		return nil, fmt.Errorf("it takes at most %d image(s), the model up to %d", c.maxImages, m.MaxImages)
	}
	if m.MinImages < c.minImages {
		return nil, fmt.Errorf("it needs at least %d image(s), the model takes %d", c.minImages, m.MinImages)
	}
	if m.PrivateOption && !c.private {
		return nil, fmt.Errorf("it has no private option")
	}
	if m.WatermarkOption && !c.watermark {
		return nil, fmt.Errorf("it has no watermark option")
	}
	return q, nil
}

// planRoutes resolves every model's routes: explicit routes in their
// order, or else every provider speaking the model's protocol in the order
// given. A route to an unknown provider, or one that cannot express its
// model's options, is an error naming the model and the route.
func planRoutes(cat *Catalog, provs []ProviderInfo) (map[string][]plan, error) {
	byName := map[string]ProviderInfo{}
	for _, p := range provs {
		byName[p.Name] = p
	}
	out := map[string][]plan{}
	for _, m := range cat.Models {
		if len(m.Routes) == 0 {
			for _, p := range provs {
				if serves(p.Protocol, m.Protocol) {
					out[m.ID] = append(out[m.ID], identity(m, p.Name))
				}
			}
			continue
		}
		for i, r := range m.Routes {
			pl, err := planRoute(cat, m, r, byName)
			if err != nil {
				where := fmt.Sprintf("provider %q", r.Provider)
				if r.Model != "" {
					where += fmt.Sprintf(", model %q", r.Model)
				}
				return nil, fmt.Errorf("catalog: model %q route %d (%s): %w", m.ID, i+1, where, err)
			}
			out[m.ID] = append(out[m.ID], pl)
		}
	}
	return out, nil
}

// CheckRoutes reports the first route of the catalog that names a provider
// not in provs or cannot express its model's options.
func CheckRoutes(cat *Catalog, provs []ProviderInfo) error {
	_, err := planRoutes(cat, provs)
	return err
}

func identity(m *Model, provider string) plan {
	q := map[string]string{"": m.DefaultQuality()}
	for _, mq := range m.Qualities {
		q[mq] = mq
	}
	return plan{provider: provider, wire: m, quality: q}
}

func planRoute(cat *Catalog, m *Model, r Route, provs map[string]ProviderInfo) (plan, error) {
	p, ok := provs[r.Provider]
	if !ok {
		return plan{}, fmt.Errorf("no provider of that name is configured")
	}
	target := p.Protocol
	if target == ProtocolDemo {
		target = m.Protocol
		if w, ok := cat.Model(r.Model); ok {
			target = w.Protocol
		}
	}
	if r.Model == "" || r.Model == m.ID {
		if target != m.Protocol {
			return plan{}, fmt.Errorf("the provider speaks %s and the model %s: name the model there (\"model\")", target, m.Protocol)
		}
		return identity(m, p.Name), nil
	}
	var wire *Model
	var c caps
	switch w, ok := cat.Model(r.Model); {
	case ok && w.Protocol == target:
		cp := *w
		wire, c = &cp, modelCaps(w)
	case target == m.Protocol:
		// Another name for the same model on the same protocol.
		cp := *m
		cp.ID = r.Model
		wire, c = &cp, modelCaps(m)
	default:
		c = protocolCaps[target]
		cp := *m
		cp.ID, cp.Protocol = r.Model, target
		cp.Qualities = nil
		for _, q := range m.Qualities {
			cp.Qualities = append(cp.Qualities, wireQuality(q, target))
		}
		cp.PrivateOption = m.PrivateOption && c.private
		wire = &cp
	}
	wire.Routes = nil
	q, err := c.express(m, target)
	if err != nil {
		return plan{}, fmt.Errorf("%s model %s cannot express the model's options: %w", target, r.Model, err)
	}
	return plan{provider: p.Name, wire: wire, quality: q}, nil
}

// route is a planned route bound to its provider.
type route struct {
	plan
	up *upstream
}

// check asks the route's provider whether it can take the request (for
// example images it can fetch).
func (r *route) check(req *Request) error {
	c, ok := r.up.Client.(RequestChecker)
	if !ok {
		return nil
	}
	return c.CheckRequest(r.wire, r.request(req))
}

// serve binds the catalog's routes to the configured providers. It returns
// the catalog the service offers, in which a model with no route to an
// enabled provider is disabled, the routes by model id, and the protocol
// of every offered model ("" when there are several).
func (s *Service) serve(cat *Catalog) (*Catalog, map[string][]*route, string, error) {
	infos := make([]ProviderInfo, len(s.ups))
	for i, u := range s.ups {
		infos[i] = u.info()
	}
	plans, err := planRoutes(cat, infos)
	if err != nil {
		return cat, nil, "", err
	}
	out := &Catalog{Models: make([]*Model, 0, len(cat.Models))}
	routes := map[string][]*route{}
	protocols := map[string]bool{}
	for _, m := range cat.Models {
		cp := *m
		usable := false
		for _, pl := range plans[m.ID] {
			u := s.byName[pl.provider]
			routes[m.ID] = append(routes[m.ID], &route{plan: pl, up: u})
			usable = usable || !u.Disabled
		}
		cp.Disabled = cp.Disabled || !usable
		if !cp.Disabled {
			protocols[cp.Protocol] = true
		}
		out.Models = append(out.Models, &cp)
	}
	protocol := ""
	for p := range protocols {
		if len(protocols) == 1 {
			protocol = p
		}
	}
	if len(protocols) == 0 && len(s.ups) == 1 && s.ups[0].Protocol != ProtocolDemo {
		protocol = s.ups[0].Protocol
	}
	return out, routes, protocol, nil
}

// candidates are the routes a job may still take: to enabled providers it
// has not tried, that take its request. Service.mu need not be held.
func (s *Service) candidates(j *Job) []*route {
	var out []*route
	for _, r := range s.routes[j.Req.Model] {
		if r.up.Disabled || slices.Contains(j.Tried, r.up.Name) || r.check(&j.Req) != nil {
			continue
		}
		out = append(out, r)
	}
	return out
}

// routeOf finds the route of a job's model at provider u, if the catalog
// still has one.
func (s *Service) routeOf(model string, u *upstream) *route {
	for _, r := range s.routes[model] {
		if r.up == u {
			return r
		}
	}
	return nil
}
