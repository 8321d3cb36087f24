package core

import "time"

// PollDue reports when the poll scheduler next looks at job id and how many
// status calls of it failed in a row; ok is false when it is not polled.
func (s *Service) PollDue(id string) (due time.Time, errs int, ok bool) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	e := s.sched.entries[id]
	if e == nil {
		return time.Time{}, 0, false
	}
	return e.due, e.errs, true
}
