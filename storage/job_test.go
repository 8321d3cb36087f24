package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"sorabot/core"
)

func TestAcceptStoresJob(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	j := newJob("telegram:1", 30, "tg:update:10")
	j.Notes = []core.Message{{ID: "core.note_duration", Args: core.Args{"Asked": 20, "Model": "m", "Made": 15}, English: "20 s is not available for m: making 15 s."}}
	j.Lang = "it"
	res := mustAccept(t, db, j, 2)
	if res.Duplicate || res.Job != j || res.Balance != 70 {
		t.Errorf("result %+v", res)
	}
	if j.ID != "1" || j.State != core.Queued || j.CreatedAt.IsZero() {
		t.Errorf("caller's job not filled in: id %q state %q created %v", j.ID, j.State, j.CreatedAt)
	}
	got, err := db.Job(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != j.UserID || got.Key != j.Key || got.Price != 30 || got.State != core.Queued ||
		!got.CreatedAt.Equal(j.CreatedAt) || got.Req.Prompt != j.Req.Prompt || !reflect.DeepEqual(got.Notes, j.Notes) || got.Lang != "it" {
		t.Errorf("stored job %+v, accepted %+v", got, j)
	}
	charges := entries(t, db, "telegram:1", core.LedgerCharge)
	if len(charges) != 1 || charges[0].Amount != -30 || charges[0].JobID != j.ID || charges[0].Balance != 70 {
		t.Errorf("charge entries %+v", charges)
	}
	a, err := db.Account(ctx, "telegram:1")
	if err != nil {
		t.Fatal(err)
	}
	if a.Active != 1 || a.Balance != 70 {
		t.Errorf("account %+v", a)
	}
}

func TestAcceptKeepsCreatedAt(t *testing.T) {
	db := openTest(t, 100)
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	j := newJob("u", 1, "")
	j.CreatedAt = at
	mustAccept(t, db, j, 0)
	got, err := db.Job(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(at) || !j.CreatedAt.Equal(at) {
		t.Errorf("created %v / %v, want %v", got.CreatedAt, j.CreatedAt, at)
	}
}

func TestAcceptRefusals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		start     int
		price     int
		maxActive int
		before    int // jobs accepted first
		code      string
		msg       string
	}{
		{"exact balance", 100, 100, 0, 0, "", ""},
		{"free job with no credits", 0, 0, 0, 0, "", ""},
		{"too expensive", 100, 150, 0, 0, core.ENOCREDITS, "This video costs 150 credits; you have 100 credits."},
		{"no credits left", 100, 50, 0, 2, core.ENOCREDITS, "This video costs 50 credits; you have 0 credits."},
		{"limit reached", 1000, 10, 2, 2, core.ERATELIMITED, "You already have as many videos in progress as allowed (2); wait for one to finish."},
		{"under the limit", 1000, 10, 3, 2, "", ""},
		{"negative price", 100, -1, 0, 0, core.EINVALID, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTest(t, tc.start)
			for range tc.before {
				mustAccept(t, db, newJob("u", tc.price, ""), 0)
			}
			before := balance(t, db, "u")
			j := newJob("u", tc.price, "k")
			res, err := db.Accept(context.Background(), j, tc.maxActive)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if res.Balance != before-tc.price {
					t.Errorf("balance after %d, want %d", res.Balance, before-tc.price)
				}
				return
			}
			wantCode(t, err, tc.code)
			if tc.msg != "" && core.ErrorMessage(err) != tc.msg {
				t.Errorf("message %q, want %q", core.ErrorMessage(err), tc.msg)
			}
			if j.ID != "" {
				t.Errorf("refused job got id %q", j.ID)
			}
			if b := balance(t, db, "u"); b != before {
				t.Errorf("balance %d after refusal, want %d", b, before)
			}
			// The refused key stays free.
			res, err = db.Accept(context.Background(), newJob("u", 0, "k"), 0)
			if err != nil || res.Duplicate {
				t.Errorf("reusing a refused key: %+v, %v", res, err)
			}
		})
	}
}

