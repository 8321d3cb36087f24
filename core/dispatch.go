package core

import (
	"context"
	"fmt"
	"time"
)

// storeAttempts bounds the tries of a store call whose failure the job
// survives another way (the job fails and is refunded instead).
const storeAttempts = 5

// dispatchLoop moves queued jobs to the provider in FIFO order, keeping at
// most MaxInflight there.
func (s *Service) dispatchLoop() {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		var id string
		if len(s.queue) > 0 && s.inflight < s.cfg.MaxInflight {
			id = s.queue[0].ID
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.inflight++
		}
		s.mu.Unlock()
		if id == "" {
			select {
			case <-s.ctx.Done():
				return
			case <-s.dispatch:
			}
			continue
		}
		s.notifyPositions()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if !s.submit(id) {
				s.release()
			}
		}()
	}
}

// release frees a provider slot.
func (s *Service) release() {
	s.mu.Lock()
	s.inflight--
	s.mu.Unlock()
	s.kick(s.dispatch)
}

// notifyPositions tells queued jobs their new place in line (every place
// near the front, every tenth further back).
func (s *Service) notifyPositions() {
	s.mu.Lock()
	var evs []Event
	for i, j := range s.queue {
		if pos := i + 1; pos <= 20 || pos%10 == 0 {
			evs = append(evs, Event{Type: EventPosition, Job: j, Position: pos, Progress: -1})
		}
	}
	s.mu.Unlock()
	for _, ev := range evs {
		s.notify(ev)
	}
}

// submit sends one queued job to the provider. It reports whether the job
// now holds a provider slot (it is being polled).
func (s *Service) submit(id string) bool {
	// The create call must not be cut short by shutdown: a half-sent create
	// would leave a task we cannot account for. It has its own timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 2*time.Minute)
	defer cancel()
	j, ok, err := s.writeJob(ctx, "mark submitting", id, Submitting, 0, func(ctx context.Context) (*Job, bool, error) {
		return s.store.Transition(ctx, id, []State{Queued}, func(j *Job) { j.State = Submitting })
	})
	if err != nil {
		// Stopping (or the job is gone): a job still queued is queued
		// again at the next start.
		s.log.Warn("mark submitting", "job_id", id, "err", err)
		return false
	}
	if !ok {
		return false // canceled meanwhile
	}
	s.cfg.Metrics.JobState(Queued, Submitting)
	m, ok := s.catalog.Model(j.Req.Model)
	if !ok {
		s.fail(ctx, j, []State{Submitting}, msgModelGone.Err(EUNAVAILABLE, Args{"Model": j.Req.Model}))
		return false
	}
	var imgs [][]byte
	err = s.persist(ctx, "load images", id, storeAttempts, func(ctx context.Context) (err error) {
		imgs, err = s.store.Images(ctx, id)
		return err
	})
	if err != nil {
		s.log.Error("load images", "job_id", id, "err", err)
		s.fail(ctx, j, []State{Submitting}, err)
		return false
	}
	req := j.Req
	req.Images = append([]Image(nil), j.Req.Images...)
	for i := range req.Images {
		if i < len(imgs) {
			req.Images[i].Data = imgs[i]
		}
	}
	var taskID string
	for attempt := 0; ; attempt++ {
		if err = s.limiter.Wait(ctx); err != nil {
			break
		}
		start := time.Now()
		taskID, err = s.provider.Submit(ctx, m, &req)
		s.cfg.Metrics.ProviderCall("submit", time.Since(start), err)
		if err == nil || !IsTemporary(err) || attempt >= s.cfg.SubmitRetries {
			break
		}
		s.log.Warn("provider create failed before acceptance; retrying", "job_id", id, "attempt", attempt+1, "err", err)
		if !Sleep(ctx, retryWait(err, 0, s.cfg.RetryBase<<attempt)) {
			err = ctx.Err()
			break
		}
	}
	if err == nil && taskID == "" {
		err = msgNotTaken.Err(EUNAVAILABLE, nil)
	}
	if err != nil {
		s.log.Warn("provider create failed", "job_id", id, "model", m.ID, "err", err)
		if IsTemporary(err) {
			err = MsgProviderBusy.Err(EUNAVAILABLE, nil)
		}
		s.fail(ctx, j, []State{Submitting}, err)
		return false
	}
	now := time.Now().UTC()
	sj, ok, err := s.writeJob(ctx, "store task id", id, Submitted, storeAttempts, func(ctx context.Context) (*Job, bool, error) {
		return s.store.Transition(ctx, id, []State{Submitting}, func(j *Job) {
			j.State, j.TaskID, j.SubmittedAt = Submitted, taskID, now
		})
	})
	if err != nil || !ok {
		// The task exists at the provider but we could not record it: treat
		// it like a crash in between (fail and refund, never resubmit).
		s.log.Error("store task id", "job_id", id, "task_id", taskID, "err", err)
		if err == nil {
			err = fmt.Errorf("store task id: job %s is %s, not submitting", id, sj.State)
		}
		s.fail(ctx, j, []State{Submitting}, err)
		return false
	}
	j = sj
	s.cfg.Metrics.JobState(Submitting, Submitted)
	s.log.Info("job submitted", "job_id", id, "model", m.ID, "task_id", taskID)
	s.notify(Event{Type: EventSubmitted, Job: j, Progress: -1})
	s.startPolling(j, m)
	return true
}

// fail finishes a job as failed (refunding it) with err's user-safe message.
func (s *Service) fail(ctx context.Context, j *Job, from []State, err error) {
	code, msg := ErrorCode(err), ErrorMessage(err)
	reason := AsError(err)
	if reason == nil {
		reason = MsgInternal.Err(EINTERNAL, nil)
	}
	switch code {
	case EINTERNAL:
		s.log.Error("job failed", "job_id", j.ID, "err", err)
	case EUNAVAILABLE:
		s.log.Warn("job failed: provider or model unavailable", "job_id", j.ID, "model", j.Req.Model, "reason", msg)
		s.mu.Lock()
		s.lastUnavailable.at, s.lastUnavailable.msg = time.Now(), j.Req.Model+": "+msg
		s.mu.Unlock()
	}
	fj, ok, ferr := s.writeJob(ctx, "finish failed job", j.ID, Failed, 0, func(ctx context.Context) (*Job, bool, error) {
		return s.store.Finish(ctx, j.ID, from, Failed, reason, "")
	})
	if ferr != nil {
		// Stopping (the next start fails or resumes the job), or the job is gone.
		s.log.Error("finish failed job", "job_id", j.ID, "err", ferr)
		return
	}
	if !ok {
		return // finished meanwhile
	}
	s.cfg.Metrics.JobState(j.State, Failed)
	s.cfg.Metrics.Refunded(fj.Price)
	s.log.Info("job failed and refunded", "job_id", j.ID, "code", code, "reason", msg)
	s.notify(Event{Type: EventFailed, Job: fj, Progress: -1})
}

// Sleep waits for d or until ctx ends; it reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
