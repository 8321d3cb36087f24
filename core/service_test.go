package core_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sorabot/core"
)

func TestServiceDeliversAndCharges(t *testing.T) {
	h := newHarness(t, nil)
	h.start()
	a := h.mustAccept("test:1", "ev-1", "a cat surfing")
	if a.Job.Price != 100 || a.Balance != 900 || a.Position != 1 {
		t.Fatalf("accepted %+v", a)
	}
	j := h.waitState(a.Job.ID, core.Delivered)
	h.waitEvent(a.Job.ID, core.EventDelivered)
	if j.DeliveredVia != "upload" || j.Refunded {
		t.Fatalf("delivered job %+v", j)
	}
	d := h.front.deliveries()
	if len(d) != 1 || !bytes.Equal(d[0].data, videoBytes) {
		t.Fatalf("deliveries %+v", d)
	}
	if got := h.balance("test:1"); got != 900 {
		t.Fatalf("balance %d, want 900", got)
	}
	types := h.front.eventTypes(a.Job.ID)
	if !slices.Contains(types, core.EventSubmitted) || types[len(types)-1] != core.EventDelivered {
		t.Fatalf("events %v", types)
	}
	h.verify()
}

func TestServiceRejectsInvalidWithoutCharge(t *testing.T) {
	h := newHarness(t, nil)
	h.start()
	for _, tc := range []struct {
		name string
		req  core.Request
		code string
	}{
		{"no prompt", core.Request{}, core.EINVALID},
		{"unknown model", core.Request{Model: "sora-3", Prompt: "x"}, core.EUNAVAILABLE},
		{"bad orientation", core.Request{Prompt: "x", Orientation: "square"}, core.EINVALID},
		{"image not a picture", core.Request{Prompt: "x", Images: []core.Image{{Data: []byte("hello")}}}, core.EINVALID},
		{"shots not adding up", core.Request{Shots: []core.Shot{{Scene: "a", Duration: 3}}}, core.EINVALID},
	} {
		_, err := h.svc.Accept(context.Background(), core.Submission{UserID: "test:2", Origin: core.Origin{Platform: "test"}, Request: tc.req})
		if core.ErrorCode(err) != tc.code || core.ErrorMessage(err) == "" {
			t.Errorf("%s: err %v, want code %s", tc.name, err, tc.code)
		}
	}
	if got := h.balance("test:2"); got != 1000 {
		t.Fatalf("balance %d after invalid requests, want 1000", got)
	}
	if c, _ := h.provider.counts(); c != 0 {
		t.Fatalf("provider got %d creates", c)
	}
}

func TestServiceNoCredits(t *testing.T) {
	h := newHarness(t, nil)
	h.start()
	_, err := h.svc.Accept(context.Background(), core.Submission{UserID: "test:3", Origin: core.Origin{Platform: "test"},
		Request: core.Request{Prompt: "x", Pro: true, Quality: "high", Duration: 15}})
	if core.ErrorCode(err) != core.ENOCREDITS {
		t.Fatalf("err %v, want no credits", err)
	}
	if got := h.balance("test:3"); got != 1000 {
		t.Fatalf("balance %d", got)
	}
}

func TestServiceDuplicateKeyChargesOnce(t *testing.T) {
	h := newHarness(t, nil)
	h.start()
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := h.accept("test:4", "update-77", "same event")
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = a.Job.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids %v", ids)
		}
	}
	h.waitState(ids[0], core.Delivered)
	if got := h.balance("test:4"); got != 900 {
		t.Fatalf("balance %d, want 900", got)
	}
	if c, _ := h.provider.counts(); c != 1 {
		t.Fatalf("%d creates, want 1", c)
	}
	h.verify()
}

