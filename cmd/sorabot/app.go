package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"sorabot/core"
	"sorabot/core/provider/providertest"
	"sorabot/core/provider/sorapro"
	"sorabot/core/provider/videocreate"
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
	demo    *providertest.Server
	mux     *http.ServeMux
	http    *http.Server
	lis     net.Listener

	readyMu   sync.Mutex
	readyAt   time.Time
	readyBody readiness
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
	provider, err := a.provider()
	if err != nil {
		db.Close()
		return nil, err
	}
	poll := core.PollConfig{First: cfg.PollFirst, KeepAlive: cfg.PollInterval}
	if cfg.Provider == ProviderDemo {
		poll.First = cmpOr(poll.First, time.Second)
		poll.KeepAlive = cmpOr(poll.KeepAlive, 2*time.Second)
	}
	a.metrics = metrics.New(metrics.Source{
		Stats:    db.Stats,
		QueueLen: func() int { return a.svc.QueueLen() },
		Inflight: func() int { return a.svc.Inflight() },
	})
	sc := core.Config{
		Protocol:       cfg.protocol(),
		MaxInflight:    cfg.MaxInflight,
		UserMaxActive:  cfg.UserMaxActive,
		UserRate:       rate.Limit(float64(cfg.UserRate) / 60),
		Poll:           poll,
		VideoDir:       filepath.Join(filepath.Dir(cfg.DB), "videos"),
		VideoRetention: cfg.VideoRetention,
		Admins:         cfg.Admins,
		Packs:          cfg.Packs,
		SKUs:           cfg.SKUs,
		PaySupport:     cfg.PaySupport,
		Terms:          cfg.Terms,
		Logger:         log,
		Metrics:        a.metrics,
	}
	if a.media != nil {
		sc.MediaURL = a.media.PublishFile
	}
	a.svc = core.NewService(sc, db, provider, cfg.Catalog)
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

func (a *app) provider() (core.Provider, error) {
	cfg := a.cfg
	switch cfg.Provider {
	case ProviderDemo:
		var b [16]byte
		rand.Read(b[:])
		key := core.Secret(hex.EncodeToString(b[:]))
		a.demo = providertest.New(providertest.Options{Key: key.Reveal(), Duration: cfg.DemoDuration})
		if cfg.DemoProtocol == core.ProtocolVideoCreate {
			return a.videocreate(a.demo.URL, key), nil
		}
		return sorapro.New(a.demo.URL, key, sorapro.WithLogger(a.log)), nil
	case ProviderSoraPro:
		return sorapro.New(cfg.ProviderURL, cfg.ProviderKey, sorapro.WithLogger(a.log)), nil
	case ProviderVideoCreate:
		return a.videocreate(cfg.ProviderURL, cfg.ProviderKey), nil
	}
	return nil, fmt.Errorf("PROVIDER: %q is not supported", cfg.Provider)
}

func (a *app) videocreate(url string, key core.Secret) core.Provider {
	opts := []videocreate.Option{videocreate.WithLogger(a.log)}
	if a.media != nil {
		opts = append(opts, videocreate.WithMedia(a.media))
	}
	return videocreate.New(url, key, opts...)
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
	if a.demo != nil {
		a.demo.Close()
	}
	if a.db != nil {
		a.db.Close()
	}
}

type readiness struct {
	Ready           bool     `json:"ready"`
	Database        string   `json:"database"`
	Provider        string   `json:"provider"`
	ProviderBalance *float64 `json:"provider_balance,omitempty"`
	Queue           int      `json:"queue"`
	Inflight        int      `json:"inflight"`
	// RecentUnavailable is the newest job that failed because the provider
	// or its model was unavailable (within 15 minutes).
	RecentUnavailable string `json:"recent_unavailable,omitempty"`
}

// lowBalance is the provider credit under which the operator is warned.
const lowBalance = 1000

func (a *app) readyz(w http.ResponseWriter, r *http.Request) {
	a.readyMu.Lock()
	defer a.readyMu.Unlock()
	if time.Since(a.readyAt) > 15*time.Second {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		rd := readiness{Ready: true, Database: "ok", Provider: "ok"}
		if _, err := a.db.Stats(ctx); err != nil {
			rd.Ready, rd.Database = false, "error: "+err.Error()
		}
		if bc, ok := a.svc.Provider().(core.BalanceChecker); ok {
			bal, err := bc.Balance(ctx)
			if err != nil {
				rd.Ready, rd.Provider = false, "unreachable: "+core.ErrorMessage(err)
				a.log.Warn("provider not ready", "err", err)
			} else {
				rd.ProviderBalance = &bal
				if bal < lowBalance {
					a.log.Warn("provider account credit is low", "left_credits", bal)
				}
			}
		}
		a.readyBody, a.readyAt = rd, time.Now()
	}
	rd := a.readyBody
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
