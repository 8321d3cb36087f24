package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"sorabot/bots/telegram"
	"sorabot/core"
	"sorabot/core/provider/providertest"
	"sorabot/media"
	"sorabot/metrics"
	"sorabot/storage"
)

// app is the wired program: store, provider, service and HTTP endpoints.
type app struct {
	cfg     Config
	log     *slog.Logger
	db      *storage.DB
	svc     *core.Service
	media   *media.Host
	metrics *metrics.Metrics
	demos   []*providertest.Server
	mux     *http.ServeMux
	http    *http.Server
	lis     net.Listener

	readyMu   sync.Mutex
	readyAt   time.Time
	readyBody readiness
	balances  map[string]balanceCheck // by provider, refreshed with readyBody
}

// balanceCheck is a provider's balance as /readyz last asked it.
type balanceCheck struct {
	balance *float64
	err     string
}

func newLogger(w io.Writer, level string, def slog.Level) *slog.Logger {
	l := def
	switch level {
	case "debug":
		l = slog.LevelDebug
	case "info":
		l = slog.LevelInfo
	case "warn":
		l = slog.LevelWarn
	case "error":
		l = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// newApp opens the database and builds the provider and the service; it
// starts nothing.
func newApp(cfg Config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log, mux: http.NewServeMux()}
	db, err := storage.Open(cfg.DB, storage.Options{StartCredits: cfg.StartCredits, DailyCredits: cfg.DailyCredits})
	if err != nil {
		return nil, fmt.Errorf("SORABOT_DB: %w", err)
	}
	a.db = db
	if cfg.PublicURL != "" {
		a.media = media.New(cfg.PublicURL)
		a.mux.Handle(media.Prefix, a.media)
	}
	var providers []core.ProviderConfig
	providers, a.demos = providerClients(cfg, a.log, a.media)
	poll := core.PollConfig{First: cfg.PollFirst, KeepAlive: cfg.PollInterval}
	if allDemo(cfg.Providers) {
		poll.First = cmpOr(poll.First, time.Second)
		poll.KeepAlive = cmpOr(poll.KeepAlive, 2*time.Second)
	}
	a.metrics = metrics.New(metrics.Source{
		Stats:     db.Stats,
		QueueLen:  func() int { return a.svc.QueueLen() },
		Providers: func() []core.ProviderStatus { return a.svc.Providers() },
	})
	sc := core.Config{
		Providers:      providers,
		UserMaxActive:  cfg.UserMaxActive,
		UserRate:       rate.Limit(float64(cfg.UserRate) / 60),
		Poll:           poll,
		VideoDir:       filepath.Join(filepath.Dir(cfg.DB), "videos"),
		VideoRetention: cfg.VideoRetention,
		Admins:         cfg.Admins,
		Packs:          cfg.Packs,
		SKUs:           cfg.SKUs,
		Language:       cfg.Language,
		PaySupport:     cfg.PaySupport,
		Terms:          cfg.Terms,
		Logger:         log,
		Metrics:        a.metrics,
	}
	if a.media != nil {
		sc.MediaURL = a.media.PublishFile
	}
	if cfg.TelegramToken != "" {
		// A download holds whatever Telegram may take (2000 MB through a
		// self-hosted Bot API server), not only the core's 1 GiB.
		sc.MaxVideoBytes = max(1<<30, telegram.UploadLimit(cfg.TelegramAPIURL, cfg.TelegramMaxUpload))
	}
	a.svc = core.NewService(sc, db, nil, cfg.Catalog)
	a.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	a.mux.HandleFunc("GET /readyz", a.readyz)
	a.mux.Handle("GET /metrics", a.metrics.Handler())
	return a, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// start listens on SORABOT_HTTP_ADDR and starts the service.
func (a *app) start(ctx context.Context) error {
	lis, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("SORABOT_HTTP_ADDR: %w", err)
	}
	a.lis = lis
	a.http = &http.Server{Handler: a.mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := a.http.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("http server", "err", err)
		}
	}()
	a.log.Info("http listening", "addr", lis.Addr().String())
	return a.svc.Start(ctx)
}

// close stops the service (jobs stay in the database), the HTTP server and
// the demo provider, and closes the database.
func (a *app) close() {
	if a.svc != nil {
		a.svc.Stop()
	}
	if a.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.http.Shutdown(ctx)
		cancel()
	}
	for _, d := range a.demos {
		d.Close()
	}
	if a.db != nil {
		a.db.Close()
	}
}

