package core_test

import (
	"context"
	"testing"
	"time"

	"sorabot/core"
)

// Stopping while a create waits out a provider's Retry-After does not wait
// for it: no request is in flight, so the job goes back to Queued, and the
// next start sends it once and delivers it, charged once.
func TestStopDuringCreateRetryWaitQueuesTheJob(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.provider.submitErr = func(n int) error {
			if n == 0 {
				// Retry-After is capped at a minute: Stop must not wait it out.
				return core.WithRetryAfter(core.Temporary(testErrorf(core.EUNAVAILABLE, "rate limited")), time.Hour)
			}
			return nil
		}
	})
	h.start()
	a := h.mustAccept("u:1", "k1", "a cat")
	waitFor(t, "the first create", func() bool { c, _ := h.provider.counts(); return c == 1 })
	svc := h.svc
	stopped := make(chan struct{})
	go func() { svc.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("Stop did not return while a create waited for the provider's Retry-After")
	}
	h.svc = nil
	j, err := h.db.Job(context.Background(), a.Job.ID)
	if err != nil || j.State != core.Queued || j.Provider != "" || j.TaskID != "" {
		t.Fatalf("job after stop: %+v %v; want queued, at no provider", j, err)
	}

	h.close()
	h.open()
	h.start()
	j = h.waitState(a.Job.ID, core.Delivered)
	if c, _ := h.provider.counts(); c != 2 || j.TaskID != "task-1" {
		t.Fatalf("%d creates, task %q; want the 429 and one create after the restart", c, j.TaskID)
	}
	if n := h.count(a.Job.ID, core.EventSubmitted); n != 1 {
		t.Errorf("%d submitted events, want 1", n)
	}
	if n := h.count(a.Job.ID, core.EventFailed); n != 0 {
		t.Errorf("%d failed events, want none", n)
	}
	h.paidOnce("u:1", a)
}

// A job accepted before the service starts (webhooks are served first) is
// queued once, not again by the recovery, and sent once.
func TestAcceptBeforeStartQueuesOnce(t *testing.T) {
	block := make(chan struct{})
	h := newHarness(t, func(h *harness) {
		h.cfg.MaxInflight = 1
		h.provider.block = block
	})
	first := h.mustAccept("u:1", "k1", "first")
	second := h.mustAccept("u:2", "k2", "second")
	h.start()
	// The first job holds the only slot (its create is held); the queue
	// is settled once the slot is taken.
	waitFor(t, "the first job at the provider", func() bool { return h.svc.Inflight() == 1 })
	if n := h.svc.QueueLen(); n != 1 {
		t.Errorf("queue holds %d jobs, want 1 (the second job, once)", n)
	}
	close(block)
	h.waitState(first.Job.ID, core.Delivered)
	h.waitState(second.Job.ID, core.Delivered)
	h.stop()
	if c, _ := h.provider.counts(); c != 2 {
		t.Errorf("%d creates, want 2", c)
	}
	for _, a := range []core.Accepted{first, second} {
		if n := h.count(a.Job.ID, core.EventSubmitted); n != 1 {
			t.Errorf("job %s: %d submitted events, want 1", a.Job.ID, n)
		}
	}
	h.paidOnce("u:1", first)
	h.paidOnce("u:2", second)
}

// The stored job decides which providers a job has tried: a stale copy in
// the queue (its Tried list empty) never sends it to one of them again.
func TestStaleQueuedCopyNeverGoesBackToATriedProvider(t *testing.T) {
	h, p := newPool(t, nil, "a", "b")
	a := h.mustAccept("u:1", "k1", "a cat") // queued in memory with Tried empty
	if _, ok, err := h.db.Transition(context.Background(), a.Job.ID, []core.State{core.Queued}, func(j *core.Job) {
		j.Tried = []string{"a"} // as a failover from a had stored it
	}); err != nil || !ok {
		t.Fatalf("seed tried: %v %v", ok, err)
	}
	h.start()
	j := h.waitState(a.Job.ID, core.Delivered)
	if j.Provider != "b" || creates(p["a"]) != 0 || creates(p["b"]) != 1 {
		t.Fatalf("made at %q; creates a=%d b=%d, want at b only", j.Provider, creates(p["a"]), creates(p["b"]))
	}
	h.paidOnce("u:1", a)
}