// Every failure path ends failed and refunded exactly once.
func TestServiceFailurePathsRefundOnce(t *testing.T) {
	permanent := testErrorf(core.EINVALID, "Your prompt was rejected by the content policy; please rephrase it.")
	cases := []struct {
		name string
		mod  func(h *harness)
		code string
	}{
		{"create refused", func(h *harness) {
			h.provider.submitErr = func(int) error { return permanent }
		}, core.EINVALID},
		{"create unreachable after retries", func(h *harness) {
			h.provider.submitErr = func(int) error { return core.Temporary(errors.New("connection refused")) }
		}, core.EUNAVAILABLE},
		{"provider reports failure", func(h *harness) {
			h.provider.failWith = testErrorf(core.EINVALID, "The image was rejected; try another image.")
		}, core.EINVALID},
		{"status keeps failing", func(h *harness) {
			h.provider.statusErr = func(string, int) error { return testErrorf(core.ENOTFOUND, "task vanished") }
		}, core.EUNAVAILABLE},
		{"result link gone", func(h *harness) { h.missing = true }, core.EUNAVAILABLE},
		{"user blocked the bot", func(h *harness) {
			h.front.deliverErr = func(int, core.Video) error { return testErrorf(core.EFORBIDDEN, "blocked") }
		}, core.EFORBIDDEN},
		{"delivery keeps failing", func(h *harness) {
			h.front.deliverErr = func(int, core.Video) error { return core.Temporary(errors.New("502")) }
		}, core.EUNAVAILABLE},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.mod)
			h.start()
			a := h.mustAccept("test:5", "k", "a dog")
			j := h.waitState(a.Job.ID, core.Failed)
			h.waitEvent(a.Job.ID, core.EventFailed)
			if j.ErrCode != tc.code || j.Err == "" || !j.Refunded {
				t.Fatalf("failed job code=%q err=%q refunded=%v", j.ErrCode, j.Err, j.Refunded)
			}
			if got := h.balance("test:5"); got != 1000 {
				t.Fatalf("balance %d after refund, want 1000", got)
			}
			if n := h.refunds("test:5", j.ID); n != 1 {
				t.Fatalf("%d refunds", n)
			}
			types := h.front.eventTypes(j.ID)
			if len(types) == 0 || types[len(types)-1] != core.EventFailed {
				t.Fatalf("events %v", types)
			}
			h.verify()
		})
	}
}

func TestServiceDeadline(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.provider.never = true })
	cat := core.DefaultCatalog()
	m, _ := cat.Model("sora-2-text-to-video")
	m.TypicalSeconds, m.DeadlineSeconds = 1, 2
	h.svc = core.NewService(h.cfg, h.db, h.provider, cat)
	h.svc.SetFrontend("test", h.front)
	h.start()
	a := h.mustAccept("test:6", "k", "slow")
	j := h.waitState(a.Job.ID, core.Failed)
	if !j.Refunded || h.balance("test:6") != 1000 {
		t.Fatalf("job %+v", j)
	}
	h.verify()
}

func TestServiceTransientErrorsDoNotFail(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.provider.submitErr = func(n int) error {
			if n < 2 {
				return core.Temporary(errors.New("connection refused"))
			}
			return nil
		}
		h.provider.statusErr = func(_ string, n int) error {
			if n < 4 {
				return core.Temporary(errors.New("HTTP 503"))
			}
			return nil
		}
		h.front.deliverErr = func(n int, _ core.Video) error {
			if n < 2 {
				return core.Temporary(errors.New("HTTP 502"))
			}
			return nil
		}
	})
	h.start()
	a := h.mustAccept("test:7", "k", "resilient")
	h.waitState(a.Job.ID, core.Delivered)
	if got := h.balance("test:7"); got != 900 {
		t.Fatalf("balance %d", got)
	}
	h.verify()
}

