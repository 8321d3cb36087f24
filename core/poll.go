package core

import (
	"container/heap"
	"math"
	"time"

	"golang.org/x/time/rate"
)

// PollConfig shapes the adaptive status-polling schedule.
type PollConfig struct {
	// First is how long after submission the first status call comes.
	First time.Duration
	// KeepAlive is the longest gap between polls of a running job when the
	// provider is not busy (it keeps status messages alive).
	KeepAlive time.Duration
	// MinGap is the shortest gap between two polls of one job.
	MinGap time.Duration
	// MaxBackoff caps the wait after failed status calls (15 s), so a
	// provider that recovers is noticed at once. A provider's Retry-After
	// is honoured instead, up to maxRetryAfter.
	MaxBackoff time.Duration
}

// maxRetryAfter caps the wait a provider's Retry-After can impose on one
// call, so a silly header cannot park a job for hours.
const maxRetryAfter = time.Minute

// retryWait is how long to wait before retrying after err: the wait the
// provider asked for (at least floor, at most maxRetryAfter), else backoff.
func retryWait(err error, floor, backoff time.Duration) time.Duration {
	if d, ok := RetryAfter(err); ok {
		return min(max(d, floor), maxRetryAfter)
	}
	return backoff
}

func (c *PollConfig) defaults() {
	if c.First <= 0 {
		c.First = 8 * time.Second
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = 30 * time.Second
	}
	if c.MinGap <= 0 {
		c.MinGap = min(2*time.Second, c.KeepAlive/2)
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 15 * time.Second
	}
}

// pollEntry is the scheduler's memory of one submitted job.
type pollEntry struct {
	id        string
	taskID    string
	model     *Model
	submitted time.Time
	deadline  time.Time

	// due is when the next look may happen; prio orders looks that are due
	// (earlier first): a look that may find the job finished has prio = due,
	// a keep-alive look has a later prio, but never later than the job's
	// estimated end, so under load it yields to completion checks without
	// starving.
	due   time.Time
	prio  time.Time
	idx   int // position in its heap, -1 when in none
	where int // 0 timers, 1 ready, -1 none (busy)

	// progress samples: zeroAt is the last time progress was seen at or
	// below 0 (initially the submission), first/last are positive samples.
	zeroAt          time.Time
	firstAt, lastAt time.Time
	firstP, lastP   float64
	stall           int // polls in a row without progress change near the end
	errs            int
	polls           int
	reported        int  // last progress shown to the user, -1 none
	job             *Job // snapshot for events

	up   *upstream // the provider making it
	wire *Model    // the model as named there
}

// entryHeap orders entries by due (timers) or by prio (ready).
type entryHeap struct {
	byPrio bool
	s      []*pollEntry
}

func (h *entryHeap) Len() int { return len(h.s) }
func (h *entryHeap) Less(i, j int) bool {
	if h.byPrio {
		return h.s[i].prio.Before(h.s[j].prio)
	}
	return h.s[i].due.Before(h.s[j].due)
}
func (h *entryHeap) Swap(i, j int) { h.s[i], h.s[j] = h.s[j], h.s[i]; h.s[i].idx = i; h.s[j].idx = j }
func (h *entryHeap) Push(x any)    { e := x.(*pollEntry); e.idx = len(h.s); h.s = append(h.s, e) }
func (h *entryHeap) Pop() any {
	old := h.s
	e := old[len(old)-1]
	old[len(old)-1] = nil
	h.s = old[:len(old)-1]
	e.idx = -1
	return e
}

// pollScheduler decides which submitted job to look at next. It is a pure
// data structure driven by the caller's clock (so it can be simulated): one
// heap of future looks, one queue of due looks by priority, and one rate
// limiter that paces every provider call.
type pollScheduler struct {
	cfg     PollConfig
	lim     *rate.Limiter
	timers  entryHeap
	ready   entryHeap
	entries map[string]*pollEntry
}

func newPollScheduler(cfg PollConfig, lim *rate.Limiter) *pollScheduler {
	cfg.defaults()
	return &pollScheduler{cfg: cfg, lim: lim, entries: map[string]*pollEntry{}, ready: entryHeap{byPrio: true}}
}

func (p *pollScheduler) len() int { return len(p.entries) }

// add starts polling a job; its first look comes cfg.First after submission.
func (p *pollScheduler) add(id, taskID string, m *Model, submitted, now time.Time) *pollEntry {
	if old := p.entries[id]; old != nil {
		p.remove(id)
	}
	e := &pollEntry{id: id, taskID: taskID, model: m, submitted: submitted, zeroAt: submitted,
		deadline: submitted.Add(m.Deadline()), idx: -1, where: -1, reported: -1}
	p.entries[id] = e
	due := submitted.Add(p.cfg.First)
	if due.Before(now) {
		due = now
	}
	p.schedule(e, due, due)
	return e
}

// remove forgets a job.
// remove forgets the job; false when it was not watched (any more).
func (p *pollScheduler) remove(id string) bool {
	e := p.entries[id]
	if e == nil {
		return false
	}
	p.unlink(e)
	delete(p.entries, id)
	return true
}

func (p *pollScheduler) unlink(e *pollEntry) {
	if e.idx < 0 {
		return
	}
	switch e.where {
	case 0:
		heap.Remove(&p.timers, e.idx)
	case 1:
		heap.Remove(&p.ready, e.idx)
	}
	e.where = -1
}

