package core

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Provider defaults, for every provider that does not set its own (the
// configuration reads them from here too).
const (
	DefaultMaxInflight  = 20 // jobs at a provider at once
	DefaultProviderRate = 10 // calls per second to a provider
)

// Config tunes a Service. Zero values take the defaults noted.
type Config struct {
	// Providers are the provider accounts jobs go to. When empty, the
	// provider given to NewService is the only one, named after Protocol,
	// with MaxInflight and ProviderRate.
	Providers []ProviderConfig
	// Protocol is the single provider's protocol.
	Protocol string
	// MaxInflight bounds jobs at the single provider at once (20), and is
	// the default of each ProviderConfig.
	MaxInflight int
	// UserMaxActive bounds a user's unfinished jobs (2); <0 means no limit.
	UserMaxActive int
	// UserRate and UserBurst pace a user's requests (one per 3 s, burst 3).
	UserRate  rate.Limit
	UserBurst int
	// ProviderRate paces every call to the single provider, create, status
	// and balance (10/s), and is the default of each ProviderConfig.
	ProviderRate  rate.Limit
	ProviderBurst int
	Poll          PollConfig
	// ProviderCooldown is how long a provider is down after 3 failures in
	// a row (30 s); each relapse doubles it, up to 10 times as long.
	ProviderCooldown time.Duration
	// PollWorkers bounds status calls running at once (the sum of every
	// provider's MaxInflight, at least 16): each submitted job has at most
	// one, and each provider's rate paces them, so fewer workers would cap
	// the pace below the rates.
	PollWorkers int
	// SubmitRetries is how often a create that certainly did not reach the
	// provider is retried (4).
	SubmitRetries int
	// DeliverRetries is how often a temporary delivery failure is retried (6).
	DeliverRetries int
	// RetryBase is the first backoff between retries (2 s).
	RetryBase time.Duration
	// VideoDir holds downloaded videos; MaxVideoBytes caps a download (1 GiB).
	VideoDir      string
	MaxVideoBytes int64
	// VideoRetention is how long downloaded videos are kept (7 days).
	VideoRetention time.Duration
	// HTTPClient downloads results (a client with a 10-minute timeout that
	// keeps up to 100 connections alive).
	HTTPClient *http.Client
	// MediaURL, when set, publishes a local file at a public link (used for
	// videos too big to upload); otherwise the provider's link is sent.
	MediaURL func(path string) (string, error)
	// Admins may adjust credits and see stats ("telegram:123").
	Admins []string
	// Language is the language of users who chose none and whose platform
	// tells none (SORABOT_LANGUAGE); "" leaves it to the frontends. New
	// jobs without a language get it.
	Language string
	// Packs are the credit packs sold for Telegram Stars, in the order
	// offered; SKUs the Discord consumable SKUs (see credits.go).
	Packs []Pack
	SKUs  []SKU
	// PaySupport and Terms are the operator's texts of /paysupport and
	// /terms; empty for the built-in ones.
	PaySupport, Terms string

	Logger *slog.Logger
	// Metrics observes the service; nil for none.
	Metrics Metrics
}

func (c *Config) defaults() {
	if c.MaxInflight <= 0 {
		c.MaxInflight = DefaultMaxInflight
	}
	if c.UserMaxActive == 0 {
		c.UserMaxActive = 2
	}
	if c.UserRate == 0 {
		c.UserRate = rate.Every(3 * time.Second)
	}
	if c.UserBurst <= 0 {
		c.UserBurst = 3
	}
	if c.ProviderRate == 0 {
		c.ProviderRate = DefaultProviderRate
	}
	if c.ProviderBurst <= 0 {
		c.ProviderBurst = 1
	}
	if c.ProviderCooldown <= 0 {
		c.ProviderCooldown = 30 * time.Second
	}
	if c.SubmitRetries <= 0 {
		c.SubmitRetries = 4
	}
	if c.DeliverRetries <= 0 {
		c.DeliverRetries = 6
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 2 * time.Second
	}
	if c.VideoDir == "" {
		c.VideoDir = "data/videos"
	}
	if c.MaxVideoBytes <= 0 {
		c.MaxVideoBytes = 1 << 30
	}
	if c.VideoRetention <= 0 {
		c.VideoRetention = 7 * 24 * time.Hour
	}
	if c.HTTPClient == nil {
		// Downloads run side by side: keep their connections alive (the
		// default transport keeps 2 per host and dials anew for the rest).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 100, 100
		c.HTTPClient = &http.Client{Timeout: 10 * time.Minute, Transport: tr}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Metrics == nil {
		c.Metrics = nopMetrics{}
	}
}

// Service is the one place that validates, charges, submits, polls,
// refunds and delivers.
type Service struct {
	cfg     Config
	store   Store
	catalog *Catalog // models without a usable route are disabled in it
	log     *slog.Logger

	ups    []*upstream // configured providers, in order
	byName map[string]*upstream
	routes map[string][]*route // by catalog model id, most preferred first
	// protocol is the one protocol of every model served, "" when mixed.
	protocol string
	// routeErr is a catalog route that cannot work; Start returns it.
	routeErr error

	mu        sync.Mutex
	frontends map[string]Frontend
	queue     []*Job // queued jobs (snapshots), FIFO
	inflight  int    // jobs submitting or submitted, at every provider
	users     map[string]*rate.Limiter
	started   bool

	pmu      sync.Mutex // the upstreams' poll schedulers
	pollNext int        // the upstream asked first for the next poll

	refunds sync.Map // PaymentKey → true while a refund of it runs (credits.go)

	// lastUnavailable is the newest job failure of code EUNAVAILABLE, for
	// operators (/readyz).
	lastUnavailable struct {
		at  time.Time
		msg string
	}

	dispatch chan struct{}
	pollWake chan struct{}
	pollSem  chan struct{}

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewService returns a service; call Start to recover jobs and run it.
// provider is the single provider when cfg.Providers is empty (nil otherwise).
func NewService(cfg Config, store Store, provider Provider, catalog *Catalog) *Service {
	cfg.defaults()
	if len(cfg.Providers) == 0 {
		cfg.Providers = []ProviderConfig{{Name: cmp.Or(cfg.Protocol, "provider"), Protocol: cfg.Protocol, Client: provider,
			MaxInflight: cfg.MaxInflight, Rate: cfg.ProviderRate}}
	}
	s := &Service{
		cfg: cfg, store: store, log: cfg.Logger,
		byName:    map[string]*upstream{},
		frontends: map[string]Frontend{},
		users:     map[string]*rate.Limiter{},
		dispatch:  make(chan struct{}, 1),
		pollWake:  make(chan struct{}, 1),
	}
	slots := 0
	for _, pc := range cfg.Providers {
		if pc.MaxInflight <= 0 {
			pc.MaxInflight = cfg.MaxInflight
		}
		slots += pc.MaxInflight
		if pc.Rate == 0 {
			pc.Rate = cfg.ProviderRate
		}
		lim := newProviderLimiter(pc.Rate, cfg.ProviderBurst)
		u := &upstream{ProviderConfig: pc, lim: lim, sched: newPollScheduler(cfg.Poll, lim),
			health: health{base: cfg.ProviderCooldown, max: 10 * cfg.ProviderCooldown}}
		s.ups = append(s.ups, u)
		if s.byName[u.Name] != nil || u.Name == "" {
			s.routeErr = fmt.Errorf("provider name %q is empty or used twice", u.Name)
		}
		s.byName[u.Name] = u
	}
	if s.cfg.PollWorkers <= 0 {
		s.cfg.PollWorkers = max(16, slots)
	}
	s.pollSem = make(chan struct{}, s.cfg.PollWorkers)
	var err error
	s.catalog, s.routes, s.protocol, err = s.serve(catalog)
	s.routeErr = cmp.Or(s.routeErr, err)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// RecentUnavailable returns the newest "unavailable" job failure (a model
// removed or paused, the provider out of credit or unreachable) if it
// happened within d.
func (s *Service) RecentUnavailable(d time.Duration) (string, time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lastUnavailable
	if u.at.IsZero() || time.Since(u.at) > d {
		return "", time.Time{}, false
	}
	return u.msg, u.at, true
}

// Catalog returns the service's model catalog.
func (s *Service) Catalog() *Catalog { return s.catalog }

// Protocol returns the protocol of every model the service offers, or ""
// when they are of several protocols (several providers); pass it to the
// catalog's Enabled, Pick and Normalize.
func (s *Service) Protocol() string { return s.protocol }

// SetFrontend registers the frontend for jobs whose Origin.Platform is platform.
func (s *Service) SetFrontend(platform string, f Frontend) {
	s.mu.Lock()
	s.frontends[platform] = f
	s.mu.Unlock()
}

func (s *Service) frontend(platform string) Frontend {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.frontends[platform]
}

// Start recovers every unfinished job (docs/ARCHITECTURE.md) and starts the
// dispatcher and the poll scheduler. Register frontends before.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return fmt.Errorf("service already started")
	}
	s.started = true
	s.mu.Unlock()
	if s.routeErr != nil {
		return s.routeErr
	}
	if err := s.recover(ctx); err != nil {
		return err
	}
	s.wg.Add(3)
	go s.dispatchLoop()
	go s.pollLoop()
	go s.sweepLoop()
	return nil
}

// Stop stops taking work and waits for running steps to end. Jobs stay
// in the store and resume at the next Start.
func (s *Service) Stop() {
	s.cancel()
	s.wg.Wait()
}

// Submission is a request as a frontend received it.
type Submission struct {
	UserID string
	// Key identifies the triggering event; the same key never charges twice.
	Key     string
	Origin  Origin
	Request Request
	// Lang is the language the user asked in; the job keeps it.
	Lang string
}

// Accepted is the outcome of Accept.
type Accepted struct {
	Job *Job
	// Position is the job's 1-based place in the queue, 0 once submitted.
	Position  int
	Duplicate bool
	Balance   int
}

// Quote validates a request without charging, returning its model and
// price. At least one provider that serves the model must take it.
func (s *Service) Quote(r *Request) (Quote, error) {
	q, err := s.catalog.Normalize(s.protocol, r)
	if err != nil {
		return q, err
	}
	var first error
	for _, rt := range s.routes[q.Model.ID] {
		if rt.up.Disabled {
			continue
		}
		err := rt.check(r)
		if err == nil {
			return q, nil
		}
		first = cmp.Or(first, err)
	}
	if first == nil {
		first = msgModelGone.Err(EUNAVAILABLE, Args{"Model": q.Model.ID})
	}
	return q, first
}

// Accept validates the request, applies the user's rate and in-flight
// limits, charges the price and queues the job, all before the provider is
// touched; the job's frontend sees EventQueued before Accept returns (not for
// a duplicate). Errors are *Error: EINVALID, EUNAVAILABLE, ERATELIMITED,
// ENOCREDITS.
func (s *Service) Accept(ctx context.Context, sub Submission) (Accepted, error) {
	req := sub.Request
	q, err := s.Quote(&req)
	if err != nil {
		return Accepted{}, err
	}
	if !s.allowUser(sub.UserID) {
		return Accepted{}, msgTooFast.Err(ERATELIMITED, nil)
	}
	lang := sub.Lang
	if lang == "" {
		lang = s.cfg.Language
	}
	j := &Job{UserID: sub.UserID, Key: sub.Key, Origin: sub.Origin, Req: req, Price: q.Price, Notes: q.Notes, Lang: lang}
	res, err := s.store.Accept(ctx, j, max(s.cfg.UserMaxActive, 0))
	if err != nil {
		return Accepted{}, err
	}
	if res.Duplicate {
		return Accepted{Job: res.Job, Duplicate: true, Position: s.position(res.Job.ID), Balance: res.Balance}, nil
	}
	s.cfg.Metrics.Charged(j.Price)
	s.cfg.Metrics.JobState("", Queued)
	s.mu.Lock()
	// A start running meanwhile may have queued the stored job already.
	pos := s.queueIndex(res.Job.ID) + 1
	if pos == 0 {
		s.queue = append(s.queue, res.Job.Clone())
		pos = len(s.queue)
	}
	s.mu.Unlock()
	s.notify(Event{Type: EventQueued, Job: res.Job.Clone(), Position: pos, Progress: -1, Balance: res.Balance})
	s.kick(s.dispatch)
	return Accepted{Job: res.Job.Clone(), Position: pos, Balance: res.Balance}, nil
}

func (s *Service) allowUser(user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.users[user]
	if l == nil {
		if len(s.users) > 10000 {
			now := time.Now()
			for k, v := range s.users {
				if v.TokensAt(now) >= float64(s.cfg.UserBurst) {
					delete(s.users, k)
				}
			}
		}
		l = rate.NewLimiter(s.cfg.UserRate, s.cfg.UserBurst)
		s.users[user] = l
	}
	return l.Allow()
}

func (s *Service) position(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queueIndex(id) + 1
}

// queueIndex is the job's index in the queue, -1 when not queued; s.mu held.
func (s *Service) queueIndex(id string) int {
	return slices.IndexFunc(s.queue, func(j *Job) bool { return j.ID == id })
}

// QueueLen is the number of jobs waiting for a provider slot.
func (s *Service) QueueLen() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// Inflight is the number of jobs at the providers.
func (s *Service) Inflight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inflight
}

func (s *Service) kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (s *Service) notify(ev Event) {
	f := s.frontend(ev.Job.Origin.Platform)
	if f == nil {
		return
	}
	f.Notify(s.ctx, ev)
}

// Cancel cancels a queued job of the user and refunds it; the job's frontend
// sees EventCanceled before Cancel returns. Errors: ENOTFOUND (no such job of
// this user), EINVALID (already submitted or finished).
func (s *Service) Cancel(ctx context.Context, userID, jobID string) (*Job, error) {
	j, err := s.store.Job(ctx, jobID)
	if err != nil {
		return nil, err
	}
	if j.UserID != userID {
		return nil, msgNoSuchJob.Err(ENOTFOUND, Args{"Job": jobID})
	}
	j, ok, err := s.store.Finish(ctx, jobID, []State{Queued}, Canceled, nil, "")
	if err != nil {
		return nil, err
	}
	if !ok {
		switch j.State {
		case Delivered:
			return nil, msgCancelDelivered.Err(EINVALID, Args{"Job": jobID})
		case Failed:
			return nil, msgCancelFailed.Err(EINVALID, Args{"Job": jobID})
		case Canceled:
			return nil, msgCancelCanceled.Err(EINVALID, Args{"Job": jobID})
		}
		return nil, msgCancelStarted.Err(EINVALID, Args{"Job": jobID})
	}
	s.mu.Lock()
	if i := s.queueIndex(jobID); i >= 0 {
		s.queue = slices.Delete(s.queue, i, i+1)
	}
	s.mu.Unlock()
	s.cfg.Metrics.JobState(Queued, Canceled)
	s.cfg.Metrics.Refunded(j.Price)
	s.notify(Event{Type: EventCanceled, Job: j.Clone(), Progress: -1})
	s.notifyPositions()
	return j, nil
}

// Job returns the user's job (ENOTFOUND for another user's).
func (s *Service) Job(ctx context.Context, userID, jobID string) (*Job, error) {
	j, err := s.store.Job(ctx, jobID)
	if err != nil {
		return nil, err
	}
	if j.UserID != userID && !s.IsAdmin(userID) {
		return nil, msgNoSuchJob.Err(ENOTFOUND, Args{"Job": jobID})
	}
	return j, nil
}

// History returns the user's newest jobs.
func (s *Service) History(ctx context.Context, userID string, limit int) ([]*Job, error) {
	return s.store.History(ctx, userID, limit)
}

// Balance returns the user's account and its newest ledger entries (none
// when lines <= 0).
func (s *Service) Balance(ctx context.Context, userID string, lines int) (Account, []LedgerEntry, error) {
	a, err := s.store.Account(ctx, userID)
	if err != nil || lines <= 0 {
		return a, nil, err
	}
	l, err := s.store.Ledger(ctx, userID, lines)
	return a, l, err
}

// Language returns the language the user chose ("" for none, also for a
// user never seen).
func (s *Service) Language(ctx context.Context, userID string) (string, error) {
	return s.store.Language(ctx, userID)
}

// SetLanguage stores the user's choice of language (creating the account
// of a new user, with its start credits).
func (s *Service) SetLanguage(ctx context.Context, userID, lang string) error {
	_, err := s.store.SetLanguage(ctx, userID, lang)
	return err
}

// DefaultLanguage is the operator's default language (Config.Language).
func (s *Service) DefaultLanguage() string { return s.cfg.Language }

// IsAdmin reports whether user is one of the configured admins.
func (s *Service) IsAdmin(userID string) bool { return slices.Contains(s.cfg.Admins, userID) }

// Grant adds (or with set, sets) credits of target; only admins may.
func (s *Service) Grant(ctx context.Context, actor, target string, amount int, set bool) (Account, error) {
	if !s.IsAdmin(actor) {
		return Account{}, msgAdminCredits.Err(EFORBIDDEN, nil)
	}
	return s.store.AdjustCredits(ctx, target, amount, set, actor)
}

// Stats returns operator totals; only admins may.
func (s *Service) Stats(ctx context.Context, actor string) (Stats, error) {
	if !s.IsAdmin(actor) {
		return Stats{}, msgAdminStats.Err(EFORBIDDEN, nil)
	}
	return s.store.Stats(ctx)
}

// Annotate records a frontend's note on an unfinished job (for example the
// id of its status message) in Origin.Extra, so it survives a restart. A job
// that has finished meanwhile is left alone.
func (s *Service) Annotate(ctx context.Context, jobID, key, value string) error {
	_, _, err := s.store.Transition(ctx, jobID, ActiveStates, func(j *Job) {
		if j.Origin.Extra == nil {
			j.Origin.Extra = map[string]string{}
		}
		j.Origin.Extra[key] = value
	})
	return err
}
