// Package providertest emulates both provider protocols (docs/PROTOCOLS.md)
// on a real loopback listener: it validates requests the way the real
// services do, runs tasks through pending → running → done on a clock, serves
// a real MP4 as the result, records what it received and can be scripted to
// fail. Tests, benchmarks and the binary's demo mode use it.
package providertest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"sorabot/core"
)

//go:embed sample.mp4
var sampleMP4 []byte

// SampleMP4 returns a copy of the video every successful task produces
// (H.264, 320×180, 3 s, a few KB).
func SampleMP4() []byte { return bytes.Clone(sampleMP4) }

// DefaultDuration is how long a task takes when Options.Duration is zero.
const DefaultDuration = 3 * time.Second

// DefaultBalance is the sorapro account's credit when Options.Balance is zero.
const DefaultBalance = 10000

// Reasons the emulator gives, as the real services word them.
const (
	ReasonContentPolicy = "The prompt or image was flagged by content moderation: it violates our content policy"
	ReasonGeneric       = "Task failed"
	ReasonNoCredits     = "Insufficient credits: please top up your balance"
	ReasonModelPaused   = "This model interface is paused"
)

// Options configures a Server. The zero value works.
type Options struct {
	// Key is the bearer key both protocols require; empty accepts any
	// request, with or without an Authorization header.
	Key string
	// Keys are more keys accepted beside Key (several accounts at one
	// reseller).
	Keys []string
	// Duration is how long a task takes from creation to its result
	// (DefaultDuration when zero). The first tenth is pending, the rest
	// running with progress rising linearly.
	Duration time.Duration
	// Catalog holds the models each protocol serves: its enabled models of
	// protocol sorapro and videocreate. Nil means core.DefaultCatalog().
	Catalog *core.Catalog
	// Balance is the sorapro account's left_credits (DefaultBalance when zero).
	Balance float64
	// Logger, when set, logs every request the emulator answers.
	Logger *slog.Logger
}

// Request is one HTTP request the emulator received.
type Request struct {
	Time   time.Time
	Method string
	Path   string
	// RawQuery is the query as sent (still URL-encoded); Query is decoded.
	RawQuery string
	Query    url.Values
	Header   http.Header
	// Body is the decoded JSON body (map[string]any, numbers as float64),
	// or nil when the body was empty or not JSON.
	Body any
	Raw  []byte
}

// Fault scripts one answer. A Fault with only Delay (and Accept) set
// answers normally, late.
type Fault struct {
	// Status is the HTTP status to answer. Zero means the protocol's usual
	// error answer: HTTP 200 with a non-zero code for sorapro, 400 with the
	// new-api error envelope for videocreate.
	Status int
	// Message is the error text (the sorapro message, the envelope's
	// error.message).
	Message string
	// Code is the envelope's error.code for videocreate (for example
	// "insufficient_user_quota"); sorapro uses Status or 500 as its code.
	Code string
	// RetryAfter, in seconds, is sent as a Retry-After header.
	RetryAfter int
	// Garbage answers a body that is not JSON.
	Garbage bool
	// Drop closes the connection without any answer.
	Drop bool
	// Delay holds the answer back (Close and the client's cancel end it).
	Delay time.Duration
	// Accept, on a create, creates the task before the fault answers: the
	// provider took the job but the client never learns its id.
	Accept bool
}

func (f Fault) answers() bool { return f.Status != 0 || f.Message != "" || f.Garbage || f.Drop }

// TaskInfo describes a task the emulator created.
type TaskInfo struct {
	ID       string
	Protocol string
	Model    string
	Created  time.Time
	Duration time.Duration
	// Body is the create request's decoded JSON body (numbers as json.Number).
	Body map[string]any
	// FailReason, when set, makes the task fail with it when it would finish.
	FailReason string
	Polls      int
	// Key is the bearer key the create came with.
	Key string
}

type task struct {
	TaskInfo
}

// Server is a running emulator. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of both protocols, e.g. http://127.0.0.1:41234.
	URL string

	opt    Options
	ln     net.Listener
	srv    *http.Server
	closed chan struct{}
	once   sync.Once
	log    *slog.Logger

	mu           sync.Mutex
	reqs         []Request
	creates      int
	polls        int
	tasks        map[string]*task
	order        []string
	createFaults []Fault
	pollFaults   []Fault
	taskFails    []string
	delay        time.Duration
	duration     time.Duration
	resultSize   int64
	balance      float64
}

// New starts an emulator on 127.0.0.1 at a free port. Close stops it.
func New(opt Options) *Server {
	if opt.Catalog == nil {
		opt.Catalog = core.DefaultCatalog()
	}
	if opt.Duration <= 0 {
		opt.Duration = DefaultDuration
	}
	if opt.Balance == 0 {
		opt.Balance = DefaultBalance
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("providertest: listen on loopback: " + err.Error())
	}
	s := &Server{
		URL:      "http://" + ln.Addr().String(),
		opt:      opt,
		ln:       ln,
		closed:   make(chan struct{}),
		log:      opt.Logger,
		tasks:    map[string]*task{},
		duration: opt.Duration,
		balance:  opt.Balance,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/video/sora-pro", s.api(s.soraCreate))
	mux.HandleFunc("/api/video-generations/check-result", s.api(s.soraStatus))
	mux.HandleFunc("/api/get-user-credits", s.api(s.soraBalance))
	mux.HandleFunc("/v1/video/create", s.api(s.vcCreate))
	mux.HandleFunc("/v1/video/query", s.api(s.vcQuery))
	mux.HandleFunc("GET /files/{name}", s.file)
	s.srv = &http.Server{
		Handler:           s.record(mux),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go s.srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed at Close
	return s
}

// Close stops the server, ending every connection and pending delay.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.srv.Close()
		// Serve may not have taken ln over yet: close it here too, so that
		// nothing listens once Close returns.
		s.ln.Close()
	})
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// Creates is the number of create calls received (both protocols, failed ones too).
func (s *Server) Creates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates
}

