package core

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// simProvider is one provider of a pool simulation.
type simProvider struct {
	name  string
	rate  rate.Limit
	slots int

	calls       []time.Duration // every call (create and status), since the start
	peakFlight  int
	jobs        int
	maxInflight int
}

// simulatePool runs the real dispatcher (assign, with its routes and
// slots) and each provider's real limiter and poll scheduler on virtual
// time: jobs arrive, wait in the queue, are created (a rate token each),
// polled and found done.
func simulatePool(provs []*simProvider, jobs []*simJob) simResult {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := Config{}
	for _, p := range provs {
		cfg.Providers = append(cfg.Providers, ProviderConfig{Name: p.name, Protocol: ProtocolSoraPro, MaxInflight: p.slots, Rate: p.rate})
	}
	cat := DefaultCatalog()
	s := NewService(cfg, nil, nil, cat)
	m, _ := s.catalog.Model("sora-2-text-to-video")
	byUp := map[*upstream]*simProvider{}
	for i, u := range s.ups {
		byUp[u] = provs[i]
	}
	byID := map[string]*simJob{}
	pending := slices.Clone(jobs)
	slices.SortFunc(pending, func(a, b *simJob) int { return int(a.submit - b.submit) })
	res := simResult{jobs: jobs}
	now := t0
	left := len(jobs)
	for left > 0 {
		for len(pending) > 0 && !t0.Add(pending[0].submit).After(now) {
			j := pending[0]
			byID[j.id] = j
			s.queue = append(s.queue, &Job{ID: j.id, Req: Request{Model: m.ID}})
			pending = pending[1:]
		}
		picks, _, _ := s.assign(now)
		for _, p := range picks {
			u := p.route.up
			sp := byUp[u]
			r := u.lim.ReserveN(now, 1)
			at := now.Add(r.DelayFrom(now))
			j := byID[p.id]
			j.submit = at.Sub(t0) // the job starts when its create is made
			sp.calls = append(sp.calls, j.submit)
			sp.jobs++
			sp.peakFlight = max(sp.peakFlight, u.inflight)
			res.requests = append(res.requests, j.submit)
			e := u.sched.add(p.id, "task-"+p.id, m, at, now)
			e.up = u
		}
		e, wait := s.nextPoll(now)
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
		u := e.up
		j := byID[e.id]
		j.calls++
		el := now.Sub(t0)
		byUp[u].calls = append(byUp[u].calls, el)
		res.requests = append(res.requests, el)
		if el >= j.submit+j.duration {
			j.done, j.detected = true, el
			u.sched.remove(e.id)
			u.inflight--
			s.inflight--
			left--
			continue
		}
		progress := math.Floor(float64(el-j.submit) / float64(j.duration) * 100)
		u.sched.observe(e, now, progress)
	}
	return res
}

// maxInAnySecond is the most calls in any window of one second.
func maxInAnySecond(calls []time.Duration) int {
	c := slices.Clone(calls)
	slices.Sort(c)
	return simResult{requests: c}.maxPerSecond()
}

// threeProviders have different rates and caps that add up to 3,000 slots.
func threeProviders() []*simProvider {
	return []*simProvider{{name: "fast", rate: 20, slots: 1500}, {name: "mid", rate: 10, slots: 1000}, {name: "slow", rate: 5, slots: 500}}
}

// poolLoad is 3,300 jobs of 5 to 10 minutes arriving over 3 minutes: the
// pool's 3,000 slots fill and a queue forms.
func poolLoad() []*simJob { return loadJobs(3300, 3*time.Minute, 11) }

// TestPoolScheduleUnderLoad: three providers with different rates and
// caps, 3,000 jobs in flight: no provider ever goes above its rate in any
// second or above its max_inflight, every provider is used, and jobs are
// found done as quickly as with one provider of the same total rate.
func TestPoolScheduleUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 3,300 jobs")
	}
	provs := threeProviders()
	res := simulatePool(provs, poolLoad())
	total := 0
	for _, p := range provs {
		if m := maxInAnySecond(p.calls); m > int(p.rate) {
			t.Errorf("%s: %d calls in one second, rate %v", p.name, m, p.rate)
		}
		if p.peakFlight > p.slots || p.peakFlight < p.slots {
			t.Errorf("%s: peak %d jobs in flight, want its %d slots filled and never more", p.name, p.peakFlight, p.slots)
		}
		total += p.jobs
	}
	if peak := peakInFlight(res.jobs); peak < 2900 || peak > 3000 {
		t.Errorf("peak jobs in flight = %d, want about 3,000 (never more)", peak)
	}
	one := simulatePool([]*simProvider{{name: "one", rate: 35, slots: 3000}}, poolLoad())
	d, d1 := res.delays(), one.delays()
	worst, worst1 := d[len(d)-1], d1[len(d1)-1]
	if worst > 30*time.Second || worst > worst1*3/2+5*time.Second {
		t.Errorf("worst detection delay %v with three providers, %v with one", worst, worst1)
	}
	if total != len(res.jobs) {
		t.Errorf("%d creates for %d jobs", total, len(res.jobs))
	}
}

// BenchmarkPoolUnderLoad reports, for three providers (20/s × 1,500 slots,
// 10/s × 1,000, 5/s × 500) holding 3,000 jobs in flight, each provider's
// busiest second and peak in flight, and the detection delays next to one
// provider of the same total rate and slots.
func BenchmarkPoolUnderLoad(b *testing.B) {
	var provs, one []*simProvider
	var res, res1 simResult
	for b.Loop() {
		provs, one = threeProviders(), []*simProvider{{name: "one", rate: 35, slots: 3000}}
		res = simulatePool(provs, poolLoad())
		res1 = simulatePool(one, poolLoad())
	}
	for _, p := range provs {
		b.ReportMetric(float64(maxInAnySecond(p.calls)), fmt.Sprintf("%s-max-req/s(rate-%v)", p.name, p.rate))
		b.ReportMetric(float64(p.peakFlight), fmt.Sprintf("%s-peak-inflight(max-%d)", p.name, p.slots))
	}
	d, d1 := res.delays(), res1.delays()
	b.ReportMetric(float64(peakInFlight(res.jobs)), "peak-inflight")
	b.ReportMetric(median(d).Seconds(), "p50-detect-s")
	b.ReportMetric(d[len(d)-1].Seconds(), "worst-detect-s")
	b.ReportMetric(median(d1).Seconds(), "one-provider-p50-detect-s")
	b.ReportMetric(d1[len(d1)-1].Seconds(), "one-provider-worst-detect-s")
}
