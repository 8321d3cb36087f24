package core_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sorabot/core"
)

// logBuf is a log sink safe for concurrent writes.
type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newPool is a harness whose service has one fake provider per name, in
// that order (mod may script them); the harness's own provider is unused.
func newPool(t *testing.T, mod func(h *harness, p map[string]*fakeProvider), names ...string) (*harness, map[string]*fakeProvider) {
	t.Helper()
	provs := map[string]*fakeProvider{}
	h := newHarness(t, func(h *harness) {
		for _, n := range names {
			p := &fakeProvider{duration: 30 * time.Millisecond, videoURL: h.videos.URL}
			provs[n] = p
			h.cfg.Providers = append(h.cfg.Providers, core.ProviderConfig{Name: n, Protocol: core.ProtocolSoraPro, Client: p})
		}
		if mod != nil {
			mod(h, provs)
		}
	})
	return h, provs
}

func creates(p *fakeProvider) int {
	c, _ := p.counts()
	return c
}

// paidOnce checks that the job's user paid its price once: charged, never refunded.
func (h *harness) paidOnce(user string, a core.Accepted) {
	h.t.Helper()
	if b := h.balance(user); b != 1000-a.Job.Price || h.refunds(user, a.Job.ID) != 0 {
		h.t.Errorf("balance %d, %d refunds; want %d and none", b, h.refunds(user, a.Job.ID), 1000-a.Job.Price)
	}
	h.verify()
}

// refundedOnce checks that a failed job gave its price back once.
func (h *harness) refundedOnce(user string, a core.Accepted) {
	h.t.Helper()
	if b := h.balance(user); b != 1000 || h.refunds(user, a.Job.ID) != 1 {
		h.t.Errorf("balance %d, %d refunds; want 1000 and one", b, h.refunds(user, a.Job.ID))
	}
	h.verify()
}

func TestFailoverCreateThatMadeNoTask(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"connection refused", core.Temporary(core.MsgProviderBusy.Err(core.EUNAVAILABLE, nil))},
		{"provider out of credit", core.Refused(core.MsgProviderBusy.Err(core.EUNAVAILABLE, nil))},
		{"model unavailable there", core.Refused(core.MsgProviderModel.Err(core.EUNAVAILABLE, nil))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
				p["a"].submitErr = func(int) error { return tc.err }
			}, "a", "b")
			h.start()
			a := h.mustAccept("u:1", "k1", "a cat")
			j := h.waitState(a.Job.ID, core.Delivered)
			if j.Provider != "b" || j.WireModel != "sora-2-text-to-video" || !slices.Equal(j.Tried, []string{"a"}) {
				t.Errorf("job made at %q as %q, tried %v", j.Provider, j.WireModel, j.Tried)
			}
			if creates(p["a"]) != 1 || creates(p["b"]) != 1 {
				t.Errorf("creates a=%d b=%d; want one each (no retry at a)", creates(p["a"]), creates(p["b"]))
			}
			if ev := h.front.eventTypes(a.Job.ID); !slices.Contains(ev, core.EventRetrying) {
				t.Errorf("events %v: no retrying", ev)
			}
			h.paidOnce("u:1", a)
		})
	}
}

func TestFailoverTaskFailedForTheProvidersReason(t *testing.T) {
	h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		p["a"].failWith = core.MsgProviderFailed.Err(core.EUNAVAILABLE, nil)
	}, "a", "b")
	h.start()
	a := h.mustAccept("u:1", "k1", "a cat")
	j := h.waitState(a.Job.ID, core.Delivered)
	h.waitEvent(a.Job.ID, core.EventDelivered)
	if j.Provider != "b" || !slices.Equal(j.Tried, []string{"a"}) {
		t.Errorf("made at %q, tried %v", j.Provider, j.Tried)
	}
	if creates(p["a"]) != 1 || creates(p["b"]) != 1 {
		t.Errorf("creates a=%d b=%d", creates(p["a"]), creates(p["b"]))
	}
	ev := h.front.eventTypes(a.Job.ID)
	ri, di := slices.Index(ev, core.EventRetrying), slices.Index(ev, core.EventDelivered)
	if ri < 0 || di < ri || slices.Contains(ev, core.EventFailed) {
		t.Errorf("events %v: want retrying, then delivered, never failed", ev)
	}
	h.paidOnce("u:1", a)
}