// Test 1: concurrent accepts for one user never overdraw.
func TestAcceptConcurrentSameUser(t *testing.T) {
	const start, price, callers = 1000, 30, 100
	db := openTest(t, start)
	ctx := context.Background()
	var (
		wg                  sync.WaitGroup
		mu                  sync.Mutex
		accepted, noCredits int
		ids                 = map[string]bool{}
	)
	for i := range callers {
		wg.Go(func() {
			j := newJob("telegram:1", price, fmt.Sprintf("key-%d", i))
			res, err := db.Accept(ctx, j, 0)
			mu.Lock()
			defer mu.Unlock()
			switch core.ErrorCode(err) {
			case "":
				accepted++
				ids[j.ID] = true
				if res.Balance < 0 {
					t.Errorf("negative balance %d", res.Balance)
				}
			case core.ENOCREDITS:
				noCredits++
			default:
				t.Errorf("Accept: %v", err)
			}
		})
	}
	wg.Wait()
	want := start / price
	if accepted != want || noCredits != callers-want {
		t.Errorf("accepted %d, no credits %d; want %d and %d", accepted, noCredits, want, callers-want)
	}
	if len(ids) != accepted {
		t.Errorf("%d distinct ids for %d accepted jobs", len(ids), accepted)
	}
	if b := balance(t, db, "telegram:1"); b != start-want*price {
		t.Errorf("balance %d, want %d", b, start-want*price)
	}
	for _, e := range entries(t, db, "telegram:1", core.LedgerCharge) {
		if e.Balance < 0 {
			t.Errorf("ledger entry %+v is negative", e)
		}
	}
	if err := db.Verify(ctx); err != nil {
		t.Error(err)
	}
}

// Test 2: a key redelivered concurrently charges once.
func TestAcceptIdempotentConcurrent(t *testing.T) {
	const callers = 20
	db := openTest(t, 1000)
	ctx := context.Background()
	results := make([]core.AcceptResult, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			res, err := db.Accept(ctx, newJob("discord:9", 100, "discord:interaction:77"), 0)
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		})
	}
	wg.Wait()
	fresh, dups := 0, 0
	ids := map[string]bool{}
	for _, r := range results {
		if r.Job == nil {
			t.Fatal("result without a job")
		}
		ids[r.Job.ID] = true
		if r.Duplicate {
			dups++
		} else {
			fresh++
		}
	}
	if fresh != 1 || dups != callers-1 || len(ids) != 1 {
		t.Errorf("%d fresh, %d duplicates, ids %v; want 1, %d, one id", fresh, dups, ids, callers-1)
	}
	if c := entries(t, db, "discord:9", core.LedgerCharge); len(c) != 1 {
		t.Errorf("%d charges, want 1", len(c))
	}
	if b := balance(t, db, "discord:9"); b != 900 {
		t.Errorf("balance %d, want 900", b)
	}
	h, err := db.History(ctx, "discord:9", 0)
	if err != nil || len(h) != 1 {
		t.Errorf("history %d jobs (%v), want 1", len(h), err)
	}
}

func TestAcceptDuplicateAfterFinish(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	j := newJob("u", 40, "k1")
	mustAccept(t, db, j, 1)
	if _, ok, err := db.Finish(ctx, j.ID, core.ActiveStates, core.Failed, failure(core.EUNAVAILABLE, "provider down"), ""); !ok || err != nil {
		t.Fatalf("Finish: %v %v", ok, err)
	}
	again := newJob("u", 40, "k1")
	res := mustAccept(t, db, again, 1)
	if !res.Duplicate || res.Job.ID != j.ID || res.Job.State != core.Failed || res.Balance != 100 {
		t.Errorf("redelivered key after failure: %+v", res)
	}
	if again.ID != "" {
		t.Errorf("duplicate filled the caller's job id %q", again.ID)
	}
}

// Test 4: the active-job limit, released by Finish.
func TestAcceptMaxActive(t *testing.T) {
	db := openTest(t, 1000)
	ctx := context.Background()
	a, b := newJob("u", 10, ""), newJob("u", 10, "")
	mustAccept(t, db, a, 2)
	mustAccept(t, db, b, 2)
	_, err := db.Accept(ctx, newJob("u", 10, ""), 2)
	wantCode(t, err, core.ERATELIMITED)
	// Another user is not limited by u's jobs.
	mustAccept(t, db, newJob("v", 10, ""), 2)

	if _, ok, err := db.Finish(ctx, a.ID, core.ActiveStates, core.Delivered, nil, ""); !ok || err != nil {
		t.Fatalf("Finish: %v %v", ok, err)
	}
	mustAccept(t, db, newJob("u", 10, ""), 2)
	_, err = db.Accept(ctx, newJob("u", 10, ""), 2)
	wantCode(t, err, core.ERATELIMITED)
}

