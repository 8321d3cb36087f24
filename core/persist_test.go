package core_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"sorabot/core"
	"sorabot/storage"
)

// withFlakyStore puts a flakyStore between the service and bbolt; script
// sets up its faults. The returned pointer follows the harness's restarts.
func withFlakyStore(script func(f *flakyStore)) (**flakyStore, func(h *harness)) {
	var cur *flakyStore
	return &cur, func(h *harness) {
		h.store = func(db *storage.DB) core.Store {
			cur = newFlakyStore(db)
			if script != nil {
				script(cur)
			}
			return cur
		}
	}
}

// A store call on the way from message to delivered video that fails (or
// commits but reports failure) is retried: the job is delivered once and
// charged once, without waiting for a restart.
func TestStoreFailuresOnTheWayAreRetried(t *testing.T) {
	for _, tc := range []struct {
		op     string
		n      int
		landed bool
	}{
		{"transition queued", 3, false},
		{"transition queued", 1, true},
		{"images", 2, false},
		{"transition submitting", 2, false},
		{"transition submitting", 1, true},
		{"transition submitted", 3, false},
		{"transition submitted", 1, true},
		{"transition succeeded", 3, false},
		{"finish succeeded>delivered", 3, false},
		{"finish succeeded>delivered", 1, true},
	} {
		name := tc.op
		if tc.landed {
			name += " landed"
		}
		t.Run(name, func(t *testing.T) {
			fs, mod := withFlakyStore(func(f *flakyStore) { f.failN(tc.op, tc.n, tc.landed) })
			h := newHarness(t, mod)
			h.start()
			a := h.mustAccept("test:st", "k", "a sturdy cat")
			h.waitState(a.Job.ID, core.Delivered)
			h.waitEvent(a.Job.ID, core.EventDelivered)
			if got := (*fs).count(tc.op); got != tc.n+1 {
				t.Errorf("%d calls of %s, want %d failed and one more", got, tc.op, tc.n)
			}
			if c, _ := h.provider.counts(); c != 1 {
				t.Errorf("%d creates, want 1", c)
			}
			if d := h.front.deliveries(); len(d) != 1 {
				t.Errorf("%d deliveries, want 1", len(d))
			}
			if n := h.count(a.Job.ID, core.EventDelivered); n != 1 {
				t.Errorf("%d delivered events, want 1", n)
			}
			if got := h.balance("test:st"); got != 900 {
				t.Errorf("balance %d, want 900", got)
			}
			if h.svc.Inflight() != 0 {
				t.Errorf("%d provider slots held after delivery", h.svc.Inflight())
			}
			h.verify()
		})
	}
}

// When the task id cannot be stored after a create, the job is failed and
// refunded (never submitted again) even though that write fails at first
// too, and both the provider slot and the user's slot are released.
func TestTaskIDNotStoredFailsAndRefunds(t *testing.T) {
	fs, mod := withFlakyStore(func(f *flakyStore) {
		f.failN("transition submitting", -1, false)
		f.failN("finish submitting>failed", 3, false)
	})
	h := newHarness(t, func(h *harness) {
		mod(h)
		h.cfg.MaxInflight = 1
		h.cfg.UserMaxActive = 1
	})
	h.start()
	a := h.mustAccept("test:tid", "k1", "lost id")
	j := h.waitState(a.Job.ID, core.Failed)
	h.waitEvent(a.Job.ID, core.EventFailed)
	if !j.Refunded || j.ErrCode != core.EINTERNAL {
		t.Fatalf("job after the lost task id: %+v", j)
	}
	if n := h.refunds("test:tid", j.ID); n != 1 {
		t.Fatalf("%d refunds", n)
	}
	if got := (*fs).count("finish submitting>failed"); got != 4 {
		t.Fatalf("%d tries to fail the job, want 3 failed and one more", got)
	}
	waitFor(t, "the provider slot", func() bool { return h.svc.Inflight() == 0 })
	if acc, err := h.db.Account(t.Context(), "test:tid"); err != nil || acc.Active != 0 || acc.Balance != 1000 {
		t.Fatalf("account after the refund: %+v %v", acc, err)
	}

	// Both slots are free: the same user's next job goes through.
	(*fs).failN("transition submitting", 0, false)
	b := h.mustAccept("test:tid", "k2", "found id")
	h.waitState(b.Job.ID, core.Delivered)
	if c, _ := h.provider.counts(); c != 2 {
		t.Fatalf("%d creates, want 2 (one per job)", c)
	}
	h.verify()
}