func TestServiceTooBigSendsLink(t *testing.T) {
	t.Run("over the platform limit", func(t *testing.T) {
		h := newHarness(t, func(h *harness) { h.front.maxUpload = 10 })
		h.start()
		a := h.mustAccept("test:8", "k", "big")
		j := h.waitState(a.Job.ID, core.Delivered)
		d := h.front.deliveries()
		if j.DeliveredVia != "link" || len(d) != 1 || d[0].video.Path != "" || d[0].video.URL == "" {
			t.Fatalf("via %q deliveries %+v", j.DeliveredVia, d)
		}
		if h.balance("test:8") != 900 {
			t.Fatal("a link delivery is charged")
		}
	})
	t.Run("platform refuses the upload", func(t *testing.T) {
		h := newHarness(t, func(h *harness) {
			h.front.deliverErr = func(n int, v core.Video) error {
				if v.Path != "" {
					return fmt.Errorf("40005: %w", core.ErrTooBig)
				}
				return nil
			}
		})
		h.cfg.MediaURL = func(p string) (string, error) { return "https://bot.example/media/abc", nil }
		h.svc = core.NewService(h.cfg, h.db, h.provider, core.DefaultCatalog())
		h.svc.SetFrontend("test", h.front)
		h.start()
		a := h.mustAccept("test:9", "k", "big")
		h.waitState(a.Job.ID, core.Delivered)
		d := h.front.deliveries()
		if len(d) != 1 || d[0].video.URL != "https://bot.example/media/abc" {
			t.Fatalf("deliveries %+v", d)
		}
	})
}

func TestServiceQueueCancelAndLimits(t *testing.T) {
	block := make(chan struct{})
	h := newHarness(t, func(h *harness) {
		h.cfg.MaxInflight = 1
		h.cfg.UserMaxActive = 2
		h.provider.block = block
	})
	h.start()
	first := h.mustAccept("test:10", "k1", "one")
	second := h.mustAccept("test:10", "k2", "two")
	if second.Position < 1 {
		t.Fatalf("second position %d", second.Position)
	}
	if _, err := h.accept("test:10", "k3", "three"); core.ErrorCode(err) != core.ERATELIMITED {
		t.Fatalf("third job: %v, want rate limited", err)
	}
	// The first job holds the only provider slot; the second waits.
	h.waitState(first.Job.ID, core.Submitting)
	if _, err := h.svc.Cancel(context.Background(), "test:99", second.Job.ID); core.ErrorCode(err) != core.ENOTFOUND {
		t.Fatalf("cancel by another user: %v", err)
	}
	j, err := h.svc.Cancel(context.Background(), "test:10", second.Job.ID)
	if err != nil || j.State != core.Canceled || !j.Refunded {
		t.Fatalf("cancel: %v %+v", err, j)
	}
	if _, err := h.svc.Cancel(context.Background(), "test:10", second.Job.ID); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("second cancel: %v", err)
	}
	if _, err := h.svc.Cancel(context.Background(), "test:10", first.Job.ID); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("cancel of a submitting job: %v", err)
	}
	close(block)
	h.waitState(first.Job.ID, core.Delivered)
	if got := h.balance("test:10"); got != 900 {
		t.Fatalf("balance %d", got)
	}
	if c, _ := h.provider.counts(); c != 1 {
		t.Fatalf("%d creates", c)
	}
	h.verify()
}

func TestServiceUserRateLimit(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.cfg.UserRate = 0.001
		h.cfg.UserBurst = 2
	})
	h.start()
	h.mustAccept("test:11", "a", "one")
	h.mustAccept("test:11", "b", "two")
	if _, err := h.accept("test:11", "c", "three"); core.ErrorCode(err) != core.ERATELIMITED || core.ErrorMessage(err) == "" {
		t.Fatalf("err %v", err)
	}
	if _, err := h.accept("test:12", "d", "other user"); err != nil {
		t.Fatalf("another user is limited: %v", err)
	}
}