func TestImages(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	png := []byte("\x89PNG\r\n\x1a\nfirst")
	jpg := []byte("\xff\xd8\xffsecond")
	j := newJob("u", 10, "")
	j.Req.Images = []core.Image{{Data: png, MIME: "image/png"}, {Data: jpg, MIME: "image/jpeg"}}
	mustAccept(t, db, j, 0)

	got, err := db.Images(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !bytes.Equal(got[0], png) || !bytes.Equal(got[1], jpg) {
		t.Fatalf("Images = %q", got)
	}
	got[0][0] = 'X' // a copy: must not touch the database
	again, _ := db.Images(ctx, j.ID)
	if !bytes.Equal(again[0], png) {
		t.Error("Images returned memory shared with the database")
	}
	stored, _ := db.Job(ctx, j.ID)
	if len(stored.Req.Images) != 2 || stored.Req.Images[1].MIME != "image/jpeg" || stored.Req.Images[0].Data != nil {
		t.Errorf("stored request images %+v", stored.Req.Images)
	}

	plain := newJob("u", 10, "")
	mustAccept(t, db, plain, 0)
	if got, err := db.Images(ctx, plain.ID); err != nil || got != nil {
		t.Errorf("job without images: %q, %v", got, err)
	}

	if _, ok, err := db.Finish(ctx, j.ID, core.ActiveStates, core.Delivered, nil, ""); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if got, err := db.Images(ctx, j.ID); err != nil || got != nil {
		t.Errorf("images after Finish: %q, %v", got, err)
	}
}

func TestTransition(t *testing.T) {
	db := openTest(t, 100)
	ctx := context.Background()
	j := newJob("u", 10, "k")
	mustAccept(t, db, j, 0)

	got, ok, err := db.Transition(ctx, j.ID, []core.State{core.Submitted}, func(*core.Job) { t.Error("fn called for a state not in from") })
	if err != nil || ok || got.State != core.Queued {
		t.Errorf("mismatched from: %v %v %v", got, ok, err)
	}

	got, ok, err = db.Transition(ctx, j.ID, []core.State{core.Queued}, func(j *core.Job) { j.State = core.Submitting })
	if err != nil || !ok || got.State != core.Submitting {
		t.Fatalf("to submitting: %v %v %v", got, ok, err)
	}
	sub := time.Now().UTC()
	got, ok, err = db.Transition(ctx, j.ID, []core.State{core.Submitting}, func(j *core.Job) {
		j.State, j.TaskID, j.SubmittedAt = core.Submitted, "task-1", sub
	})
	if err != nil || !ok || got.TaskID != "task-1" {
		t.Fatalf("to submitted: %v %v %v", got, ok, err)
	}
	stored, _ := db.Job(ctx, j.ID)
	if stored.State != core.Submitted || stored.TaskID != "task-1" || !stored.SubmittedAt.Equal(sub) {
		t.Errorf("stored after transitions: %+v", stored)
	}

	for name, fn := range map[string]func(*core.Job){
		"terminal":   func(j *core.Job) { j.State = core.Delivered },
		"unknown":    func(j *core.Job) { j.State = "lost" },
		"price":      func(j *core.Job) { j.Price = 0 },
		"user":       func(j *core.Job) { j.UserID = "v" },
		"refund":     func(j *core.Job) { j.Refunded = true },
		"id":         func(j *core.Job) { j.ID = "9" },
		"idempotent": func(j *core.Job) { j.Key = "" },
	} {
		if _, ok, err := db.Transition(ctx, j.ID, core.ActiveStates, fn); err == nil || ok {
			t.Errorf("%s change accepted: ok=%v err=%v", name, ok, err)
		}
	}
	stored2, _ := db.Job(ctx, j.ID)
	if stored2.State != core.Submitted || stored2.Price != 10 {
		t.Errorf("refused transitions changed the job: %+v", stored2)
	}

	if _, ok, _ := db.Finish(ctx, j.ID, core.ActiveStates, core.Delivered, nil, ""); !ok {
		t.Fatal("Finish failed")
	}
	if _, ok, err := db.Transition(ctx, j.ID, []core.State{core.Delivered}, func(*core.Job) {}); ok || err != nil {
		t.Errorf("transition of a terminal job: ok=%v err=%v", ok, err)
	}
}

// Test 3: refunds happen exactly once.
func TestFinishRefundsOnce(t *testing.T) {
	db := openTest(t, 1000)
	ctx := context.Background()
	j := newJob("u", 300, "")
	mustAccept(t, db, j, 0)

	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		oks int
	)
	for range 20 {
		wg.Go(func() {
			got, ok, err := db.Finish(ctx, j.ID, core.ActiveStates, core.Failed, failure(core.EUNAVAILABLE, "The provider is down."), "")
			if err != nil {
				t.Error(err)
				return
			}
			if got.State != core.Failed {
				t.Errorf("state %q after Finish", got.State)
			}
			mu.Lock()
			if ok {
				oks++
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if oks != 1 {
		t.Errorf("%d Finish calls succeeded, want 1", oks)
	}
	if r := entries(t, db, "u", core.LedgerRefund); len(r) != 1 || r[0].Amount != 300 || r[0].JobID != j.ID {
		t.Errorf("refund entries %+v", r)
	}
	if b := balance(t, db, "u"); b != 1000 {
		t.Errorf("balance %d, want 1000", b)
	}
	got, _ := db.Job(ctx, j.ID)
	if !got.Refunded || got.ErrCode != core.EUNAVAILABLE || got.Err != "The provider is down." || got.DoneAt.IsZero() {
		t.Errorf("failed job %+v", got)
	}

	// Delivered: charged, never refunded, even if Failed follows.
	d := newJob("u", 100, "")
	mustAccept(t, db, d, 0)
	if _, ok, err := db.Finish(ctx, d.ID, core.ActiveStates, core.Delivered, nil, ""); !ok || err != nil {
		t.Fatal(ok, err)
	}
	all := append([]core.State{core.Delivered, core.Failed, core.Canceled}, core.ActiveStates...)
	if got, ok, err := db.Finish(ctx, d.ID, all, core.Failed, failure("x", "y"), ""); ok || err != nil || got.State != core.Delivered {
		t.Errorf("Failed after Delivered: %+v %v %v", got, ok, err)
	}
	if b := balance(t, db, "u"); b != 900 {
		t.Errorf("balance %d after delivered job, want 900", b)
	}

	// Cancel only while queued.
	q, s := newJob("u", 50, ""), newJob("u", 50, "")
	mustAccept(t, db, q, 0)
	mustAccept(t, db, s, 0)
	if _, ok, _ := db.Transition(ctx, s.ID, []core.State{core.Queued}, func(j *core.Job) { j.State = core.Submitted }); !ok {
		t.Fatal("transition failed")
	}
	if got, ok, err := db.Finish(ctx, s.ID, []core.State{core.Queued}, core.Canceled, nil, ""); ok || err != nil || got.State != core.Submitted {
		t.Errorf("cancel of a submitted job: %+v %v %v", got, ok, err)
	}
	if got, ok, err := db.Finish(ctx, q.ID, []core.State{core.Queued}, core.Canceled, nil, ""); !ok || err != nil || !got.Refunded {
		t.Errorf("cancel of a queued job: %+v %v %v", got, ok, err)
	}
	if b := balance(t, db, "u"); b != 850 {
		t.Errorf("balance %d, want 850 (submitted job still charged)", b)
	}
	if r := entries(t, db, "u", core.LedgerRefund); len(r) != 2 {
		t.Errorf("%d refunds, want 2", len(r))
	}
	a, _ := db.Account(ctx, "u")
	if a.Active != 1 {
		t.Errorf("active %d, want 1", a.Active)
	}
}

func TestFinishRejectsNonTerminalTarget(t *testing.T) {
	db := openTest(t, 100)
	j := newJob("u", 10, "")
	mustAccept(t, db, j, 0)
	_, ok, err := db.Finish(context.Background(), j.ID, core.ActiveStates, core.Submitted, nil, "")
	if err == nil || ok || !strings.Contains(err.Error(), "terminal") {
		t.Errorf("Finish to submitted: ok=%v err=%v", ok, err)
	}
}

// Test 8: history and active jobs.
func TestHistoryAndActiveJobs(t *testing.T) {
	db := openTest(t, 1000)
	ctx := context.Background()
	var ids []string
	for i := range 6 {
		// Users whose ids share a prefix must not see each other's jobs.
		for _, u := range []string{"telegram:1", "telegram:10"} {
			j := newJob(u, 10, fmt.Sprintf("%s-%d", u, i))
			mustAccept(t, db, j, 0)
			if u == "telegram:1" {
				ids = append(ids, j.ID)
			}
		}
	}
	h, err := db.History(ctx, "telegram:1", 4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range h {
		got = append(got, j.ID)
		if j.UserID != "telegram:1" {
			t.Errorf("history holds a job of %s", j.UserID)
		}
	}
	want := []string{ids[5], ids[4], ids[3], ids[2]}
	if !slices.Equal(got, want) {
		t.Errorf("history %v, want %v", got, want)
	}
	if all, _ := db.History(ctx, "telegram:1", 0); len(all) != 6 {
		t.Errorf("unlimited history has %d jobs", len(all))
	}
	if none, err := db.History(ctx, "telegram:2", 5); err != nil || len(none) != 0 {
		t.Errorf("history of a stranger: %v %v", none, err)
	}

	// Finish some, move one along; ActiveJobs lists the rest in id order.
	for _, id := range []string{ids[0], ids[3]} {
		if _, ok, err := db.Finish(ctx, id, core.ActiveStates, core.Failed, nil, ""); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if _, ok, _ := db.Transition(ctx, ids[1], core.ActiveStates, func(j *core.Job) { j.State = core.Submitted }); !ok {
		t.Fatal("transition failed")
	}
	active, err := db.ActiveJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 10 {
		t.Errorf("%d active jobs, want 10", len(active))
	}
	prev := uint64(0)
	for _, j := range active {
		if j.State.Terminal() {
			t.Errorf("active job %s is %s", j.ID, j.State)
		}
		if j.ID == ids[0] || j.ID == ids[3] {
			t.Errorf("finished job %s listed as active", j.ID)
		}
		var n uint64
		fmt.Sscan(j.ID, &n)
		if n <= prev {
			t.Errorf("active jobs out of id order at %s", j.ID)
		}
		prev = n
	}
}

// Accept encodes the job before its transaction and splices the id in.
func TestWithJobID(t *testing.T) {
	j := newJob("telegram:1", 10, "k")
	j.Notes = []core.Message{{English: "a \"note\""}}
	j.Origin.Extra = map[string]string{"x": "y"}
	tmpl, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	j.ID = "1234567"
	want, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if got := withJobID(tmpl, j.ID); !bytes.Equal(got, want) {
		t.Errorf("withJobID:\n%s\nwant\n%s", got, want)
	}
}

// History lists only the newest recentCap jobs.
func TestHistoryCap(t *testing.T) {
	db := openTest(t, 1<<20)
	ctx := context.Background()
	var ids []string
	for i := range recentCap + 25 {
		j := newJob("telegram:7", 1, fmt.Sprintf("k%d", i))
		mustAccept(t, db, j, 0)
		ids = append(ids, j.ID)
		if i%3 == 0 { // interleave another user's jobs and a refund
			mustAccept(t, db, newJob("telegram:8", 1, ""), 0)
			if _, ok, err := db.Finish(ctx, j.ID, core.ActiveStates, core.Failed, nil, ""); !ok || err != nil {
				t.Fatal(ok, err)
			}
		}
	}
	for _, limit := range []int{0, -1, recentCap, recentCap + 1, 1000} {
		h, err := db.History(ctx, "telegram:7", limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != recentCap {
			t.Fatalf("limit %d: %d jobs, want %d", limit, len(h), recentCap)
		}
		for i, j := range h {
			if want := ids[len(ids)-1-i]; j.ID != want || j.UserID != "telegram:7" {
				t.Fatalf("limit %d: job %d is %s of %s, want %s", limit, i, j.ID, j.UserID, want)
			}
		}
	}
	if h, err := db.History(ctx, "telegram:7", 7); err != nil || len(h) != 7 || h[0].ID != ids[len(ids)-1] {
		t.Errorf("limit 7: %d jobs, %v", len(h), err)
	}
	// Older jobs are still stored.
	if j, err := db.Job(ctx, ids[0]); err != nil || j.UserID != "telegram:7" {
		t.Errorf("oldest job: %v %v", j, err)
	}
}

func TestRecentListEncoding(t *testing.T) {
	for _, l := range []recentList{
		nil,
		{1},
		{1, 2, 3, 200, 70000, 1 << 40},
		{5, 3, 3, 1 << 63, 0, ^uint64(0)}, // not ascending: still round-trips
	} {
		text, err := l.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var got recentList
		if err := got.UnmarshalText(text); err != nil {
			t.Fatalf("%v: %v", l, err)
		}
		if !slices.Equal(got, l) {
			t.Errorf("%v round-tripped to %v via %q", l, got, text)
		}
	}
	var l recentList
	for _, bad := range []string{"!!", "gA"} { // not base64; a truncated uvarint
		if err := l.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q decoded to %v", bad, l)
		}
	}
	// pushRecent keeps the newest recentCap.
	l = nil
	for i := range uint64(3 * recentCap) {
		l = pushRecent(l, i)
		if want := min(int(i)+1, recentCap); len(l) != want || l[len(l)-1] != i || l[0] != i+1-uint64(want) {
			t.Fatalf("after %d: len %d, %d..%d", i, len(l), l[0], l[len(l)-1])
		}
	}
}
