package sorapro_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"sorabot/core"
	"sorabot/core/provider/internal/wire/wiretest"
	"sorabot/core/provider/providertest"
	"sorabot/core/provider/sorapro"
)

const key = "sk-test-0123456789abcdef"

func setup(t *testing.T) (*providertest.Server, *sorapro.Client, *wiretest.SyncBuffer) {
	t.Helper()
	srv := providertest.New(providertest.Options{Key: key, Duration: 300 * time.Millisecond})
	t.Cleanup(srv.Close)
	logs := &wiretest.SyncBuffer{}
	c := sorapro.New(srv.URL+"/", core.Secret(key), sorapro.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	return srv, c, logs
}

// normalize runs a request through the default catalog, as the core does.
func normalize(t *testing.T, r core.Request) (*core.Model, *core.Request) {
	t.Helper()
	return wiretest.Normalize(t, core.ProtocolSoraPro, r)
}

func TestTextToVideoEndToEnd(t *testing.T) {
	srv, c, _ := setup(t)
	m, r := normalize(t, core.Request{Pro: true, Prompt: "A city at dusk", Quality: "hd", Orientation: "portrait"})
	id, err := c.Submit(t.Context(), m, r)
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	req, body := wiretest.LastBody(t, srv, "/api/v1/video/sora-pro")
	if got := req.Header.Get("Authorization"); got != "Bearer "+key {
		t.Errorf("Authorization = %q", got)
	}
	if got := req.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	want := map[string]any{
		"model": "sora-2-pro-text-to-video", "prompt": "A city at dusk", "aspectRatio": "portrait",
		"nFrames": "10", "size": "high", "removeWatermark": true,
	}
	if len(body) != len(want) {
		t.Errorf("body has %d fields, want %d: %v", len(body), len(want), body)
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("body[%q] = %#v, want %#v", k, body[k], v)
		}
	}

	st, seen := wiretest.WaitEnd(t, c, m, id)
	if st.State != core.TaskDone || st.Progress != 100 {
		t.Fatalf("final status %+v", st)
	}
	if !strings.HasPrefix(st.VideoURL, srv.URL+"/files/") {
		t.Errorf("VideoURL %q is not the emulator's", st.VideoURL)
	}
	if len(seen) < 2 {
		t.Errorf("saw only %v", seen)
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
	if srv.Creates() != 1 || srv.Polls() != len(seen) {
		t.Errorf("Creates %d, Polls %d; want 1, %d", srv.Creates(), srv.Polls(), len(seen))
	}
	if info, ok := srv.Task(id); !ok || info.Model != m.ID {
		t.Errorf("Task(%q) = %+v, %v", id, info, ok)
	}
}

func TestWireBodies(t *testing.T) {
	pic := wiretest.PNG(t)
	tests := []struct {
		name    string
		req     core.Request
		want    map[string]any
		absent  []string
		checkFn func(t *testing.T, body map[string]any)
	}{
		{
			name:   "text keeps the watermark when asked, no size without qualities",
			req:    core.Request{Prompt: "a cat", Watermark: true, Duration: 15},
			want:   map[string]any{"model": "sora-2-text-to-video", "nFrames": "15", "removeWatermark": false, "aspectRatio": "landscape"},
			absent: []string{"size", "imageData", "imageUrl", "shots"},
		},
		{
			name:   "storyboard: shots with capital S, no prompt, no watermark flag",
			req:    core.Request{Prompt: "ignored", Shots: []core.Shot{{Scene: "Skyline", Duration: 5}, {Scene: "Runner", Duration: 10}}},
			want:   map[string]any{"model": "sora-2-pro-storyboard", "nFrames": "15"},
			absent: []string{"prompt", "removeWatermark", "size"},
			checkFn: func(t *testing.T, body map[string]any) {
				shots, _ := body["shots"].([]any)
				if len(shots) != 2 {
					t.Fatalf("shots = %#v", body["shots"])
				}
				s0, _ := shots[0].(map[string]any)
				if s0["Scene"] != "Skyline" || s0["duration"] != float64(5) || s0["scene"] != nil {
					t.Errorf("shot 0 = %#v", s0)
				}
			},
		},
		{
			name:   "image data wins over the URL",
			req:    core.Request{Prompt: "move", Images: []core.Image{{Data: pic, URL: "https://example.com/a.png"}}},
			want:   map[string]any{"model": "sora-2-image-to-video", "nFrames": "10"},
			absent: []string{"imageUrl"},
			checkFn: func(t *testing.T, body map[string]any) {
				s, _ := body["imageData"].(string)
				b64, ok := strings.CutPrefix(s, "data:image/png;base64,")
				if !ok {
					t.Fatalf("imageData = %.40q", s)
				}
				if raw, err := base64.StdEncoding.DecodeString(b64); err != nil || !bytes.Equal(raw, pic) {
					t.Errorf("imageData does not decode to the image: %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, _ := setup(t)
			m, r := normalize(t, tt.req)
			if _, err := c.Submit(t.Context(), m, r); err != nil {
				t.Fatalf("Submit: %v", err)
			}
			_, body := wiretest.LastBody(t, srv, "/api/v1/video/sora-pro")
			for k, v := range tt.want {
				if body[k] != v {
					t.Errorf("body[%q] = %#v, want %#v", k, body[k], v)
				}
			}
			for _, k := range tt.absent {
				if _, ok := body[k]; ok {
					t.Errorf("body has %q: %#v", k, body[k])
				}
			}
			if tt.checkFn != nil {
				tt.checkFn(t, body)
			}
		})
	}
}

func TestImageURLOnlyWithoutData(t *testing.T) {
	srv, c, _ := setup(t)
	m, _ := core.DefaultCatalog().Model("sora-2-image-to-video")
	r := &core.Request{Model: m.ID, Prompt: "move", Orientation: "landscape", Duration: 10,
		Images: []core.Image{{URL: "https://example.com/a.png"}}}
	if _, err := c.Submit(t.Context(), m, r); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	_, body := wiretest.LastBody(t, srv, "/api/v1/video/sora-pro")
	if body["imageUrl"] != "https://example.com/a.png" || body["imageData"] != nil {
		t.Errorf("body = %v", body)
	}
	// A Telegram file URL is never sent: the emulator then reports the image missing.
	r.Images[0].URL = "https://api.telegram.org/file/bot123:ABC/photos/x.png"
	_, err := c.Submit(t.Context(), m, r)
	if err == nil {
		t.Fatal("Submit with a Telegram file URL succeeded")
	}
	for _, req := range srv.Requests() {
		if bytes.Contains(req.Raw, []byte("/file/bot")) {
			t.Fatal("a Telegram file URL was sent")
		}
	}
}

func TestSubmitFailures(t *testing.T) {
	tests := []wiretest.SubmitCase{
		{Name: "unknown model", Model: "sora-2-text-to-video-stable", Code: core.EUNAVAILABLE, Refused: true, Msg: "model is unavailable"},
		{Name: "model paused", Fault: &providertest.Fault{Message: providertest.ReasonModelPaused}, Code: core.EUNAVAILABLE, Refused: true, Msg: "model is unavailable"},
		{Name: "content policy", Fault: &providertest.Fault{Message: providertest.ReasonContentPolicy}, Code: core.EINVALID, Msg: "rephrase"},
		{Name: "no credits", Fault: &providertest.Fault{Message: providertest.ReasonNoCredits}, Code: core.EUNAVAILABLE, Refused: true, Msg: "busy", Operator: true},
		{Name: "generic", Fault: &providertest.Fault{Message: "something odd"}, Code: core.EUNAVAILABLE, Msg: "could not take"},
		{Name: "HTTP 500", Fault: &providertest.Fault{Status: 500}, Code: core.EUNAVAILABLE, Temp: true},
		{Name: "HTTP 503", Fault: &providertest.Fault{Status: 503, Garbage: true}, Code: core.EUNAVAILABLE, Temp: true},
		{Name: "HTTP 429", Fault: &providertest.Fault{Status: 429, RetryAfter: 1}, Code: core.EUNAVAILABLE, Temp: true, Wait: time.Second},
		{Name: "gateway timeout may have been accepted", Fault: &providertest.Fault{Status: 504}, Code: core.EUNAVAILABLE},
		{Name: "garbage with 200", Fault: &providertest.Fault{Garbage: true}, Code: core.EUNAVAILABLE},
		{Name: "connection dropped after sending", Fault: &providertest.Fault{Drop: true, Accept: true}, Code: core.EUNAVAILABLE},
		{Name: "timeout after sending", Fault: &providertest.Fault{Delay: 5 * time.Second, Accept: true}, CtxLimit: 200 * time.Millisecond, Code: core.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			srv := providertest.New(providertest.Options{Key: key, Catalog: core.DefaultCatalog()})
			defer srv.Close()
			logs := &wiretest.SyncBuffer{}
			c := sorapro.New(srv.URL, core.Secret(key), sorapro.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
			m, r := normalize(t, core.Request{Prompt: "a cat"})
			wiretest.SubmitFails(t, srv, c, logs, key, m, r, tt)
		})
	}
}

func TestSubmitBadKey(t *testing.T) {
	srv, _, _ := setup(t)
	logs := &wiretest.SyncBuffer{}
	c := sorapro.New(srv.URL, core.Secret("wrong"), sorapro.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	m, r := normalize(t, core.Request{Prompt: "a cat"})
	_, err := c.Submit(t.Context(), m, r)
	if core.ErrorCode(err) != core.EUNAVAILABLE || core.IsTemporary(err) || !core.IsRefused(err) || !strings.Contains(core.ErrorMessage(err), "busy") {
		t.Errorf("Submit with a bad key: %v", err)
	}
	if !strings.Contains(logs.String(), "operator") {
		t.Errorf("no operator warning: %s", logs)
	}
	if _, err := c.Balance(t.Context()); err == nil {
		t.Error("Balance with a bad key succeeded")
	}
}

func TestSubmitConnectionRefusedIsTemporary(t *testing.T) {
	srv := providertest.New(providertest.Options{})
	url := srv.URL
	srv.Close()
	c := sorapro.New(url, core.Secret(key))
	m, r := normalize(t, core.Request{Prompt: "a cat"})
	_, err := c.Submit(t.Context(), m, r)
	if !core.IsTemporary(err) || core.ErrorCode(err) != core.EUNAVAILABLE {
		t.Errorf("Submit to a closed port: %v (temporary %v)", err, core.IsTemporary(err))
	}
	if _, err := c.Status(t.Context(), m, "x"); !core.IsTemporary(err) {
		t.Errorf("Status to a closed port: %v", err)
	}
}

func TestStatusTransientErrors(t *testing.T) {
	srv, c, _ := setup(t)
	m, r := normalize(t, core.Request{Prompt: "a cat"})
	id, err := c.Submit(t.Context(), m, r)
	if err != nil {
		t.Fatal(err)
	}
	faults := []providertest.Fault{
		{Status: 500},
		{Status: 502, Garbage: true},
		{Status: 429, RetryAfter: 2},
		{Garbage: true},
		{Message: "Service temporarily unavailable"}, // HTTP 200, code != 0
		{Drop: true},
		{Delay: 5 * time.Second},
	}
	for _, f := range faults {
		srv.FailPolls(1, f)
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		_, err := c.Status(ctx, m, id)
		cancel()
		if !core.IsTemporary(err) {
			t.Errorf("fault %+v: err %v is not temporary", f, err)
		}
		if d, _ := core.RetryAfter(err); d != time.Duration(f.RetryAfter)*time.Second {
			t.Errorf("fault %+v: retry after %v", f, d)
		}
	}
	if st, _ := wiretest.WaitEnd(t, c, m, id); st.State != core.TaskDone {
		t.Errorf("after the faults: %+v", st)
	}
}

func TestTaskFailures(t *testing.T) {
	tests := []struct {
		reason string
		code   string
		msg    string
	}{
		{providertest.ReasonContentPolicy, core.EINVALID, "rephrase"},
		{providertest.ReasonGeneric, core.EUNAVAILABLE, "could not make this video"},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			srv, c, _ := setup(t)
			srv.FailNextTasks(1, tt.reason)
			m, r := normalize(t, core.Request{Prompt: "a cat"})
			id, err := c.Submit(t.Context(), m, r)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := wiretest.WaitEnd(t, c, m, id)
			if st.State != core.TaskFailed || st.Err == nil || st.Err.Code != tt.code || !strings.Contains(st.Err.Message, tt.msg) {
				t.Errorf("status %+v (Err %v)", st, st.Err)
			}
		})
	}
}

func TestBalance(t *testing.T) {
	srv, c, _ := setup(t)
	srv.SetBalance(42.5)
	got, err := c.Balance(t.Context())
	if err != nil || got != 42.5 {
		t.Fatalf("Balance = %v, %v", got, err)
	}
	_, body := wiretest.LastBody(t, srv, "/api/get-user-credits")
	if body == nil || len(body) != 0 {
		t.Errorf("balance body = %#v, want {}", body)
	}
}

// A provider that echoes the key back must not make it reach an error.
func TestKeyNeverInErrors(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"code":1,"message":"bad header `+r.Header.Get("Authorization")+`"}`)
	}))
	defer echo.Close()
	logs := &wiretest.SyncBuffer{}
	c := sorapro.New(echo.URL, core.Secret(key), sorapro.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	m, r := normalize(t, core.Request{Prompt: "a cat"})
	_, err1 := c.Submit(t.Context(), m, r)
	_, err2 := c.Status(t.Context(), m, "x")
	_, err3 := c.Balance(t.Context())
	for _, err := range []error{err1, err2, err3} {
		if err == nil || strings.Contains(err.Error(), key) {
			t.Errorf("err %v", err)
		}
	}
	if strings.Contains(logs.String(), key) {
		t.Errorf("the key is in the logs: %s", logs)
	}
}

func TestCheckAccess(t *testing.T) {
	wiretest.CheckAccess(t, func(url string, key core.Secret) core.AccessChecker { return sorapro.New(url, key) }, true)
}
