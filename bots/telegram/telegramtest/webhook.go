package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/go-telegram/bot/models"
)

// webhook is the state setWebhook records.
type webhook struct {
	url, secret string
	maxConn     int
	lastErrDate int
	lastErrMsg  string
	nextTry     time.Time
	backoff     time.Duration
}

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// Webhook returns the URL and secret token set by setWebhook ("" when none).
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hook.url, s.hook.secret
}

func validSecret(s string) bool {
	if len(s) > 256 {
		return false
	}
	for _, c := range s {
		if c != '_' && c != '-' && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// setWebhook accepts http as well as https URLs on any port, as a local Bot
// API server does, so that tests can use loopback.
func (s *Server) setWebhook(_ context.Context, r *request) (any, *apiError) {
	raw := r.params["url"]
	secret := r.params["secret_token"]
	if raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
		}
	}
	if !validSecret(secret) {
		return nil, badRequest("secret token contains unallowed characters")
	}
	maxConn := 40
	if n, ok := r.int64("max_connections"); ok {
		if n < 1 || n > 100 {
			return nil, badRequest("bad webhook: max_connections must be between 1 and 100")
		}
		maxConn = int(n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if raw == "" {
		s.hook = webhook{}
	} else {
		s.hook = webhook{url: raw, secret: secret, maxConn: maxConn}
	}
	if _, ok := r.params["allowed_updates"]; ok {
		s.setAllowedLocked(r.params["allowed_updates"])
	}
	if r.bool("drop_pending_updates") {
		s.updates.items = nil
	}
	if p := s.poll; p != nil && raw != "" {
		p.terminated = true
		close(p.done)
		s.poll = nil
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) deleteWebhook(_ context.Context, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = webhook{}
	if r.bool("drop_pending_updates") {
		s.updates.items = nil
	}
	s.notifyLocked()
	return true, nil
}

func (s *Server) getWebhookInfo(context.Context, *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	info := models.WebhookInfo{
		URL:                s.hook.url,
		PendingUpdateCount: len(s.updates.items),
		LastErrorDate:      s.hook.lastErrDate,
		LastErrorMessage:   s.hook.lastErrMsg,
	}
	if s.hook.url != "" {
		info.MaxConnections = s.hook.maxConn
		info.IPAddress = "127.0.0.1"
		info.AllowedUpdates = s.updates.allowed
	}
	return info, nil
}

// deliverWebhooks POSTs pending updates, one at a time and in order, while a
// webhook is set. An update is confirmed by a 2xx answer; anything else is
// retried after a short, growing backoff.
func (s *Server) deliverWebhooks() {
	defer s.wg.Done()
	client := &http.Client{Timeout: 30 * time.Second}
	for {
		s.mu.Lock()
		var next *queued
		var wait <-chan time.Time
		var timer *time.Timer
		hook := s.hook
		if hook.url != "" {
			s.dropDisallowedLocked()
			if len(s.updates.items) > 0 {
				if d := time.Until(hook.nextTry); d > 0 {
					timer = time.NewTimer(d)
					wait = timer.C
				} else {
					next = s.updates.items[0]
				}
			}
		}
		changed := s.changed
		s.mu.Unlock()

		if next == nil {
			select {
			case <-s.ctx.Done():
				if timer != nil {
					timer.Stop()
				}
				return
			case <-changed:
			case <-wait:
			}
			if timer != nil {
				timer.Stop()
			}
			continue
		}
		err := s.post(client, hook.url, hook.secret, next.u)
		s.mu.Lock()
		if s.hook.url == hook.url {
			if err == nil {
				for i, it := range s.updates.items {
					if it == next {
						s.updates.items = append(s.updates.items[:i], s.updates.items[i+1:]...)
						break
					}
				}
				s.hook.backoff = 0
				s.hook.nextTry = time.Time{}
			} else {
				s.hook.lastErrDate = int(time.Now().Unix())
				s.hook.lastErrMsg = err.Error()
				s.hook.backoff = min(max(2*s.hook.backoff, minBackoff), maxBackoff)
				s.hook.nextTry = time.Now().Add(s.hook.backoff)
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
		if s.ctx.Err() != nil {
			return
		}
	}
}

func (s *Server) post(client *http.Client, hookURL, secret string, u *models.Update) error {
	body, err := json.Marshal(u)
	if err != nil {
		return err
	}
	status, err := s.postRaw(client, hookURL, secret, body)
	if err != nil {
		return err
	}
	if status < 200 || status > 299 {
		return fmt.Errorf("Wrong response from the webhook: %d %s", status, http.StatusText(status))
	}
	return nil
}

func (s *Server) postRaw(client *http.Client, hookURL, secret string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, hookURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, nil
}

// PostUpdateRaw POSTs body to the webhook URL with the given secret header
// (none when empty), outside the update queue, and returns the status the
// bot answered: for testing how a bot treats forged or malformed requests.
func (s *Server) PostUpdateRaw(secret string, body []byte) (int, error) {
	hookURL, _ := s.Webhook()
	if hookURL == "" {
		return 0, fmt.Errorf("telegramtest: no webhook set")
	}
	return s.postRaw(&http.Client{Timeout: 30 * time.Second}, hookURL, secret, body)
}
