package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// storeAttempts bounds the tries of a store call whose failure the job
// survives another way (the job fails and is refunded instead).
const storeAttempts = 5

// dispatchLoop moves queued jobs to providers. The queue is FIFO; each job
// goes to the first of its routes whose provider is up and has a free slot,
// and a job that can only go to full providers waits without holding back
// the jobs behind it that can go elsewhere.
func (s *Service) dispatchLoop() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		picks, dead, wait := s.assign(time.Now())
		for _, j := range dead {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.log.Warn("no configured provider can take the job; failing it", "job_id", j.ID, "model", j.Req.Model, "tried", j.Tried)
				s.fail(context.WithoutCancel(s.ctx), j, []State{Queued}, msgModelGone.Err(EUNAVAILABLE, Args{"Model": j.Req.Model}))
			}()
		}
		if len(picks) > 0 || len(dead) > 0 {
			s.notifyPositions()
		}
		for _, p := range picks {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				if !s.submit(p.id, p.route) {
					s.release(p.route.up)
				}
			}()
		}
		timer.Reset(wait)
		select {
		case <-s.ctx.Done():
			return
		case <-s.dispatch:
		case <-timer.C:
		}
	}
}

// pick is a queued job given a provider slot.
type pick struct {
	id    string
	route *route
}

// assign takes from the queue every job that can go to a provider now and
// the jobs no configured provider can take (dead), and says how long to
// wait before looking again unasked (a cool-down ending).
func (s *Service) assign(now time.Time) (picks []pick, dead []*Job, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wait = time.Hour
	for _, u := range s.ups {
		if u.health.down(now) {
			wait = min(wait, u.health.downUntil.Sub(now))
		}
	}
	if len(s.queue) == 0 || !s.anyFree() {
		return nil, nil, wait
	}
	n := 0
	for i, j := range s.queue {
		if !s.anyFree() {
			n += copy(s.queue[n:], s.queue[i:])
			break
		}
		r, usable := s.pickRoute(j, now)
		switch {
		case r != nil:
			r.up.inflight++
			s.inflight++
			picks = append(picks, pick{id: j.ID, route: r})
		case !usable:
			dead = append(dead, j)
		default:
			s.queue[n] = j
			n++
		}
	}
	clear(s.queue[n:])
	s.queue = s.queue[:n]
	return picks, dead, wait
}

// anyFree reports whether some enabled provider has a free slot; s.mu held.
func (s *Service) anyFree() bool {
	for _, u := range s.ups {
		if u.free() {
			return true
		}
	}
	return false
}

// pickRoute chooses where a queued job goes now: the first route it may
// still take whose provider is up with a free slot. A provider that is down
// is skipped while the job has a route to one that is not; when all are
// down, the first with a free slot is tried. usable is false when the job
// has no route left at all. s.mu held.
func (s *Service) pickRoute(j *Job, now time.Time) (r *route, usable bool) {
	var downFree *route
	allDown := true
	for _, c := range s.routes[j.Req.Model] {
		if !s.usable(c, j) {
			continue
		}
		usable = true
		if c.up.health.down(now) {
			if downFree == nil && c.up.free() {
				downFree = c
			}
			continue
		}
		allDown = false
		if c.up.free() {
			return c, true
		}
	}
	if allDown {
		return downFree, usable
	}
	return nil, usable
}

// usable reports whether job j may still take route r: its provider is
// enabled, was not tried, and takes the request.
func (s *Service) usable(r *route, j *Job) bool {
	return !r.up.Disabled && !slices.Contains(j.Tried, r.up.Name) && r.check(&j.Req) == nil
}

// hasOtherRoute reports whether j may go to a provider other than u.
func (s *Service) hasOtherRoute(j *Job, u *upstream) bool {
	for _, r := range s.routes[j.Req.Model] {
		if r.up != u && s.usable(r, j) {
			return true
		}
	}
	return false
}

