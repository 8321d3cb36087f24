package core_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"sorabot/core"
	"sorabot/storage"
)

// fakeProvider is an in-memory core.Provider whose tasks finish after
// duration, reporting linear progress; every behaviour can be scripted.
type fakeProvider struct {
	mu       sync.Mutex
	tasks    map[string]*fakeTask
	creates  int
	statuses int
	videoURL string

	duration time.Duration
	// submitErr, when set, decides the error of the n-th create (0-based).
	submitErr func(n int) error
	// statusErr, when set, decides the error of a task's n-th status call.
	statusErr func(task string, n int) error
	// failWith, when set, makes every task fail with that reason when done.
	failWith *core.Error
	// block, when set, holds creates until closed.
	block chan struct{}
	// never: tasks never finish.
	never bool
}

type fakeTask struct {
	id      string
	model   string
	req     core.Request
	created time.Time
	polls   int
}

func (p *fakeProvider) Submit(ctx context.Context, m *core.Model, r *core.Request) (string, error) {
	if p.block != nil {
		select {
		case <-p.block:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.creates
	p.creates++
	if p.submitErr != nil {
		if err := p.submitErr(n); err != nil {
			return "", err
		}
	}
	if p.tasks == nil {
		p.tasks = map[string]*fakeTask{}
	}
	id := fmt.Sprintf("task-%d", n)
	p.tasks[id] = &fakeTask{id: id, model: m.ID, req: *r, created: time.Now()}
	return id, nil
}

func (p *fakeProvider) Status(ctx context.Context, m *core.Model, id string) (core.TaskStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.statuses++
	t := p.tasks[id]
	if t == nil {
		return core.TaskStatus{}, core.Errorf(core.ENOTFOUND, "no task %s", id)
	}
	n := t.polls
	t.polls++
	if p.statusErr != nil {
		if err := p.statusErr(id, n); err != nil {
			return core.TaskStatus{}, err
		}
	}
	el := time.Since(t.created)
	if p.never || el < p.duration {
		pr := 0.0
		if p.duration > 0 {
			pr = float64(el) / float64(p.duration) * 100
		}
		return core.TaskStatus{State: core.TaskRunning, Progress: pr}, nil
	}
	if p.failWith != nil {
		return core.TaskStatus{State: core.TaskFailed, Progress: -1, Err: p.failWith}, nil
	}
	return core.TaskStatus{State: core.TaskDone, Progress: 100, VideoURL: p.videoURL + "/" + id + ".mp4"}, nil
}

func (p *fakeProvider) counts() (creates, statuses int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.creates, p.statuses
}

// fakeFrontend records events and deliveries.
type fakeFrontend struct {
	mu        sync.Mutex
	events    []core.Event
	delivered []fakeDelivery
	maxUpload int64
	// deliverErr, when set, decides the error of the n-th Deliver call.
	deliverErr func(n int, v core.Video) error
	calls      int
	changed    chan struct{}
}

type fakeDelivery struct {
	job   *core.Job
	video core.Video
	data  []byte
}

func newFakeFrontend() *fakeFrontend {
	return &fakeFrontend{maxUpload: 50 << 20, changed: make(chan struct{}, 1)}
}

func (f *fakeFrontend) Notify(ctx context.Context, ev core.Event) {
	f.mu.Lock()
	f.events = append(f.events, ev)
	f.mu.Unlock()
	f.signal()
}

func (f *fakeFrontend) signal() {
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *fakeFrontend) MaxUpload(*core.Job) int64 { return f.maxUpload }

func (f *fakeFrontend) Deliver(ctx context.Context, j *core.Job, v core.Video) (string, error) {
	f.mu.Lock()
	n := f.calls
	f.calls++
	hook := f.deliverErr
	f.mu.Unlock()
	if hook != nil {
		if err := hook(n, v); err != nil {
			return "", err
		}
	}
	d := fakeDelivery{job: j, video: v}
	via := "link"
	if v.Path != "" {
		b, err := os.ReadFile(v.Path)
		if err != nil {
			return "", err
		}
		d.data, via = b, "upload"
	}
	f.mu.Lock()
	f.delivered = append(f.delivered, d)
	f.mu.Unlock()
	f.signal()
	return via, nil
}

func (f *fakeFrontend) deliveries() []fakeDelivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeDelivery(nil), f.delivered...)
}

