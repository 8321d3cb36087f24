package core_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
		return core.TaskStatus{}, testErrorf(core.ENOTFOUND, "no task %s", id)
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
	// store, when set, is what the service uses in place of db (db stays
	// the real bbolt store underneath, and what the test reads).
	store func(db *storage.DB) core.Store
	// real, when set, is the provider the service uses instead of provider.
	real core.Provider
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
	var st core.Store = db
	if h.store != nil {
		st = h.store(db)
	}
	var p core.Provider = h.provider
	if h.real != nil {
		p = h.real
	}
	h.svc = core.NewService(h.cfg, st, p, cat)
	h.svc.SetFrontend("test", h.front)
	h.t.Cleanup(h.close)
}

func (h *harness) start() {
	h.t.Helper()
	if err := h.svc.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// stop stops the service, waiting for everything it runs; the database
// stays open for the test to read.
func (h *harness) stop() {
	if h.svc != nil {
		h.svc.Stop()
		h.svc = nil
	}
}

func (h *harness) close() {
	h.stop()
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

// count returns how many events of type want the frontend saw for a job.
func (h *harness) count(id string, want core.EventType) int {
	n := 0
	for _, t := range h.front.eventTypes(id) {
		if t == want {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
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

// flakyStore is the real store with failures injected into chosen calls:
// the data stays in bbolt, only the answer of a scripted call is an error.
type flakyStore struct {
	core.Store
	mu     sync.Mutex
	faults map[string]*storeFault
	calls  map[string]int
}

// storeFault scripts the next n calls of one op (n < 0: every call).
type storeFault struct {
	n int
	// landed: the call reaches bbolt and is committed, but reports an error
	// (as a commit whose outcome the caller cannot know).
	landed bool
}

// errDisk is the injected failure, an internal error like a failed fsync.
var errDisk = errors.New("injected: input/output error")

func newFlakyStore(s core.Store) *flakyStore {
	return &flakyStore{Store: s, faults: map[string]*storeFault{}, calls: map[string]int{}}
}

// failN makes the next n calls of op fail (n < 0: all of them). An op
// names the call and the states it moves from: "transition queued",
// "finish submitting>failed", "job", "images".
func (f *flakyStore) failN(op string, n int, landed bool) *flakyStore {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = &storeFault{n: n, landed: landed}
	return f
}

// count is how many calls of op were made.
func (f *flakyStore) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// fault records a call of op and reports whether it fails, and whether it
// fails after reaching the store.
func (f *flakyStore) fault(op string) (fail, landed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	ft := f.faults[op]
	if ft == nil || ft.n == 0 {
		return false, false
	}
	if ft.n > 0 {
		ft.n--
	}
	return true, ft.landed
}

func statesOp(call string, from []core.State) string {
	s := make([]string, len(from))
	for i, st := range from {
		s[i] = string(st)
	}
	return call + " " + strings.Join(s, ",")
}

func (f *flakyStore) Transition(ctx context.Context, id string, from []core.State, fn func(*core.Job)) (*core.Job, bool, error) {
	fail, landed := f.fault(statesOp("transition", from))
	if fail && !landed {
		return nil, false, fmt.Errorf("transition job %s: %w", id, errDisk)
	}
	j, ok, err := f.Store.Transition(ctx, id, from, fn)
	if fail {
		return nil, false, fmt.Errorf("transition job %s: %w", id, errDisk)
	}
	return j, ok, err
}

func (f *flakyStore) Finish(ctx context.Context, id string, from []core.State, to core.State, reason *core.Error, via string) (*core.Job, bool, error) {
	fail, landed := f.fault(statesOp("finish", from) + ">" + string(to))
	if fail && !landed {
		return nil, false, fmt.Errorf("finish job %s: %w", id, errDisk)
	}
	j, ok, err := f.Store.Finish(ctx, id, from, to, reason, via)
	if fail {
		return nil, false, fmt.Errorf("finish job %s: %w", id, errDisk)
	}
	return j, ok, err
}

func (f *flakyStore) Job(ctx context.Context, id string) (*core.Job, error) {
	if fail, _ := f.fault("job"); fail {
		return nil, fmt.Errorf("job %s: %w", id, errDisk)
	}
	return f.Store.Job(ctx, id)
}

func (f *flakyStore) Images(ctx context.Context, id string) ([][]byte, error) {
	if fail, _ := f.fault("images"); fail {
		return nil, fmt.Errorf("images of job %s: %w", id, errDisk)
	}
	return f.Store.Images(ctx, id)
}

// testErrorf is a user-facing error whose message is no catalog message.
func testErrorf(code, format string, args ...any) *core.Error {
	return &core.Error{Code: code, ID: "test.error", Message: fmt.Sprintf(format, args...)}
}
