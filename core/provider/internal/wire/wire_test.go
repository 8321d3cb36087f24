package wire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sorabot/core"
)

func TestLoose(t *testing.T) {
	nums := map[string]struct {
		want float64
		ok   bool
	}{
		`35`: {35, true}, `" 35.5 "`: {35.5, true}, `"35%"`: {35, true}, `"NaN"`: {0, false},
		`"x"`: {0, false}, `null`: {0, false}, ``: {0, false}, `{}`: {0, false},
	}
	for raw, w := range nums {
		if got, ok := Num(json.RawMessage(raw)); got != w.want || ok != w.ok {
			t.Errorf("Num(%s) = %v, %v; want %v, %v", raw, got, ok, w.want, w.ok)
		}
	}
	strs := map[string]string{`"a"`: "a", `12`: "12", `1.50`: "1.50", `null`: "", `{}`: "", `[1]`: ""}
	for raw, want := range strs {
		if got := Str(json.RawMessage(raw)); got != want {
			t.Errorf("Str(%s) = %q, want %q", raw, got, want)
		}
	}
	texts := map[string]string{`"a"`: "a", `{"message":"m"}`: "m", `{"msg":"n"}`: "n", `{"error":"e"}`: "e", `{"x":1}`: "", `[]`: ""}
	for raw, want := range texts {
		if got := Text(json.RawMessage(raw)); got != want {
			t.Errorf("Text(%s) = %q, want %q", raw, got, want)
		}
	}
	if got := CleanURL(" `'https://x/y.mp4\"\n"); got != "https://x/y.mp4" {
		t.Errorf("CleanURL = %q", got)
	}
}

func TestClip(t *testing.T) {
	if got := Clip(" a \n b\t"); got != "a b" {
		t.Errorf("Clip = %q", got)
	}
	long := strings.Repeat("é", 400)
	got := Clip(long)
	if !strings.HasSuffix(got, "…") || len(got) > 300+len("…") || !strings.HasPrefix(long, strings.TrimSuffix(got, "…")) {
		t.Errorf("Clip of a long text = %q", got)
	}
}

func TestDoScrubsTheKeyAndCapsTheReply(t *testing.T) {
	const key = "sk-wire-0123456789"
	var gotCT, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotCT, gotAuth = r.Header.Get("Content-Type"), r.Header.Get("Authorization")
		io.WriteString(w, "echo "+gotAuth+" "+strings.Repeat("x", MaxReply))
	}))
	defer srv.Close()
	c := NewConn("test", srv.URL+"/", core.Secret(key))
	status, reply, err := c.Do(t.Context(), http.MethodPost, "/p", map[string]int{"a": 1})
	if err != nil || status != 200 {
		t.Fatalf("Do = %d, %v", status, err)
	}
	if gotAuth != "Bearer "+key || gotCT != "application/json" {
		t.Errorf("headers: Authorization %q, Content-Type %q", gotAuth, gotCT)
	}
	if strings.Contains(string(reply), key) || !strings.HasPrefix(string(reply), "echo Bearer [redacted] ") {
		t.Errorf("reply starts %.60q", reply)
	}
	if _, _, err := c.Do(t.Context(), http.MethodGet, "/q", nil); err != nil || gotCT != "" {
		t.Errorf("GET without a body: %v, Content-Type %q", err, gotCT)
	}
}

func TestSubmitError(t *testing.T) {
	c := NewConn("test", "http://x", "")
	busy := testErrorf(core.EUNAVAILABLE, "busy")
	refused := &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}
	tests := []struct {
		status int
		err    error
		isNil  bool
		temp   bool
	}{
		{status: 200, err: nil, isNil: true},
		{status: 0, err: refused, temp: true},
		{status: 0, err: &net.DNSError{Err: "no such host"}, temp: true},
		{status: 0, err: context.DeadlineExceeded},
		{status: 502, err: errors.New("cut"), isNil: true},
		{status: 504, err: errors.New("cut")},
		{status: 200, err: errors.New("cut")},
	}
	for _, tt := range tests {
		got := c.submitError(tt.status, tt.err, busy)
		if (got == nil) != tt.isNil || core.IsTemporary(got) != tt.temp {
			t.Errorf("submitError(%d, %v) = %v (temporary %v)", tt.status, tt.err, got, core.IsTemporary(got))
		}
		if got != nil && core.ErrorCode(got) != core.EUNAVAILABLE {
			t.Errorf("submitError(%d, %v) = %v: not the busy error", tt.status, tt.err, got)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 120 ":                         2 * time.Minute,
		"0":                             0,
		"-5":                            0,
		"1.5":                           0,
		"soon":                          0,
		"99999999999999999999":          0,
		"9999999999":                    24 * time.Hour,
		"Sun, 01 Mar 2026 12:00:07 GMT": 7 * time.Second,
		"Sun, 01 Mar 2026 11:59:00 GMT": 0,
	} {
		if got := RetryAfter(v, now); got != want {
			t.Errorf("RetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestWait(t *testing.T) {
	temp := core.Temporary(testErrorf(core.EUNAVAILABLE, "busy"))
	if d, ok := core.RetryAfter(Wait(temp, 3*time.Second)); !ok || d != 3*time.Second {
		t.Errorf("a temporary error does not carry the wait: %v %v", d, ok)
	}
	if _, ok := core.RetryAfter(Wait(temp, 0)); ok {
		t.Error("no Retry-After still carries a wait")
	}
	final := testErrorf(core.EINVALID, "policy")
	if err := Wait(final, 3*time.Second); err != final {
		t.Errorf("a final error was wrapped: %v", err)
	}
	if Wait(nil, time.Second) != nil {
		t.Error("Wait(nil) != nil")
	}
}

func TestCallReadsRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "4")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := NewConn("test", srv.URL, core.Secret("k"))
	status, _, after, err := c.Call(t.Context(), http.MethodGet, "/x", nil)
	if err != nil || status != http.StatusTooManyRequests || after != 4*time.Second {
		t.Errorf("Call = %d, %v, %v", status, after, err)
	}
}

// testErrorf is a user-facing error whose message is no catalog message.
func testErrorf(code, format string, args ...any) *core.Error {
	return &core.Error{Code: code, ID: "test.error", Message: fmt.Sprintf(format, args...)}
}

// Concurrent calls keep their connections alive for the next ones instead
// of dialing anew (the default transport keeps only 2 per host).
func TestConnKeepsConcurrentConnectionsAlive(t *testing.T) {
	const calls, waves = 20, 3
	var (
		mu       sync.Mutex
		dials    int
		inWave   int
		released = make(chan struct{})
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Answer only when the whole wave is in: each call holds its own
		// connection.
		mu.Lock()
		inWave++
		ch := released
		if inWave == calls {
			inWave = 0
			close(released)
			released = make(chan struct{})
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-r.Context().Done():
		}
		io.WriteString(w, `{"code":200}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			dials++
			mu.Unlock()
		}
	}
	srv.Start()
	defer srv.Close()
	c := NewConn("test", srv.URL, "k")
	for range waves {
		var wg sync.WaitGroup
		for range calls {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
				defer cancel()
				if _, _, err := c.Do(ctx, http.MethodPost, "/p", nil); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	mu.Lock()
	defer mu.Unlock()
	// The first wave dials one connection per call; later waves reuse them
	// (a few may dial when a connection is not back in the pool yet).
	if dials > calls+calls/2 {
		t.Errorf("%d connections for %d waves of %d calls, want about %d", dials, waves, calls, calls)
	}
}
