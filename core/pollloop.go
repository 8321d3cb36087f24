package core

import (
	"context"
	"math"
	"time"
)

// pollTimeout bounds one status call.
const pollTimeout = time.Minute

// startPolling hands a submitted job to the poll scheduler.
func (s *Service) startPolling(j *Job, m *Model) {
	s.pmu.Lock()
	e := s.sched.add(j.ID, j.TaskID, m, j.SubmittedAt, time.Now())
	e.job = j.Clone()
	s.pmu.Unlock()
	s.kick(s.pollWake)
}

// pollLoop is the one scheduler goroutine for every submitted job: it sleeps
// until the next look is due and the provider's pace allows a call, and runs
// at most PollWorkers status calls at once.
func (s *Service) pollLoop() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.pmu.Lock()
		e, wait := s.sched.next(time.Now())
		s.pmu.Unlock()
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
	start := time.Now()
	st, err := s.provider.Status(ctx, e.model, e.taskID)
	s.cfg.Metrics.ProviderCall("status", time.Since(start), err)
	if s.ctx.Err() != nil {
		return // shutting down: the job resumes at the next start
	}
	now := time.Now()
	if err == nil && st.State == TaskDone && st.VideoURL == "" {
		err = Temporary(msgNoVideoLink.Err(EUNAVAILABLE, nil))
	}
	switch {
	case err != nil:
		s.pmu.Lock()
		s.sched.failed(e, now, err)
		errs := e.errs
		s.pmu.Unlock()
		s.kick(s.pollWake)
		s.log.Warn("status call failed", "job_id", e.id, "errors_in_a_row", errs, "err", err)
		if now.After(e.deadline) || (!IsTemporary(err) && errs >= maxStatusErrors) {
			s.stopPolling(e)
			s.fail(s.ctx, e.job, []State{Submitted}, msgStatusLost.Err(EUNAVAILABLE, nil))
		}
	case st.State == TaskDone:
		s.stopPolling(e)
		s.succeed(e.job, st.VideoURL)
	case st.State == TaskFailed:
		s.stopPolling(e)
		var reason error = MsgProviderFailed.Err(EUNAVAILABLE, nil)
		if st.Err != nil {
			reason = st.Err
		}
		s.fail(s.ctx, e.job, []State{Submitted}, reason)
	case now.After(e.deadline):
		s.stopPolling(e)
		s.fail(s.ctx, e.job, []State{Submitted}, msgTooSlow.Err(EUNAVAILABLE, nil))
	default:
		s.pmu.Lock()
		s.sched.observe(e, now, st.Progress)
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

// stopPolling forgets the job and frees its provider slot.
func (s *Service) stopPolling(e *pollEntry) {
	s.pmu.Lock()
	s.sched.remove(e.id)
	s.pmu.Unlock()
	s.release()
}

// Polling is the number of jobs the scheduler is watching.
func (s *Service) Polling() int {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return s.sched.len()
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
