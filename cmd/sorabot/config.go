package main

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"sorabot/core"
	"sorabot/i18n"
)

// Config is the whole configuration, read from the environment (README, Configuration).
type Config struct {
	DB           string
	HTTPAddr     string
	PublicURL    string
	Admins       []string
	StartCredits int
	CatalogPath  string
	Catalog      *core.Catalog

	// Selling and giving credits.
	Packs        []core.Pack // SORABOT_PACKS
	SKUs         []core.SKU  // DISCORD_SKUS
	DailyCredits int
	PaySupport   string // the /paysupport text; "" for the built-in one, in the user's language
	Terms        string // the /terms text; "" for the built-in one

	// Language is the language of users who chose none and whose platform
	// tells none (SORABOT_LANGUAGE), one of i18n.Languages.
	Language string

	Provider    string // sorapro | videocreate | demo; "" with SORABOT_PROVIDERS
	ProviderURL string
	ProviderKey core.Secret
	MaxInflight int
	// ProviderRate is provider calls per second (create, status, balance).
	ProviderRate float64
	// ProvidersPath is SORABOT_PROVIDERS; Providers are the configured
	// providers (from it, or the one the PROVIDER* variables make).
	ProvidersPath string
	Providers     []ProviderSpec

	TelegramToken  core.Secret
	TelegramAPIURL string
	// TelegramMaxUpload is the largest video uploaded to Telegram; 0 lets
	// the bot choose by TelegramAPIURL.
	TelegramMaxUpload int64

	DiscordToken     core.Secret
	DiscordAPIURL    string
	DiscordGuildID   string
	DiscordPublicKey core.Secret
	DiscordAppID     string

	OutDir         string
	VideoRetention time.Duration
	UserMaxActive  int
	UserRate       int // requests per minute

	// Tuning, mostly for demos and tests.
	StatusInterval time.Duration
	PollFirst      time.Duration
	PollInterval   time.Duration
	DemoDuration   time.Duration
	// DemoProtocol is the wire protocol the demo provider speaks.
	DemoProtocol string
	LogLevel     string
}

// maxText is the longest /paysupport or /terms text (a Telegram message
// holds 4096 characters).
const maxText = 4000

// Providers.
const (
	ProviderSoraPro     = core.ProtocolSoraPro
	ProviderVideoCreate = core.ProtocolVideoCreate
	ProviderDemo        = "demo"
)

// env reads variables, with NAME_FILE twins for secrets.
type env struct {
	get      func(string) string
	readFile func(string) ([]byte, error)
	errs     []string
}

func (e *env) fail(name, format string, args ...any) {
	e.errs = append(e.errs, name+": "+fmt.Sprintf(format, args...))
}

func (e *env) str(name, def string) string {
	if v := strings.TrimSpace(e.get(name)); v != "" {
		return v
	}
	return def
}

// secret reads NAME or the file named by NAME_FILE (not both).
func (e *env) secret(name string) core.Secret {
	v, file := strings.TrimSpace(e.get(name)), strings.TrimSpace(e.get(name+"_FILE"))
	switch {
	case v != "" && file != "":
		e.fail(name, "set either %s or %s_FILE, not both", name, name)
		return ""
	case file != "":
		b, err := e.readFile(file)
		if err != nil {
			e.fail(name+"_FILE", "cannot read %s: %v", file, err)
			return ""
		}
		v = strings.TrimSpace(string(b))
		if v == "" {
			e.fail(name+"_FILE", "%s is empty", file)
		}
	}
	return core.Secret(v)
}

func (e *env) int(name string, def, min int) int {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		e.fail(name, "%q is not a whole number >= %d", v, min)
		return def
	}
	return n
}

// text reads a text shown to users as it is (only surrounding space
// trimmed), at most maxText characters.
func (e *env) text(name, def string) string {
	v := e.str(name, def)
	if n := utf8.RuneCountInString(v); n > maxText {
		e.fail(name, "is %d characters long; at most %d fit a chat message", n, maxText)
		return def
	}
	return v
}

// number reads a positive decimal number such as 10 or 0.5.
func (e *env) number(name string, def float64) float64 {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		e.fail(name, "%q is not a positive number such as 10 or 0.5", v)
		return def
	}
	return f
}

func (e *env) duration(name string, def time.Duration) time.Duration {
	v := e.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		e.fail(name, "%q is not a positive duration such as 5s or 1m", v)
		return def
	}
	return d
}

// sizeUnits are the units a size may carry; KB, MB and GB are binary
// (1MB = 1 MiB), as Telegram counts its limits.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10,
	"M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20,
	"G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30,
}

