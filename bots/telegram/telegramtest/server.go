// Package telegramtest is a fake Telegram Bot API server on a real loopback
// listener, for tests and benchmarks of code that uses go-telegram/bot (or
// any other client) with a configurable server URL.
//
// It checks every request against the embedded Bot API description (method
// and field names, required fields, value types) and answers the way Telegram
// does, including its errors: 404 for unknown methods, 400 for missing or
// malformed fields, 413 for oversized uploads, 409 for competing getUpdates
// consumers, 429 with retry_after, 403 when a user blocked the bot. Things
// Telegram tolerates but a careful bot should not do (unknown fields, sending
// into a 429 window) are answered normally and listed by Violations.
//
// Simulated users send messages, photos, documents, replies and button
// presses (SendText, SendPhoto, ...); the bot receives them by long polling
// (getUpdates, with real offset semantics) or by webhook.
//
// Telegram Stars payments (invoice.go, payments.go, stars.go):
//
//	sendInvoice                 XTR rules: no provider_token, no tips, exactly one
//	                            price of 1-10000, payload 1-128 bytes, title 1-32,
//	                            description 1-255; the message carries "invoice";
//	                            Invoices(chatID) lists what the bot sent
//	Pay(chatID, userID, payload, amount) PayResult
//	PayInvoice(chatID, userID, invoiceMessageID) (PayResult, error)
//	                            a user pays: pre_checkout_query, then (answer
//	                            ok:true within Options.PreCheckoutTimeout, 10 s by
//	                            default) a charge and a successful_payment message;
//	                            Outcome is PayPaid, PayDeclined, PayExpired or
//	                            PayUndelivered (allowed_updates left the query out)
//	answerPreCheckoutQuery      ok:false needs error_message; unknown, repeated or
//	                            late answers fail (late and repeated ones are Violations)
//	LoseNextPayments(n)         the next n charges send no successful_payment update
//	Redeliver(PayResult.UpdateID)  sends the same successful_payment again
//	RefundByTelegram(chargeID) (updateID, error)  a refunded_payment message
//	refundStarPayment           once per charge, then CHARGE_ALREADY_REFUNDED
//	                            (Options.NotifyBotRefunds: also a refunded_payment message)
//	getStarTransactions         offset/limit pages, chronological (or
//	                            Options.StarTransactionsNewestFirst); a payment's id
//	                            is its telegram_payment_charge_id
//	Charges(), WaitCharge(timeout, chargeID, match)  what was paid and refunded
//
// Bot settings per language: setMyCommands, setMyDescription and
// setMyShortDescription (and their getters) take a language_code that is
// empty or two lowercase letters ("invalid language code specified"
// otherwise, as TDLib answers); command descriptions have 1-256 characters,
// descriptions at most 512, short descriptions at most 120. CommandsIn,
// Description and ShortDescription show what was set for a language.
//
// As on Telegram, an update kind missing from a non-empty allowed_updates
// (getUpdates or setWebhook) is never delivered; an empty or never given
// list means every kind but chat_member and the reactions.
package telegramtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"
)

// Options configure a Server. Zero values take the defaults.
type Options struct {
	Token       string // required in every request path; default "<BotID>:AAFakeTelegramTestTokenForSoraBot"
	BotID       int64  // default: the token's numeric prefix, else 777000111
	BotUsername string // default "SoraTestBot"
	MaxUpload   int64  // largest file a bot may upload; default 50 MiB
	MaxDownload int64  // largest file getFile serves, and largest file fetched from a URL; default 20 MiB
	// MaxCalls bounds the call log (older calls are dropped); default 100000.
	MaxCalls int
	// MaxPoll caps a getUpdates timeout; default 50s.
	MaxPoll time.Duration
	// PreCheckoutTimeout is how long a paying user waits for
	// answerPreCheckoutQuery; default 10s, as Telegram.
	PreCheckoutTimeout time.Duration
	// StarTransactionsNewestFirst makes getStarTransactions list the newest
	// transaction first; by default it lists them in chronological order,
	// as the Bot API documents.
	StarTransactionsNewestFirst bool
	// AffiliatePerMille, when set, makes every payment come through an
	// affiliate program: its star transaction carries the affiliate's cut
	// and the amount the bot received, less than the price.
	AffiliatePerMille int
	// NotifyBotRefunds makes a successful refundStarPayment also deliver a
	// refunded_payment message, as for refunds Telegram makes on its own.
	NotifyBotRefunds bool
}

