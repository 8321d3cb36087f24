package core_test

import (
	"context"
	"slices"
	"testing"

	"sorabot/core"
)

// jobEvents returns the events the frontend saw for a job, in order.
func (f *fakeFrontend) jobEvents(jobID string) []core.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []core.Event
	for _, e := range f.events {
		if e.Job.ID == jobID {
			out = append(out, e)
		}
	}
	return out
}

// Accept and Cancel tell the job's frontend themselves, before they return:
// a frontend never has to fake a queued or canceled event.
func TestServiceEmitsQueuedAndCanceled(t *testing.T) {
	block := make(chan struct{})
	h := newHarness(t, func(h *harness) {
		h.cfg.MaxInflight = 1
		h.provider.block = block
	})
	defer close(block)
	h.start()
	first := h.mustAccept("test:20", "k1", "holds the only slot")
	h.waitState(first.Job.ID, core.Submitting)

	second := h.mustAccept("test:21", "k2", "waits in line")
	evs := h.front.jobEvents(second.Job.ID)
	if len(evs) != 1 || evs[0].Type != core.EventQueued {
		t.Fatalf("events after Accept returned: %+v, want one queued event", evs)
	}
	q := evs[0]
	if q.Position != second.Position || q.Position != 1 || q.Balance != second.Balance || q.Balance != 900 ||
		q.Job.State != core.Queued || q.Job.Price != 100 {
		t.Fatalf("queued event %+v (job %+v), accepted %+v", q, q.Job, second)
	}

	// A redelivered event is no new job: no second queued event.
	if again := h.mustAccept("test:21", "k2", "waits in line"); !again.Duplicate {
		t.Fatalf("second accept of k2: %+v", again)
	}
	if n := len(h.front.jobEvents(second.Job.ID)); n != 1 {
		t.Fatalf("%d events after a duplicate accept", n)
	}

	j, err := h.svc.Cancel(context.Background(), "test:21", second.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	evs = h.front.jobEvents(second.Job.ID)
	if types := h.front.eventTypes(second.Job.ID); !slices.Equal(types, []core.EventType{core.EventQueued, core.EventCanceled}) {
		t.Fatalf("events after Cancel returned: %v", types)
	}
	c := evs[1]
	if c.Job.State != core.Canceled || !c.Job.Refunded || c.Job.ID != j.ID {
		t.Fatalf("canceled event job %+v", c.Job)
	}
	if c.Job == j {
		t.Fatal("the canceled event shares the job Cancel returned")
	}

	// A refused cancel tells nobody anything.
	if _, err := h.svc.Cancel(context.Background(), "test:20", first.Job.ID); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("cancel of a submitting job: %v", err)
	}
	if slices.Contains(h.front.eventTypes(first.Job.ID), core.EventCanceled) {
		t.Fatal("a refused cancel emitted a canceled event")
	}
	if got := h.balance("test:21"); got != 1000 {
		t.Fatalf("balance %d after cancel, want 1000", got)
	}
	h.verify()
}
