package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"regexp"
	"strings"

	"golang.org/x/time/rate"

	"sorabot/core"
	"sorabot/core/provider/providertest"
	"sorabot/core/provider/sorapro"
	"sorabot/core/provider/videocreate"
	"sorabot/media"
)

// Provider defaults, for SORABOT_PROVIDERS entries and the PROVIDER* variables
// alike; the slots and the pace are the core's.
const (
	defaultMaxInflight  = core.DefaultMaxInflight
	defaultProviderRate = float64(core.DefaultProviderRate) // calls per second
	defaultSoraProURL   = "https://freesoragenerator.com"
)

// ProviderSpec is one configured provider: an entry of SORABOT_PROVIDERS, or
// the one the PROVIDER* variables describe (named after its protocol).
type ProviderSpec struct {
	Name string
	// Protocol is as configured: sorapro, videocreate or demo.
	Protocol string
	// Wire is what the core routes by: the protocol, or for a demo
	// provider core.ProtocolDemo (both), except PROVIDER=demo, which speaks
	// SORABOT_DEMO_PROTOCOL only.
	Wire        string
	URL         string
	Key         core.Secret
	MaxInflight int
	Rate        float64 // calls per second
	Disabled    bool
}

// providerEntry is one entry of the SORABOT_PROVIDERS file.
type providerEntry struct {
	Name        string   `json:"name"`
	Protocol    string   `json:"protocol"`
	URL         string   `json:"url"`
	APIKeyEnv   string   `json:"api_key_env"`
	APIKeyFile  string   `json:"api_key_file"`
	MaxInflight *int     `json:"max_inflight"`
	Rate        *float64 `json:"rate"`
	Disabled    bool     `json:"disabled"`
}

