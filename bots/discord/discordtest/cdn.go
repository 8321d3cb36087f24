package discordtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

type cdnFile struct {
	name, contentType string
	data              []byte
	expires           time.Time
}

// uploadChannelID is the channel user uploads (AddAttachment) live in.
const uploadChannelID = "1100000000000000001"

// AddAttachment stores a file as if a user had uploaded it and returns the
// attachment to put into an interaction's resolved data. Its URL is a signed,
// expiring https://cdn.discordapp.com/attachments/... URL, fetchable through
// Transport().
func (s *Server) AddAttachment(filename, contentType string, data []byte) discordgo.MessageAttachment {
	id := newID()
	u, proxy := s.cdnURLs(uploadChannelID, id, filename)
	s.mu.Lock()
	s.cdn[id] = &cdnFile{name: filename, contentType: contentType, data: append([]byte(nil), data...), expires: time.Now().Add(s.opt.AttachmentTTL)}
	s.mu.Unlock()
	return discordgo.MessageAttachment{
		ID: id, URL: u, ProxyURL: proxy, Filename: filename, ContentType: contentType, Size: len(data),
	}
}

// ExpireAttachments makes every CDN URL handed out so far expired, as
// Discord's signed attachment URLs are after a while.
func (s *Server) ExpireAttachments() {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := time.Now().Add(-time.Second)
	for _, f := range s.cdn {
		f.expires = past
	}
}

// cdnURLs returns the signed CDN and media-proxy URLs for an attachment.
func (s *Server) cdnURLs(channelID, id, filename string) (string, string) {
	path := "/attachments/" + channelID + "/" + id + "/" + escapeName(filename)
	now := time.Now()
	ex := strconv.FormatInt(now.Add(s.opt.AttachmentTTL).Unix(), 16)
	is := strconv.FormatInt(now.Unix(), 16)
	q := "?ex=" + ex + "&is=" + is + "&hm=" + s.cdnSign(path, ex, is) + "&"
	return "https://cdn.discordapp.com" + path + q, "https://media.discordapp.net" + path + q
}

func (s *Server) cdnSign(path, ex, is string) string {
	mac := hmac.New(sha256.New, s.cdnKey)
	mac.Write([]byte(path + "|" + ex + "|" + is))
	return hex.EncodeToString(mac.Sum(nil))
}

// serveCDN serves /attachments/{channel}/{id}/{name}: only with a valid,
// unexpired signature, like Discord's CDN.
func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request) {
	call := Call{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	status := s.cdnAnswer(w, r)
	call.Status = status
	s.record(call)
}

func (s *Server) cdnAnswer(w http.ResponseWriter, r *http.Request) int {
	gone := func() int {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("This content is no longer available."))
		return http.StatusNotFound
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return http.StatusMethodNotAllowed
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 4 {
		return gone()
	}
	q := r.URL.Query()
	ex, is, hm := q.Get("ex"), q.Get("is"), q.Get("hm")
	path := "/" + strings.Join(parts, "/")
	if !hmac.Equal([]byte(hm), []byte(s.cdnSign(r.URL.EscapedPath(), ex, is))) && !hmac.Equal([]byte(hm), []byte(s.cdnSign(path, ex, is))) {
		return gone()
	}
	exp, err := strconv.ParseInt(ex, 16, 64)
	if err != nil || time.Now().Unix() > exp {
		return gone()
	}
	s.mu.Lock()
	f := s.cdn[parts[2]]
	expired := f != nil && time.Now().After(f.expires)
	s.mu.Unlock()
	if f == nil || expired {
		return gone()
	}
	if f.contentType != "" {
		w.Header().Set("Content-Type", f.contentType)
	}
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
	return http.StatusOK
}