func TestFailoverEachProviderOnce(t *testing.T) {
	h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		p["a"].failWith = core.MsgProviderFailed.Err(core.EUNAVAILABLE, nil)
		p["b"].failWith = core.MsgProviderFailed.Err(core.EUNAVAILABLE, nil)
	}, "a", "b")
	h.start()
	a := h.mustAccept("u:1", "k1", "a cat")
	j := h.waitState(a.Job.ID, core.Failed)
	if creates(p["a"]) != 1 || creates(p["b"]) != 1 || !slices.Equal(j.Tried, []string{"a"}) || j.Provider != "b" {
		t.Errorf("creates a=%d b=%d, tried %v, last at %q", creates(p["a"]), creates(p["b"]), j.Tried, j.Provider)
	}
	h.refundedOnce("u:1", a)
}

func TestNoFailover(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(p *fakeProvider)
	}{
		{"content policy", func(p *fakeProvider) {
			p.failWith = core.MsgProviderPolicy.Err(core.EINVALID, nil)
		}},
		{"policy refusal at create", func(p *fakeProvider) {
			p.submitErr = func(int) error { return core.MsgProviderPolicy.Err(core.EINVALID, nil) }
		}},
		{"ambiguous create", func(p *fakeProvider) {
			p.submitErr = func(int) error { return core.MsgProviderBusy.Err(core.EUNAVAILABLE, nil) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) { tc.script(p["a"]) }, "a", "b")
			h.start()
			a := h.mustAccept("u:1", "k1", "a cat")
			j := h.waitState(a.Job.ID, core.Failed)
			if creates(p["b"]) != 0 || len(j.Tried) != 0 {
				t.Errorf("b got %d creates, tried %v: no failover wanted", creates(p["b"]), j.Tried)
			}
			if slices.Contains(h.front.eventTypes(a.Job.ID), core.EventRetrying) {
				t.Error("a retrying event")
			}
			h.refundedOnce("u:1", a)
		})
	}
}

func TestNoFailoverAfterTheDeadline(t *testing.T) {
	cat := core.DefaultCatalog()
	m, _ := cat.Model("sora-2-text-to-video")
	m.TypicalSeconds, m.DeadlineSeconds = 1, 2
	h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		h.catalog = cat
		p["a"].never = true
	}, "a", "b")
	h.start()
	a := h.mustAccept("u:1", "k1", "a cat")
	j := h.waitState(a.Job.ID, core.Failed)
	if creates(p["b"]) != 0 || !strings.Contains(j.Err, "too long") {
		t.Errorf("b got %d creates; err %q", creates(p["b"]), j.Err)
	}
	h.refundedOnce("u:1", a)
}

func TestPoolSlotsAddUp(t *testing.T) {
	h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		for i := range h.cfg.Providers {
			h.cfg.Providers[i].MaxInflight = 2
		}
		p["a"].never, p["b"].never = true, true
	}, "a", "b")
	h.start()
	for i := range 5 {
		h.mustAccept("u:1", "k"+string(rune('0'+i)), "a cat")
	}
	waitFor(t, "4 jobs in flight", func() bool { return h.svc.Inflight() == 4 && creates(p["a"])+creates(p["b"]) == 4 })
	if creates(p["a"]) != 2 || creates(p["b"]) != 2 || h.svc.QueueLen() != 1 {
		t.Errorf("creates a=%d b=%d, queue %d; want 2, 2, 1", creates(p["a"]), creates(p["b"]), h.svc.QueueLen())
	}
	for _, st := range h.svc.Providers() {
		if st.Inflight != 2 || st.MaxInflight != 2 || st.State != core.ProviderUp {
			t.Errorf("provider %+v", st)
		}
	}
}