func (f *fakeFrontend) eventTypes(jobID string) []core.EventType {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []core.EventType
	for _, e := range f.events {
		if e.Job.ID == jobID {
			out = append(out, e.Type)
		}
	}
	return out
}

// videoBytes is what the fake result server serves for every video.
var videoBytes = []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isomfake-video-bytes")

// harness is a service over a real bbolt file, the fake provider, a fake
// frontend for platform "test", and an HTTP server for result downloads.
type harness struct {
	t        *testing.T
	db       *storage.DB
	dbPath   string
	provider *fakeProvider
	front    *fakeFrontend
	svc      *core.Service
	cfg      core.Config
	videos   *httptest.Server
	missing  bool          // the video server answers 404
	catalog  *core.Catalog // nil: the default catalog
}

func fastConfig(dir string) core.Config {
	return core.Config{
		Protocol:      core.ProtocolSoraPro,
		UserRate:      1e6,
		UserBurst:     1000,
		UserMaxActive: -1,
		ProviderRate:  1e6,
		Poll:          core.PollConfig{First: 5 * time.Millisecond, KeepAlive: 30 * time.Millisecond, MinGap: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		RetryBase:     time.Millisecond,
		VideoDir:      filepath.Join(dir, "videos"),
	}
}

func newHarness(t *testing.T, mod func(h *harness)) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{t: t, dbPath: filepath.Join(dir, "test.db"), provider: &fakeProvider{duration: 30 * time.Millisecond},
		front: newFakeFrontend(), cfg: fastConfig(dir)}
	h.videos = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.missing {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		w.Write(videoBytes)
	}))
	t.Cleanup(h.videos.Close)
	h.provider.videoURL = h.videos.URL
	if mod != nil {
		mod(h)
	}
	h.open()
	return h
}

func (h *harness) open() {
	h.t.Helper()
	db, err := storage.Open(h.dbPath, storage.Options{StartCredits: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	h.db = db
	cat := h.catalog
	if cat == nil {
		cat = core.DefaultCatalog()
	}
	h.svc = core.NewService(h.cfg, db, h.provider, cat)
	h.svc.SetFrontend("test", h.front)
	h.t.Cleanup(h.close)
}

func (h *harness) start() {
	h.t.Helper()
	if err := h.svc.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) close() {
	if h.svc != nil {
		h.svc.Stop()
		h.svc = nil
	}
	if h.db != nil {
		h.db.Close()
		h.db = nil
	}
}

func (h *harness) accept(user, key, prompt string) (core.Accepted, error) {
	return h.svc.Accept(context.Background(), core.Submission{UserID: user, Key: key,
		Origin: core.Origin{Platform: "test", ChatID: "c1"}, Request: core.Request{Prompt: prompt}})
}

func (h *harness) mustAccept(user, key, prompt string) core.Accepted {
	h.t.Helper()
	a, err := h.accept(user, key, prompt)
	if err != nil {
		h.t.Fatalf("accept: %v", err)
	}
	return a
}

// waitState waits until the job reaches state, failing after 10 s.
func (h *harness) waitState(id string, want core.State) *core.Job {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		j, err := h.db.Job(context.Background(), id)
		if err != nil {
			h.t.Fatal(err)
		}
		if j.State == want {
			return j
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("job %s is %s, want %s (err %q)", id, j.State, want, j.Err)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitEvent waits until the frontend saw an event of that type for the job.
func (h *harness) waitEvent(id string, want core.EventType) {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(h.front.eventTypes(id), want) {
		if time.Now().After(deadline) {
			h.t.Fatalf("job %s: events %v, no %s", id, h.front.eventTypes(id), want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (h *harness) balance(user string) int {
	h.t.Helper()
	a, err := h.db.Account(context.Background(), user)
	if err != nil {
		h.t.Fatal(err)
	}
	return a.Balance
}

func (h *harness) verify() {
	h.t.Helper()
	if err := h.db.Verify(context.Background()); err != nil {
		h.t.Fatalf("ledger verify: %v", err)
	}
}

// refunds counts the refund entries of a user's ledger for a job.
func (h *harness) refunds(user, jobID string) int {
	h.t.Helper()
	l, err := h.db.Ledger(context.Background(), user, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for _, e := range l {
		if e.Kind == core.LedgerRefund && e.JobID == jobID {
			n++
		}
	}
	return n
}
