// Package telegram is the Telegram frontend: commands, images to animate,
// live progress and delivery, over long polling or a webhook, through
// github.com/go-telegram/bot.
package telegram

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"

	"sorabot/bots/chat"
	"sorabot/core"
)

// Platform is the Origin.Platform and user id prefix of Telegram jobs.
const Platform = "telegram"

// WebhookPath is where updates arrive in webhook mode.
const WebhookPath = "/telegram/webhook"

// PublicAPIURL is Telegram's own Bot API.
const PublicAPIURL = "https://api.telegram.org"

// MaxUpload is the largest video a bot may upload through the public Bot
// API; MaxUploadLocal through a self-hosted Bot API server.
const (
	MaxUpload      = 50 << 20
	MaxUploadLocal = 2000 << 20
)

// maxDownload is getFile's limit.
const maxDownload = 20 << 20

// Options configure a Bot.
type Options struct {
	Token core.Secret
	// APIURL is the Bot API base (https://api.telegram.org, a local Bot API
	// server or a test fake).
	APIURL string
	// PublicURL, when set, selects webhook mode at PublicURL + WebhookPath.
	PublicURL string
	Logger    *slog.Logger
	// Interval is the least time between two status edits in one chat (5 s).
	Interval time.Duration
	// AlbumWait is how long an album's updates are gathered (1 s).
	AlbumWait time.Duration
	// PollTimeout is the long-polling timeout (50 s).
	PollTimeout time.Duration
	// MaxUpload is the largest video uploaded; a larger one goes as a link.
	// Zero: MaxUpload on the public Bot API, MaxUploadLocal on any other.
	MaxUpload int64
}

// Bot is the Telegram frontend; it implements core.Frontend.
type Bot struct {
	svc      *core.Service
	opt      Options
	api      *tg.Bot
	http     *http.Client // uploads and downloads
	poll     *http.Client // getUpdates
	log      *slog.Logger
	username string
	secret   string // webhook secret

	throttle *chat.Throttle
	chats    chatGates
	albums   albums

	mu   sync.Mutex
	jobs map[string]*tracked // by job id

	tasks tasks
}

// tasks counts the goroutines Run waits for before it returns. Events
// keep coming from the service until it stops, after Run: work that
// starts once Run has stopped waiting runs in the caller's goroutine, which
// the service waits for.
type tasks struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// add counts one more task, or reports false once Run stopped waiting.
func (t *tasks) add() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	t.wg.Add(1)
	return true
}

func (t *tasks) done() { t.wg.Done() }

// run runs f in a counted goroutine, or in this one once Run stopped waiting.
func (t *tasks) run(f func()) {
	if !t.add() {
		f()
		return
	}
	go func() {
		defer t.done()
		f()
	}()
}

// wait waits for the counted tasks; later ones are not counted.
func (t *tasks) wait() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	t.wg.Wait()
}

var _ core.Frontend = (*Bot)(nil)

// New connects to the Bot API (getMe) and returns the bot; register it with
// svc.SetFrontend(Platform, b) before svc.Start, then call Run.
func New(ctx context.Context, svc *core.Service, opt Options) (*Bot, error) {
	if opt.Interval <= 0 {
		opt.Interval = 5 * time.Second
	}
	if opt.AlbumWait <= 0 {
		opt.AlbumWait = time.Second
	}
	if opt.PollTimeout <= 0 {
		opt.PollTimeout = 50 * time.Second
	}
	if opt.APIURL == "" {
		opt.APIURL = PublicAPIURL
	}
	if opt.MaxUpload <= 0 {
		opt.MaxUpload = UploadLimit(opt.APIURL, 0)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	// Many chats are answered at once: keep that many connections alive
	// (the default transport keeps 2 per host).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 200, 100
	b := &Bot{
		svc: svc, opt: opt, log: opt.Logger.With("platform", Platform),
		// Uploads of up to MaxUpload need far more than the library's default.
		http:     &http.Client{Timeout: 10 * time.Minute, Transport: tr},
		poll:     &http.Client{Timeout: opt.PollTimeout + 15*time.Second, Transport: tr},
		throttle: chat.NewThrottle(opt.Interval),
		jobs:     map[string]*tracked{},
	}
	b.chats.m = map[int64]time.Time{}
	b.albums.m = map[string]*album{}
	api, err := tg.New(opt.Token.Reveal(),
		tg.WithServerURL(strings.TrimRight(opt.APIURL, "/")),
		tg.WithHTTPClient(opt.PollTimeout, b.http),
		tg.WithSkipGetMe(),
		tg.WithErrorsHandler(func(err error) { b.log.Warn("telegram client", "err", redact(err, opt.Token)) }),
	)
	if err != nil {
		return nil, fmt.Errorf("TELEGRAM_TOKEN: %w", err)
	}
	b.api = api
	me, err := api.GetMe(ctx)
	if err != nil {
		return nil, fmt.Errorf("TELEGRAM_TOKEN: getMe: %v", redact(err, opt.Token))
	}
	b.username = me.Username
	var sec [24]byte
	rand.Read(sec[:])
	b.secret = hex.EncodeToString(sec[:])
	return b, nil
}

// UploadLimit is the largest video the bot uploads through apiURL:
// configured when set (TELEGRAM_MAX_UPLOAD), else the default of that
// server.
func UploadLimit(apiURL string, configured int64) int64 {
	if configured > 0 {
		return configured
	}
	return defaultMaxUpload(apiURL)
}

// defaultMaxUpload is MaxUpload for the public Bot API, MaxUploadLocal for
// any other server (a self-hosted one).
func defaultMaxUpload(apiURL string) int64 {
	if u, err := url.Parse(apiURL); err == nil && strings.EqualFold(u.Hostname(), "api.telegram.org") {
		return MaxUpload
	}
	return MaxUploadLocal
}

// Username is the bot's @name.
func (b *Bot) Username() string { return b.username }

// Run registers the commands and descriptions, and receives updates (long
// polling, or the webhook when PublicURL is set) until ctx ends.
func (b *Bot) Run(ctx context.Context) error {
	b.register(ctx)
	defer b.tasks.wait()
	// Payments whose update was lost, and refunds a restart interrupted.
	b.tasks.run(func() { b.recoverPayments(ctx) })
	if b.opt.PublicURL != "" {
		_, err := b.api.SetWebhook(ctx, &tg.SetWebhookParams{
			URL:            strings.TrimRight(b.opt.PublicURL, "/") + WebhookPath,
			SecretToken:    b.secret,
			AllowedUpdates: allowedUpdates,
		})
		if err != nil {
			return fmt.Errorf("telegram setWebhook: %v", redact(err, b.opt.Token))
		}
		b.log.Info("telegram webhook set", "url", strings.TrimRight(b.opt.PublicURL, "/")+WebhookPath)
		<-ctx.Done()
		return nil
	}
	if _, err := b.api.DeleteWebhook(ctx, &tg.DeleteWebhookParams{}); err != nil {
		b.log.Warn("deleteWebhook", "err", redact(err, b.opt.Token))
	}
	b.log.Info("telegram long polling", "bot", b.username)
	return b.longPoll(ctx)
}