func TestFullProviderDoesNotHoldBackOthers(t *testing.T) {
	cat := core.DefaultCatalog()
	std, _ := cat.Model("sora-2-text-to-video")
	std.Routes = []core.Route{{Provider: "a"}}
	pro, _ := cat.Model("sora-2-pro-text-to-video")
	pro.Routes = []core.Route{{Provider: "b"}}
	h, _ := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		h.catalog = cat
		h.cfg.Providers[0].MaxInflight = 1
		p["a"].never = true
	}, "a", "b")
	h.start()
	first := h.mustAccept("u:1", "k1", "a cat")
	h.waitState(first.Job.ID, core.Submitted)
	waiting := h.mustAccept("u:1", "k2", "another cat")
	other, err := h.svc.Accept(context.Background(), core.Submission{UserID: "u:1", Key: "k3",
		Origin: core.Origin{Platform: "test"}, Request: core.Request{Prompt: "a pro cat", Pro: true}})
	if err != nil {
		t.Fatal(err)
	}
	h.waitState(other.Job.ID, core.Delivered)
	if j, _ := h.db.Job(context.Background(), waiting.Job.ID); j.State != core.Queued || h.svc.QueueLen() != 1 {
		t.Errorf("the job for the full provider is %s (queue %d), want still queued", j.State, h.svc.QueueLen())
	}
}

func TestDownProviderIsSkippedThenTriedAgain(t *testing.T) {
	const cool = 500 * time.Millisecond
	h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		h.cfg.ProviderCooldown = cool
		p["b"].duration = 0 // done at the first look: the test fits in a cool-down
		p["a"].submitErr = func(int) error {
			return core.Refused(core.MsgProviderBusy.Err(core.EUNAVAILABLE, nil))
		}
	}, "a", "b")
	h.start()
	for i := range 3 {
		a := h.mustAccept("u:1", "k"+string(rune('0'+i)), "a cat")
		h.waitState(a.Job.ID, core.Delivered)
	}
	st := h.svc.Providers()[0]
	if st.State != core.ProviderDown || st.LastError == "" || creates(p["a"]) != 3 {
		t.Fatalf("after 3 refusals: %+v, %d creates", st, creates(p["a"]))
	}
	a := h.mustAccept("u:1", "k3", "a cat")
	h.waitState(a.Job.ID, core.Delivered)
	if creates(p["a"]) != 3 {
		t.Errorf("a down provider got a create (%d)", creates(p["a"]))
	}
	if time.Until(st.DownUntil) <= 0 {
		t.Fatal("the test took longer than the cool-down")
	}
	waitFor(t, "the cool-down to end", func() bool { return h.svc.Providers()[0].State == core.ProviderUp })
	a = h.mustAccept("u:1", "k4", "a cat")
	h.waitState(a.Job.ID, core.Delivered)
	if creates(p["a"]) != 4 {
		t.Errorf("a got %d creates; after its cool-down it is tried again", creates(p["a"]))
	}
	// Back from a cool-down, one failure makes it down again, for longer.
	st2 := h.svc.Providers()[0]
	if st2.State != core.ProviderDown || st2.DownUntil.Sub(st.DownUntil) < cool {
		t.Errorf("after a relapse: %+v (first cool-down ended %v)", st2, st.DownUntil)
	}
}

func TestDownProviderStillTakesJobsWhenItIsTheOnlyRoute(t *testing.T) {
	h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		p["a"].submitErr = func(int) error {
			return core.Refused(core.MsgProviderBusy.Err(core.EUNAVAILABLE, nil))
		}
	}, "a")
	h.start()
	for i := range 4 {
		a := h.mustAccept("u:1", "k"+string(rune('0'+i)), "a cat")
		h.waitState(a.Job.ID, core.Failed)
	}
	if creates(p["a"]) != 4 || h.svc.Providers()[0].State != core.ProviderDown {
		t.Errorf("%d creates, %+v", creates(p["a"]), h.svc.Providers()[0])
	}
	if h.balance("u:1") != 1000 {
		t.Errorf("balance %d", h.balance("u:1"))
	}
}

