package core_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sorabot/core"
)

// The guarantees of the one-provider path hold with several providers:
// store writes are retried, a Retry-After is honoured, and every slot of
// every provider can have its status call running.

// The write that moves a job to the next provider is retried when it fails
// (or lands but reports a failure): the job is still made by the other
// provider, charged once, never failed.
func TestFailoverStoreWriteIsRetried(t *testing.T) {
	refuse := func(p map[string]*fakeProvider) {
		p["a"].submitErr = func(int) error {
			return core.Refused(core.MsgProviderBusy.Err(core.EUNAVAILABLE, nil))
		}
	}
	failTask := func(p map[string]*fakeProvider) {
		p["a"].failWith = core.MsgProviderFailed.Err(core.EUNAVAILABLE, nil)
	}
	// The failover's write is the first call of op: from submitting after
	// a refused create, from submitted after a failed task.
	for _, tc := range []struct {
		name, op string
		n        int
		landed   bool
		script   func(p map[string]*fakeProvider)
	}{
		{"refused create", "transition submitting", 3, false, refuse},
		{"refused create, landed", "transition submitting", 1, true, refuse},
		{"task failed there", "transition submitted", 3, false, failTask},
		{"task failed there, landed", "transition submitted", 1, true, failTask},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs, mod := withFlakyStore(func(f *flakyStore) { f.failN(tc.op, tc.n, tc.landed) })
			h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
				mod(h)
				tc.script(p)
			}, "a", "b")
			h.start()
			a := h.mustAccept("u:1", "k1", "a cat")
			j := h.waitState(a.Job.ID, core.Delivered)
			h.waitEvent(a.Job.ID, core.EventDelivered)
			if j.Provider != "b" || !slices.Equal(j.Tried, []string{"a"}) {
				t.Errorf("made at %q, tried %v; want b after a", j.Provider, j.Tried)
			}
			// The failover's failed tries, the one that landed, and the
			// write of the same op at b.
			if got := (*fs).count(tc.op); got != tc.n+2 {
				t.Errorf("%d calls of %s, want %d", got, tc.op, tc.n+2)
			}
			if creates(p["a"]) != 1 || creates(p["b"]) != 1 {
				t.Errorf("creates a=%d b=%d; want one each", creates(p["a"]), creates(p["b"]))
			}
			if ev := h.front.eventTypes(a.Job.ID); slices.Contains(ev, core.EventFailed) || !slices.Contains(ev, core.EventRetrying) {
				t.Errorf("events %v: want retrying, never failed", ev)
			}
			waitFor(t, "the provider slots", func() bool { return h.svc.Inflight() == 0 })
			h.paidOnce("u:1", a)
		})
	}
}

// A create answered with a Retry-After at a job's last provider is tried
// again there no sooner than asked (the back-off alone would retry after
// a millisecond).
func TestCreateRetryAfterAtTheLastProvider(t *testing.T) {
	const after = 500 * time.Millisecond
	var (
		mu    sync.Mutex
		tries []time.Time
	)
	h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		p["a"].submitErr = func(int) error {
			return core.Refused(core.MsgProviderBusy.Err(core.EUNAVAILABLE, nil))
		}
		p["b"].submitErr = func(n int) error {
			mu.Lock()
			tries = append(tries, time.Now())
			mu.Unlock()
			if n == 0 {
				return core.WithRetryAfter(core.Temporary(testErrorf(core.EUNAVAILABLE, "rate limited")), after)
			}
			return nil
		}
	}, "a", "b")
	h.start()
	a := h.mustAccept("u:1", "k1", "a cat")
	j := h.waitState(a.Job.ID, core.Delivered)
	if j.Provider != "b" || creates(p["a"]) != 1 || creates(p["b"]) != 2 {
		t.Fatalf("made at %q; creates a=%d b=%d, want 1 and 2", j.Provider, creates(p["a"]), creates(p["b"]))
	}
	mu.Lock()
	defer mu.Unlock()
	if gap := tries[1].Sub(tries[0]); gap < after {
		t.Errorf("second create at b %v after the 429, want at least %v", gap, after)
	}
	h.paidOnce("u:1", a)
}

// gatedStatus holds every status call, at any provider, until release is
// closed, and closes reached once want calls are held at once.
type gatedStatus struct {
	*fakeProvider
	want    int64
	held    *atomic.Int64
	reached chan struct{}
	release chan struct{}
}

func (p gatedStatus) Status(ctx context.Context, m *core.Model, id string) (core.TaskStatus, error) {
	if p.held.Add(1) == p.want {
		close(p.reached)
	}
	defer p.held.Add(-1)
	select {
	case <-p.release:
	case <-ctx.Done():
		return core.TaskStatus{}, ctx.Err()
	}
	return p.fakeProvider.Status(ctx, m, id)
}

// With the default number of poll workers, every job at every provider can
// have its status call running at once: slow providers do not cap the
// status pace below their rates.
func TestStatusCallsForEverySlotOfEveryProvider(t *testing.T) {
	const perProvider, providers = 20, 2
	const want = perProvider * providers
	held, reached, release := &atomic.Int64{}, make(chan struct{}), make(chan struct{})
	h, _ := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		h.cfg.MaxInflight = perProvider
		for i := range h.cfg.Providers {
			fp := h.cfg.Providers[i].Client.(*fakeProvider)
			fp.duration = 0
			h.cfg.Providers[i].Client = gatedStatus{fakeProvider: fp, want: want, held: held, reached: reached, release: release}
		}
	}, "a", "b")
	h.start()
	var ids []string
	for i := range want {
		ids = append(ids, h.mustAccept(fmt.Sprintf("u:%d", i), fmt.Sprintf("k%d", i), "slow status").Job.ID)
	}
	select {
	case <-reached:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d status calls at once, want %d", held.Load(), want)
	}
	close(release)
	for _, id := range ids {
		h.waitState(id, core.Delivered)
	}
	for _, st := range h.svc.Providers() {
		if st.Inflight != 0 {
			t.Errorf("provider %+v", st)
		}
	}
	h.verify()
}