// size reads a positive size such as 50MB, 2000MB or a number of bytes;
// 0 when unset.
func (e *env) size(name string) int64 {
	v := e.str(name, "")
	if v == "" {
		return 0
	}
	digits := strings.TrimRight(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ \t")
	unit, ok := sizeUnits[strings.ToUpper(strings.TrimSpace(v[len(digits):]))]
	n, err := strconv.ParseInt(strings.TrimSpace(digits), 10, 64)
	if !ok || err != nil || n <= 0 || n > math.MaxInt64/unit {
		e.fail(name, "%q is not a size such as 50MB, 2000MB or a number of bytes", v)
		return 0
	}
	return n * unit
}

func (e *env) url(name, def string) string {
	v := e.str(name, def)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		e.fail(name, "%q is not an http(s) URL", v)
		return ""
	}
	return strings.TrimRight(v, "/")
}

// LoadConfig reads the configuration; every invalid value is reported with
// the variable's name, all at once.
func LoadConfig(getenv func(string) string, readFile func(string) ([]byte, error)) (Config, error) {
	if readFile == nil {
		readFile = os.ReadFile
	}
	e := &env{get: getenv, readFile: readFile}
	c := Config{
		DB:             e.str("SORABOT_DB", "data/sorabot.db"),
		HTTPAddr:       e.str("SORABOT_HTTP_ADDR", "127.0.0.1:8080"),
		PublicURL:      e.url("SORABOT_PUBLIC_URL", ""),
		StartCredits:   e.int("SORABOT_START_CREDITS", 500, 0),
		CatalogPath:    e.str("SORABOT_CATALOG", ""),
		Provider:       strings.ToLower(e.str("PROVIDER", "")),
		ProviderKey:    e.secret("PROVIDER_API_KEY"),
		MaxInflight:    e.int("PROVIDER_MAX_INFLIGHT", defaultMaxInflight, 1),
		ProviderRate:   e.number("PROVIDER_RATE", defaultProviderRate),
		ProvidersPath:  e.str("SORABOT_PROVIDERS", ""),
		TelegramToken:  e.secret("TELEGRAM_TOKEN"),
		TelegramAPIURL: e.url("TELEGRAM_API_URL", "https://api.telegram.org"),
		DiscordToken:   e.secret("DISCORD_TOKEN"),
		DiscordAPIURL:  e.url("DISCORD_API_URL", "https://discord.com"),
		DiscordGuildID: e.str("DISCORD_GUILD_ID", ""),
		DiscordAppID:   e.str("DISCORD_APP_ID", ""),
		OutDir:         e.str("SORABOT_OUT_DIR", "out"),
		VideoRetention: e.duration("SORABOT_VIDEO_RETENTION", 7*24*time.Hour),
		UserMaxActive:  e.int("SORABOT_USER_MAX_ACTIVE", 2, 1),
		UserRate:       e.int("SORABOT_USER_RATE", 20, 1),
		PollFirst:      e.duration("SORABOT_POLL_FIRST", 0),
		StatusInterval: e.duration("SORABOT_STATUS_INTERVAL", 5*time.Second),
		PollInterval:   e.duration("SORABOT_POLL_INTERVAL", 0),
		DemoDuration:   e.duration("SORABOT_DEMO_DURATION", 6*time.Second),
		DemoProtocol:   strings.ToLower(e.str("SORABOT_DEMO_PROTOCOL", core.ProtocolSoraPro)),
		LogLevel:       strings.ToLower(e.str("SORABOT_LOG_LEVEL", "")),
		DailyCredits:   e.int("SORABOT_DAILY_CREDITS", 0, 0),
		PaySupport:     e.text("SORABOT_PAYSUPPORT", ""),
		Terms:          e.text("SORABOT_TERMS", ""),
		Language:       e.str("SORABOT_LANGUAGE", i18n.Default),
	}
	if l := i18n.Match(c.Language); l != "" {
		c.Language = l
	} else {
		e.fail("SORABOT_LANGUAGE", "%q is not one of %s", c.Language, strings.Join(i18n.Languages, ", "))
	}
	var err error
	if c.Packs, err = core.ParsePacks(e.str("SORABOT_PACKS", "")); err != nil {
		e.fail("SORABOT_PACKS", "%v (a comma list of <credits>:<stars>, e.g. 500:50,1500:125)", err)
	}
	if c.SKUs, err = core.ParseSKUs(e.str("DISCORD_SKUS", "")); err != nil {
		e.fail("DISCORD_SKUS", "%v (a comma list of <sku_id>:<credits>)", err)
	}
	if c.DailyCredits > core.MaxCredits {
		e.fail("SORABOT_DAILY_CREDITS", "%d is more than %d", c.DailyCredits, core.MaxCredits)
	}
	c.DiscordPublicKey = e.secret("DISCORD_PUBLIC_KEY")
	c.TelegramMaxUpload = e.size("TELEGRAM_MAX_UPLOAD")
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		e.fail("SORABOT_HTTP_ADDR", "%q is not host:port", c.HTTPAddr)
	}
	for _, a := range strings.Split(e.str("SORABOT_ADMINS", ""), ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		platform, id, ok := strings.Cut(a, ":")
		if !ok || id == "" || (platform != "telegram" && platform != "discord" && platform != "console") {
			e.fail("SORABOT_ADMINS", "%q is not platform:id (telegram:123, discord:456 or console:name)", a)
			continue
		}
		c.Admins = append(c.Admins, a)
	}
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error":
	default:
		e.fail("SORABOT_LOG_LEVEL", "%q is not debug, info, warn or error", c.LogLevel)
	}
	if c.DemoProtocol != core.ProtocolSoraPro && c.DemoProtocol != core.ProtocolVideoCreate {
		e.fail("SORABOT_DEMO_PROTOCOL", "%q is not sorapro or videocreate", c.DemoProtocol)
	}
	chat := c.TelegramToken != "" || c.DiscordToken != ""
	if c.ProvidersPath != "" {
		c.loadProviders(e)
	} else {
		c.singleProvider(e, chat)
	}
	for name, v := range map[string]string{"DISCORD_GUILD_ID": c.DiscordGuildID, "DISCORD_APP_ID": c.DiscordAppID} {
		if v != "" && strings.Trim(v, "0123456789") != "" {
			e.fail(name, "%q is not a Discord id (digits only)", v)
		}
	}
	if (c.DiscordPublicKey != "") != (c.DiscordAppID != "") {
		e.fail("DISCORD_PUBLIC_KEY", "DISCORD_PUBLIC_KEY and DISCORD_APP_ID go together (HTTP interactions)")
	}
	if c.DiscordPublicKey != "" && c.PublicURL == "" {
		e.fail("DISCORD_PUBLIC_KEY", "HTTP interactions need SORABOT_PUBLIC_URL")
	}
	c.Catalog = core.DefaultCatalog()
	if c.CatalogPath != "" {
		f, err := os.Open(c.CatalogPath)
		if err != nil {
			e.fail("SORABOT_CATALOG", "%v", err)
		} else {
			cat, err := core.LoadCatalog(f, c.Catalog)
			f.Close()
			if err != nil {
				e.fail("SORABOT_CATALOG", "%v", err)
			} else {
				c.Catalog = cat
			}
		}
	}
	if len(c.Providers) > 0 {
		if err := core.CheckRoutes(c.Catalog, providerInfos(c.Providers)); err != nil {
			e.fail("SORABOT_CATALOG", "%v", err)
		}
	}
	if len(e.errs) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %s", strings.Join(e.errs, "\n  "))
	}
	return c, nil
}