func TestCrossProtocolRoute(t *testing.T) {
	cat := core.DefaultCatalog()
	m, _ := cat.Model("sora-2-text-to-video")
	m.Routes = []core.Route{{Provider: "a"}, {Provider: "gw", Model: "sora-2"}}
	var gw *fakeProvider
	h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		h.catalog = cat
		p["a"].submitErr = func(int) error { return core.Temporary(testErrorf(core.EUNAVAILABLE, "busy")) }
		gw = &fakeProvider{duration: 30 * time.Millisecond, videoURL: h.videos.URL}
		h.cfg.Providers = append(h.cfg.Providers, core.ProviderConfig{Name: "gw", Protocol: core.ProtocolVideoCreate, Client: gw})
	}, "a")
	h.start()
	a, err := h.svc.Accept(context.Background(), core.Submission{UserID: "u:1", Key: "k1", Origin: core.Origin{Platform: "test"},
		Request: core.Request{Model: "sora-2-text-to-video", Prompt: "a cat", Duration: 15}})
	if err != nil {
		t.Fatal(err)
	}
	j := h.waitState(a.Job.ID, core.Delivered)
	if j.Provider != "gw" || j.WireModel != "sora-2" || creates(p["a"]) != 1 {
		t.Fatalf("made at %q as %q (a creates %d)", j.Provider, j.WireModel, creates(p["a"]))
	}
	gw.mu.Lock()
	task := gw.tasks["task-0"]
	gw.mu.Unlock()
	if task.model != "sora-2" || task.req.Duration != 15 || task.req.Quality != "small" || task.req.Model != "sora-2" {
		t.Errorf("the gateway got model %q, %d s, quality %q", task.model, task.req.Duration, task.req.Quality)
	}
	h.paidOnce("u:1", a)
}

func TestStartFailsOnARouteThatCannotWork(t *testing.T) {
	for _, tc := range []struct {
		route core.Route
		want  string
	}{
		{core.Route{Provider: "nobody"}, `model "sora-2-pro-text-to-video" route 1 (provider "nobody")`},
		{core.Route{Provider: "gw"}, `route 1 (provider "gw"): the provider speaks videocreate`},
		{core.Route{Provider: "gw", Model: "sora-2"}, `quality "high" has no equivalent`},
		{core.Route{Provider: "gw", Model: "sora-2-pro"}, "cannot make 10 s videos"},
	} {
		cat := core.DefaultCatalog()
		m, _ := cat.Model("sora-2-pro-text-to-video")
		m.Routes = []core.Route{tc.route}
		h, _ := newPool(t, func(h *harness, p map[string]*fakeProvider) {
			h.catalog = cat
			h.cfg.Providers = append(h.cfg.Providers, core.ProviderConfig{Name: "gw", Protocol: core.ProtocolVideoCreate, Client: &fakeProvider{}})
		}, "a")
		err := h.svc.Start(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: Start = %v, want %q", tc.route, err, tc.want)
		}
	}
}

func TestOfferedModelsFollowTheProviders(t *testing.T) {
	h, _ := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		h.cfg.Providers = append(h.cfg.Providers, core.ProviderConfig{Name: "gw", Protocol: core.ProtocolVideoCreate, Client: &fakeProvider{}})
	}, "a")
	if h.svc.Protocol() != "" {
		t.Errorf("Protocol() = %q with providers of both protocols", h.svc.Protocol())
	}
	var ids []string
	for _, m := range h.svc.Catalog().Enabled(h.svc.Protocol()) {
		ids = append(ids, m.ID)
	}
	if !slices.Contains(ids, "sora-2") || !slices.Contains(ids, "sora-2-text-to-video") {
		t.Errorf("offered %v", ids)
	}
	if _, err := h.svc.Quote(&core.Request{Model: "sora-2", Prompt: "a cat"}); err != nil {
		t.Errorf("Quote sora-2: %v", err)
	}

	only, _ := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		h.cfg.Providers = append(h.cfg.Providers, core.ProviderConfig{Name: "gw", Protocol: core.ProtocolVideoCreate, Client: &fakeProvider{}, Disabled: true})
	}, "a")
	if only.svc.Protocol() != core.ProtocolSoraPro {
		t.Errorf("Protocol() = %q with the gateway disabled", only.svc.Protocol())
	}
	if _, err := only.svc.Quote(&core.Request{Model: "sora-2", Prompt: "a cat"}); core.ErrorCode(err) != core.EUNAVAILABLE {
		t.Errorf("Quote of a model only a disabled provider serves: %v", err)
	}
}