// A failure whose refund write fails at first is still refunded once and
// the user told.
func TestFailRefundIsRetried(t *testing.T) {
	fs, mod := withFlakyStore(func(f *flakyStore) { f.failN("finish submitted>failed", 3, false) })
	h := newHarness(t, func(h *harness) {
		mod(h)
		h.provider.failWith = core.Errorf(core.EINVALID, "The prompt was rejected.")
	})
	h.start()
	a := h.mustAccept("test:fr", "k", "rejected")
	j := h.waitState(a.Job.ID, core.Failed)
	h.waitEvent(a.Job.ID, core.EventFailed)
	if !j.Refunded || j.ErrCode != core.EINVALID || h.refunds("test:fr", j.ID) != 1 || h.balance("test:fr") != 1000 {
		t.Fatalf("job %+v, %d refunds, balance %d", j, h.refunds("test:fr", j.ID), h.balance("test:fr"))
	}
	if got := (*fs).count("finish submitted>failed"); got != 4 {
		t.Fatalf("%d tries, want 4", got)
	}
	h.verify()
}

// A store that keeps failing does not hold up Stop, and the next start
// finishes the job: delivered once, created once.
func TestStopWhileStoreFails(t *testing.T) {
	fs, mod := withFlakyStore(func(f *flakyStore) { f.failN("transition submitted", -1, false) })
	h := newHarness(t, mod)
	h.start()
	a := h.mustAccept("test:sw", "k", "stubborn")
	waitFor(t, "retries of the failing write", func() bool { return (*fs).count("transition submitted") >= 3 })
	stopped := make(chan struct{})
	go func() { h.close(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Stop hangs while a store write is being retried")
	}
	if j, err := storageJob(h, a.Job.ID); err != nil || j.State != core.Submitted {
		t.Fatalf("job after stop: %+v %v", j, err)
	}

	h.store = nil
	h.open()
	h.start()
	h.waitState(a.Job.ID, core.Delivered)
	if c, _ := h.provider.counts(); c != 1 {
		t.Fatalf("%d creates, want 1", c)
	}
	if d := h.front.deliveries(); len(d) != 1 {
		t.Fatalf("%d deliveries, want 1", len(d))
	}
	h.verify()
}

// storageJob reads a job from the closed harness's database file.
func storageJob(h *harness, id string) (*core.Job, error) {
	db, err := storage.Open(h.dbPath, storage.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Job(h.t.Context(), id)
}

// An old video whose job cannot be read is kept: only "no such job" or a
// finished job lets the sweep remove it.
func TestOldVideoKeptWhenItsJobCannotBeRead(t *testing.T) {
	_, mod := withFlakyStore(func(f *flakyStore) { f.failN("job", -1, false) })
	h := newHarness(t, func(h *harness) {
		mod(h)
		h.cfg.VideoRetention = time.Hour
	})
	old := time.Now().Add(-48 * time.Hour)
	if err := os.MkdirAll(h.cfg.VideoDir, 0o750); err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(h.cfg.VideoDir, "7.mp4")
	// Removed in the same sweep, after the video (files are swept in name
	// order): once it is gone, the sweep has decided about the video.
	marker := filepath.Join(h.cfg.VideoDir, "9.1.part")
	for _, f := range []string{video, marker} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(f, old, old)
	}
	h.start()
	waitFor(t, "the sweep", func() bool { _, err := os.Stat(marker); return os.IsNotExist(err) })
	if _, err := os.Stat(video); err != nil {
		t.Fatalf("the video of a job that could not be read was removed: %v", err)
	}
}

// A job caught while submitting whose refund cannot be written at a start
// does not hold up the start; the refund is retried until it lands.
func TestRecoveryRefundIsRetried(t *testing.T) {
	fs, mod := withFlakyStore(func(f *flakyStore) { f.failN("finish submitting>failed", -1, false) })
	h := newHarness(t, mod)
	ctx := t.Context()
	j := &core.Job{UserID: "test:rr", Key: "seed", Origin: core.Origin{Platform: "test"},
		Req: core.Request{Model: "sora-2-text-to-video", Prompt: "caught", Orientation: core.Landscape, Duration: 10}, Price: 100}
	if _, err := h.db.Accept(ctx, j, 0); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := h.db.Transition(ctx, j.ID, []core.State{core.Queued}, func(j *core.Job) { j.State = core.Submitting }); err != nil || !ok {
		t.Fatalf("seed: %v", err)
	}
	started := make(chan error, 1)
	go func() { started <- h.svc.Start(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start waits for a refund the store does not take")
	}
	waitFor(t, "retries of the refund", func() bool { return (*fs).count("finish submitting>failed") >= 3 })
	(*fs).failN("finish submitting>failed", 0, false)
	h.waitEvent(j.ID, core.EventFailed)
	if got, _ := h.db.Job(ctx, j.ID); !got.Refunded || h.refunds("test:rr", j.ID) != 1 || h.balance("test:rr") != 1000 {
		t.Fatalf("job %+v, %d refunds, balance %d", got, h.refunds("test:rr", j.ID), h.balance("test:rr"))
	}
	if c, _ := h.provider.counts(); c != 0 {
		t.Fatalf("%d creates for a job caught while submitting", c)
	}
	h.verify()
}
