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

// MaxUpload is the largest video a bot may upload (PROTOCOLS.md D).
const MaxUpload = 50 << 20

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

	wg sync.WaitGroup
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
		opt.APIURL = "https://api.telegram.org"
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
		// Uploads of up to 50 MB need far more than the library's default.
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

// Username is the bot's @name.
func (b *Bot) Username() string { return b.username }

// Run registers the commands and receives updates (long polling, or the
// webhook when PublicURL is set) until ctx ends.
func (b *Bot) Run(ctx context.Context) error {
	if _, err := b.api.SetMyCommands(ctx, &tg.SetMyCommandsParams{Commands: commands}); err != nil {
		b.log.Warn("setMyCommands", "err", redact(err, b.opt.Token))
	}
	defer b.wg.Wait()
	if b.opt.PublicURL != "" {
		_, err := b.api.SetWebhook(ctx, &tg.SetWebhookParams{
			URL:            strings.TrimRight(b.opt.PublicURL, "/") + WebhookPath,
			SecretToken:    b.secret,
			AllowedUpdates: []string{"message", "callback_query"},
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
