// Package wiretest holds the test helpers the provider clients' tests
// share: a log sink, request and polling helpers around the providertest
// emulator, and the runners of the reply-parsing tables.
package wiretest

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"sorabot/core"
	"sorabot/core/provider/providertest"
)

// SyncBuffer is a log sink safe for concurrent writes.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// PNG returns a small valid PNG image.
func PNG(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Normalize runs a request through the default catalog for protocol, as
// the core does.
func Normalize(t *testing.T, protocol string, r core.Request) (*core.Model, *core.Request) {
	t.Helper()
	q, err := core.DefaultCatalog().Normalize(protocol, &r)
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	return q.Model, &r
}

// LastBody returns the last request to path and its decoded JSON body.
func LastBody(t *testing.T, srv *providertest.Server, path string) (providertest.Request, map[string]any) {
	t.Helper()
	reqs := srv.Requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Path == path {
			m, _ := reqs[i].Body.(map[string]any)
			return reqs[i], m
		}
	}
	t.Fatalf("no request to %s", path)
	return providertest.Request{}, nil
}

// Poller is what WaitEnd polls: a client's Status.
type Poller interface {
	Status(ctx context.Context, m *core.Model, taskID string) (core.TaskStatus, error)
}

// WaitEnd polls until the task is done or failed, within a deadline, and
// returns the last status and every progress seen.
func WaitEnd(t *testing.T, c Poller, m *core.Model, id string) (core.TaskStatus, []float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var seen []float64
	for {
		st, err := c.Status(ctx, m, id)
		if err != nil {
			t.Fatalf("Status: %v", err)
		}
		seen = append(seen, st.Progress)
		if st.State == core.TaskDone || st.State == core.TaskFailed {
			return st, seen
		}
		select {
		case <-ctx.Done():
			t.Fatalf("task %s did not end: last %+v", id, st)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// SubmitCase is a create that must fail: the emulator scripted with Fault,
// or the model's id replaced by Model, or the call cut at CtxLimit.
type SubmitCase struct {
	Name     string
	Fault    *providertest.Fault
	Model    string // a model the emulator does not serve
	CtxLimit time.Duration
	Code     string
	Temp     bool
	Refused  bool          // the provider's explicit refusal (core.IsRefused)
	Wait     time.Duration // the Retry-After the error carries
	Msg      string        // part of the user message
	Operator bool          // an operator warning is logged
}

// SubmitFails submits m and r through c, to srv scripted as tt says, and
// checks the error and what reached logs, key never among it.
func SubmitFails(t *testing.T, srv *providertest.Server, c core.Provider, logs *SyncBuffer, key string, m *core.Model, r *core.Request, tt SubmitCase) {
	t.Helper()
	if tt.Model != "" {
		cp := *m
		cp.ID = tt.Model
		m = &cp
	}
	if tt.Fault != nil {
		srv.FailCreates(1, *tt.Fault)
	}
	ctx := t.Context()
	if tt.CtxLimit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, tt.CtxLimit)
		defer cancel()
	}
	id, err := c.Submit(ctx, m, r)
	if err == nil {
		t.Fatalf("Submit = %q, nil", id)
	}
	if got := core.ErrorCode(err); got != tt.Code {
		t.Errorf("code %s, want %s: %v", got, tt.Code, err)
	}
	if got := core.IsTemporary(err); got != tt.Temp {
		t.Errorf("temporary %v, want %v: %v", got, tt.Temp, err)
	}
	if got := core.IsRefused(err); got != tt.Refused {
		t.Errorf("refused %v, want %v: %v", got, tt.Refused, err)
	}
	if got, _ := core.RetryAfter(err); got != tt.Wait {
		t.Errorf("retry after %v, want %v: %v", got, tt.Wait, err)
	}
	if !strings.Contains(core.ErrorMessage(err), tt.Msg) {
		t.Errorf("message %q lacks %q", core.ErrorMessage(err), tt.Msg)
	}
	if got := strings.Contains(logs.String(), "operator"); got != tt.Operator {
		t.Errorf("operator warning logged %v, want %v: %s", got, tt.Operator, logs)
	}
	if strings.Contains(err.Error(), key) || strings.Contains(logs.String(), key) {
		t.Error("the key leaked")
	}
}

// CheckAccess runs the provider check of a client made by newClient
// against the emulator with the right key, a wrong key and a closed port;
// balance says whether the protocol reports the account's credit.
func CheckAccess(t *testing.T, newClient func(baseURL string, key core.Secret) core.AccessChecker, balance bool) {
	const key = "sk-check-0123456789"
	srv := providertest.New(providertest.Options{Key: key, Balance: 1234})
	defer srv.Close()
	a := newClient(srv.URL, key).CheckAccess(t.Context())
	if !a.Reachable || !a.KeyAccepted || a.Err != nil || a.HasBalance != balance || (balance && a.Balance != 1234) {
		t.Errorf("right key: %+v", a)
	}
	a = newClient(srv.URL, "sk-wrong-0123456789").CheckAccess(t.Context())
	if !a.Reachable || a.KeyAccepted || a.Err == nil || a.HasBalance {
		t.Errorf("wrong key: %+v", a)
	}
	if srv.Creates() != 0 {
		t.Errorf("a check created %d task(s)", srv.Creates())
	}
	closed := providertest.New(providertest.Options{})
	closed.Close()
	a = newClient(closed.URL, key).CheckAccess(t.Context())
	if a.Reachable || a.KeyAccepted || a.Err == nil {
		t.Errorf("closed port: %+v", a)
	}
	if a.Err != nil && strings.Contains(a.Err.Error(), key) {
		t.Error("the key leaked into the check's error")
	}
}
