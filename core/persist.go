package core

import (
	"context"
	"fmt"
	"time"
)

// maxStoreBackoff caps the wait between two attempts of a failed store call.
const maxStoreBackoff = 15 * time.Second

// persist runs call, a store call a job's progress depends on, until it
// succeeds: each failure is logged and retried after a capped exponential
// backoff, so that a job never sits in a state until the next start because
// one call failed. A definite answer (an *Error such as ENOTFOUND) is
// returned at once; attempts > 0 bounds the tries. It gives up when the
// service stops: the job then resumes at the next start. call gets ctx
// without its cancellation, so a caller's deadline cannot make it fail for
// good.
func (s *Service) persist(ctx context.Context, op, jobID string, attempts int, call func(ctx context.Context) error) error {
	ctx = context.WithoutCancel(ctx)
	for attempt := 1; ; attempt++ {
		err := call(ctx)
		if err == nil || ErrorCode(err) != EINTERNAL {
			return err
		}
		if attempts > 0 && attempt >= attempts {
			s.log.Error("store call failed; giving up", "op", op, "job_id", jobID, "attempts", attempt, "err", err)
			return err
		}
		s.log.Error("store call failed; retrying", "op", op, "job_id", jobID, "attempt", attempt, "err", err)
		if !Sleep(s.ctx, min(s.cfg.RetryBase<<min(attempt-1, 16), maxStoreBackoff)) {
			return fmt.Errorf("%s: stopped while retrying: %w", op, err)
		}
	}
}

// writeJob is persist for a Transition or Finish that moves job id to state
// to. It returns the job as stored and whether the move happened, counting
// a move that an attempt made although it reported an error (the retry then
// finds the job already there).
func (s *Service) writeJob(ctx context.Context, op, id string, to State, attempts int,
	write func(ctx context.Context) (*Job, bool, error)) (*Job, bool, error) {
	var (
		j          *Job
		ok, failed bool
	)
	err := s.persist(ctx, op, id, attempts, func(ctx context.Context) error {
		var err error
		j, ok, err = write(ctx)
		failed = failed || err != nil
		return err
	})
	if err == nil && !ok && failed && j != nil && j.State == to {
		ok = true
	}
	return j, ok, err
}