var (
	providerName = regexp.MustCompile(`^[a-z0-9-]+$`)
	envName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// providerVars are the variables SORABOT_PROVIDERS replaces.
var providerVars = []string{"PROVIDER", "PROVIDER_URL", "PROVIDER_API_KEY", "PROVIDER_API_KEY_FILE", "PROVIDER_MAX_INFLIGHT", "PROVIDER_RATE"}

// loadProviders reads the SORABOT_PROVIDERS file at path; every fault is
// reported naming the entry and the field.
func (e *env) loadProviders(path string) []ProviderSpec {
	const v = "SORABOT_PROVIDERS"
	raw, err := e.readFile(path)
	if err != nil {
		e.fail(v, "%v", err)
		return nil
	}
	var f struct {
		Providers []json.RawMessage `json:"providers"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		e.fail(v, "%s: %v", path, err)
		return nil
	}
	if len(f.Providers) == 0 {
		e.fail(v, "%s names no providers (want {\"providers\": [...]})", path)
		return nil
	}
	var out []ProviderSpec
	names := map[string]int{}
	enabled := 0
	for i, r := range f.Providers {
		p, ok := e.providerEntry(i, r, names)
		if !ok {
			continue
		}
		if !p.Disabled {
			enabled++
		}
		out = append(out, p)
	}
	if enabled == 0 && len(out) == len(f.Providers) {
		e.fail(v, "every provider is disabled")
	}
	return out
}

// providerEntry reads and checks entry i.
func (e *env) providerEntry(i int, raw json.RawMessage, names map[string]int) (ProviderSpec, bool) {
	var p providerEntry
	where := fmt.Sprintf("providers[%d]", i)
	bad := func(field, format string, args ...any) {
		e.fail("SORABOT_PROVIDERS", "%s: %s: %s", where, field, fmt.Sprintf(format, args...))
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		e.fail("SORABOT_PROVIDERS", "%s: %v", where, err)
		return ProviderSpec{}, false
	}
	if n := keys["name"]; n != nil {
		var name string
		if json.Unmarshal(n, &name) == nil && name != "" {
			where += fmt.Sprintf(" %q", name)
		}
	}
	for _, k := range []string{"api_key", "key", "token"} {
		if _, ok := keys[k]; ok {
			bad(k, "keys never go in this file: name a variable with api_key_env or a file with api_key_file")
			return ProviderSpec{}, false
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		e.fail("SORABOT_PROVIDERS", "%s: %v", where, err)
		return ProviderSpec{}, false
	}
	n0 := len(e.errs)
	s := ProviderSpec{Name: p.Name, Protocol: strings.ToLower(p.Protocol), URL: p.URL, Disabled: p.Disabled,
		MaxInflight: defaultMaxInflight, Rate: defaultProviderRate}
	switch {
	case p.Name == "":
		bad("name", "is required")
	case !providerName.MatchString(p.Name):
		bad("name", "%q may hold only a-z, 0-9 and -", p.Name)
	default:
		if j, dup := names[p.Name]; dup {
			bad("name", "%q is also the name of providers[%d]", p.Name, j)
		}
		names[p.Name] = i
	}
	switch s.Protocol {
	case ProviderDemo:
		s.Wire = core.ProtocolDemo
		if p.URL != "" {
			bad("url", "a demo provider takes none")
		}
		if p.APIKeyEnv != "" || p.APIKeyFile != "" {
			bad("api_key_env", "a demo provider takes no key")
		}
	case ProviderSoraPro, ProviderVideoCreate:
		s.Wire = s.Protocol
		if s.URL == "" && s.Protocol == ProviderSoraPro {
			s.URL = defaultSoraProURL
		}
		if s.URL == "" {
			bad("url", "is required for protocol videocreate")
		} else if !httpURL(s.URL) {
			bad("url", "%q is not an http(s) URL", s.URL)
		}
		s.URL = strings.TrimRight(s.URL, "/")
		s.Key = e.entryKey(p, bad)
	case "":
		bad("protocol", "is required (sorapro, videocreate or demo)")
	default:
		bad("protocol", "%q is not sorapro, videocreate or demo", p.Protocol)
	}
	if p.MaxInflight != nil {
		if s.MaxInflight = *p.MaxInflight; s.MaxInflight < 1 {
			bad("max_inflight", "%d is not at least 1", *p.MaxInflight)
		}
	}
	if p.Rate != nil {
		if s.Rate = *p.Rate; !(s.Rate > 0) || math.IsInf(s.Rate, 0) {
			bad("rate", "%v is not a number of calls per second above 0", *p.Rate)
		}
	}
	return s, len(e.errs) == n0
}

// entryKey reads an entry's key from exactly one of api_key_env (a
// variable's name) and api_key_file.
func (e *env) entryKey(p providerEntry, bad func(field, format string, args ...any)) core.Secret {
	switch {
	case p.APIKeyEnv != "" && p.APIKeyFile != "":
		bad("api_key_env", "set either api_key_env or api_key_file, not both")
	case p.APIKeyEnv != "":
		if !envName.MatchString(p.APIKeyEnv) {
			bad("api_key_env", "%q is not a variable name (it names the variable that holds the key)", p.APIKeyEnv)
		} else if v := strings.TrimSpace(e.get(p.APIKeyEnv)); v == "" {
			bad("api_key_env", "variable %s is not set", p.APIKeyEnv)
		} else {
			return core.Secret(v)
		}
	case p.APIKeyFile != "":
		b, err := e.readFile(p.APIKeyFile)
		if err != nil {
			bad("api_key_file", "cannot read %s: %v", p.APIKeyFile, err)
		} else if v := strings.TrimSpace(string(b)); v == "" {
			bad("api_key_file", "%s is empty", p.APIKeyFile)
		} else {
			return core.Secret(v)
		}
	default:
		bad("api_key_env", "a key is required: set api_key_env (a variable's name) or api_key_file")
	}
	return ""
}

func httpURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// providerInfos is what the core's route check needs of the providers.
func providerInfos(specs []ProviderSpec) []core.ProviderInfo {
	out := make([]core.ProviderInfo, len(specs))
	for i, p := range specs {
		out[i] = core.ProviderInfo{Name: p.Name, Protocol: p.Wire, Disabled: p.Disabled}
	}
	return out
}

// allDemo reports whether every enabled provider is a demo.
func allDemo(specs []ProviderSpec) bool {
	for _, p := range specs {
		if !p.Disabled && p.Protocol != ProviderDemo {
			return false
		}
	}
	return true
}

// providerLabel names the providers for the console's greeting.
func (c Config) providerLabel() string {
	if c.ProvidersPath == "" {
		return c.Provider
	}
	var names []string
	for _, p := range c.Providers {
		if !p.Disabled {
			names = append(names, p.Name)
		}
	}
	return strings.Join(names, ", ")
}

// providerClients makes a client for every configured provider, starting
// an emulator for each demo one (the caller closes them). mediaHost, when
// set, publishes uploaded images for videocreate gateways.
func providerClients(cfg Config, log *slog.Logger, mediaHost *media.Host) ([]core.ProviderConfig, []*providertest.Server) {
	var out []core.ProviderConfig
	var demos []*providertest.Server
	vc := func(url string, key core.Secret) *videocreate.Client {
		opts := []videocreate.Option{videocreate.WithLogger(log)}
		if mediaHost != nil {
			opts = append(opts, videocreate.WithMedia(mediaHost))
		}
		return videocreate.New(url, key, opts...)
	}
	for _, p := range cfg.Providers {
		var client core.Provider
		switch p.Protocol {
		case ProviderDemo:
			var b [16]byte
			rand.Read(b[:])
			key := core.Secret(hex.EncodeToString(b[:]))
			emu := providertest.New(providertest.Options{Key: key.Reveal(), Duration: cfg.DemoDuration, Catalog: cfg.Catalog})
			demos = append(demos, emu)
			sp, v := sorapro.New(emu.URL, key, sorapro.WithLogger(log)), vc(emu.URL, key)
			switch p.Wire {
			case core.ProtocolSoraPro:
				client = sp
			case core.ProtocolVideoCreate:
				client = v
			default:
				client = bothProtocols{sorapro: sp, videocreate: v}
			}
		case ProviderSoraPro:
			client = sorapro.New(p.URL, p.Key, sorapro.WithLogger(log))
		case ProviderVideoCreate:
			client = vc(p.URL, p.Key)
		}
		out = append(out, core.ProviderConfig{Name: p.Name, Protocol: p.Wire, Client: client,
			MaxInflight: p.MaxInflight, Rate: rate.Limit(p.Rate), Disabled: p.Disabled})
	}
	return out, demos
}

// bothProtocols is a demo provider's client: the emulator speaks both
// protocols, and each model goes to the client of its own.
type bothProtocols struct {
	sorapro     *sorapro.Client
	videocreate *videocreate.Client
}

var (
	_ core.RequestChecker = bothProtocols{}
	_ core.BalanceChecker = bothProtocols{}
	_ core.AccessChecker  = bothProtocols{}
)

func (b bothProtocols) client(m *core.Model) core.Provider {
	if m.Protocol == core.ProtocolVideoCreate {
		return b.videocreate
	}
	return b.sorapro
}

func (b bothProtocols) Submit(ctx context.Context, m *core.Model, r *core.Request) (string, error) {
	return b.client(m).Submit(ctx, m, r)
}

func (b bothProtocols) Status(ctx context.Context, m *core.Model, taskID string) (core.TaskStatus, error) {
	return b.client(m).Status(ctx, m, taskID)
}

func (b bothProtocols) CheckRequest(m *core.Model, r *core.Request) error {
	if m.Protocol == core.ProtocolVideoCreate {
		return b.videocreate.CheckRequest(m, r)
	}
	return nil
}

func (b bothProtocols) Balance(ctx context.Context) (float64, error) { return b.sorapro.Balance(ctx) }

func (b bothProtocols) CheckAccess(ctx context.Context) core.Access {
	return b.sorapro.CheckAccess(ctx)
}
