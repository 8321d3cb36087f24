package media

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHostServesAndExpires(t *testing.T) {
	h := New("http://bot.example/")
	srv := httptest.NewServer(h)
	defer srv.Close()
	link, err := h.Publish(t.Context(), []byte("png-bytes"), "image/png", time.Minute)
	if err != nil || !strings.HasPrefix(link, "http://bot.example/media/") {
		t.Fatalf("link %q %v", link, err)
	}
	get := func(link string) (int, string) {
		resp, err := http.Get(srv.URL + strings.TrimPrefix(link, "http://bot.example"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(link); code != 200 || body != "png-bytes" {
		t.Fatalf("got %d %q", code, body)
	}
	path := filepath.Join(t.TempDir(), "v.mp4")
	os.WriteFile(path, []byte("video"), 0o600)
	vlink, err := h.PublishFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(vlink); code != 200 || body != "video" {
		t.Fatalf("file: %d %q", code, body)
	}
	if code, _ := get("http://bot.example/media/guess"); code != 404 {
		t.Fatalf("unknown token: %d", code)
	}
	h.now = func() time.Time { return time.Now().Add(2 * time.Minute) }
	if code, _ := get(link); code != 404 {
		t.Fatalf("expired link: %d", code)
	}
}
