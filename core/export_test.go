package core

import "time"

// PollDue reports when the poll scheduler of the job's provider next looks
// at job id and how many status calls of it failed in a row; ok is false
// when it is not polled.
func (s *Service) PollDue(id string) (due time.Time, errs int, ok bool) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	for _, u := range s.ups {
		if e := u.sched.entries[id]; e != nil {
			return e.due, e.errs, true
		}
	}
	return time.Time{}, 0, false
}
