package core

import (
	"context"
	"fmt"
)

// recover resumes every unfinished job after a start (docs/ARCHITECTURE.md):
// queued jobs are queued again in order, submitted jobs are polled,
// succeeded jobs are delivered, and a job caught while being submitted is
// failed and refunded, never submitted twice. It reads the active index
// only, not the finished history.
func (s *Service) recover(ctx context.Context) error {
	jobs, err := s.store.ActiveJobs(ctx)
	if err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	var queued, polled, delivering, failed int
	for _, j := range jobs {
		switch j.State {
		case Queued:
			// A job accepted before the start (webhooks are served
			// first) is in the queue already.
			s.mu.Lock()
			if s.queueIndex(j.ID) < 0 {
				s.queue = append(s.queue, j)
				queued++
			}
			s.mu.Unlock()
		case Submitting:
			s.failLater(ctx, j, []State{Submitting}, msgRestartedSending.Err(EUNAVAILABLE, nil))
			failed++
		case Submitted:
			m, ok := s.catalog.Model(j.Req.Model)
			if !ok {
				s.failLater(ctx, j, []State{Submitted}, msgModelGone.Err(EUNAVAILABLE, Args{"Model": j.Req.Model}))
				failed++
				continue
			}
			u, wire := s.placeOf(ctx, j, m)
			if u == nil {
				s.log.Warn("the job's provider is no longer configured; failing and refunding it", "job_id", j.ID,
					"provider", j.Provider, "task_id", j.TaskID)
				s.failLater(ctx, j, []State{Submitted}, msgProviderGone.Err(EUNAVAILABLE, nil))
				failed++
				continue
			}
			s.mu.Lock()
			u.inflight++
			s.inflight++
			s.mu.Unlock()
			s.startPolling(j, m, u, wire)
			polled++
		case Succeeded:
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.deliver(j)
			}()
			delivering++
		}
	}
	if len(jobs) > 0 {
		s.log.Info("recovered jobs", "queued", queued, "polling", polled, "delivering", delivering, "failed", failed)
	}
	s.kick(s.dispatch)
	return nil
}

// placeOf finds where a submitted job is being made: its recorded provider
// and the model's name there. A job stored before several providers
// existed records neither: it belongs to the single configured provider,
// or to the one named as the single provider was then (its protocol, or
// "demo"), and is migrated to record it. u is nil when the provider is not
// configured (any more).
func (s *Service) placeOf(ctx context.Context, j *Job, m *Model) (u *upstream, wire *Model) {
	if j.Provider == "" {
		switch {
		case len(s.ups) == 1:
			u = s.ups[0]
		case s.byName[m.Protocol] != nil:
			u = s.byName[m.Protocol]
		default:
			u = s.byName[ProtocolDemo]
		}
		if u == nil {
			s.log.Warn("a job from before several providers were configured cannot be placed at one", "job_id", j.ID)
			return nil, nil
		}
		nj, ok, err := s.store.Transition(ctx, j.ID, []State{Submitted}, func(j *Job) { j.Provider, j.WireModel = u.Name, m.ID })
		if err != nil || !ok {
			s.log.Error("record the provider of a job from before several providers", "job_id", j.ID, "provider", u.Name, "err", err)
		} else {
			*j = *nj
		}
		return u, m
	}
	if u = s.byName[j.Provider]; u == nil {
		return nil, nil
	}
	if r := s.routeOf(m.ID, u); r != nil && (j.WireModel == "" || r.wire.ID == j.WireModel) {
		return u, r.wire
	}
	if w, ok := s.catalog.Model(j.WireModel); ok {
		return u, w
	}
	cp := *m
	cp.ID = j.WireModel
	return u, &cp
}

// failLater fails a job without holding up the start: a store write that
// fails is retried in the background until it lands or the service stops.
func (s *Service) failLater(ctx context.Context, j *Job, from []State, err error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.fail(ctx, j, from, err)
	}()
}
