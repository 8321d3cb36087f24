package core

import "time"

// Metrics observes what the service does; cmd wires it to Prometheus.
type Metrics interface {
	// JobState counts a transition (from is "" for a new job).
	JobState(from, to State)
	// ProviderCall records one call ("submit", "status", "balance") to the
	// named provider and its outcome.
	ProviderCall(provider, op string, d time.Duration, err error)
	Charged(credits int)
	Refunded(credits int)
	// Delivered counts a delivery by how it went ("upload", "link", ...).
	Delivered(via string)
}

type nopMetrics struct{}

func (nopMetrics) JobState(State, State)                             {}
func (nopMetrics) ProviderCall(string, string, time.Duration, error) {}
func (nopMetrics) Charged(int)                                       {}
func (nopMetrics) Refunded(int)                                      {}
func (nopMetrics) Delivered(string)                                  {}
