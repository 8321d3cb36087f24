package core_test

import (
	"testing"
	"time"

	"sorabot/core"
	"sorabot/core/provider/providertest"
	"sorabot/core/provider/sorapro"
)

const emuKey = "sk-core-test-0123456789"

// withEmulator makes the harness's service talk to a providertest emulator
// through the real sorapro client.
func withEmulator(t *testing.T, d time.Duration) (*providertest.Server, func(h *harness)) {
	emu := providertest.New(providertest.Options{Key: emuKey, Duration: d})
	t.Cleanup(emu.Close)
	return emu, func(h *harness) { h.real = sorapro.New(emu.URL, core.Secret(emuKey)) }
}

// statusCalls are the emulator's status requests, in order.
func statusCalls(emu *providertest.Server) []providertest.Request {
	var out []providertest.Request
	for _, r := range emu.Requests() {
		if r.Path == "/api/video-generations/check-result" {
			out = append(out, r)
		}
	}
	return out
}

// A status call answered 429 with Retry-After: 3 is next made 3 s later:
// not sooner, and not after a longer back-off.
func TestStatusRetryAfterHonoured(t *testing.T) {
	emu, real := withEmulator(t, 50*time.Millisecond)
	h := newHarness(t, real)
	emu.FailPolls(1, providertest.Fault{Status: 429, RetryAfter: 3})
	h.start()
	a := h.mustAccept("test:ra", "k", "patient")
	var due time.Time
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, errs, ok := h.svc.PollDue(a.Job.ID)
		if ok && errs == 1 {
			due = d
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the 429 was not seen by the scheduler (polled %v, errors %d)", ok, errs)
		}
		time.Sleep(2 * time.Millisecond)
	}
	calls := statusCalls(emu)
	if len(calls) != 1 {
		t.Fatalf("%d status calls before the wait ended, want 1", len(calls))
	}
	wait := due.Sub(calls[0].Time)
	if wait < 3*time.Second || wait > 4*time.Second {
		t.Fatalf("next status call scheduled %v after the 429, want 3s (to within the reply's travel time)", wait)
	}
	if j, _ := h.db.Job(t.Context(), a.Job.ID); j.State != core.Submitted {
		t.Fatalf("job %s after one 429", j.State)
	}
}

// A provider that answers 503 five times and then recovers: the job is
// delivered, charged once, and each failure was retried.
func TestStatusFailuresThenRecovery(t *testing.T) {
	emu, real := withEmulator(t, 50*time.Millisecond)
	h := newHarness(t, real)
	emu.FailPolls(5, providertest.Fault{Status: 503})
	h.start()
	a := h.mustAccept("test:rec", "k", "resilient")
	h.waitState(a.Job.ID, core.Delivered)
	if n := len(statusCalls(emu)); n < 6 {
		t.Fatalf("%d status calls, want the 5 failures and at least one more", n)
	}
	if got := h.balance("test:rec"); got != 900 {
		t.Fatalf("balance %d, want 900", got)
	}
	h.verify()
}
