package telegramtest

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

type fault struct {
	status     int
	retryAfter int
}

// FailNext makes the next n calls of method (after validation) answer
// status: 429 carries parameters.retry_after = retryAfter and the description
// "Too Many Requests: retry after N" (and, for a call to a chat, opens that
// chat's 429 window like Throttle); other statuses carry a generic
// description. Method "*" matches every method.
func (s *Server) FailNext(method string, n int, status int, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.faults[method] = append(s.faults[method], fault{status: status, retryAfter: retryAfter})
	}
}

// Throttle makes the next send or edit to chatID answer 429 with
// retry_after; until that window has passed, every further call to the chat
// is a violation and gets 429 again.
func (s *Server) Throttle(chatID int64, retryAfter int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatLocked(chatID)
	c.throttleNext = retryAfter
}

// Block makes chatID's user block the bot: sends to that chat answer 403.
func (s *Server) Block(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatLocked(chatID).blocked = true
}

// Unblock undoes Block.
func (s *Server) Unblock(chatID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatLocked(chatID).blocked = false
}

// SetDelay makes calls of method (or "*": every method) wait d before they
// are answered; d = 0 removes the delay.
func (s *Server) SetDelay(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.delays, method)
		return
	}
	s.delays[method] = d
}

func (s *Server) delay(method string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.delays[method]; ok {
		return d
	}
	return s.delays["*"]
}

// chatMethod reports whether a method acts on a chat for the purposes of
// Block and the 429 window.
func chatMethod(method string) bool {
	for _, p := range []string{"send", "edit", "copy", "forward", "delete", "stop", "pin", "unpin"} {
		if strings.HasPrefix(method, p) {
			return true
		}
	}
	return false
}

func retryAfterError(sec int) *apiError {
	return &apiError{code: 429, desc: fmt.Sprintf("Too Many Requests: retry after %d", sec), retryAfter: sec}
}

// takeFault applies scripted failures, blocks and 429 windows to a call.
func (s *Server) takeFault(method string, req *request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	chatID, hasChat := req.int64("chat_id")
	var c *chat
	if hasChat && chatMethod(method) {
		c = s.chats[chatID]
	}
	now := time.Now()
	if c != nil && now.Before(c.throttleUntil) {
		left := int(math.Ceil(c.throttleUntil.Sub(now).Seconds()))
		s.violations = append(s.violations, fmt.Sprintf("%s to chat %d during its 429 window (%d s left)", method, chatID, left))
		return retryAfterError(left)
	}
	q := s.faults[method]
	key := method
	if len(q) == 0 {
		q, key = s.faults["*"], "*"
	}
	if len(q) > 0 {
		f := q[0]
		s.faults[key] = q[1:]
		if f.status == 429 {
			if c != nil && f.retryAfter > 0 {
				c.throttleUntil = now.Add(time.Duration(f.retryAfter) * time.Second)
			}
			return retryAfterError(f.retryAfter)
		}
		desc := http.StatusText(f.status)
		if f.status >= 500 {
			desc = "Internal Server Error"
		} else if f.status == 400 {
			desc = "Bad Request: scripted failure"
		}
		return &apiError{code: f.status, desc: desc}
	}
	if c == nil {
		return nil
	}
	if c.blocked && (strings.HasPrefix(method, "send") || strings.HasPrefix(method, "copy") || strings.HasPrefix(method, "forward") || strings.HasPrefix(method, "edit")) {
		if c.private() {
			return &apiError{code: 403, desc: "Forbidden: bot was blocked by the user"}
		}
		return &apiError{code: 403, desc: "Forbidden: bot was kicked from the supergroup chat"}
	}
	if c.throttleNext > 0 && (strings.HasPrefix(method, "send") || strings.HasPrefix(method, "edit") || strings.HasPrefix(method, "copy") || strings.HasPrefix(method, "forward")) {
		sec := c.throttleNext
		c.throttleNext = 0
		c.throttleUntil = now.Add(time.Duration(sec) * time.Second)
		return retryAfterError(sec)
	}
	return nil
}

// Call is one request the server received.
type Call struct {
	Time   time.Time
	Method string            // as described by the spec ("sendMessage"), or as requested when unknown
	Params map[string]string // non-file values; JSON values as their JSON text
	Files  []Upload
	Status int // HTTP status answered
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.calls) >= s.opt.MaxCalls {
		n := copy(s.calls, s.calls[len(s.calls)/2:])
		clear(s.calls[n:])
		s.calls = s.calls[:n]
	}
	s.calls = append(s.calls, c)
	s.notifyLocked()
}

// Calls returns every call received, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsTo returns the calls of one method, oldest first.
func (s *Server) CallsTo(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Violations lists what the bot did that Telegram tolerates or punishes
// later but a careful bot should not do: unknown fields, calls to a chat
// inside its 429 window, callback queries answered twice, URLs Telegram
// could not fetch.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}
