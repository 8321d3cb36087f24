package videocreate_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"sorabot/core"
	"sorabot/core/provider/internal/wire/wiretest"
	"sorabot/core/provider/providertest"
	"sorabot/core/provider/videocreate"
)

const key = "sk-vc-test-fedcba9876543210"

// media is a MediaHost that records what it published.
type media struct {
	mu    sync.Mutex
	calls []string // content types
	ttl   time.Duration
	data  [][]byte
	err   error
}

func (m *media) Publish(ctx context.Context, data []byte, ct string, ttl time.Duration) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return "", m.err
	}
	m.calls, m.ttl, m.data = append(m.calls, ct), ttl, append(m.data, data)
	return "https://bot.example.com/media/abc" + string(rune('0'+len(m.calls))), nil
}

func setup(t *testing.T, opts ...videocreate.Option) (*providertest.Server, *videocreate.Client, *wiretest.SyncBuffer) {
	t.Helper()
	srv := providertest.New(providertest.Options{Key: key, Duration: 300 * time.Millisecond})
	t.Cleanup(srv.Close)
	logs := &wiretest.SyncBuffer{}
	opts = append([]videocreate.Option{videocreate.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))}, opts...)
	return srv, videocreate.New(srv.URL, core.Secret(key), opts...), logs
}

func normalize(t *testing.T, r core.Request) (*core.Model, *core.Request) {
	t.Helper()
	return wiretest.Normalize(t, core.ProtocolVideoCreate, r)
}

func TestEndToEnd(t *testing.T) {
	srv, c, _ := setup(t)
	m, r := normalize(t, core.Request{Pro: true, Prompt: "make animate", Quality: "hd", Duration: 25,
		Orientation: "portrait", Private: true})
	if err := c.CheckRequest(m, r); err != nil {
		t.Fatalf("CheckRequest: %v", err)
	}
	id, err := c.Submit(t.Context(), m, r)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	req, body := wiretest.LastBody(t, srv, "/v1/video/create")
	for h, want := range map[string]string{"Authorization": "Bearer " + key, "Accept": "application/json", "Content-Type": "application/json"} {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	want := map[string]any{
		"model": "sora-2-pro", "orientation": "portrait", "prompt": "make animate", "size": "large",
		"duration": float64(25), "watermark": true, "private": true,
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%q] = %#v, want %#v", k, body[k], v)
		}
	}
	if len(body) != 8 {
		t.Errorf("body has %d fields, want the seed's 8: %v", len(body), body)
	}
	for _, s := range []string{`"images":[]`, `"duration":25,`} {
		if !bytes.Contains(req.Raw, []byte(s)) {
			t.Errorf("raw body %s lacks %s", req.Raw, s)
		}
	}

	st, seen := wiretest.WaitEnd(t, c, m, id)
	if st.State != core.TaskDone || !strings.HasPrefix(st.VideoURL, srv.URL+"/files/") {
		t.Fatalf("final %+v", st)
	}
	if len(seen) < 2 {
		t.Errorf("progress seen %v", seen)
	}
	q, _ := wiretest.LastBody(t, srv, "/v1/video/query")
	if q.Method != http.MethodGet || q.Query.Get("id") != id || !strings.Contains(q.RawQuery, "%3A") {
		t.Errorf("query %s ?%s, want id %q URL-encoded", q.Method, q.RawQuery, id)
	}
	resp, err := http.Get(st.VideoURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, providertest.SampleMP4()) {
		t.Errorf("downloaded %d bytes, not the sample", len(got))
	}
}

func TestWatermarkAlwaysTrue(t *testing.T) {
	for _, wm := range []bool{false, true} {
		srv, c, _ := setup(t)
		m, r := normalize(t, core.Request{Prompt: "a cat", Watermark: wm})
		if _, err := c.Submit(t.Context(), m, r); err != nil {
			t.Fatal(err)
		}
		if _, body := wiretest.LastBody(t, srv, "/v1/video/create"); body["watermark"] != true || body["private"] != false || body["size"] != "small" || body["duration"] != float64(10) {
			t.Errorf("Watermark %v: body %v", wm, body)
		}
	}
}