func TestServiceFIFO(t *testing.T) {
	block := make(chan struct{})
	h := newHarness(t, func(h *harness) {
		h.cfg.MaxInflight = 1
		h.provider.block = block
	})
	h.start()
	var ids []string
	for i := range 5 {
		a := h.mustAccept(fmt.Sprintf("test:f%d", i), fmt.Sprintf("k%d", i), "fifo")
		ids = append(ids, a.Job.ID)
	}
	close(block)
	for _, id := range ids {
		h.waitState(id, core.Delivered)
	}
	h.provider.mu.Lock()
	defer h.provider.mu.Unlock()
	var order []time.Time
	for i := range 5 {
		task := h.provider.tasks[fmt.Sprintf("task-%d", i)]
		if task == nil {
			t.Fatalf("no task-%d among %d creates", i, h.provider.creates)
		}
		order = append(order, task.created)
	}
	if !slices.IsSortedFunc(order, func(a, b time.Time) int { return a.Compare(b) }) {
		t.Fatalf("creates out of order")
	}
	// task-i must belong to the i-th accepted job.
	for i, id := range ids {
		j, _ := h.db.Job(context.Background(), id)
		if j.TaskID != fmt.Sprintf("task-%d", i) {
			t.Fatalf("job %s got %s", id, j.TaskID)
		}
	}
}

// 100 goroutines accepting against one balance never overspend.
func TestServiceConcurrentAcceptsNeverOverspend(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.provider.never = true })
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, broke := 0, 0
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.accept("test:rich", fmt.Sprintf("k%d", i), "race")
			mu.Lock()
			defer mu.Unlock()
			switch core.ErrorCode(err) {
			case "":
				ok++
			case core.ENOCREDITS:
				broke++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 10 || broke != 90 {
		t.Fatalf("accepted %d, refused %d; want 10 and 90", ok, broke)
	}
	if b := h.balance("test:rich"); b != 0 {
		t.Fatalf("balance %d", b)
	}
	h.verify()
}

func TestServiceAdminOnly(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.cfg.Admins = []string{"test:admin"} })
	if _, err := h.svc.Grant(context.Background(), "test:user", "test:user", 1000, false); core.ErrorCode(err) != core.EFORBIDDEN {
		t.Fatalf("grant by a user: %v", err)
	}
	a, err := h.svc.Grant(context.Background(), "test:admin", "test:user", 250, false)
	if err != nil || a.Balance != 1250 {
		t.Fatalf("grant: %v %+v", err, a)
	}
	if _, err := h.svc.Stats(context.Background(), "test:user"); core.ErrorCode(err) != core.EFORBIDDEN {
		t.Fatalf("stats by a user: %v", err)
	}
	if _, err := h.svc.Grant(context.Background(), "test:admin", "test:user", -5000, false); core.ErrorCode(err) != core.EINVALID {
		t.Fatalf("negative balance: %v", err)
	}
	h.verify()
}

// heldStatus holds every status call until release is closed, and closes
// reached once want calls are held at once.
type heldStatus struct {
	*fakeProvider
	want    int64
	held    atomic.Int64
	reached chan struct{}
	release chan struct{}
}

