// Package media serves short-lived public links of the bot's own
// (/media/<random>): uploaded images for providers that fetch images by
// URL, and videos too big to upload to a chat.
package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"sorabot/core"
)

// Prefix is the path under which links are served.
const Prefix = "/media/"

// FileTTL is how long a video link lives.
const FileTTL = 24 * time.Hour

// Host keeps links in memory; they end with the process or their TTL.
type Host struct {
	base string // public base URL, without a trailing slash
	mu   sync.Mutex
	m    map[string]entry
	now  func() time.Time
}

type entry struct {
	data    []byte
	path    string
	ctype   string
	expires time.Time
}

var _ core.MediaHost = (*Host)(nil)

// New returns a host whose links start with publicURL + Prefix.
func New(publicURL string) *Host {
	return &Host{base: strings.TrimRight(publicURL, "/"), m: map[string]entry{}, now: time.Now}
}

func token() string {
	var b [18]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (h *Host) add(e entry) string {
	t := token()
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	for k, v := range h.m {
		if now.After(v.expires) {
			delete(h.m, k)
		}
	}
	h.m[t] = e
	return h.base + Prefix + t
}

// Publish serves data at a new random link for ttl.
func (h *Host) Publish(ctx context.Context, data []byte, contentType string, ttl time.Duration) (string, error) {
	return h.add(entry{data: bytes.Clone(data), ctype: contentType, expires: h.now().Add(ttl)}), nil
}

// PublishFile serves a local file at a new random link for FileTTL.
func (h *Host) PublishFile(path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	return h.add(entry{path: path, ctype: "video/mp4", expires: h.now().Add(FileTTL)}), nil
}

// ServeHTTP answers GET /media/<token>.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := strings.TrimPrefix(r.URL.Path, Prefix)
	h.mu.Lock()
	e, ok := h.m[t]
	h.mu.Unlock()
	if !ok || h.now().After(e.expires) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", e.ctype)
	w.Header().Set("Cache-Control", "private, max-age=300")
	if e.path != "" {
		f, err := os.Open(e.path)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", fi.ModTime(), f)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(e.data))
}