// Server is a running fake Bot API. Its methods are safe for concurrent use.
type Server struct {
	URL   string // base URL without a trailing slash, for bot.WithServerURL
	Token string

	opt   Options
	spec  *apiSpec
	hs    *httptest.Server
	ctx   context.Context // cancelled by Close
	stop  context.CancelFunc
	wg    sync.WaitGroup
	start time.Time

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced on every state change
	calls       []Call
	violations  []string
	faults      map[string][]fault
	delays      map[string]time.Duration
	commandSets map[string][]models.BotCommand

	updates updateQueue
	poll    *poller
	hook    webhook

	chats     map[int64]*chat
	users     map[int64]*models.User
	files     map[string]*storedFile
	callbacks map[string]*callbackState
	nextFile  int64
	nextCB    int64

	stars payState

	descriptions descriptions // by language_code
}

// New starts a server on 127.0.0.1 with a random port.
func New(opt Options) *Server {
	if opt.BotID == 0 {
		// A real token starts with the bot's id, and clients rely on it.
		prefix, _, _ := strings.Cut(opt.Token, ":")
		if id, err := strconv.ParseInt(prefix, 10, 64); err == nil && id > 0 {
			opt.BotID = id
		} else {
			opt.BotID = 777000111
		}
	}
	if opt.Token == "" {
		opt.Token = strconv.FormatInt(opt.BotID, 10) + ":AAFakeTelegramTestTokenForSoraBot"
	}
	if opt.BotUsername == "" {
		opt.BotUsername = "SoraTestBot"
	}
	if opt.MaxUpload <= 0 {
		opt.MaxUpload = 50 << 20
	}
	if opt.MaxDownload <= 0 {
		opt.MaxDownload = 20 << 20
	}
	if opt.MaxCalls <= 0 {
		opt.MaxCalls = 100000
	}
	if opt.MaxPoll <= 0 {
		opt.MaxPoll = 50 * time.Second
	}
	if opt.PreCheckoutTimeout <= 0 {
		opt.PreCheckoutTimeout = defaultPreCheckoutTimeout
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		Token:     opt.Token,
		opt:       opt,
		spec:      loadSpec(),
		ctx:       ctx,
		stop:      stop,
		start:     time.Now(),
		changed:   make(chan struct{}),
		faults:    map[string][]fault{},
		delays:    map[string]time.Duration{},
		chats:     map[int64]*chat{},
		users:     map[int64]*models.User{},
		files:     map[string]*storedFile{},
		callbacks: map[string]*callbackState{},
	}
	s.updates.nextID = 500000001
	s.hs = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.hs.URL
	s.wg.Add(1)
	go s.deliverWebhooks()
	return s
}

// Close ends pending long polls and webhook deliveries and stops the server.
func (s *Server) Close() {
	s.stop()
	s.hs.Close()
	s.wg.Wait()
}

// notifyLocked wakes everything waiting for a state change. s.mu is held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) violate(v string) {
	s.mu.Lock()
	s.violations = append(s.violations, v)
	s.mu.Unlock()
}

// apiError is a Bot API error answer.
type apiError struct {
	code       int
	desc       string
	retryAfter int
}

func badRequest(desc string) *apiError {
	return &apiError{code: 400, desc: "Bad Request: " + desc}
}

var notFound = &apiError{code: 404, desc: "Not Found"}

type apiAnswer struct {
	OK          bool          `json:"ok"`
	Result      any           `json:"result,omitempty"`
	ErrorCode   int           `json:"error_code,omitempty"`
	Description string        `json:"description,omitempty"`
	Parameters  *answerParams `json:"parameters,omitempty"`
}