// schedule sets the next look at due, ordered among due looks by prio.
func (p *pollScheduler) schedule(e *pollEntry, due, prio time.Time) {
	if !e.deadline.IsZero() && due.After(e.deadline) {
		due = e.deadline
	}
	if prio.Before(due) || prio.After(e.deadline) {
		prio = due
	}
	e.due, e.prio, e.where = due, prio, 0
	heap.Push(&p.timers, e)
}

// next returns the job to poll now, or nil and how long to wait before
// asking again. A returned entry is busy until observe or remove.
func (p *pollScheduler) next(now time.Time) (*pollEntry, time.Duration) {
	for p.timers.Len() > 0 && !p.timers.s[0].due.After(now) {
		e := heap.Pop(&p.timers).(*pollEntry)
		e.where = 1
		heap.Push(&p.ready, e)
	}
	if p.ready.Len() == 0 {
		if p.timers.Len() == 0 {
			return nil, time.Hour
		}
		return nil, p.timers.s[0].due.Sub(now)
	}
	if p.lim != nil {
		r := p.lim.ReserveN(now, 1)
		if d := r.DelayFrom(now); d > 0 {
			r.CancelAt(now)
			return nil, d
		}
	}
	e := heap.Pop(&p.ready).(*pollEntry)
	e.where = -1
	e.polls++
	return e, 0
}

// keepAlive is the gap between looks at a job far from done: cfg.KeepAlive,
// stretched under load so that keep-alive looks use at most half the rate.
func (p *pollScheduler) keepAlive() time.Duration {
	k := p.cfg.KeepAlive
	if p.lim != nil && p.lim.Limit() != rate.Inf && p.lim.Limit() > 0 {
		load := time.Duration(float64(len(p.entries)) / (float64(p.lim.Limit()) * 0.5) * float64(time.Second))
		if load > k {
			k = load
		}
	}
	return k
}

// failed reschedules a job whose status call at now failed with err: after
// the provider's Retry-After when it sent one, else after an exponential
// backoff capped at cfg.MaxBackoff.
func (p *pollScheduler) failed(e *pollEntry, now time.Time, err error) {
	e.errs++
	d := min(p.cfg.MinGap<<min(e.errs-1, 10), p.cfg.MaxBackoff)
	d = retryWait(err, p.cfg.MinGap, d)
	p.schedule(e, now.Add(d), now.Add(d))
}

// observe reschedules a job still pending or running after a status call
// at now that reported progress (0–100, or -1 unknown).
func (p *pollScheduler) observe(e *pollEntry, now time.Time, progress float64) {
	e.errs = 0
	keep := p.keepAlive()
	if progress <= 0 || math.IsNaN(progress) {
		if progress == 0 {
			e.zeroAt = now
		}
		p.noProgress(e, now, keep)
		return
	}
	if progress > 100 {
		progress = 100
	}
	if e.firstAt.IsZero() {
		e.firstAt, e.firstP = now, progress
	}
	if progress > e.lastP {
		e.stall = 0
	} else if !e.lastAt.IsZero() {
		e.stall++
	}
	e.lastAt, e.lastP = now, progress

	// The earliest plausible end: progress may be rounded down, so assume
	// up to one point more than reported.
	var rate float64 // points per second
	if e.lastAt.Sub(e.firstAt) >= time.Second && e.lastP > e.firstP {
		rate = (e.lastP + 1 - e.firstP) / e.lastAt.Sub(e.firstAt).Seconds()
	}
	if since := now.Sub(e.zeroAt).Seconds(); since > 0 {
		if r0 := math.Min(progress+1, 100) / since; r0 > rate {
			rate = r0
		}
	}
	gap := p.cfg.MinGap << min(e.stall, 10)
	earliest := now.Add(gap)
	if rate <= 0 {
		p.schedule(e, now.Add(keep), now.Add(2*keep))
		return
	}
	end := now.Add(time.Duration((100 - math.Min(progress+1, 100)) / rate * float64(time.Second)))
	switch {
	case end.Before(earliest):
		p.schedule(e, earliest, earliest)
	case end.Sub(now) <= keep:
		end = end.Add(500 * time.Millisecond)
		p.schedule(e, end, end)
	default:
		// A keep-alive look, which turns into a completion check if it has
		// not happened by the estimated end.
		p.schedule(e, now.Add(keep), minTime(now.Add(2*keep), end))
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// noProgress backs off towards the model's typical time, then looks at the
// keep-alive pace until the deadline.
func (p *pollScheduler) noProgress(e *pollEntry, now time.Time, keep time.Duration) {
	typicalEnd := e.submitted.Add(e.model.Typical())
	if now.Before(typicalEnd) {
		gap := now.Sub(e.submitted) / 2
		gap = max(gap, 10*time.Second)
		gap = min(gap, keep)
		due := now.Add(gap)
		if !due.Before(typicalEnd) {
			p.schedule(e, typicalEnd, typicalEnd)
			return
		}
		p.schedule(e, due, minTime(due.Add(keep), typicalEnd))
		return
	}
	p.schedule(e, now.Add(keep), now.Add(keep))
}

// newProviderLimiter paces provider calls 2 % under limit, so that clock
// rounding on either side never lets one second hold more than limit calls.
func newProviderLimiter(limit rate.Limit, burst int) *rate.Limiter {
	if limit != rate.Inf {
		limit *= 0.98
	}
	return rate.NewLimiter(limit, burst)
}