// storeSubmitted stores a job already at a provider (as a crash leaves it).
func (h *harness) storeSubmitted(user, provider, task string) *core.Job {
	h.t.Helper()
	ctx := context.Background()
	j := &core.Job{UserID: user, Origin: core.Origin{Platform: "test"},
		Req: core.Request{Model: "sora-2-text-to-video", Prompt: "a cat", Orientation: "landscape", Duration: 10}, Price: 100}
	if _, err := h.db.Accept(ctx, j, 0); err != nil {
		h.t.Fatal(err)
	}
	nj, _, err := h.db.Transition(ctx, j.ID, []core.State{core.Queued}, func(j *core.Job) {
		j.State, j.TaskID, j.SubmittedAt = core.Submitted, task, time.Now().UTC()
		if provider != "" {
			j.Provider, j.WireModel = provider, "sora-2-text-to-video"
		}
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return nj
}

// addTask makes the fake know a task created before the service started.
func (p *fakeProvider) addTask(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tasks == nil {
		p.tasks = map[string]*fakeTask{}
	}
	p.tasks[id] = &fakeTask{id: id, model: "sora-2-text-to-video", created: time.Now()}
}

func (p *fakeProvider) polledTask(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.tasks[id]; t != nil {
		return t.polls
	}
	return 0
}

func TestRecoveryPollsEachJobAtItsProvider(t *testing.T) {
	logs := &logBuf{}
	h, p := newPool(t, func(h *harness, p map[string]*fakeProvider) {
		h.cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}, "a", "b")
	p["a"].addTask("ta")
	p["b"].addTask("tb")
	ja := h.storeSubmitted("u:1", "a", "ta")
	jb := h.storeSubmitted("u:1", "b", "tb")
	gone := h.storeSubmitted("u:2", "old-reseller", "tg")
	h.start()
	h.waitState(ja.ID, core.Delivered)
	h.waitState(jb.ID, core.Delivered)
	g := h.waitState(gone.ID, core.Failed)
	if p["a"].polledTask("ta") == 0 || p["b"].polledTask("tb") == 0 || creates(p["a"])+creates(p["b"]) != 0 {
		t.Errorf("polls ta=%d tb=%d, creates %d", p["a"].polledTask("ta"), p["b"].polledTask("tb"), creates(p["a"])+creates(p["b"]))
	}
	if !g.Refunded || h.refunds("u:2", gone.ID) != 1 {
		t.Errorf("the job of a provider that left: refunded %v", g.Refunded)
	}
	if l := logs.String(); !strings.Contains(l, "no longer configured") || !strings.Contains(l, "old-reseller") {
		t.Errorf("the log does not say why:\n%s", l)
	}
	h.verify()
}

func TestRecoveryMigratesJobsFromBeforeSeveralProviders(t *testing.T) {
	h, p := newPool(t, nil, "sorapro")
	p["sorapro"].addTask("t1")
	j := h.storeSubmitted("u:1", "", "t1")
	h.start()
	d := h.waitState(j.ID, core.Delivered)
	if d.Provider != "sorapro" || d.WireModel != "sora-2-text-to-video" || p["sorapro"].polledTask("t1") == 0 {
		t.Errorf("migrated to %q as %q; polls %d", d.Provider, d.WireModel, p["sorapro"].polledTask("t1"))
	}
}
