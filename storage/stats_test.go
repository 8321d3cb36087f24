package storage

import (
	"context"
	"fmt"
	"testing"

	"sorabot/core"
)

func TestStats(t *testing.T) {
	db := openTest(t, 1000)
	ctx := context.Background()
	var jobs []*core.Job
	for i := range 5 {
		j := newJob(fmt.Sprintf("u%d", i%2), 100, "")
		mustAccept(t, db, j, 0)
		jobs = append(jobs, j)
	}
	db.Transition(ctx, jobs[0].ID, core.ActiveStates, func(j *core.Job) { j.State = core.Submitted })
	db.Finish(ctx, jobs[1].ID, core.ActiveStates, core.Delivered, nil, "")
	db.Finish(ctx, jobs[2].ID, core.ActiveStates, core.Failed, nil, "")
	db.Finish(ctx, jobs[3].ID, core.ActiveStates, core.Canceled, nil, "")
	if _, err := db.AdjustCredits(ctx, "u0", 50, false, "admin"); err != nil {
		t.Fatal(err)
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[core.State]int{core.Queued: 1, core.Submitting: 0, core.Submitted: 1, core.Succeeded: 0,
		core.Delivered: 1, core.Failed: 1, core.Canceled: 1}
	for s, n := range want {
		if st.Jobs[s] != n {
			t.Errorf("jobs %s = %d, want %d", s, st.Jobs[s], n)
		}
	}
	if st.Users != 2 || st.Charged != 500 || st.Refunded != 200 || st.Credits != 2000-500+200+50 {
		t.Errorf("stats %+v", st)
	}
}
