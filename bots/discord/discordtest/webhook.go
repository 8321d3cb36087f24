package discordtest

import (
	"encoding/json"
	"net/http"
	"time"
)

// awaitHTTPAnswer lets a webhook call that races the HTTP answer carrying
// the initial response see that answer first, unless AnswerLag asks for
// Discord's less forgiving behaviour.
func (s *Server) awaitHTTPAnswer(token string) {
	if s.opt.AnswerLag > 0 {
		return
	}
	s.waitFor(s.opt.AckTimeout, func() bool {
		it := s.byToken[token]
		return it == nil || !it.httpPending
	})
}

// webhookLocked resolves an interaction webhook (application id + token).
func (s *Server) webhookLocked(appID, token string) (*interaction, *apiError) {
	if appID != s.opt.AppID {
		return nil, errUnknownWebhook()
	}
	it := s.byToken[token]
	if it == nil || time.Now().After(it.expires) {
		return nil, errInvalidToken()
	}
	if !it.acked || time.Now().Before(it.answered.Add(s.opt.AnswerLag)) {
		return nil, errUnknownWebhook()
	}
	return it, nil
}

func (s *Server) handleWebhookMessage(method, appID, token, messageID string, b *body) reply {
	s.awaitHTTPAnswer(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	it, e := s.webhookLocked(appID, token)
	if e != nil {
		return fail(e)
	}
	var m *message
	if messageID == "@original" || (it.original != nil && it.original.ID == messageID) {
		m = it.original
	} else {
		for _, f := range it.followups {
			if f.ID == messageID {
				m = f
			}
		}
	}
	if m == nil || m.Deleted {
		return fail(errUnknownMessage())
	}
	switch method {
	case http.MethodGet:
		return ok(m.render())
	case http.MethodDelete:
		m.Deleted = true
		s.notifyLocked()
		return noContent()
	}
	p := b.obj()
	if p == nil {
		p = map[string]any{}
	}
	if e := checkMessage(p, len(b.files), false); e != nil {
		return fail(e)
	}
	next := *m
	next.apply(p, true)
	s.attach(&next, p, b.files)
	next.Flags &^= flagLoading
	if next.Content == "" && len(next.Attachments) == 0 && rawString(next.Embeds) == "" && rawString(next.Components) == "" {
		return fail(errEmptyMessage())
	}
	next.Edited = time.Now()
	next.Edits++
	*m = next
	s.notifyLocked()
	return ok(m.render())
}

func (s *Server) handleFollowup(appID, token string, wait bool, b *body) reply {
	s.awaitHTTPAnswer(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	it, e := s.webhookLocked(appID, token)
	if e != nil {
		return fail(e)
	}
	p := b.obj()
	if p == nil {
		p = map[string]any{}
	}
	if e := checkMessage(p, len(b.files), true); e != nil {
		return fail(e)
	}
	m := s.interactionMessage(it)
	m.Type = 19
	m.apply(p, false)
	s.attach(m, p, b.files)
	it.followups = append(it.followups, m)
	s.notifyLocked()
	if !wait {
		return noContent()
	}
	return ok(m.render())
}

func (s *Server) responseLocked(it *interaction) (Response, bool) {
	if !it.acked {
		return Response{}, false
	}
	r := Response{InteractionID: it.i.ID, Type: it.ackType}
	if m := it.original; m != nil {
		r.Content, r.Flags, r.Components, r.Edits = m.Content, m.Flags, rawString(m.Components), m.Edits
		for _, a := range m.Attachments {
			r.Files = append(r.Files, a.Upload)
		}
		r.Data, _ = json.Marshal(m.render())
	}
	if it.modal != nil {
		r.Data = append(json.RawMessage(nil), it.modal...)
		var md struct {
			Components json.RawMessage `json:"components"`
		}
		_ = json.Unmarshal(it.modal, &md)
		r.Components = rawString(md.Components)
	}
	return r, true
}

// Original returns the interaction's current original response; false until
// the interaction has been acknowledged.
func (s *Server) Original(interactionID string) (Response, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.interactions[interactionID]
	if it == nil {
		return Response{}, false
	}
	return s.responseLocked(it)
}

// WaitOriginal waits until the interaction's original response satisfies
// match (nil: until it is acknowledged at all).
func (s *Server) WaitOriginal(timeout time.Duration, interactionID string, match func(Response) bool) (Response, bool) {
	var found Response
	ok := s.waitFor(timeout, func() bool {
		it := s.interactions[interactionID]
		if it == nil {
			return false
		}
		r, acked := s.responseLocked(it)
		if acked && (match == nil || match(r)) {
			found = r
			return true
		}
		return false
	})
	return found, ok
}

// Followups returns the follow-up messages sent for an interaction.
func (s *Server) Followups(interactionID string) []ChannelMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.interactions[interactionID]
	if it == nil {
		return nil
	}
	out := make([]ChannelMessage, 0, len(it.followups))
	for _, m := range it.followups {
		out = append(out, m.view())
	}
	return out
}
