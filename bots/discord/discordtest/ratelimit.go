package discordtest

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rateGrace absorbs the millisecond rounding discordgo applies to reset times.
const rateGrace = 10 * time.Millisecond

type bucket struct {
	hash         string
	count        int
	windowEnd    time.Time
	blockedUntil time.Time // set by a 429
}

type failure struct {
	method     string // "" = any
	prefix     string
	n          int
	status     int
	retryAfter float64
}

// FailNext makes the next n requests whose "METHOD /path" starts with route
// fail with status. route is like "PATCH /webhooks" or "POST /channels/1/messages"
// (the path without /api/vN; a bare "/path" matches any method). With 429 the
// answer is Discord's rate-limit body and headers with retryAfter seconds, and
// a request to the same bucket before retryAfter elapses is a Violation.
func (s *Server) FailNext(route string, n int, status int, retryAfter float64) {
	f := &failure{n: n, status: status, retryAfter: retryAfter}
	if m, p, ok := strings.Cut(route, " "); ok {
		f.method, f.prefix = strings.ToUpper(m), p
	} else {
		f.prefix = route
	}
	if full, ok := apiPath(f.prefix); ok {
		f.prefix = full
	}
	s.mu.Lock()
	s.failures = append(s.failures, f)
	s.mu.Unlock()
}

// bucketKey groups requests like Discord does: per route, per major parameter.
func bucketKey(method, tmpl string, p map[string]string) string {
	key := method + " " + tmpl
	for _, major := range []string{"channel_id", "guild_id", "webhook_id", "webhook_token", "interaction_id", "interaction_token"} {
		if v, ok := p[major]; ok {
			key = strings.Replace(key, "{"+major+"}", v, 1)
		}
	}
	return key
}

func secs(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64)
}

// rateLimit applies scripted failures and bucket limits, setting the
// X-RateLimit headers; it reports whether it already answered.
func (s *Server) rateLimit(w http.ResponseWriter, method, path, key, tmpl string) (int, bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[key]
	if b == nil {
		sum := sha1.Sum([]byte(method + " " + tmpl))
		b = &bucket{hash: hex.EncodeToString(sum[:8])}
		s.buckets[key] = b
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opt.RateLimit))
	h.Set("X-RateLimit-Bucket", b.hash)

	if now.Before(b.blockedUntil.Add(-rateGrace)) {
		s.violatef("%s %s: request while rate limited (retry_after has %s left)", method, path, b.blockedUntil.Sub(now).Round(time.Millisecond))
		s.write429(w, b.blockedUntil.Sub(now).Seconds())
		return http.StatusTooManyRequests, true
	}
	for i, f := range s.failures {
		if f.n <= 0 || (f.method != "" && f.method != method) || !strings.HasPrefix(path, f.prefix) {
			continue
		}
		f.n--
		if f.n == 0 {
			s.failures = append(s.failures[:i:i], s.failures[i+1:]...)
		}
		if f.status == http.StatusTooManyRequests {
			b.blockedUntil = now.Add(time.Duration(f.retryAfter * float64(time.Second)))
			s.write429(w, f.retryAfter)
			return http.StatusTooManyRequests, true
		}
		writeAPIError(w, errCode(f.status, 0, fmt.Sprintf("%d: %s", f.status, http.StatusText(f.status))))
		return f.status, true
	}
	if !now.Before(b.windowEnd.Add(-rateGrace)) {
		b.count = 0
		b.windowEnd = now.Add(s.opt.RateWindow)
	}
	if b.count >= s.opt.RateLimit {
		s.violatef("%s %s: request to an exhausted rate-limit bucket (X-RateLimit-Remaining was 0, reset in %s)", method, path, b.windowEnd.Sub(now).Round(time.Millisecond))
		s.write429(w, b.windowEnd.Sub(now).Seconds())
		return http.StatusTooManyRequests, true
	}
	b.count++
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.opt.RateLimit-b.count))
	h.Set("X-RateLimit-Reset-After", secs(b.windowEnd.Sub(now)))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(b.windowEnd.UnixMilli())/1000, 'f', 3, 64))
	return 0, false
}

func (s *Server) write429(w http.ResponseWriter, retryAfter float64) {
	h := w.Header()
	ra := secs(time.Duration(retryAfter * float64(time.Second)))
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset-After", ra)
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(time.Now().Add(time.Duration(retryAfter*float64(time.Second))).UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Scope", "user")
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter))))
	v, _ := strconv.ParseFloat(ra, 64)
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message": "You are being rate limited.", "retry_after": v, "global": false,
	})
}
