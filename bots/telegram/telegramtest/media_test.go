package telegramtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// stream is n deterministic pseudo-random bytes, generated as they are read.
func stream(n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{1}), n)
}

func TestSendVideoStreamsUpload(t *testing.T) {
	s := newServer(t, Options{})
	b, _, _ := newClient(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	s.SendText(42, 42, "/video a cat")
	const size = 30_000_000
	h := sha256.New()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	m, err := b.SendVideo(ctx, &bot.SendVideoParams{
		ChatID:            42,
		Video:             &models.InputFileUpload{Filename: "cat.mp4", Data: io.TeeReader(stream(size), h)},
		Caption:           "Your video",
		SupportsStreaming: true,
		ReplyParameters:   &models.ReplyParameters{MessageID: 1},
	})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	// Client and server together: a buffered upload would allocate at least size bytes.
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("uploading %d bytes allocated %d bytes", size, alloc)
	if alloc > size/2 {
		t.Errorf("uploading %d bytes allocated %d bytes", size, alloc)
	}
	if m.Video == nil || m.Video.FileSize != size || m.Caption != "Your video" || m.ReplyToMessage.ID != 1 {
		t.Errorf("message = %+v", m)
	}
	got := s.BotMessages(42)
	if len(got) != 1 || got[0].Video == nil {
		t.Fatalf("bot messages = %+v", got)
	}
	v := got[0].Video
	if v.Size != size || v.SHA256 != hex.EncodeToString(h.Sum(nil)) || v.Data != nil || v.Filename != "cat.mp4" || v.Field != "video" {
		t.Errorf("upload = %+v (data kept: %v)", v, v.Data != nil)
	}
	calls := s.CallsTo("sendVideo")
	if len(calls) != 1 || calls[0].Params["supports_streaming"] != "true" || calls[0].Files[0].Size != size || calls[0].Status != 200 {
		t.Errorf("calls = %+v", calls)
	}

	if _, err := b.SendVideo(ctx, &bot.SendVideoParams{ChatID: 42, Video: &models.InputFileString{Data: m.Video.FileID},
		Caption: strings.Repeat("c", 1025)}); err == nil || !strings.Contains(err.Error(), "caption is too long") {
		t.Errorf("long caption: %v", err)
	}
	if _, err := b.SendVideo(ctx, &bot.SendVideoParams{ChatID: 42, Video: &models.InputFileString{Data: m.Video.FileID}}); err != nil {
		t.Errorf("resend by file_id: %v", err)
	}
	if _, err := b.SendVideo(ctx, &bot.SendVideoParams{ChatID: 42, Video: &models.InputFileString{Data: "no-such-file"}}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("unknown file_id: %v", err)
	}
}

func TestSendVideoTooLarge(t *testing.T) {
	s := newServer(t, Options{MaxUpload: 1 << 20})
	b, _, _ := newClient(t, s, bot.WithSkipGetMe())
	s.AddChat(42, 42)
	_, err := b.SendVideo(context.Background(), &bot.SendVideoParams{ChatID: 42,
		Video: &models.InputFileUpload{Filename: "big.mp4", Data: stream(3 << 20)}})
	if err == nil || !strings.Contains(err.Error(), "413") {
		t.Fatalf("oversized upload: %v", err)
	}
	if c := s.CallsTo("sendVideo"); len(c) != 1 || c[0].Status != 413 {
		t.Errorf("calls = %+v", c)
	}
	if len(s.BotMessages(42)) != 0 {
		t.Error("an oversized video was delivered")
	}
}

func TestSendVideoByURL(t *testing.T) {
	content := bytes.Repeat([]byte("mp4!"), 1000)
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v.mp4" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "video/mp4")
		_, _ = w.Write(content)
	}))
	defer src.Close()
	s := newServer(t, Options{})
	b, _, _ := newClient(t, s, bot.WithSkipGetMe())
	s.AddChat(42, 42)
	ctx := context.Background()
	if _, err := b.SendVideo(ctx, &bot.SendVideoParams{ChatID: 42, Video: &models.InputFileString{Data: src.URL + "/v.mp4"}}); err != nil {
		t.Fatal(err)
	}
	m, ok := s.WaitBotMessage(wait, 42, func(m BotMessage) bool { return m.Kind == "video" })
	sum := sha256.Sum256(content)
	if !ok || m.VideoRef != src.URL+"/v.mp4" || m.Video.Size != int64(len(content)) || m.Video.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("video by URL = %+v", m)
	}
	if _, err := b.SendVideo(ctx, &bot.SendVideoParams{ChatID: 42, Video: &models.InputFileString{Data: src.URL + "/missing.mp4"}}); err == nil || !strings.Contains(err.Error(), "failed to get HTTP URL content") {
		t.Errorf("missing URL: %v", err)
	}
}

func TestGetFileAndDownload(t *testing.T) {
	s := newServer(t, Options{MaxDownload: 1 << 20})
	b, updates, _ := newClient(t, s, bot.WithSkipGetMe())
	ctx := context.Background()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 1000, 500))); err != nil {
		t.Fatal(err)
	}
	s.SendPhoto(42, 42, "/video make it move", img.Bytes(), "")
	u := next(t, updates)
	photos := u.Message.Photo
	if len(photos) < 2 {
		t.Fatalf("photo sizes = %+v", photos)
	}
	largest := photos[len(photos)-1]
	if largest.Width != 1000 || largest.Height != 500 || u.Message.Caption != "/video make it move" || len(u.Message.CaptionEntities) != 1 {
		t.Errorf("photo message = %+v", u.Message)
	}
	f, err := b.GetFile(ctx, &bot.GetFileParams{FileID: largest.FileID})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(b.FileDownloadLink(f))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(data, img.Bytes()) || f.FileSize != int64(img.Len()) {
		t.Errorf("download: status %d, %d bytes, file %+v", resp.StatusCode, len(data), f)
	}
	if resp, err := http.Get(s.URL + "/file/botWRONG/" + f.FilePath); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("download with a wrong token succeeded")
		}
	}

	s.SendReply(42, 42, "again", int64(u.Message.ID))
	r := next(t, updates)
	if r.Message.ReplyToMessage == nil || len(r.Message.ReplyToMessage.Photo) == 0 {
		t.Errorf("reply = %+v", r.Message)
	}
	if m, ok := s.UserMessage(42, int64(r.Message.ID)); !ok || m.Text != "again" {
		t.Errorf("UserMessage = %+v, %v", m, ok)
	}

	s.SendDocument(42, 42, "", "big.bin", "application/octet-stream", make([]byte, 2<<20), "")
	d := next(t, updates).Message.Document
	if _, err := b.GetFile(ctx, &bot.GetFileParams{FileID: d.FileID}); err == nil || !strings.Contains(err.Error(), "file is too big") {
		t.Errorf("big file: %v", err)
	}
	if _, err := b.GetFile(ctx, &bot.GetFileParams{FileID: "nope"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Errorf("unknown file: %v", err)
	}
}

func TestMediaGroup(t *testing.T) {
	s := newServer(t, Options{})
	_, updates, _ := newClient(t, s, bot.WithSkipGetMe())
	s.SendPhoto(42, 42, "/video two", []byte("not really a jpeg"), "album1")
	s.SendPhoto(42, 42, "", []byte("second"), "album1")
	a, b := next(t, updates), next(t, updates)
	if a.Message.MediaGroupID != "album1" || b.Message.MediaGroupID != "album1" || b.Message.ID != a.Message.ID+1 {
		t.Errorf("album = %+v / %+v", a.Message, b.Message)
	}
}