// release frees a slot at provider u.
func (s *Service) release(u *upstream) {
	s.mu.Lock()
	u.inflight--
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

// submit sends one queued job to the provider of route r. It reports
// whether the job now holds the slot there (it is being polled).
func (s *Service) submit(id string, r *route) bool {
	// The create call must not be cut short by shutdown: a half-sent create
	// would leave a task we cannot account for. It has its own timeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 2*time.Minute)
	defer cancel()
	u := r.up
	// The stored job is authoritative: a stale copy in the queue must not
	// send the job to a provider it has already tried.
	var triedHere bool
	j, ok, err := s.writeJob(ctx, "mark submitting", id, Submitting, 0, func(ctx context.Context) (*Job, bool, error) {
		triedHere = false
		return s.store.Transition(ctx, id, []State{Queued}, func(j *Job) {
			if triedHere = slices.Contains(j.Tried, u.Name); triedHere {
				return
			}
			j.State, j.Provider, j.WireModel = Submitting, u.Name, r.wire.ID
		})
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
	if triedHere {
		s.log.Warn("the job was picked for a provider it has tried; queueing it again", "job_id", id, "provider", u.Name, "tried", j.Tried)
		s.mu.Lock()
		if s.queueIndex(id) < 0 {
			s.queue = slices.Insert(s.queue, 0, j.Clone())
		}
		s.mu.Unlock()
		s.kick(s.dispatch)
		return false
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
	taskID, moved, err := s.create(ctx, j, r, r.request(&req))
	if moved {
		return false
	}
	if errors.Is(err, errStopped) {
		s.requeueAtStop(ctx, j)
		return false
	}
	if err == nil && taskID == "" {
		err = msgNotTaken.Err(EUNAVAILABLE, nil)
	}
	if err != nil {
		s.log.Warn("provider create failed", "job_id", id, "provider", u.Name, "model", m.ID, "err", err)
		if IsTemporary(err) {
			err = MsgProviderBusy.Err(EUNAVAILABLE, nil)
		}
		s.fail(ctx, j, []State{Submitting}, err)
		return false
	}
	s.callSucceeded(u)
	now := time.Now().UTC()
	sj, ok, err := s.writeJob(ctx, "store task id", id, Submitted, storeAttempts, func(ctx context.Context) (*Job, bool, error) {
		return s.store.Transition(ctx, id, []State{Submitting}, func(j *Job) {
			j.State, j.TaskID, j.SubmittedAt = Submitted, taskID, now
		})
	})
	if err != nil || !ok {
		// The task exists at the provider but we could not record it: treat
		// it like a crash in between (fail and refund, never resubmit).
		s.log.Error("store task id", "job_id", id, "provider", u.Name, "task_id", taskID, "err", err)
		if err == nil {
			err = fmt.Errorf("store task id: job %s is %s, not submitting", id, sj.State)
		}
		s.fail(ctx, j, []State{Submitting}, err)
		return false
	}
	j = sj
	s.cfg.Metrics.JobState(Submitting, Submitted)
	s.log.Info("job submitted", "job_id", id, "model", m.ID, "provider", u.Name, "wire_model", r.wire.ID, "task_id", taskID)
	s.notify(Event{Type: EventSubmitted, Job: j, Progress: -1})
	s.startPolling(j, m, u, r.wire)
	return true
}

// errStopped says the service stopped while create waited (for the
// provider's pace or between retries) and no create of this attempt can
// have made a task: the job may be sent at the next start.
var errStopped = errors.New("stopped before the provider made a task")

// create calls the provider of route r for job j: a create that certainly
// made no task goes to the next route at once (moved: the job is queued
// again) or, when there is none, is retried with back-off. The waits
// before a call end when the service stops (errStopped when every create
// so far certainly made no task); a call once sent runs to its own end.
func (s *Service) create(ctx context.Context, j *Job, r *route, req *Request) (taskID string, moved bool, err error) {
	u := r.up
	noneMade := true // every create so far certainly made no task
	stopped := func(last error) error {
		if noneMade {
			return errStopped
		}
		return fmt.Errorf("stopped while retrying the create: %w", last)
	}
	for attempt := 0; ; attempt++ {
		if werr := u.lim.Wait(s.ctx); werr != nil {
			if s.ctx.Err() != nil {
				return "", false, stopped(err)
			}
			return "", false, werr
		}
		start := time.Now()
		taskID, err = u.Client.Submit(ctx, r.wire, req)
		s.cfg.Metrics.ProviderCall(u.Name, "submit", time.Since(start), err)
		if err == nil {
			return taskID, false, nil
		}
		s.callFailed(u, err)
		noneMade = noneMade && noTask(err)
		if noTask(err) && s.hasOtherRoute(j, u) {
			s.log.Warn("provider did not take the job; moving it to the next route", "job_id", j.ID, "provider", u.Name, "err", err)
			return "", s.failover(ctx, j, Submitting, u), err
		}
		if !IsTemporary(err) || attempt >= s.cfg.SubmitRetries {
			return "", false, err
		}
		s.log.Warn("provider create failed before acceptance; retrying", "job_id", j.ID, "provider", u.Name, "attempt", attempt+1, "err", err)
		if !Sleep(s.ctx, retryWait(err, 0, s.cfg.RetryBase<<attempt)) {
			return "", false, stopped(err)
		}
	}
}

// requeueAtStop puts back in the queue a job that was being sent when the
// service stopped, before the provider made a task for it: the next start
// sends it. A job whose write fails stays Submitting and is failed and
// refunded at the next start.
func (s *Service) requeueAtStop(ctx context.Context, j *Job) {
	_, ok, err := s.writeJob(ctx, "queue job again at stop", j.ID, Queued, storeAttempts, func(ctx context.Context) (*Job, bool, error) {
		return s.store.Transition(ctx, j.ID, []State{Submitting}, func(j *Job) {
			j.State, j.Provider, j.WireModel = Queued, "", ""
		})
	})
	if err != nil || !ok {
		s.log.Error("queue job again at stop", "job_id", j.ID, "provider", j.Provider, "err", err)
		return
	}
	s.cfg.Metrics.JobState(Submitting, Queued)
	s.log.Info("stopped before the job was sent; it is sent at the next start", "job_id", j.ID, "provider", j.Provider)
}

// noTask reports whether a create error says the provider certainly made
// no task, for its own reasons (unreachable, busy, its account or the model
// there): the job may go to another provider without risk of two videos.
func noTask(err error) bool {
	return (IsTemporary(err) || IsRefused(err)) && ErrorCode(err) != EINVALID
}

// failover puts a job that provider u certainly did not make (a create it
// refused, or a task it failed for its own reasons) back at the front of
// the queue, never to go to u again. The user pays once: nothing is charged
// or refunded. It reports false when the job could not be stored so; the
// caller then fails it.
func (s *Service) failover(ctx context.Context, j *Job, from State, u *upstream) bool {
	oldTask := j.TaskID
	nj, ok, err := s.writeJob(ctx, "move job to another provider", j.ID, Queued, 0, func(ctx context.Context) (*Job, bool, error) {
		return s.store.Transition(ctx, j.ID, []State{from}, func(j *Job) {
			j.State = Queued
			j.Tried = append(j.Tried, u.Name)
			j.Provider, j.WireModel, j.TaskID, j.SubmittedAt = "", "", "", time.Time{}
		})
	})
	if err != nil {
		// Stopping, or the job is gone: the caller fails it (a job still
		// there is recovered at the next start).
		s.log.Error("move job to another provider", "job_id", j.ID, "provider", u.Name, "err", err)
		return false
	}
	if !ok {
		return true // it moved on meanwhile
	}
	s.cfg.Metrics.JobState(from, Queued)
	s.log.Info("job goes to another provider", "job_id", j.ID, "from_provider", u.Name, "from_task_id", oldTask, "tried", nj.Tried)
	s.mu.Lock()
	s.queue = slices.Insert(s.queue, 0, nj.Clone())
	s.mu.Unlock()
	s.notify(Event{Type: EventRetrying, Job: nj, Progress: -1})
	s.kick(s.dispatch)
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
		s.log.Warn("job failed: provider or model unavailable", "job_id", j.ID, "model", j.Req.Model, "provider", j.Provider, "reason", msg)
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
