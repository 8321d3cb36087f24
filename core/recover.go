package core

import (
	"context"
	"fmt"
)

// recover resumes every unfinished job after a start (PRODUCT.md §4):
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
			s.mu.Lock()
			s.queue = append(s.queue, j)
			s.mu.Unlock()
			queued++
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
			s.mu.Lock()
			s.inflight++
			s.mu.Unlock()
			s.startPolling(j, m)
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

// failLater fails a job without holding up the start: a store write that
// fails is retried in the background until it lands or the service stops.
func (s *Service) failLater(ctx context.Context, j *Job, from []State, err error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.fail(ctx, j, from, err)
	}()
}