type answerParams struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = 500
		b = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error: ` + strings.ReplaceAll(err.Error(), `"`, `'`) + `"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *apiError) {
	a := apiAnswer{ErrorCode: e.code, Description: e.desc}
	if e.retryAfter > 0 {
		a.Parameters = &answerParams{RetryAfter: e.retryAfter}
	}
	writeJSON(w, e.code, a)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/file/bot"); ok {
		s.serveFile(w, r, rest)
		return
	}
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		writeError(w, notFound)
		return
	}
	token, method, ok := strings.Cut(rest, "/")
	if !ok {
		writeError(w, notFound)
		return
	}
	method = strings.TrimPrefix(method, "test/")
	if token != s.opt.Token {
		drain(r)
		writeError(w, &apiError{code: 401, desc: "Unauthorized"})
		return
	}
	call := Call{Time: time.Now(), Method: method}
	m := s.spec.method(method)
	if m == nil {
		drain(r)
		call.Status = 404
		s.record(call)
		writeError(w, notFound)
		return
	}
	call.Method = m.Name
	req, err := parseRequest(r, s.opt.MaxUpload)
	if req != nil {
		req.method = m.Name
		call.Params = req.paramsCopy()
		call.Files = req.uploads
	}
	if err != nil {
		e := badRequest(err.Error())
		if errors.Is(err, errTooLarge) {
			e = &apiError{code: 413, desc: "Request Entity Too Large"}
		}
		call.Status = e.code
		s.record(call)
		writeError(w, e)
		return
	}
	result, e := s.handle(r.Context(), m, req)
	if e != nil {
		call.Status = e.code
		s.record(call)
		writeError(w, e)
		return
	}
	call.Status = 200
	s.record(call)
	writeJSON(w, 200, apiAnswer{OK: true, Result: result})
}

// handle validates a parsed call, applies scripted faults and delays, and
// runs the method.
func (s *Server) handle(ctx context.Context, m *specEntry, req *request) (any, *apiError) {
	warnings, e := s.spec.validate(m, req)
	if len(warnings) > 0 {
		s.mu.Lock()
		s.violations = append(s.violations, warnings...)
		s.mu.Unlock()
	}
	if e != nil {
		return nil, e
	}
	if d := s.delay(m.Name); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		case <-s.ctx.Done():
			t.Stop()
		}
	}
	if e := s.takeFault(m.Name, req); e != nil {
		return nil, e
	}
	if h := handlers[m.Name]; h != nil {
		return h(s, ctx, req)
	}
	return true, nil
}

type handlerFunc func(s *Server, ctx context.Context, r *request) (any, *apiError)

// handlers holds the methods with behaviour; every other described method
// answers true after validation.
var handlers map[string]handlerFunc

func init() {
	handlers = map[string]handlerFunc{
		"getMe":                  (*Server).getMe,
		"logOut":                 func(*Server, context.Context, *request) (any, *apiError) { return true, nil },
		"getUpdates":             (*Server).getUpdates,
		"setWebhook":             (*Server).setWebhook,
		"deleteWebhook":          (*Server).deleteWebhook,
		"getWebhookInfo":         (*Server).getWebhookInfo,
		"setMyCommands":          (*Server).setMyCommands,
		"getMyCommands":          (*Server).getMyCommands,
		"deleteMyCommands":       (*Server).deleteMyCommands,
		"setMyDescription":       (*Server).setMyDescription,
		"getMyDescription":       (*Server).getMyDescription,
		"setMyShortDescription":  (*Server).setMyShortDescription,
		"getMyShortDescription":  (*Server).getMyShortDescription,
		"sendMessage":            (*Server).sendMessage,
		"sendPhoto":              (*Server).sendPhoto,
		"sendDocument":           (*Server).sendDocument,
		"sendVideo":              (*Server).sendVideo,
		"editMessageText":        (*Server).editMessageText,
		"editMessageCaption":     (*Server).editMessageCaption,
		"editMessageReplyMarkup": (*Server).editMessageReplyMarkup,
		"deleteMessage":          (*Server).deleteMessage,
		"sendChatAction":         (*Server).sendChatAction,
		"answerCallbackQuery":    (*Server).answerCallbackQuery,
		"getFile":                (*Server).getFile,
	}
	addPaymentHandlers(handlers)
}

func (s *Server) getMe(context.Context, *request) (any, *apiError) {
	return s.botUser(true), nil
}

// botUser is the bot as getMe describes it (full) or as a message sender.
func (s *Server) botUser(full bool) *models.User {
	u := &models.User{ID: s.opt.BotID, IsBot: true, FirstName: "Sora Test Bot", Username: s.opt.BotUsername}
	if full {
		u.CanJoinGroups = true
	}
	return u
}

// drain reads what is left of a request body, so that the client sees the
// answer rather than a reset connection.
func drain(r *http.Request) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
	}
}
