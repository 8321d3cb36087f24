package core_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"sorabot/core"
)

// TestRecoverFromEveryCrashState leaves one job in each state a crash can
// leave, restarts the service on the same database, and checks that each
// ends delivered once or refunded once, with no second create.
func TestRecoverFromEveryCrashState(t *testing.T) {
	h := newHarness(t, nil)
	ctx := context.Background()
	seed := func(user, prompt string, to core.State, fn func(*core.Job)) string {
		t.Helper()
		j := &core.Job{UserID: user, Key: "seed-" + user, Origin: core.Origin{Platform: "test"},
			Req: core.Request{Model: "sora-2-text-to-video", Prompt: prompt, Orientation: core.Landscape, Duration: 10}, Price: 100}
		if _, err := h.db.Accept(ctx, j, 0); err != nil {
			t.Fatal(err)
		}
		if to != core.Queued {
			if _, ok, err := h.db.Transition(ctx, j.ID, []core.State{core.Queued}, func(j *core.Job) {
				j.State = to
				if fn != nil {
					fn(j)
				}
			}); err != nil || !ok {
				t.Fatalf("seed %s: %v", to, err)
			}
		}
		return j.ID
	}
	queued := seed("test:q", "queued", core.Queued, nil)
	submitting := seed("test:s", "submitting", core.Submitting, nil)
	// A task the provider already has, as if the bot died while polling.
	m, _ := core.DefaultCatalog().Model("sora-2-text-to-video")
	task, err := h.provider.Submit(ctx, m, &core.Request{Prompt: "submitted"})
	if err != nil {
		t.Fatal(err)
	}
	submitted := seed("test:p", "submitted", core.Submitted, func(j *core.Job) {
		j.TaskID, j.SubmittedAt = task, time.Now().UTC()
	})
	succeeded := seed("test:d", "succeeded", core.Succeeded, func(j *core.Job) {
		j.TaskID, j.VideoURL = "task-old", h.videos.URL+"/old.mp4"
	})
	createsBefore, _ := h.provider.counts()

	h.start()
	for _, id := range []string{queued, submitted, succeeded} {
		h.waitEvent(id, core.EventDelivered)
	}
	h.waitEvent(submitting, core.EventFailed)
	// Every job has ended; stopping waits for whatever the service still
	// runs, so a wrong second delivery or create would be counted below.
	h.stop()
	j, err := h.db.Job(ctx, submitting)
	if err != nil || j.State != core.Failed || !j.Refunded || j.Err == "" {
		t.Fatalf("submitting job after restart: %+v %v", j, err)
	}
	creates, _ := h.provider.counts()
	if creates-createsBefore != 1 {
		t.Fatalf("%d creates after restart; want 1 (the queued job only)", creates-createsBefore)
	}
	for user, want := range map[string]int{"test:q": 900, "test:s": 1000, "test:p": 900, "test:d": 900} {
		if got := h.balance(user); got != want {
			t.Errorf("%s balance %d, want %d", user, got, want)
		}
	}
	if n := h.refunds("test:s", submitting); n != 1 {
		t.Fatalf("%d refunds", n)
	}
	checkDeliveredOnce := func(when string) {
		t.Helper()
		per := map[string]int{}
		for _, d := range h.front.deliveries() {
			per[d.job.ID]++
		}
		want := map[string]int{queued: 1, submitted: 1, succeeded: 1}
		if !maps.Equal(per, want) {
			t.Fatalf("%s: deliveries per job %v, want %v", when, per, want)
		}
		for _, id := range []string{queued, submitted, succeeded} {
			if n := h.count(id, core.EventDelivered); n != 1 {
				t.Fatalf("%s: job %s has %d delivered events", when, id, n)
			}
		}
	}
	checkDeliveredOnce("after recovery")
	h.verify()

	// A second restart finds nothing to do: nothing is active, and once it
	// has stopped again nothing more was created, polled or delivered.
	h.close()
	h.open()
	if jobs, err := h.db.ActiveJobs(ctx); err != nil || len(jobs) != 0 {
		t.Fatalf("active jobs after recovery: %d %v", len(jobs), err)
	}
	creates, statuses := h.provider.counts()
	h.start()
	h.stop()
	if c, s := h.provider.counts(); c != creates || s != statuses {
		t.Fatalf("the second restart made %d creates and %d status calls", c-creates, s-statuses)
	}
	checkDeliveredOnce("after a second restart")
	h.verify()
}

// TestStopResumes stops the service while jobs are queued and polling, and
// a new service on the same database finishes them.
func TestStopResumes(t *testing.T) {
	h := newHarness(t, func(h *harness) {
		h.cfg.MaxInflight = 1
		h.provider.duration = 300 * time.Millisecond
	})
	h.start()
	a := h.mustAccept("test:r1", "r1", "first")
	b := h.mustAccept("test:r2", "r2", "second")
	h.waitState(a.Job.ID, core.Submitted)
	h.close()
	h.open()
	h.start()
	h.waitEvent(a.Job.ID, core.EventDelivered)
	h.waitEvent(b.Job.ID, core.EventDelivered)
	h.stop()
	if c, _ := h.provider.counts(); c != 2 {
		t.Fatalf("%d creates, want 2", c)
	}
	if d := h.front.deliveries(); len(d) != 2 || d[0].job.ID == d[1].job.ID {
		t.Fatalf("%d deliveries, want one per job", len(d))
	}
	h.verify()
}