func TestImages(t *testing.T) {
	pic := wiretest.PNG(t)
	tgURL := "https://api.telegram.org/file/bot123:SECRET/photos/x.png"

	t.Run("public URLs are passed as they are", func(t *testing.T) {
		srv, c, _ := setup(t)
		m, r := normalize(t, core.Request{Prompt: "move", Images: []core.Image{{Data: pic, URL: "https://example.com/a.png"}}})
		if err := c.CheckRequest(m, r); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Submit(t.Context(), m, r); err != nil {
			t.Fatal(err)
		}
		_, body := wiretest.LastBody(t, srv, "/v1/video/create")
		if imgs, _ := body["images"].([]any); len(imgs) != 1 || imgs[0] != "https://example.com/a.png" {
			t.Errorf("images = %#v", body["images"])
		}
	})

	t.Run("no public URL and no media host: refused up front", func(t *testing.T) {
		srv, c, _ := setup(t)
		m, _ := core.DefaultCatalog().Model("sora-2")
		r := &core.Request{Model: m.ID, Prompt: "move", Duration: 10, Quality: "small", Images: []core.Image{{Data: pic, MIME: "image/png", URL: tgURL}}}
		err := c.CheckRequest(m, r)
		if core.ErrorCode(err) != core.EINVALID || !strings.Contains(core.ErrorMessage(err), "SORABOT_PUBLIC_URL") {
			t.Errorf("CheckRequest = %v", err)
		}
		_, err = c.Submit(t.Context(), m, r)
		if core.ErrorCode(err) != core.EINVALID || core.IsTemporary(err) {
			t.Errorf("Submit = %v", err)
		}
		if srv.Creates() != 0 {
			t.Error("a create was sent")
		}
	})

	t.Run("the media host publishes uploads, never a Telegram URL", func(t *testing.T) {
		mh := &media{}
		srv, c, _ := setup(t, videocreate.WithMedia(mh))
		m, _ := core.DefaultCatalog().Model("sora-2")
		r := &core.Request{Model: m.ID, Prompt: "move", Duration: 10, Quality: "small", Images: []core.Image{
			{Data: pic, MIME: "image/png", URL: tgURL},
			{Data: pic, MIME: "image/png"},
			{Data: pic, URL: "https://example.com/b.png"},
		}}
		if err := c.CheckRequest(m, r); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Submit(t.Context(), m, r); err != nil {
			t.Fatal(err)
		}
		req, body := wiretest.LastBody(t, srv, "/v1/video/create")
		imgs, _ := body["images"].([]any)
		if len(imgs) != 3 || imgs[0] != "https://bot.example.com/media/abc1" || imgs[1] != "https://bot.example.com/media/abc2" || imgs[2] != "https://example.com/b.png" {
			t.Errorf("images = %#v", body["images"])
		}
		if bytes.Contains(req.Raw, []byte("/file/bot")) {
			t.Error("a Telegram file URL was sent")
		}
		if len(mh.calls) != 2 || mh.calls[0] != "image/png" || mh.ttl != time.Hour || !bytes.Equal(mh.data[0], pic) {
			t.Errorf("published %v ttl %v", mh.calls, mh.ttl)
		}
	})

	t.Run("a media host failure is temporary and sends nothing", func(t *testing.T) {
		srv, c, _ := setup(t, videocreate.WithMedia(&media{err: errors.New("disk full")}))
		m, _ := core.DefaultCatalog().Model("sora-2")
		r := &core.Request{Model: m.ID, Prompt: "move", Duration: 10, Quality: "small", Images: []core.Image{{Data: pic}}}
		if _, err := c.Submit(t.Context(), m, r); !core.IsTemporary(err) {
			t.Errorf("Submit = %v", err)
		}
		if srv.Creates() != 0 {
			t.Error("a create was sent")
		}
	})
}

func TestSubmitFailures(t *testing.T) {
	tests := []wiretest.SubmitCase{
		{Name: "unknown model", Model: "veo-3.1", Code: core.EUNAVAILABLE, Refused: true, Msg: "model is unavailable"},
		{Name: "no channel for the model, as a 503", Fault: &providertest.Fault{Status: 503, Code: "model_not_found", Message: "no available channel for model sora-2"}, Code: core.EUNAVAILABLE, Refused: true, Msg: "model is unavailable"},
		{Name: "content policy", Fault: &providertest.Fault{Status: 400, Code: "content_policy_violation", Message: providertest.ReasonContentPolicy}, Code: core.EINVALID, Msg: "rephrase"},
		{Name: "no quota 403", Fault: &providertest.Fault{Status: 403, Code: "insufficient_user_quota", Message: "user quota is not enough"}, Code: core.EUNAVAILABLE, Refused: true, Msg: "busy", Operator: true},
		{Name: "no quota 402", Fault: &providertest.Fault{Status: 402, Message: "payment required"}, Code: core.EUNAVAILABLE, Refused: true, Msg: "busy", Operator: true},
		{Name: "rate limited", Fault: &providertest.Fault{Status: 429, RetryAfter: 1, Message: "rate limit"}, Code: core.EUNAVAILABLE, Temp: true, Wait: time.Second},
		{Name: "HTTP 500", Fault: &providertest.Fault{Status: 500}, Code: core.EUNAVAILABLE, Temp: true},
		{Name: "HTTP 502 garbage", Fault: &providertest.Fault{Status: 502, Garbage: true}, Code: core.EUNAVAILABLE, Temp: true},
		{Name: "gateway timeout may have been accepted", Fault: &providertest.Fault{Status: 504}, Code: core.EUNAVAILABLE},
		{Name: "garbage with 200", Fault: &providertest.Fault{Garbage: true}, Code: core.EUNAVAILABLE},
		{Name: "connection dropped after sending", Fault: &providertest.Fault{Drop: true, Accept: true}, Code: core.EUNAVAILABLE},
		{Name: "timeout after sending", Fault: &providertest.Fault{Delay: 5 * time.Second, Accept: true}, CtxLimit: 200 * time.Millisecond, Code: core.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			srv, c, logs := setup(t)
			m, r := normalize(t, core.Request{Prompt: "a cat"})
			wiretest.SubmitFails(t, srv, c, logs, key, m, r, tt)
			if tt.Fault != nil && tt.Fault.Accept && len(srv.Tasks()) != 1 {
				t.Errorf("the emulator holds %d tasks, want the accepted one", len(srv.Tasks()))
			}
		})
	}
}

