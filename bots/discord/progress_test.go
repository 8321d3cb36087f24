package discord

import (
	"fmt"
	"testing"
	"time"

	"sorabot/core"
)

// Progress edits share one rate-limit bucket: the editor must take jobs in
// turn, show each job's newest text only, and respect the per-job interval.
func TestEditorRoundRobin(t *testing.T) {
	b := &Bot{}
	e := newEditor(b)
	now := time.Now()
	job := func(id string) *core.Job {
		return &core.Job{ID: id, Origin: core.Origin{ChatID: "c", Extra: map[string]string{
			"app": "a", "token": "t" + id, "at": fmt.Sprint(now.Unix())}}}
	}
	for round := range 3 {
		for _, id := range []string{"1", "2", "3"} {
			e.set(job(id), fmt.Sprintf("job %s step %d", id, round))
		}
	}
	for _, id := range []string{"1", "2", "3"} {
		e.track(job(id)).last = now.Add(-time.Minute)
	}
	var got []string
	for range 3 {
		ed, text, _ := e.next(now, 5*time.Second)
		if ed == nil {
			t.Fatal("no edit due")
		}
		got = append(got, text)
	}
	want := []string{"job 1 step 2", "job 2 step 2", "job 3 step 2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("edits %q, want %q", got, want)
	}
	// Nothing new: nothing to do. A new text within the interval waits.
	if ed, _, _ := e.next(now, 5*time.Second); ed != nil {
		t.Fatal("an edit without new text")
	}
	e.set(job("2"), "job 2 step 3")
	if ed, _, wait := e.next(now.Add(time.Second), 5*time.Second); ed != nil || wait <= 0 || wait > 4*time.Second {
		t.Fatalf("edit inside the interval: %v wait %v", ed, wait)
	}
	if ed, text, _ := e.next(now.Add(6*time.Second), 5*time.Second); ed == nil || text != "job 2 step 3" {
		t.Fatalf("due edit: %v %q", ed, text)
	}
	// Past the token, progress is not shown.
	old := job("9")
	old.Origin.Extra["at"] = fmt.Sprint(now.Add(-20 * time.Minute).Unix())
	e.set(old, "too late")
	if ed, _, _ := e.next(now.Add(time.Minute), 5*time.Second); ed != nil {
		t.Fatal("edited past the token")
	}
}

// Once a job's outcome is being shown, no progress is edited over it, and
// a late accepted text is refused; the outcome itself may be retried.
func TestEditorHoldAndFinish(t *testing.T) {
	e := newEditor(&Bot{})
	now := time.Now()
	j := &core.Job{ID: "1", Origin: core.Origin{ChatID: "c", Extra: map[string]string{"app": "a", "token": "t", "at": fmt.Sprint(now.Unix())}}}
	release, ok := e.hold(j, false)
	if !ok {
		t.Fatal("accepted text refused")
	}
	if e.track(j).busy.TryLock() {
		t.Fatal("progress could edit while the accepted text is shown")
	}
	release()
	e.set(j, "step 1")
	e.finish(j)
	e.set(j, "step 2")
	if ed, text, _ := e.next(now.Add(time.Minute), 5*time.Second); ed != nil {
		t.Fatalf("progress %q after the outcome", text)
	}
	if _, ok := e.hold(j, false); ok {
		t.Fatal("accepted text allowed over the outcome")
	}
	for range 2 {
		release, ok := e.hold(j, true)
		if !ok {
			t.Fatal("outcome refused")
		}
		release()
	}
}
