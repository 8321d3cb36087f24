package core

import (
	"context"
	"math"
	"time"
)

// pollTimeout bounds one status call.
const pollTimeout = time.Minute

// startPolling hands a job submitted to provider u, as model wire there, to
// u's poll scheduler.
func (s *Service) startPolling(j *Job, m *Model, u *upstream, wire *Model) {
	s.pmu.Lock()
	e := u.sched.add(j.ID, j.TaskID, m, j.SubmittedAt, time.Now())
	e.job, e.up, e.wire = j.Clone(), u, wire
	s.pmu.Unlock()
	s.kick(s.pollWake)
}

// nextPoll asks each provider's scheduler, in turn, for a job to look at
// now; each is paced by its provider's rate. Otherwise it says how long to
// wait.
func (s *Service) nextPoll(now time.Time) (*pollEntry, time.Duration) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	wait := time.Hour
	for k := range s.ups {
		i := (s.pollNext + k) % len(s.ups)
		e, w := s.ups[i].sched.next(now)
		if e != nil {
			s.pollNext = (i + 1) % len(s.ups)
			return e, 0
		}
		wait = min(wait, w)
	}
	return nil, wait
}

// pollLoop is the one scheduler goroutine for every submitted job: it sleeps
// until the next look is due and the provider's pace allows a call, and runs
// at most PollWorkers status calls at once.
func (s *Service) pollLoop() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		e, wait := s.nextPoll(time.Now())
		if e != nil {
			select {
			case s.pollSem <- struct{}{}:
			case <-s.ctx.Done():
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { <-s.pollSem }()
				s.poll(e)
			}()
			continue
		}
		timer.Reset(wait)
		select {
		case <-s.ctx.Done():
			return
		case <-timer.C:
		case <-s.pollWake:
		}
	}
}

// maxStatusErrors is how many failed status calls in a row, none of them
// temporary, fail a job.
const maxStatusErrors = 5

func (s *Service) poll(e *pollEntry) {
	ctx, cancel := context.WithTimeout(s.ctx, pollTimeout)
	defer cancel()
	u := e.up
	start := time.Now()
	st, err := u.Client.Status(ctx, e.wire, e.taskID)
	s.cfg.Metrics.ProviderCall(u.Name, "status", time.Since(start), err)
	if s.ctx.Err() != nil {
		return // shutting down: the job resumes at the next start
	}
	now := time.Now()
	if err == nil && st.State == TaskDone && st.VideoURL == "" {
		err = Temporary(msgNoVideoLink.Err(EUNAVAILABLE, nil))
	}
	switch {
	case err != nil:
		s.callFailed(u, err)
		// Whether this was the last look is decided before the job is
		// rescheduled: once back in the schedule, another look could start
		// and both would end the job (and free its slot twice).
		s.pmu.Lock()
		last := now.After(e.deadline) || (!IsTemporary(err) && e.errs+1 >= maxStatusErrors)
		if last {
			e.errs++
		} else {
			u.sched.failed(e, now, err) // counts the error too
		}
		errs := e.errs
		s.pmu.Unlock()
		s.log.Warn("status call failed", "job_id", e.id, "provider", u.Name, "errors_in_a_row", errs, "err", err)
		if !last {
			s.kick(s.pollWake)
			return
		}
		if s.stopPolling(e) {
			s.fail(s.ctx, e.job, []State{Submitted}, msgStatusLost.Err(EUNAVAILABLE, nil))
		}
	case st.State == TaskDone:
		s.callSucceeded(u)
		if s.stopPolling(e) {
			s.succeed(e.job, st.VideoURL)
		}
	case st.State == TaskFailed:
		if !s.stopPolling(e) {
			return
		}
		var reason error = MsgProviderFailed.Err(EUNAVAILABLE, nil)
		if st.Err != nil {
			reason = st.Err
		}
		// A task the provider failed for its own reasons goes once to each
		// other route; one the request caused (content policy) never does.
		if providerFault(reason) {
			s.callFailed(u, reason)
			if s.hasOtherRoute(e.job, u) {
				s.log.Warn("provider failed the task; moving the job to the next route", "job_id", e.id,
					"provider", u.Name, "task_id", e.taskID, "reason", ErrorMessage(reason))
				if s.failover(context.WithoutCancel(s.ctx), e.job, Submitted, u) {
					return
				}
			}
		}
		s.fail(s.ctx, e.job, []State{Submitted}, reason)
	case now.After(e.deadline):
		if s.stopPolling(e) {
			s.fail(s.ctx, e.job, []State{Submitted}, msgTooSlow.Err(EUNAVAILABLE, nil))
		}
	default:
		s.callSucceeded(u)
		s.pmu.Lock()
		u.sched.observe(e, now, st.Progress)
		pct := -1
		if st.Progress >= 0 && !math.IsNaN(st.Progress) {
			pct = int(math.Min(st.Progress, 100))
		}
		changed := pct != e.reported
		e.reported = pct
		s.pmu.Unlock()
		s.kick(s.pollWake)
		if changed && pct >= 0 {
			s.notify(Event{Type: EventProgress, Job: e.job, Progress: pct})
		}
	}
}

// stopPolling forgets the job and frees its provider slot, once: false
// when the job was no longer watched (its end is someone else's).
func (s *Service) stopPolling(e *pollEntry) bool {
	s.pmu.Lock()
	removed := e.up.sched.remove(e.id)
	s.pmu.Unlock()
	if removed {
		s.release(e.up)
	}
	return removed
}

// Polling is the number of jobs the schedulers are watching.
func (s *Service) Polling() int {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	n := 0
	for _, u := range s.ups {
		n += u.sched.len()
	}
	return n
}

func (s *Service) succeed(j *Job, url string) {
	ctx := context.WithoutCancel(s.ctx)
	now := time.Now().UTC()
	nj, ok, err := s.writeJob(ctx, "mark succeeded", j.ID, Succeeded, 0, func(ctx context.Context) (*Job, bool, error) {
		return s.store.Transition(ctx, j.ID, []State{Submitted}, func(j *Job) {
			j.State, j.VideoURL, j.DoneAt = Succeeded, url, now
		})
	})
	if err != nil {
		// Stopping (the next start polls the job again), or the job is gone.
		s.log.Error("mark succeeded", "job_id", j.ID, "err", err)
		return
	}
	if !ok {
		s.log.Warn("finished task of a job no longer submitted", "job_id", j.ID, "state", nj.State)
		return
	}
	s.cfg.Metrics.JobState(Submitted, Succeeded)
	s.log.Info("job succeeded", "job_id", j.ID)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.deliver(nj)
	}()
}
