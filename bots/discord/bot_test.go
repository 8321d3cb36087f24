package discord

import (
	"bytes"
	"context"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sorabot/bots/discord/discordtest"
	"sorabot/core"
	"sorabot/storage"
)

const testToken = "discord-test-token.abc.def"

var alice = discordtest.User{ID: "200", Username: "alice"}

// harness is a Bot on HTTP interactions against a fake Discord, with a real
// service on bbolt that is never started: jobs are accepted and stay queued.
type harness struct {
	fake     *discordtest.Server
	svc      *core.Service
	bot      *Bot
	logs     *logRecorder
	endpoint string
}

func newHarness(t *testing.T, opt discordtest.Options) *harness {
	t.Helper()
	opt.Token = testToken
	fake := discordtest.New(opt)
	t.Cleanup(fake.Close)
	db, err := storage.Open(filepath.Join(t.TempDir(), "sorabot.db"), storage.Options{StartCredits: 500})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	svc := core.NewService(core.Config{Protocol: "sorapro"}, db, nil, core.DefaultCatalog())
	logs := &logRecorder{changed: make(chan struct{})}
	b, err := New(svc, Options{Token: testToken, APIURL: fake.URL, PublicKey: hex.EncodeToString(fake.PublicKey()),
		AppID: fake.Options().AppID, Logger: slog.New(logs), Interval: 10 * time.Millisecond, EditRate: 50})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.InteractionsHandler())
	t.Cleanup(srv.Close)
	if err := fake.SetInteractionsEndpoint(srv.URL); err != nil {
		t.Fatal(err)
	}
	return &harness{fake: fake, svc: svc, bot: b, logs: logs, endpoint: srv.URL}
}

// run starts Run; the returned stop cancels it and waits until it returned.
func (h *harness) run(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.bot.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (h *harness) original(t *testing.T, id, what string, match func(discordtest.Response) bool) discordtest.Response {
	t.Helper()
	r, ok := h.fake.WaitOriginal(10*time.Second, id, match)
	if !ok {
		cur, _ := h.fake.Original(id)
		t.Fatalf("interaction %s: no %s; now type %d %q, %d files\nviolations %q\nlogs %s", id, what, cur.Type, cur.Content, len(cur.Files), h.fake.Violations(), h.logs)
	}
	return r
}

func (h *harness) noViolations(t *testing.T) {
	t.Helper()
	if v := h.fake.Violations(); len(v) > 0 {
		t.Errorf("Discord API violations:\n%s", strings.Join(v, "\n"))
	}
}

// post sends a signed interaction to the endpoint and returns the HTTP status.
func (h *harness) post(t *testing.T, payload []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.endpoint, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	sig, ts := h.fake.Sign(payload)
	req.Header.Set("X-Signature-Ed25519", sig)
	req.Header.Set("X-Signature-Timestamp", ts)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// logRecorder is a slog.Handler keeping every record, to wait on.
type logRecorder struct {
	mu      sync.Mutex
	recs    []logRecord
	changed chan struct{}
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &boundRecorder{l: l, attrs: as}
}

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	return l.add(nil, r)
}

func (l *logRecorder) add(bound []slog.Attr, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range bound {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.recs = append(l.recs, rec)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
	return nil
}

// wait returns the first record match accepts, waiting up to 10 s.
func (l *logRecorder) wait(match func(logRecord) bool) (logRecord, bool) {
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		ch := l.changed
		for _, r := range l.recs {
			if match(r) {
				l.mu.Unlock()
				return r, true
			}
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			return logRecord{}, false
		}
	}
}

func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, r := range l.recs {
		b.WriteString("\n" + r.level.String() + " " + r.msg)
		for k, v := range r.attrs {
			b.WriteString(" " + k + "=" + v)
		}
	}
	return b.String()
}

type boundRecorder struct {
	l     *logRecorder
	attrs []slog.Attr
}

func (b *boundRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (b *boundRecorder) WithGroup(string) slog.Handler            { return b }
func (b *boundRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &boundRecorder{l: b.l, attrs: append(append([]slog.Attr(nil), b.attrs...), as...)}
}
func (b *boundRecorder) Handle(_ context.Context, r slog.Record) error { return b.l.add(b.attrs, r) }
