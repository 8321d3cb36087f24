package core

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// ProviderConfig is one provider account the service sends jobs to.
type ProviderConfig struct {
	// Name is unique; jobs record it, so it must stay stable across restarts.
	Name string
	// Protocol is ProtocolSoraPro, ProtocolVideoCreate or ProtocolDemo (a
	// client that takes models of both protocols).
	Protocol string
	Client   Provider
	// MaxInflight bounds jobs at this provider at once (20).
	MaxInflight int
	// Rate paces every call to it: create, status and balance (10/s).
	Rate rate.Limit
	// Disabled providers take no new jobs; jobs already there are polled.
	Disabled bool
}

// Provider states, as operators see them.
const (
	ProviderUp       = "up"
	ProviderDown     = "down"
	ProviderDisabled = "disabled"
)

// healthFailures provider-side failures in a row make a provider down.
const healthFailures = 3

// health tracks one provider's failures. Calls that fail for the
// provider's reasons count (creates, status calls, tasks it failed); a
// create that made a task or a task that made a video resets the count.
// healthFailures in a row make it down for base (Config.ProviderCooldown);
// each failure right after a cool-down makes it down again for twice as
// long, up to max.
type health struct {
	base, max time.Duration
	fails     int
	downUntil time.Time
	cooldown  time.Duration // the next down period
	// probation: back from a cool-down, one failure sends it down again.
	probation bool
	lastErr   string
	lastErrAt time.Time
}

func (h *health) down(now time.Time) bool { return now.Before(h.downUntil) }

// failed counts a failure; it reports whether the provider went down now,
// and for how long.
func (h *health) failed(now time.Time, msg string) (bool, time.Duration) {
	h.lastErr, h.lastErrAt = msg, now
	if h.down(now) {
		return false, 0
	}
	h.fails++
	if h.fails < healthFailures && !h.probation {
		return false, 0
	}
	if h.cooldown == 0 {
		h.cooldown = h.base
	}
	d := h.cooldown
	h.downUntil = now.Add(d)
	h.cooldown = min(2*h.cooldown, h.max)
	h.fails, h.probation = 0, true
	return true, d
}

// succeeded resets the count; it reports whether the provider was down or
// on probation.
func (h *health) succeeded() bool {
	was := h.probation || !h.downUntil.IsZero()
	h.fails, h.probation, h.cooldown, h.downUntil = 0, false, h.base, time.Time{}
	return was
}

// upstream is a configured provider and the service's state of it.
type upstream struct {
	ProviderConfig
	lim   *rate.Limiter
	sched *pollScheduler // Service.pmu

	// Service.mu:
	inflight int // jobs submitting or submitted here
	health   health
}

func (u *upstream) info() ProviderInfo {
	return ProviderInfo{Name: u.Name, Protocol: u.Protocol, Disabled: u.Disabled}
}

// free reports whether a job may go to u now (Service.mu held).
func (u *upstream) free() bool { return !u.Disabled && u.inflight < u.MaxInflight }

// providerFault reports whether a provider call's error counts against the
// provider's health: anything but a refusal of the request itself.
func providerFault(err error) bool {
	return err != nil && ErrorCode(err) != EINVALID
}

// callFailed records a provider-side failure of u.
func (s *Service) callFailed(u *upstream, err error) {
	if !providerFault(err) {
		return
	}
	now := time.Now()
	s.mu.Lock()
	down, d := u.health.failed(now, ErrorMessage(err))
	s.mu.Unlock()
	if down {
		s.log.Warn("provider is down; skipped while another route exists", "provider", u.Name,
			"cool_down", d.String(), "err", err)
		s.kick(s.dispatch) // jobs waiting for it may go elsewhere
	}
}

// callSucceeded records that u made a task or a video.
func (s *Service) callSucceeded(u *upstream) {
	s.mu.Lock()
	was := u.health.succeeded()
	s.mu.Unlock()
	if was {
		s.log.Info("provider is up again", "provider", u.Name)
	}
}

// ProviderStatus is what operators see of one provider.
type ProviderStatus struct {
	Name     string
	Protocol string
	// State is ProviderUp, ProviderDown or ProviderDisabled.
	State     string
	DownUntil time.Time
	// Inflight counts its jobs being submitted or made; MaxInflight bounds them.
	Inflight    int
	MaxInflight int
	// LastError is the user-safe text of its newest provider-side failure.
	LastError   string
	LastErrorAt time.Time
}

// Providers returns every configured provider's state, in configuration order.
func (s *Service) Providers() []ProviderStatus {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ProviderStatus, 0, len(s.ups))
	for _, u := range s.ups {
		st := ProviderStatus{Name: u.Name, Protocol: u.Protocol, State: ProviderUp, Inflight: u.inflight,
			MaxInflight: u.MaxInflight, LastError: u.health.lastErr, LastErrorAt: u.health.lastErrAt}
		switch {
		case u.Disabled:
			st.State = ProviderDisabled
		case u.health.down(now):
			st.State, st.DownUntil = ProviderDown, u.health.downUntil
		}
		out = append(out, st)
	}
	return out
}

// ProviderBalance asks the named provider for its account's credit, paced
// by its rate. ok is false when its protocol reports no balance.
func (s *Service) ProviderBalance(ctx context.Context, name string) (balance float64, ok bool, err error) {
	u := s.byName[name]
	if u == nil {
		return 0, false, msgNoProvider.Err(ENOTFOUND, Args{"Name": name})
	}
	bc, ok := u.Client.(BalanceChecker)
	if !ok {
		return 0, false, nil
	}
	if err := u.lim.Wait(ctx); err != nil {
		return 0, true, err
	}
	start := time.Now()
	b, err := bc.Balance(ctx)
	s.cfg.Metrics.ProviderCall(u.Name, "balance", time.Since(start), err)
	if err != nil {
		s.callFailed(u, err)
	}
	return b, true, err
}
