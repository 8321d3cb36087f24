package telegramtest

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/go-telegram/bot/models"
)

// queued is an update not yet confirmed by the bot.
type queued struct {
	u         *models.Update
	kind      string
	redeliver bool // survives one confirming offset (Redeliver)
	sent      bool // returned by getUpdates since it was queued again
}

type updateQueue struct {
	nextID  int64
	items   []*queued // by update_id
	history map[int64]*models.Update
	allowed []string // nil: Telegram's default set
}

// updateKind names the update's type as allowed_updates spells it.
func updateKind(u *models.Update) string {
	b, _ := json.Marshal(u)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	for k := range m {
		if k != "update_id" {
			return k
		}
	}
	return ""
}

// pushLocked queues a new update and returns its id. s.mu is held.
func (s *Server) pushLocked(u *models.Update) int64 {
	q := &s.updates
	u.ID = q.nextID
	q.nextID++
	if q.history == nil {
		q.history = map[int64]*models.Update{}
	}
	q.history[u.ID] = u
	q.items = append(q.items, &queued{u: u, kind: updateKind(u)})
	s.notifyLocked()
	return u.ID
}

// Redeliver queues an update again, as Telegram does when the bot did not
// confirm it (for example after a crash): long polling returns it once more
// even to a client whose offset is already past it, and a webhook gets it
// POSTed again.
func (s *Server) Redeliver(updateID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := &s.updates
	for _, it := range q.items {
		if it.u.ID == updateID {
			it.redeliver, it.sent = true, false
			s.notifyLocked()
			return
		}
	}
	u := q.history[updateID]
	if u == nil {
		return
	}
	q.items = append(q.items, &queued{u: u, kind: updateKind(u), redeliver: true})
	sort.SliceStable(q.items, func(i, j int) bool { return q.items[i].u.ID < q.items[j].u.ID })
	s.notifyLocked()
}

// DeliverInOrder queues updates (pending or already confirmed) to be posted
// to the webhook next, one by one in exactly the order given, each as by
// Redeliver. Telegram posts in update_id order, but a bot that handles
// updates concurrently meets them in any order: this lets a test choose
// that order. getUpdates still returns them in update_id order, as Telegram
// does (clients take the last update's id as their offset).
func (s *Server) DeliverInOrder(ids ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := &s.updates
	var front []*queued
	for _, id := range ids {
		if u := q.history[id]; u != nil {
			front = append(front, &queued{u: u, kind: updateKind(u), redeliver: true})
		}
	}
	rest := make([]*queued, 0, len(q.items))
	for _, it := range q.items {
		if !slices.Contains(ids, it.u.ID) {
			rest = append(rest, it)
		}
	}
	q.items = append(front, rest...)
	s.notifyLocked()
}

// PendingUpdates returns how many updates are waiting to be confirmed.
func (s *Server) PendingUpdates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.updates.items)
}

var defaultAllowed = map[string]bool{"chat_member": false, "message_reaction": false, "message_reaction_count": false}

func (s *Server) allowedLocked(kind string) bool {
	a := s.updates.allowed
	if len(a) == 0 {
		allowed, listed := defaultAllowed[kind]
		return allowed || !listed
	}
	for _, k := range a {
		if k == kind {
			return true
		}
	}
	return false
}

// setAllowedLocked applies an allowed_updates value (a JSON array).
func (s *Server) setAllowedLocked(raw string) {
	if raw == "" {
		return
	}
	var list []string
	if json.Unmarshal([]byte(raw), &list) == nil {
		s.updates.allowed = list
	}
}

// confirmLocked applies a getUpdates offset. s.mu is held.
func (s *Server) confirmLocked(offset int64) {
	q := &s.updates
	switch {
	case offset > 0:
		keep := q.items[:0]
		for _, it := range q.items {
			if it.u.ID >= offset || (it.redeliver && !it.sent) {
				keep = append(keep, it)
			}
		}
		clear(q.items[len(keep):])
		q.items = keep
	case offset < 0:
		n := int(-offset)
		if n < len(q.items) {
			q.items = append([]*queued(nil), q.items[len(q.items)-n:]...)
		}
	}
}

// dropDisallowedLocked drops queued updates of kinds allowed_updates leaves
// out, as Telegram does. s.mu is held.
func (s *Server) dropDisallowedLocked() {
	q := &s.updates
	keep := q.items[:0]
	for _, it := range q.items {
		if s.allowedLocked(it.kind) {
			keep = append(keep, it)
		} else {
			s.droppedLocked(it.u)
		}
	}
	clear(q.items[len(keep):])
	q.items = keep
}

// takeLocked returns up to limit pending updates of the allowed kinds,
// dropping updates of other kinds as Telegram does. s.mu is held.
func (s *Server) takeLocked(limit int) []*models.Update {
	q := &s.updates
	s.dropDisallowedLocked()
	// The queue may be out of update_id order (DeliverInOrder, for
	// webhooks); getUpdates answers in order.
	items := slices.Clone(q.items)
	slices.SortStableFunc(items, func(a, b *queued) int { return cmp.Compare(a.u.ID, b.u.ID) })
	out := []*models.Update{}
	for _, it := range items {
		if len(out) == limit {
			break
		}
		it.sent = true
		out = append(out, it.u)
	}
	return out
}

// poller is one running getUpdates call.
type poller struct {
	done       chan struct{}
	terminated bool
}

var errWebhookActive = &apiError{code: 409, desc: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"}

func (s *Server) getUpdates(ctx context.Context, r *request) (any, *apiError) {
	limit := 100
	if n, ok := r.int64("limit"); ok {
		limit = int(min(max(n, 1), 100))
	}
	var timeout time.Duration
	if n, ok := r.int64("timeout"); ok && n > 0 {
		timeout = min(time.Duration(n)*time.Second, s.opt.MaxPoll)
	}
	offset, _ := r.int64("offset")

	s.mu.Lock()
	if s.hook.url != "" {
		s.mu.Unlock()
		return nil, errWebhookActive
	}
	if old := s.poll; old != nil {
		old.terminated = true
		close(old.done)
	}
	me := &poller{done: make(chan struct{})}
	s.poll = me
	if _, ok := r.params["allowed_updates"]; ok {
		s.setAllowedLocked(r.params["allowed_updates"])
	}
	s.confirmLocked(offset)
	s.mu.Unlock()

	defer func() {
		s.mu.Lock()
		if s.poll == me {
			s.poll = nil
		}
		s.mu.Unlock()
	}()
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		s.mu.Lock()
		if s.hook.url != "" {
			s.mu.Unlock()
			return nil, errWebhookActive
		}
		if me.terminated {
			s.mu.Unlock()
			return nil, &apiError{code: 409, desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
		out := s.takeLocked(limit)
		changed := s.changed
		s.mu.Unlock()
		if len(out) > 0 || timeout == 0 {
			return out, nil
		}
		select {
		case <-changed:
		case <-me.done:
		case <-deadline:
			return []*models.Update{}, nil
		case <-ctx.Done():
			return []*models.Update{}, nil
		case <-s.ctx.Done():
			return []*models.Update{}, nil
		}
	}
}