func (p *heldStatus) Status(ctx context.Context, m *core.Model, id string) (core.TaskStatus, error) {
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

// With the default number of poll workers, every job at the provider can
// have its status call running at once: a slow provider does not cap the
// status pace below PROVIDER_RATE.
func TestServiceStatusCallsForEveryProviderSlot(t *testing.T) {
	const inflight = 40
	h := newHarness(t, func(h *harness) {
		h.cfg.MaxInflight = inflight
		h.provider.duration = 0
	})
	p := &heldStatus{fakeProvider: h.provider, want: inflight, reached: make(chan struct{}), release: make(chan struct{})}
	h.svc = core.NewService(h.cfg, h.db, p, core.DefaultCatalog())
	h.svc.SetFrontend("test", h.front)
	h.start()
	var ids []string
	for i := range inflight {
		ids = append(ids, h.mustAccept(fmt.Sprintf("test:s%d", i), fmt.Sprintf("s%d", i), "slow status").Job.ID)
	}
	select {
	case <-p.reached:
	case <-time.After(10 * time.Second):
		t.Fatalf("%d status calls at once, want %d", p.held.Load(), inflight)
	}
	close(p.release)
	for _, id := range ids {
		h.waitState(id, core.Delivered)
	}
	h.verify()
}

// Downloads that run side by side keep their connections for the next ones
// instead of dialing anew (the default transport keeps only 2 per host).
func TestServiceDownloadsKeepConnectionsAlive(t *testing.T) {
	const jobs, waves = 20, 3
	var (
		mu       sync.Mutex
		dials    int
		inWave   int
		released = make(chan struct{})
	)
	videos := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answer only when the whole wave is in: each download holds its
		// own connection.
		mu.Lock()
		inWave++
		ch := released
		if inWave == jobs {
			inWave = 0
			close(released)
			released = make(chan struct{})
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-r.Context().Done():
			return
		}
		w.Write(videoBytes)
	}))
	videos.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			dials++
			mu.Unlock()
		}
	}
	videos.Start()
	t.Cleanup(videos.Close)
	h := newHarness(t, func(h *harness) {
		h.cfg.MaxInflight = jobs
		h.provider.videoURL = videos.URL
	})
	h.start()
	for wave := range waves {
		var ids []string
		for i := range jobs {
			ids = append(ids, h.mustAccept(fmt.Sprintf("test:d%d", i), fmt.Sprintf("d%d-%d", wave, i), "a wave").Job.ID)
		}
		for _, id := range ids {
			h.waitState(id, core.Delivered)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	// The first wave dials one connection per download; later waves reuse
	// them (a few may dial when a connection is not back in the pool yet).
	if dials > jobs+jobs/2 {
		t.Errorf("%d connections for %d waves of %d downloads, want about %d", dials, waves, jobs, jobs)
	}
}

// slowWarnings widens the moment after a failed status call is logged, as
// a busy machine may: a job must not be rescheduled while its end is
// being decided.
type slowWarnings struct{ slog.Handler }

func (slowWarnings) Enabled(context.Context, slog.Level) bool { return true }

func (h slowWarnings) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "status call failed" {
		time.Sleep(20 * time.Millisecond)
	}
	return h.Handler.Handle(ctx, r)
}

// Jobs that reach their deadline while every status call fails end once:
// their slots are freed once (never below zero) and nothing polls them
// afterwards.
func TestServiceDeadlineWhileStatusCallsFail(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.provider.never = true
		h.provider.statusErr = func(string, int) error { return core.Temporary(errors.New("HTTP 503")) }
		h.cfg.Logger = slog.New(slowWarnings{slog.DiscardHandler})
	})
	cat := core.DefaultCatalog()
	m, _ := cat.Model("sora-2-text-to-video")
	m.TypicalSeconds, m.DeadlineSeconds = 1, 1
	h.svc = core.NewService(h.cfg, h.db, h.provider, cat)
	h.svc.SetFrontend("test", h.front)
	h.start()
	var ids []string
	for i := range 8 {
		ids = append(ids, h.mustAccept(fmt.Sprintf("test:%d", i), "k", "slow").Job.ID)
	}
	for _, id := range ids {
		if j := h.waitState(id, core.Failed); !j.Refunded {
			t.Fatalf("job %+v", j)
		}
	}
	waitFor(t, "every slot freed", func() bool { return h.svc.Inflight() <= 0 && h.svc.Polling() == 0 })
	svc := h.svc
	h.stop()
	if n, p := svc.Inflight(), svc.Polling(); n != 0 || p != 0 {
		t.Fatalf("after the deadline: %d jobs in flight (want 0), %d watched", n, p)
	}
	h.verify()
}

// Failures must come in a row to put a provider down: a status call that
// answers in between resets the count.
func TestServiceScatteredStatusErrorsKeepTheProviderUp(t *testing.T) {
	var calls atomic.Int32
	h := newHarness(t, func(h *harness) {
		h.provider.never = true
		h.provider.statusErr = func(string, int) error {
			if calls.Add(1)%2 == 0 {
				return core.Temporary(errors.New("HTTP 503"))
			}
			return nil
		}
	})
	h.start()
	h.mustAccept("test:1", "k", "long")
	waitFor(t, "a dozen status calls", func() bool { return calls.Load() >= 12 })
	for _, p := range h.svc.Providers() {
		if p.State != core.ProviderUp {
			t.Fatalf("provider %s is %s after alternating answers and errors", p.Name, p.State)
		}
	}
}
