package telegramtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"
)

// storedFile is a file Telegram would keep: one a user sent, or one the bot
// uploaded.
type storedFile struct {
	id, unique string
	kind       string // "photo", "video", "document"
	path       string // file_path for getFile
	up         Upload // Data is nil when not kept
}

func uploadOf(field, filename, contentType string, data []byte) Upload {
	sum := sha256.Sum256(data)
	return Upload{Field: field, Filename: filename, ContentType: contentType, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Data: data}
}

var fileDirs = map[string]string{"photo": "photos", "video": "videos", "document": "documents"}

// storeFileLocked gives an upload a new file_id. s.mu is held.
func (s *Server) storeFileLocked(kind string, up Upload) *storedFile {
	s.nextFile++
	ext := path.Ext(up.Filename)
	if ext == "" {
		ext = map[string]string{"photo": ".jpg", "video": ".mp4"}[kind]
	}
	prefix := map[string]string{"photo": "AgACAgIAAxkBAA", "video": "BAACAgIAAxkBAA", "document": "BQACAgIAAxkBAA"}[kind]
	f := &storedFile{
		id:     fmt.Sprintf("%s%08d-%d", prefix, s.nextFile, s.opt.BotID),
		unique: fmt.Sprintf("AQAD%08d", s.nextFile),
		kind:   kind,
		path:   fmt.Sprintf("%s/file_%d%s", fileDirs[kind], s.nextFile, ext),
		up:     up,
	}
	s.files[f.id] = f
	return f
}

// mediaInput resolves the InputFile of a send method: an uploaded part, an
// "attach://" reference, a URL (fetched, like Telegram does) or a file_id.
func (s *Server) mediaInput(ctx context.Context, r *request, field, kind string) (up *Upload, ref string, existing *storedFile, e *apiError) {
	if f := r.files[field]; f != nil {
		return f, "", nil, nil
	}
	v := strings.TrimSpace(r.params[field])
	if name, ok := strings.CutPrefix(v, "attach://"); ok {
		if f := r.files[name]; f != nil {
			return f, "", nil, nil
		}
		return nil, "", nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	if strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://") {
		limit := s.opt.MaxDownload
		if kind == "photo" {
			limit = min(limit, 5<<20)
		}
		ctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(s.ctx, cancel) // Close must not wait for a slow URL
		up, err := fetch(ctx, v, field, limit)
		stop()
		cancel()
		if err != nil {
			s.violate(fmt.Sprintf("%s: %s URL %s: %v", r.method, field, v, err))
			return nil, "", nil, badRequest("failed to get HTTP URL content")
		}
		return up, v, nil, nil
	}
	s.mu.Lock()
	f := s.files[v]
	s.mu.Unlock()
	if f == nil {
		return nil, "", nil, badRequest("wrong file identifier/HTTP URL specified")
	}
	if f.kind != kind && !(kind == "document" && f.kind != "photo") {
		return nil, "", nil, badRequest("type of file mismatch")
	}
	u := f.up
	return &u, v, f, nil
}

