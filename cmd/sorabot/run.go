package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"sorabot/bots/console"
	"sorabot/bots/discord"
	"sorabot/bots/telegram"
	"sorabot/core"
	"sorabot/storage"
)

const usage = `usage: sorabot [command]

commands:
  serve            start every configured chat platform (the default); with no
                   chat token, the console with the demo provider
  console          chat with the bot in this terminal (any provider)
  generate --prompt TEXT [--image FILE]... [--model M] [-o FILE]
                   make one video and exit
  ledger verify    check that every balance equals the sum of its ledger
                   entries, and every job, purchase, refund, daily allowance
                   and promo code against them
  providers check  call every configured provider (balance or an authenticated
                   read), print a table, fail if an enabled one fails

Configuration comes from the environment; see README.md.
`

const levelWarn = slog.LevelWarn

// Run runs the command named by m.Args.
func (m *Main) Run(ctx context.Context) error {
	cmd := "serve"
	var args []string
	if len(m.Args) > 0 {
		cmd, args = m.Args[0], m.Args[1:]
	}
	switch cmd {
	case "serve":
		return m.serve(ctx)
	case "console":
		return m.console(ctx, false)
	case "generate":
		return m.generate(ctx, args)
	case "ledger":
		if len(args) != 1 || args[0] != "verify" {
			return fmt.Errorf("usage: sorabot ledger verify")
		}
		return m.ledgerVerify(ctx)
	case "providers":
		if len(args) != 1 || args[0] != "check" {
			return fmt.Errorf("usage: sorabot providers check")
		}
		return m.providersCheck(ctx)
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

func (m *Main) getenv(name string) string {
	for i := len(m.Env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(m.Env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// serve starts every configured platform, or the console when none is.
func (m *Main) serve(ctx context.Context) error {
	cfg, err := LoadConfig(m.getenv, nil)
	if err != nil {
		return err
	}
	if cfg.TelegramToken == "" && cfg.DiscordToken == "" {
		return m.console(ctx, true)
	}
	a, err := newApp(cfg, newLogger(m.Stderr, cfg.LogLevel, slog.LevelInfo))
	if err != nil {
		return err
	}
	defer a.close()
	var tb *telegram.Bot
	if cfg.TelegramToken != "" {
		tb, err = telegram.New(ctx, a.svc, telegram.Options{
			Token: cfg.TelegramToken, APIURL: cfg.TelegramAPIURL, PublicURL: cfg.PublicURL,
			Logger: a.log, Interval: cfg.StatusInterval, MaxUpload: cfg.TelegramMaxUpload,
		})
		if err != nil {
			return err
		}
		a.svc.SetFrontend(telegram.Platform, tb)
		if cfg.PublicURL != "" {
			a.mux.Handle("POST "+telegram.WebhookPath, tb.WebhookHandler())
		}
	}
	var db *discord.Bot
	if cfg.DiscordToken != "" {
		db, err = discord.New(a.svc, discord.Options{
			Token: cfg.DiscordToken, APIURL: cfg.DiscordAPIURL, GuildID: cfg.DiscordGuildID,
			PublicKey: cfg.DiscordPublicKey.Reveal(), AppID: cfg.DiscordAppID,
			Logger: a.log, Interval: cfg.StatusInterval,
		})
		if err != nil {
			return err
		}
		a.svc.SetFrontend(discord.Platform, db)
		if cfg.DiscordPublicKey != "" {
			a.mux.Handle("POST "+discord.InteractionsPath, db.InteractionsHandler())
		}
	}
	if err := a.start(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	running := 0
	if tb != nil {
		running++
		go func() { errc <- tb.Run(ctx) }()
	}
	if db != nil {
		running++
		go func() { errc <- db.Run(ctx) }()
	}
	var first error
	for ; running > 0; running-- {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel() // one platform failing stops the other: the operator must see it
		}
	}
	return first
}

// console runs the terminal chat until stdin ends or a signal comes.
func (m *Main) console(ctx context.Context, fromServe bool) error {
	cfg, err := LoadConfig(m.getenv, nil)
	if err != nil {
		return err
	}
	if fromServe {
		if allDemo(cfg.Providers) {
			fmt.Fprintln(m.Stdout, "No TELEGRAM_TOKEN or DISCORD_TOKEN is set: starting the console with the built-in demo provider (sample videos, no real generation).")
		} else {
			fmt.Fprintln(m.Stdout, "No TELEGRAM_TOKEN or DISCORD_TOKEN is set: starting the console.")
		}
	}
	// Logs go to stderr at warning level so they do not drown the chat.
	a, err := newApp(cfg, newLogger(m.Stderr, cfg.LogLevel, levelWarn))
	if err != nil {
		return err
	}
	defer a.close()
	c := console.New(a.svc, console.Options{
		In: m.Stdin, Out: m.Stdout, User: consoleUser(m.getenv), OutDir: cfg.OutDir,
		Provider: cfg.providerLabel(),
	})
	a.svc.SetFrontend(console.Platform, c)
	if err := a.start(ctx); err != nil {
		return err
	}
	return c.Run(ctx)
}

func (m *Main) ledgerVerify(ctx context.Context) error {
	path := m.getenv("SORABOT_DB")
	if path == "" {
		path = "data/sorabot.db"
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("SORABOT_DB: %w", err)
	}
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := db.VerifyReport(ctx)
	if err != nil {
		return err
	}
	if len(r.Problems) > 0 {
		return fmt.Errorf("ledger verify failed: %d problem(s):\n  %s", len(r.Problems), strings.Join(r.Problems, "\n  "))
	}
	kinds := make([]string, len(core.LedgerKinds))
	for i, k := range core.LedgerKinds {
		kinds[i] = fmt.Sprintf("%s %d", k, r.Kinds[k])
	}
	fmt.Fprintf(m.Stdout, "ledger ok: %d users, %d ledger entries (%s), %d jobs (%d active), %d payments, %d promo codes\n",
		r.Users, r.LedgerEntries, strings.Join(kinds, ", "), r.Jobs, r.ActiveJobs, r.Payments, r.Promos)
	return nil
}
