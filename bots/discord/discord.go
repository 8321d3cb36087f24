// Package discord is the Discord frontend: slash commands with
// attachments, the "Animate" message command, live progress in the
// interaction's original response, delivery past the 15-minute token, over
// the gateway or HTTP interactions, through github.com/bwmarrin/discordgo.
package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/core"
)

// Platform is the Origin.Platform and user id prefix of Discord jobs.
const Platform = "discord"

// InteractionsPath is where HTTP interactions arrive.
const InteractionsPath = "/discord/interactions"

// DefaultUploadLimit is the per-file limit when an interaction does not say.
const DefaultUploadLimit = 10 << 20

// tokenLife is how long an interaction token may be used (15 minutes),
// less a margin for the request in flight.
const tokenLife = 14*time.Minute + 30*time.Second

// Options configure a Bot.
type Options struct {
	Token core.Secret
	// APIURL replaces https://discord.com (and its CDN) for every request.
	APIURL string
	// GuildID registers the commands in one guild instead of globally.
	GuildID string
	// PublicKey (hex) and AppID select HTTP interactions instead of the gateway.
	PublicKey string
	AppID     string
	Logger    *slog.Logger
	// Interval is the least time between two progress edits of one job (5 s).
	Interval time.Duration
	// EditRate bounds progress edits across all jobs, per second (4).
	EditRate float64
}

// Bot is the Discord frontend; it implements core.Frontend.
type Bot struct {
	svc   *core.Service
	opt   Options
	sess  *discordgo.Session
	log   *slog.Logger
	appID string            // guarded by mu: READY sets it when not configured
	key   ed25519.PublicKey // HTTP interactions

	editor *editor
	images imageCache
	// answerWait is how long an HTTP interaction waits for its first
	// response before it is answered with a deferral.
	answerWait time.Duration

	ready chan struct{}
	wg    sync.WaitGroup
	// The interactions endpoint is served before Run starts and after it
	// returned: mu guards what Run and READY set for the handlers.
	mu      sync.Mutex
	ctx     context.Context // Run's, for its values; nil before Run
	stopped bool            // Run is waiting for (or done with) the last handlers
}

var _ core.Frontend = (*Bot)(nil)

// rewrite sends requests for discord.com and its CDN to another base URL.
type rewrite struct {
	base *url.URL
	next http.RoundTripper
}

var discordHosts = map[string]bool{"discord.com": true, "discordapp.com": true, "cdn.discordapp.com": true, "media.discordapp.net": true}

func (t rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if discordHosts[r.URL.Host] {
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
		r.URL.Path = strings.TrimRight(t.base.Path, "/") + r.URL.Path
		r.Host = t.base.Host
	}
	return t.next.RoundTrip(r)
}

// New builds the session (nothing is connected yet); register the bot with
// svc.SetFrontend(Platform, b) before svc.Start, then call Run.
func New(svc *core.Service, opt Options) (*Bot, error) {
	if opt.Interval <= 0 {
		opt.Interval = 5 * time.Second
	}
	if opt.EditRate <= 0 {
		opt.EditRate = 4
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	sess, err := discordgo.New("Bot " + opt.Token.Reveal())
	if err != nil {
		return nil, fmt.Errorf("DISCORD_TOKEN: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	var rt http.RoundTripper = tr
	if opt.APIURL != "" && strings.TrimRight(opt.APIURL, "/") != "https://discord.com" {
		u, err := url.Parse(opt.APIURL)
		if err != nil {
			return nil, fmt.Errorf("DISCORD_API_URL: %w", err)
		}
		rt = rewrite{base: u, next: tr}
	}
	// Uploads of up to 25 MiB need more than discordgo's 20 s.
	sess.Client = &http.Client{Timeout: 5 * time.Minute, Transport: rt}
	sess.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsDirectMessages
	sess.LogLevel = -1 // discordgo logs through log.Printf; our own logs say what matters
	b := &Bot{svc: svc, opt: opt, sess: sess, log: opt.Logger.With("platform", Platform), appID: opt.AppID,
		ready: make(chan struct{}), answerWait: 2500 * time.Millisecond}
	b.images.m = map[string]*cachedImages{}
	if opt.PublicKey != "" {
		k, err := hex.DecodeString(opt.PublicKey)
		if err != nil || len(k) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("DISCORD_PUBLIC_KEY: not a hex Ed25519 public key")
		}
		b.key = k
	}
	b.editor = newEditor(b)
	sess.AddHandler(b.onEvent)
	return b, nil
}

// Run connects (the gateway, unless HTTP interactions are configured),
// registers the commands and serves until ctx ends.
func (b *Bot) Run(ctx context.Context) error {
	b.mu.Lock()
	b.ctx = ctx
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.stopped = true
		b.mu.Unlock()
		b.wg.Wait()
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before the Wait above: it stops the editor
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.editor.run(ctx)
	}()
	if b.key == nil {
		if err := b.sess.Open(); err != nil {
			return fmt.Errorf("discord gateway: %v", redact(err, b.opt.Token))
		}
		defer b.sess.Close()
		select {
		case <-b.ready:
		case <-ctx.Done():
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("discord gateway: no READY within 30 s")
		}
	} else {
		close(b.ready)
	}
	if err := b.register(); err != nil {
		return err
	}
	// Purchases made while the bot was away, and consumes a crash cut short.
	b.spawn(func() { b.healEntitlements(ctx) })
	b.log.Info("discord ready", "app_id", b.app(), "http_interactions", b.key != nil, "guild", b.opt.GuildID)
	<-ctx.Done()
	return nil
}

// spawn runs f in a goroutine Run waits for; false once Run is returning.
func (b *Bot) spawn(f func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return false
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f()
	}()
	return true
}

// app is the application id (from READY when not configured).
func (b *Bot) app() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.appID
}

// context is the context of the work an interaction starts: Run's values,
// not its cancellation (an accepted job is finished even while stopping).
func (b *Bot) context() context.Context {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ctx != nil {
		return context.WithoutCancel(b.ctx)
	}
	return context.Background()
}

// register overwrites the application's commands in one call.
func (b *Bot) register() error {
	cmds := commands(b.svc.Catalog(), b.svc.Protocol())
	if _, err := b.sess.ApplicationCommandBulkOverwrite(b.app(), b.opt.GuildID, cmds); err != nil {
		return fmt.Errorf("discord: register commands: %v", redact(err, b.opt.Token))
	}
	return nil
}