// fetch downloads a URL the bot passed instead of a file, hashing it.
func fetch(ctx context.Context, url, field string, limit int64) (*Upload, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	up, err := readUpload(resp.Body, field, path.Base(req.URL.Path), resp.Header.Get("Content-Type"), limit)
	if errors.Is(err, errTooLarge) {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return up, err
}

func (s *Server) sendPhoto(ctx context.Context, r *request) (any, *apiError) {
	return s.sendMedia(ctx, r, "photo")
}

func (s *Server) sendDocument(ctx context.Context, r *request) (any, *apiError) {
	return s.sendMedia(ctx, r, "document")
}

func (s *Server) sendVideo(ctx context.Context, r *request) (any, *apiError) {
	return s.sendMedia(ctx, r, "video")
}

// sendMedia implements sendPhoto, sendDocument and sendVideo.
func (s *Server) sendMedia(ctx context.Context, r *request, kind string) (any, *apiError) {
	plain, e := checkText(r.params["caption"], r.params["parse_mode"], true)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	_, e = s.chatForLocked(r)
	s.mu.Unlock()
	if e != nil {
		return nil, e
	}
	up, ref, existing, e := s.mediaInput(ctx, r, kind, kind)
	if e != nil {
		return nil, e
	}
	if up.Size == 0 {
		return nil, badRequest("file must be non-empty")
	}
	if kind == "photo" && existing == nil && up.Size > 10<<20 {
		return nil, badRequest("PHOTO_INVALID_DIMENSIONS")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	c, reply, e := s.targetLocked(r)
	if e != nil {
		return nil, e
	}
	f := existing
	if f == nil {
		kept := *up
		f = s.storeFileLocked(kind, kept)
	}
	msg := s.newBotMessageLocked(c, r, kind, reply)
	msg.m.Caption = plain
	msg.bot.Caption = r.params["caption"]
	u := *up
	msg.bot.File, msg.bot.FileRef = &u, ref
	switch kind {
	case "video":
		msg.bot.Video, msg.bot.VideoRef = &u, ref
		w, h, d := int64(1280), int64(720), int64(0)
		if n, ok := r.int64("width"); ok {
			w = n
		}
		if n, ok := r.int64("height"); ok {
			h = n
		}
		if n, ok := r.int64("duration"); ok {
			d = n
		}
		name := up.Filename
		if name == "" || ref != "" {
			name = path.Base(f.path)
		}
		msg.m.Video = &models.Video{FileID: f.id, FileUniqueID: f.unique, Width: int(w), Height: int(h), Duration: int(d),
			FileName: name, MimeType: "video/mp4", FileSize: f.up.Size}
	case "photo":
		msg.m.Photo = []models.PhotoSize{{FileID: f.id, FileUniqueID: f.unique, Width: 1280, Height: 720, FileSize: int(f.up.Size)}}
	case "document":
		ct := up.ContentType
		if ct == "" || ct == "application/octet-stream" {
			ct = mimeByExt(up.Filename)
		}
		msg.m.Document = &models.Document{FileID: f.id, FileUniqueID: f.unique, FileName: up.Filename, MimeType: ct, FileSize: f.up.Size}
	}
	s.notifyLocked()
	return copyMessage(&msg.m), nil
}

func mimeByExt(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".mp4":
		return "video/mp4"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".pdf":
		return "application/pdf"
	case ".txt":
		return "text/plain"
	}
	return "application/octet-stream"
}

func (s *Server) getFile(_ context.Context, r *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.files[r.params["file_id"]]
	if f == nil {
		return nil, badRequest("invalid file_id")
	}
	if f.up.Size > s.opt.MaxDownload {
		return nil, badRequest("file is too big")
	}
	return models.File{FileID: f.id, FileUniqueID: f.unique, FileSize: f.up.Size, FilePath: f.path}, nil
}

// serveFile answers GET /file/bot<token>/<file_path>. Files the bot
// uploaded over 1 MiB are not kept, so they answer 404 here.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rest string) {
	token, fp, ok := strings.Cut(rest, "/")
	if !ok || token != s.opt.Token {
		writeError(w, &apiError{code: 401, desc: "Unauthorized"})
		return
	}
	s.mu.Lock()
	var found *storedFile
	for _, f := range s.files {
		if f.path == fp {
			found = f
			break
		}
	}
	s.mu.Unlock()
	if found == nil || found.up.Size > s.opt.MaxDownload || (found.up.Data == nil && found.up.Size > 0) {
		writeError(w, notFound)
		return
	}
	ct := found.up.ContentType
	if ct == "" {
		ct = mimeByExt(found.path)
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", fmt.Sprint(len(found.up.Data)))
	_, _ = w.Write(found.up.Data)
}

// BotMessages returns the current state of the messages the bot sent to a
// chat, in order (deleted ones included, marked Deleted).
func (s *Server) BotMessages(chatID int64) []BotMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.botMessagesLocked(chatID)
}

func (s *Server) botMessagesLocked(chatID int64) []BotMessage {
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	var out []BotMessage
	for _, m := range c.msgs {
		if m.fromBot {
			out = append(out, m.bot)
		}
	}
	return out
}

// WaitBotMessage waits until a bot message in chatID (in its current state)
// satisfies match, and returns it; false when timeout passes first or the
// server is closed.
func (s *Server) WaitBotMessage(timeout time.Duration, chatID int64, match func(BotMessage) bool) (BotMessage, bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		msgs := s.botMessagesLocked(chatID)
		changed := s.changed
		s.mu.Unlock()
		for _, m := range msgs {
			if match == nil || match(m) {
				return m, true
			}
		}
		select {
		case <-changed:
		case <-t.C:
			return BotMessage{}, false
		case <-s.ctx.Done():
			return BotMessage{}, false
		}
	}
}