// Polls is the number of status calls received (both protocols).
func (s *Server) Polls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls
}

// Task returns what the emulator knows of a task.
func (s *Server) Task(id string) (TaskInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok {
		return TaskInfo{}, false
	}
	return t.TaskInfo, true
}

// Tasks returns every task created so far, oldest first.
func (s *Server) Tasks() []TaskInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TaskInfo, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.tasks[id].TaskInfo)
	}
	return out
}

// FailCreates makes the next n create calls answer f.
func (s *Server) FailCreates(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.createFaults = append(s.createFaults, f)
	}
}

// FailPolls makes the next n status calls answer f (for example
// Fault{Status: 500}, Fault{Status: 429, RetryAfter: 1}, Fault{Garbage: true}).
func (s *Server) FailPolls(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.pollFaults = append(s.pollFaults, f)
	}
}

// FailNextTasks makes the next n tasks created fail with reason (for
// example ReasonContentPolicy or ReasonGeneric) when they would finish.
func (s *Server) FailNextTasks(n int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.taskFails = append(s.taskFails, reason)
	}
}

// FailTask makes an existing task fail with reason when it would finish.
// It reports whether the task exists.
func (s *Server) FailTask(id, reason string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if ok {
		t.FailReason = reason
	}
	return ok
}

// SetDelay holds back every API answer (not file downloads) by d.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetDuration sets how long tasks created from now on take; zero or less
// makes them finish at once.
func (s *Server) SetDuration(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.duration = max(d, 0)
}

// SetResultSize makes result downloads exactly n bytes long: the sample MP4
// padded with zeros (or cut short). Zero serves the sample as it is.
func (s *Server) SetResultSize(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resultSize = max(n, 0)
}

// SetBalance sets the sorapro account's left_credits.
func (s *Server) SetBalance(credits float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.balance = credits
}

// record keeps a copy of every request before it is handled.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		r.Body = io.NopCloser(bytes.NewReader(raw))
		var body any
		if len(raw) > 0 && json.Unmarshal(raw, &body) != nil {
			body = nil
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, Request{
			Time: time.Now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
			Header: r.Header.Clone(), Body: body, Raw: raw,
		})
		s.mu.Unlock()
		s.log.Debug("provider emulator request", "method", r.Method, "path", r.URL.Path)
		next.ServeHTTP(w, r)
	})
}

// api wraps an API handler with the global delay.
func (s *Server) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		d := s.delay
		s.mu.Unlock()
		if !s.wait(r.Context(), d) {
			return
		}
		h(w, r)
	}
}

// wait sleeps d unless the request or the server ends first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.closed:
	}
	return false
}

// authorized checks the bearer key.
func (s *Server) authorized(r *http.Request) bool {
	if s.opt.Key == "" {
		return true
	}
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && (key == s.opt.Key || slices.Contains(s.opt.Keys, key))
}

// bearer is the request's bearer key.
func bearer(r *http.Request) string {
	k, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return k
}

// takeFault pops the next scripted fault of a queue.
func (s *Server) takeFault(q *[]Fault) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(*q) == 0 {
		return Fault{}, false
	}
	f := (*q)[0]
	*q = (*q)[1:]
	return f, true
}

// generic answers a fault's transport-level parts: delay, drop, garbage,
// Retry-After. It reports whether the answer is complete.
func (s *Server) generic(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if !s.wait(r.Context(), f.Delay) {
		return true
	}
	if f.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler)
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	if f.Garbage {
		st := f.Status
		if st == 0 {
			st = http.StatusOK
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(st)
		io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1>cloudflare</body></html>")
		return true
	}
	return false
}

// newTask stores a task created from a valid request made with key.
func (s *Server) newTask(protocol, id, model, key string, body map[string]any) *task {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &task{TaskInfo{ID: id, Protocol: protocol, Model: model, Created: time.Now(), Duration: s.duration, Body: body, Key: key}}
	if len(s.taskFails) > 0 {
		t.FailReason = s.taskFails[0]
		s.taskFails = s.taskFails[1:]
	}
	s.tasks[id] = t
	s.order = append(s.order, id)
	return t
}

// phase is a task's state at a moment.
type phase struct {
	state    core.TaskState
	progress int
	reason   string
}

// lookup finds a task, counts the poll and says where it stands.
func (s *Server) lookup(protocol, id string) (phase, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tasks[id]
	if !ok || t.Protocol != protocol {
		return phase{}, false
	}
	t.Polls++
	el := time.Since(t.Created)
	switch {
	case el >= t.Duration && t.FailReason != "":
		return phase{state: core.TaskFailed, reason: t.FailReason}, true
	case el >= t.Duration:
		return phase{state: core.TaskDone, progress: 100}, true
	case el < t.Duration/10:
		return phase{state: core.TaskPending}, true
	default:
		return phase{state: core.TaskRunning, progress: int(100 * el / t.Duration)}, true
	}
}

// model returns the enabled catalog model of that protocol.
func (s *Server) model(protocol string, v any) (*core.Model, bool) {
	id, _ := v.(string)
	m, ok := s.opt.Catalog.Model(id)
	if !ok || m.Disabled || m.Protocol != protocol {
		return nil, false
	}
	return m, true
}

func (s *Server) resultURL(id string) string {
	return s.URL + "/files/" + url.PathEscape(id) + ".mp4"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client may be gone
}