// singleProvider reads the PROVIDER* variables: one provider named after
// its protocol.
func (c *Config) singleProvider(e *env, chat bool) {
	switch c.Provider {
	case "":
		if chat {
			e.fail("PROVIDER", "must be set (sorapro or videocreate) when TELEGRAM_TOKEN or DISCORD_TOKEN is set: a production bot never serves demo videos")
		} else {
			c.Provider = ProviderDemo
		}
	case ProviderDemo:
	case ProviderSoraPro:
		c.ProviderURL = e.url("PROVIDER_URL", defaultSoraProURL)
	case ProviderVideoCreate:
		c.ProviderURL = e.url("PROVIDER_URL", "")
		if c.ProviderURL == "" && e.str("PROVIDER_URL", "") == "" {
			e.fail("PROVIDER_URL", "is required for PROVIDER=videocreate")
		}
	default:
		e.fail("PROVIDER", "%q is not sorapro, videocreate or demo", c.Provider)
	}
	if c.Provider != ProviderDemo && c.Provider != "" && c.ProviderKey == "" && !strings.Contains(strings.Join(e.errs, "\n"), "PROVIDER_API_KEY") {
		e.fail("PROVIDER_API_KEY", "is required for PROVIDER=%s (or PROVIDER_API_KEY_FILE)", c.Provider)
	}
	c.Providers = []ProviderSpec{{Name: c.Provider, Protocol: c.Provider, Wire: c.protocol(), URL: c.ProviderURL,
		Key: c.ProviderKey, MaxInflight: c.MaxInflight, Rate: c.ProviderRate}}
}

// loadProviders reads SORABOT_PROVIDERS, which replaces the PROVIDER* variables.
func (c *Config) loadProviders(e *env) {
	for _, name := range providerVars {
		if e.str(name, "") != "" {
			e.fail("SORABOT_PROVIDERS", "set either SORABOT_PROVIDERS or %s (the PROVIDER* variables), not both", name)
		}
	}
	c.Providers = e.loadProviders(c.ProvidersPath)
}

// protocol is the wire protocol the configured provider speaks.
func (c Config) protocol() string {
	if c.Provider == ProviderDemo {
		return c.DemoProtocol
	}
	return c.Provider
}