type readiness struct {
	Ready    bool   `json:"ready"`
	Database string `json:"database"`
	// Provider is "ok" when every enabled provider is up and answers,
	// "degraded: ..." when some are not, "unavailable: ..." when none is.
	Provider  string              `json:"provider"`
	Providers []providerReadiness `json:"providers"`
	Queue     int                 `json:"queue"`
	Inflight  int                 `json:"inflight"`
	// RecentUnavailable is the newest job that failed because the provider
	// or its model was unavailable (within 15 minutes).
	RecentUnavailable string `json:"recent_unavailable,omitempty"`
}

// providerReadiness is one provider in /readyz.
type providerReadiness struct {
	Name        string   `json:"name"`
	Protocol    string   `json:"protocol"`
	State       string   `json:"state"` // up, down, disabled
	DownUntil   string   `json:"down_until,omitempty"`
	Inflight    int      `json:"inflight"`
	MaxInflight int      `json:"max_inflight"`
	LastError   string   `json:"last_error,omitempty"`
	LastErrorAt string   `json:"last_error_at,omitempty"`
	Balance     *float64 `json:"balance,omitempty"`
	// BalanceError is why the balance call failed.
	BalanceError string `json:"balance_error,omitempty"`
}

// lowBalance is the provider credit under which the operator is warned.
const lowBalance = 1000

// readyz reports the database and every provider; balances and the
// database check are refreshed at most every 15 s, the providers' states
// are live.
func (a *app) readyz(w http.ResponseWriter, r *http.Request) {
	a.readyMu.Lock()
	defer a.readyMu.Unlock()
	if time.Since(a.readyAt) > 15*time.Second {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		rd := readiness{Ready: true, Database: "ok"}
		if _, err := a.db.Stats(ctx); err != nil {
			rd.Ready, rd.Database = false, "error: "+err.Error()
		}
		a.balances = a.checkBalances(ctx)
		a.readyBody, a.readyAt = rd, time.Now()
	}
	rd := a.readyBody
	var up, enabled int
	var bad []string
	for _, p := range a.svc.Providers() {
		pr := providerReadiness{Name: p.Name, Protocol: a.protocolOf(p.Name), State: p.State, Inflight: p.Inflight,
			MaxInflight: p.MaxInflight, LastError: p.LastError}
		if !p.DownUntil.IsZero() {
			pr.DownUntil = p.DownUntil.UTC().Format(time.RFC3339)
		}
		if !p.LastErrorAt.IsZero() {
			pr.LastErrorAt = p.LastErrorAt.UTC().Format(time.RFC3339)
		}
		b := a.balances[p.Name]
		pr.Balance, pr.BalanceError = b.balance, b.err
		if p.State != core.ProviderDisabled {
			enabled++
			if p.State == core.ProviderUp && b.err == "" {
				up++
			} else {
				bad = append(bad, p.Name+" "+p.State)
			}
		}
		rd.Providers = append(rd.Providers, pr)
	}
	switch {
	case up == enabled:
		rd.Provider = "ok"
	case up > 0:
		rd.Provider = "degraded: " + strings.Join(bad, ", ")
	default:
		rd.Ready, rd.Provider = false, "unavailable: "+strings.Join(bad, ", ")
	}
	rd.Queue, rd.Inflight = a.svc.QueueLen(), a.svc.Inflight()
	if msg, at, ok := a.svc.RecentUnavailable(15 * time.Minute); ok {
		rd.RecentUnavailable = at.UTC().Format(time.RFC3339) + " " + msg
	}
	w.Header().Set("Content-Type", "application/json")
	if !rd.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	json.NewEncoder(w).Encode(rd)
}

// checkBalances asks every enabled provider whose protocol reports one for
// its balance, at once, each paced by its provider's rate.
func (a *app) checkBalances(ctx context.Context) map[string]balanceCheck {
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := map[string]balanceCheck{}
	for _, p := range a.cfg.Providers {
		if p.Disabled {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			bal, ok, err := a.svc.ProviderBalance(ctx, p.Name)
			var b balanceCheck
			switch {
			case err != nil:
				b.err = core.ErrorMessage(err)
				a.log.Warn("provider not ready", "provider", p.Name, "err", err)
			case ok:
				b.balance = &bal
				if bal < lowBalance {
					a.log.Warn("provider account credit is low", "provider", p.Name, "left_credits", bal)
				}
			}
			mu.Lock()
			out[p.Name] = b
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// protocolOf is a provider's protocol as configured (sorapro, videocreate, demo).
func (a *app) protocolOf(name string) string {
	for _, p := range a.cfg.Providers {
		if p.Name == name {
			return p.Protocol
		}
	}
	return ""
}