func TestBadKey(t *testing.T) {
	srv, _, _ := setup(t)
	logs := &wiretest.SyncBuffer{}
	c := videocreate.New(srv.URL, core.Secret("wrong"), videocreate.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	m, r := normalize(t, core.Request{Prompt: "a cat"})
	_, err := c.Submit(t.Context(), m, r)
	if core.ErrorCode(err) != core.EUNAVAILABLE || core.IsTemporary(err) || !core.IsRefused(err) || !strings.Contains(core.ErrorMessage(err), "busy") {
		t.Errorf("Submit: %v", err)
	}
	if _, err := c.Status(t.Context(), m, "sora-2:task_x"); err == nil || core.IsTemporary(err) {
		t.Errorf("Status: %v", err)
	}
	if !strings.Contains(logs.String(), "operator") {
		t.Errorf("no operator warning: %s", logs)
	}
}

func TestConnectionRefusedIsTemporary(t *testing.T) {
	srv := providertest.New(providertest.Options{})
	url := srv.URL
	srv.Close()
	c := videocreate.New(url, core.Secret(key))
	m, r := normalize(t, core.Request{Prompt: "a cat"})
	if _, err := c.Submit(t.Context(), m, r); !core.IsTemporary(err) || core.ErrorCode(err) != core.EUNAVAILABLE {
		t.Errorf("Submit: %v", err)
	}
	if _, err := c.Status(t.Context(), m, "x"); !core.IsTemporary(err) {
		t.Errorf("Status: %v", err)
	}
}

func TestStatusTransientErrors(t *testing.T) {
	srv, c, _ := setup(t)
	m, r := normalize(t, core.Request{Prompt: "a cat"})
	id, err := c.Submit(t.Context(), m, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []providertest.Fault{
		{Status: 500}, {Status: 503, Garbage: true}, {Status: 429, RetryAfter: 2}, {Garbage: true},
		{Drop: true}, {Delay: 5 * time.Second},
	} {
		srv.FailPolls(1, f)
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		_, err := c.Status(ctx, m, id)
		cancel()
		if f.Drop && err == nil {
			continue // the transport may replay a GET on a fresh connection
		}
		if !core.IsTemporary(err) {
			t.Errorf("fault %+v: %v is not temporary", f, err)
		}
		if d, _ := core.RetryAfter(err); d != time.Duration(f.RetryAfter)*time.Second {
			t.Errorf("fault %+v: retry after %v", f, d)
		}
	}
	if st, _ := wiretest.WaitEnd(t, c, m, id); st.State != core.TaskDone {
		t.Errorf("after the faults: %+v", st)
	}
	if _, err := c.Status(t.Context(), m, "sora-2:task_unknown"); err == nil || core.IsTemporary(err) {
		t.Errorf("unknown task: %v", err)
	}
}

func TestTaskFailures(t *testing.T) {
	for _, tt := range []struct{ reason, code string }{
		{providertest.ReasonContentPolicy, core.EINVALID},
		{providertest.ReasonGeneric, core.EUNAVAILABLE},
	} {
		t.Run(tt.reason, func(t *testing.T) {
			srv, c, _ := setup(t)
			m, r := normalize(t, core.Request{Prompt: "a cat"})
			id, err := c.Submit(t.Context(), m, r)
			if err != nil {
				t.Fatal(err)
			}
			srv.FailTask(id, tt.reason)
			st, _ := wiretest.WaitEnd(t, c, m, id)
			if st.State != core.TaskFailed || st.Err == nil || st.Err.Code != tt.code {
				t.Errorf("status %+v (Err %v)", st, st.Err)
			}
		})
	}
}

func TestKeyNeverInErrors(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":{"message":"bad header `+r.Header.Get("Authorization")+`","type":"x","code":"y"}}`)
	}))
	defer echo.Close()
	logs := &wiretest.SyncBuffer{}
	c := videocreate.New(echo.URL, core.Secret(key), videocreate.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	m, r := normalize(t, core.Request{Prompt: "a cat"})
	_, err1 := c.Submit(t.Context(), m, r)
	_, err2 := c.Status(t.Context(), m, "x")
	for _, err := range []error{err1, err2} {
		if err == nil || strings.Contains(err.Error(), key) {
			t.Errorf("err %v", err)
		}
	}
	if strings.Contains(logs.String(), key) {
		t.Errorf("the key is in the logs: %s", logs)
	}
}

func TestCheckAccess(t *testing.T) {
	wiretest.CheckAccess(t, func(url string, key core.Secret) core.AccessChecker { return videocreate.New(url, key) }, false)
}
