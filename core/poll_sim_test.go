package core

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// simJob is one job in a virtual-time simulation of the poll scheduler
// against a provider that reports linear progress in whole percent.
type simJob struct {
	id       string
	submit   time.Duration // since the simulation's start
	duration time.Duration
	calls    int
	detected time.Duration
	done     bool
}

type simResult struct {
	jobs     []*simJob
	requests []time.Duration // every provider call (create and status), in order
}

func (r simResult) callsPerJob() float64 {
	n := 0
	for _, j := range r.jobs {
		n += j.calls
	}
	return float64(n) / float64(len(r.jobs))
}

// delays returns the sorted detection delays (detection − completion).
func (r simResult) delays() []time.Duration {
	var d []time.Duration
	for _, j := range r.jobs {
		d = append(d, j.detected-(j.submit+j.duration))
	}
	slices.Sort(d)
	return d
}

// maxPerSecond is the most provider calls in any window of one second.
func (r simResult) maxPerSecond() int {
	best, lo := 0, 0
	for hi, t := range r.requests {
		for t-r.requests[lo] >= time.Second {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

func simModel() *Model {
	return &Model{ID: "sim", Protocol: ProtocolSoraPro, Durations: []int{10}, DefaultDuration: 10,
		Prices: map[string]int{"10": 1}, TypicalSeconds: 300, DeadlineSeconds: 3600}
}

// simulateAdaptive runs the real pollScheduler on virtual time.
func simulateAdaptive(jobs []*simJob, limit rate.Limit) simResult {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	lim := newProviderLimiter(limit, 1)
	p := newPollScheduler(PollConfig{}, lim)
	m := simModel()
	byID := map[string]*simJob{}
	pending := slices.Clone(jobs)
	slices.SortFunc(pending, func(a, b *simJob) int { return int(a.submit - b.submit) })
	var res simResult
	res.jobs = jobs
	now := t0
	left := len(jobs)
	for left > 0 {
		// Submissions due by now take a token each, like the service's create.
		for len(pending) > 0 && !t0.Add(pending[0].submit).After(now) {
			j := pending[0]
			r := lim.ReserveN(now, 1)
			at := now.Add(r.DelayFrom(now))
			j.submit = at.Sub(t0) // the job starts when the create call is made
			res.requests = append(res.requests, j.submit)
			byID[j.id] = j
			p.add(j.id, "task-"+j.id, m, at, now)
			pending = pending[1:]
		}
		e, wait := p.next(now)
		if e == nil {
			next := now.Add(wait)
			if len(pending) > 0 && t0.Add(pending[0].submit).Before(next) {
				next = t0.Add(pending[0].submit)
			}
			if !next.After(now) {
				next = now.Add(time.Millisecond)
			}
			now = next
			continue
		}
		j := byID[e.id]
		j.calls++
		el := now.Sub(t0)
		res.requests = append(res.requests, el)
		if el >= j.submit+j.duration {
			j.done, j.detected = true, el
			p.remove(e.id)
			left--
			continue
		}
		progress := math.Floor(float64(el-j.submit) / float64(j.duration) * 100)
		p.observe(e, now, progress)
	}
	return res
}

// simulateFixed polls every job every interval, the naive baseline.
func simulateFixed(jobs []*simJob, every time.Duration) simResult {
	var res simResult
	res.jobs = jobs
	for _, j := range jobs {
		for t := j.submit + every; ; t += every {
			j.calls++
			if t >= j.submit+j.duration {
				j.done, j.detected = true, t
				break
			}
		}
	}
	return res
}

func fiveMinuteJobs(n int, seed uint64) []*simJob {
	rng := rand.New(rand.NewPCG(seed, 1))
	jobs := make([]*simJob, n)
	for i := range jobs {
		jobs[i] = &simJob{id: string(rune('a'+i%26)) + itoa(i),
			submit:   time.Duration(rng.IntN(60_000)) * time.Millisecond,
			duration: 5*time.Minute + time.Duration(rng.IntN(10_000))*time.Millisecond}
	}
	return jobs
}

// loadJobs are n jobs arriving over spread, each 5 to 10 minutes long.
func loadJobs(n int, spread time.Duration, seed uint64) []*simJob {
	rng := rand.New(rand.NewPCG(seed, 2))
	jobs := make([]*simJob, n)
	for i := range jobs {
		jobs[i] = &simJob{id: "l" + itoa(i),
			submit:   time.Duration(rng.Int64N(int64(spread))),
			duration: 5*time.Minute + time.Duration(rng.Int64N(int64(5*time.Minute)))}
	}
	return jobs
}

func itoa(i int) string { return string(appendInt(nil, i)) }

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}

func cloneJobs(jobs []*simJob) []*simJob {
	out := make([]*simJob, len(jobs))
	for i, j := range jobs {
		c := *j
		out[i] = &c
	}
	return out
}

func median(d []time.Duration) time.Duration { return d[len(d)/2] }

// TestPollScheduleEfficiency checks the polling policy (docs/ARCHITECTURE.md) in virtual
// time: first look within 10 s, at most 14 status calls for a 5-minute job
// with linear progress, completion found within 5 s (median).
func TestPollScheduleEfficiency(t *testing.T) {
	jobs := fiveMinuteJobs(200, 7)
	res := simulateAdaptive(cloneJobs(jobs), rate.Inf)
	if c := res.callsPerJob(); c > 14 {
		t.Errorf("status calls per job = %.1f, want <= 14", c)
	}
	if d := median(res.delays()); d > 5*time.Second {
		t.Errorf("median detection delay = %v, want <= 5s", d)
	}
	for _, j := range res.jobs {
		if j.calls > 16 {
			t.Errorf("job %s polled %d times", j.id, j.calls)
		}
	}
	fixed := simulateFixed(cloneJobs(jobs), 5*time.Second)
	if fixed.callsPerJob() < 59 {
		t.Errorf("baseline made %.1f calls per job, want about 60", fixed.callsPerJob())
	}
}

// TestPollScheduleFirstLook: the first status call comes within 10 s.
func TestPollScheduleFirstLook(t *testing.T) {
	now := time.Now()
	p := newPollScheduler(PollConfig{}, nil)
	p.add("1", "t", simModel(), now, now)
	if e, wait := p.next(now); e != nil || wait > 10*time.Second || wait <= 0 {
		t.Fatalf("first look in %v (entry %v)", wait, e)
	}
	if e, _ := p.next(now.Add(10 * time.Second)); e == nil {
		t.Fatal("no first look at 10 s")
	}
}

// TestPollScheduleUnderLoad: 1,000 jobs in flight under 10 requests/s: the
// limit is never exceeded and each job is found done within 30 s.
func TestPollScheduleUnderLoad(t *testing.T) {
	res := simulateAdaptive(loadJobs(1000, 5*time.Minute, 3), 10)
	if m := res.maxPerSecond(); m > 10 {
		t.Errorf("max provider calls in one second = %d, want <= 10", m)
	}
	d := res.delays()
	if worst := d[len(d)-1]; worst > 30*time.Second {
		t.Errorf("worst detection delay = %v, want <= 30s", worst)
	}
	if peak := peakInFlight(res.jobs); peak < 900 {
		t.Errorf("peak jobs in flight = %d; the scenario should hold about 1000", peak)
	}
}

func peakInFlight(jobs []*simJob) int {
	type ev struct {
		t time.Duration
		d int
	}
	var evs []ev
	for _, j := range jobs {
		evs = append(evs, ev{j.submit, 1}, ev{j.detected, -1})
	}
	slices.SortFunc(evs, func(a, b ev) int {
		if a.t != b.t {
			return int(a.t - b.t)
		}
		return a.d - b.d
	})
	cur, peak := 0, 0
	for _, e := range evs {
		cur += e.d
		peak = max(peak, cur)
	}
	return peak
}

// BenchmarkPollEfficiency reports status calls per 5-minute job and the
// delay from completion to detection, adaptive next to fixed 5-s polling.
func BenchmarkPollEfficiency(b *testing.B) {
	jobs := fiveMinuteJobs(200, 7)
	var a, f simResult
	for b.Loop() {
		a = simulateAdaptive(cloneJobs(jobs), rate.Inf)
		f = simulateFixed(cloneJobs(jobs), 5*time.Second)
	}
	b.ReportMetric(a.callsPerJob(), "adaptive-calls/job")
	b.ReportMetric(median(a.delays()).Seconds(), "adaptive-p50-detect-s")
	b.ReportMetric(f.callsPerJob(), "fixed5s-calls/job")
	b.ReportMetric(median(f.delays()).Seconds(), "fixed5s-p50-detect-s")
}

// BenchmarkPollUnderLoad reports, for 1,000 jobs in flight under a limit of
// 10 requests/s, the busiest second and the worst detection delay, next to
// fixed 5-s polling (which would need about 200 requests/s).
func BenchmarkPollUnderLoad(b *testing.B) {
	jobs := loadJobs(1000, 5*time.Minute, 3)
	var a simResult
	for b.Loop() {
		a = simulateAdaptive(cloneJobs(jobs), 10)
	}
	d := a.delays()
	b.ReportMetric(float64(a.maxPerSecond()), "max-req/s")
	b.ReportMetric(d[len(d)-1].Seconds(), "worst-detect-s")
	b.ReportMetric(median(d).Seconds(), "p50-detect-s")
	b.ReportMetric(float64(peakInFlight(a.jobs)), "peak-inflight")
	b.ReportMetric(1000/5.0, "fixed5s-needed-req/s")
}

// TestPollBackoffCapped: failed status calls back off 2, 4, 8 s and then
// never more than 15 s, and the scheduler offers the job no sooner.
func TestPollBackoffCapped(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newPollScheduler(PollConfig{}, nil)
	p.add("1", "t", simModel(), t0, t0)
	now := t0.Add(p.cfg.First)
	for i, want := range []time.Duration{2, 4, 8, 15, 15, 15, 15} {
		want *= time.Second
		e, _ := p.next(now)
		if e == nil {
			t.Fatalf("failure %d: no look due at %v", i, now.Sub(t0))
		}
		p.failed(e, now, Temporary(errors.New("HTTP 503")))
		if got := e.due.Sub(now); got != want {
			t.Fatalf("failure %d: next look after %v, want %v", i+1, got, want)
		}
		if e, wait := p.next(now.Add(want - time.Millisecond)); e != nil || wait != time.Millisecond {
			t.Fatalf("failure %d: offered %v, wait %v before the back-off ends", i+1, e, wait)
		}
		now = now.Add(want)
	}
}

// TestPollRecoveryNoticedAtOnce: a 2-second task whose first five status
// calls fail is found done within 15 s of the provider answering again,
// and within a minute of its submission.
func TestPollRecoveryNoticedAtOnce(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newPollScheduler(PollConfig{}, nil)
	p.add("1", "t", simModel(), t0, t0)
	now, calls := t0, 0
	var lastFailure time.Time
	for {
		e, wait := p.next(now)
		if e == nil {
			now = now.Add(wait)
			continue
		}
		calls++
		if calls <= 5 {
			p.failed(e, now, Temporary(errors.New("HTTP 502")))
			lastFailure = now
			continue
		}
		break // the provider answers "done": the task took 2 s
	}
	if d := now.Sub(lastFailure); d > 15*time.Second {
		t.Errorf("recovered provider noticed %v after the last failure, want <= 15s", d)
	}
	if d := now.Sub(t0); d >= time.Minute {
		t.Errorf("a 2-second task found done after %v", d)
	}
}

// TestPollRetryAfter: a status call answered with a Retry-After is not
// repeated before that wait and comes right after it, whatever the
// exponential back-off would say; silly waits are bounded.
func TestPollRetryAfter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		errsBefore int
		after      time.Duration
		want       time.Duration
	}{
		{"429 with Retry-After: 3", 0, 3 * time.Second, 3 * time.Second},
		{"shorter than the back-off", 4, 3 * time.Second, 3 * time.Second},
		{"longer than the back-off cap", 0, 40 * time.Second, 40 * time.Second},
		{"below the shortest gap", 0, 500 * time.Millisecond, 2 * time.Second},
		{"an hour", 0, time.Hour, maxRetryAfter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPollScheduler(PollConfig{}, nil)
			p.add("1", "t", simModel(), t0, t0)
			now := t0.Add(p.cfg.First)
			e, _ := p.next(now)
			e.errs = tc.errsBefore
			err := fmt.Errorf("status: %w", WithRetryAfter(Temporary(testErrorf(EUNAVAILABLE, "busy")), tc.after))
			p.failed(e, now, err)
			if got := e.due.Sub(now); got != tc.want {
				t.Fatalf("next look after %v, want %v", got, tc.want)
			}
			if e, _ := p.next(now.Add(tc.want - time.Millisecond)); e != nil {
				t.Fatal("offered before the wait ended")
			}
			if e, _ := p.next(now.Add(tc.want)); e == nil {
				t.Fatal("not offered when the wait ended")
			}
		})
	}
}
