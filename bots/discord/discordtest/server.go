// Package discordtest is a fake Discord (REST API, gateway and attachment CDN)
// on a loopback listener, for tests that drive the real discordgo client.
//
// Every REST request is checked against Discord's OpenAPI description (route,
// method, auth, path snowflakes, required body properties and the JSON types
// of the top-level properties and of nested objects one level down); unknown
// routes get 404, spec violations 400 Invalid Form Body (50035), as Discord
// answers. Interaction rules (3 s to acknowledge, one acknowledgement, 15 min
// tokens), upload limits (40005), rate-limit headers and scripted 429s are
// enforced too. Everything received is recorded for inspection, and mistakes
// a real Discord would punish silently (a late acknowledgement, a request sent
// while a rate limit says wait) are collected as Violations.
//
// Registered commands (PUT .../commands, a bulk overwrite) follow Discord's
// rules: lowercase names of 1-32 letters, digits, - and _; descriptions of
// 1-100 characters; required options first; at most 25 options and 25
// choices of 1-100 characters; and in name_localizations and
// description_localizations only the locales of the spec's
// AvailableLocalesEnum as keys ("pt-BR", never "pt_BR" or "pt"), with
// values under the same rules as the texts they translate.
//
// Monetization (sku.go, entitlement.go):
//
//	AddSKU(SKU{ID, Type, Name, Flags})   the application's SKUs, listed by GET
//	                                     /applications/{id}/skus (a documented route the
//	                                     OpenAPI file lacks); premium buttons may only
//	                                     name these
//	Purchase(userID, skuID) (Entitlement, error)
//	                                     a store purchase: an entitlement (type 1) and
//	                                     ENTITLEMENT_CREATE on the gateway; refused while
//	                                     the user holds an unconsumed one to that SKU
//	PurchaseOffline(userID, skuID)       the same without the event (bot not connected)
//	RedispatchEntitlement(id) error      ENTITLEMENT_CREATE once more (a replay)
//	RefundEntitlement(id) (Entitlement, error)  deleted, and ENTITLEMENT_DELETE
//	Entitlement(id), Entitlements(), WaitEntitlement(timeout, id, match)
//	                                     state: Consumed, Deleted, ConsumeCalls
//
// REST: GET /applications/{app}/entitlements filters by user_id, guild_id,
// sku_ids, before/after (entitlement ids, ascending), limit (1-100) and
// leaves deleted ones out unless exclude_deleted=false; GET one; POST
// .../entitlements/{id}/consume answers 204, then 400 (code 0) on a second
// consume, 40018 for a non-consumable SKU, 10029 for an unknown or deleted
// entitlement. Interactions carry the user's unconsumed entitlements in
// "entitlements". Query parameters of every route are checked against the
// OpenAPI file (discordgo's Entitlements sends before/after as timestamps,
// which Discord, like the fake, rejects as not snowflakes). Buttons anywhere
// in a body follow the premium rules: style 6 needs a known sku_id and no
// custom_id, label, url or emoji (an empty label counts as none); other
// styles have no sku_id.
package discordtest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Options configures a fake Discord. Zero values take Discord's defaults.
type Options struct {
	// Token is the bot token expected as "Authorization: Bot <token>" and in
	// the gateway IDENTIFY. Empty accepts any non-empty bot token.
	Token string
	// AppID is the application id (default "900000000000000001").
	AppID string
	// BotUserID is the bot user's id (default AppID).
	BotUserID string
	// BotName is the bot user's username (default "sorabot").
	BotName string
	// AttachmentSizeLimit is the per-file upload limit, also sent in
	// interactions as attachment_size_limit (default 10 MiB).
	AttachmentSizeLimit int64
	// MaxRequestBytes limits a whole request body (default 25 MiB).
	MaxRequestBytes int64
	// HeartbeatInterval is sent in the gateway HELLO (default 41.25 s).
	HeartbeatInterval time.Duration
	// AckTimeout is how long an interaction waits for its first response
	// before it fails (default 3 s).
	AckTimeout time.Duration
	// TokenTTL is how long interaction tokens accept edits and follow-ups (default 15 min).
	TokenTTL time.Duration
	// AttachmentTTL is how long signed CDN URLs stay valid (default 24 h).
	AttachmentTTL time.Duration
	// RateLimit and RateWindow: each route bucket allows RateLimit requests per
	// RateWindow (default 5 per second).
	RateLimit  int
	RateWindow time.Duration
	// PrivilegedIntents lists the privileged gateway intents enabled for the
	// application (GuildMembers, GuildPresences, MessageContent). Asking for
	// others closes the gateway with 4014, as Discord does.
	PrivilegedIntents discordgo.Intent
	// DispatchWait is how long a simulated user waits for a gateway session
	// to be ready before giving up on delivering an interaction (default 5 s).
	DispatchWait time.Duration
	// AnswerLag is how long Discord takes to know the initial response it
	// got as the HTTP answer to an interaction: until then (and while the
	// answer is outstanding) edits of @original and follow-ups answer 404
	// Unknown Webhook (10015), as the real service sometimes does. Zero
	// makes such calls wait for the answer instead.
	AnswerLag time.Duration
}

func (o *Options) defaults() {
	if o.AppID == "" {
		o.AppID = "900000000000000001"
	}
	if o.BotUserID == "" {
		o.BotUserID = o.AppID
	}
	if o.BotName == "" {
		o.BotName = "sorabot"
	}
	if o.AttachmentSizeLimit <= 0 {
		o.AttachmentSizeLimit = 10 << 20
	}
	if o.MaxRequestBytes <= 0 {
		o.MaxRequestBytes = 25 << 20
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 41250 * time.Millisecond
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 3 * time.Second
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 15 * time.Minute
	}
	if o.AttachmentTTL <= 0 {
		o.AttachmentTTL = 24 * time.Hour
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 5
	}
	if o.RateWindow <= 0 {
		o.RateWindow = time.Second
	}
	if o.DispatchWait <= 0 {
		o.DispatchWait = 5 * time.Second
	}
}

// Call is one HTTP request the fake received.
type Call struct {
	Time   time.Time
	Method string
	Path   string // URL path as sent, e.g. /api/v9/channels/1/messages
	Query  string
	Body   []byte // JSON body, or the payload_json part of a multipart body
	Files  []Upload
	Status int
}

// Server is a running fake Discord.
type Server struct {
	URL        string // http://127.0.0.1:port (REST under /api/v9 and /api/v10, CDN under /attachments)
	GatewayURL string // ws://127.0.0.1:port (what GET /gateway returns)

	opt       Options
	spec      *specDoc
	hs        *httptest.Server
	transport *http.Transport
	pub       ed25519.PublicKey
	priv      ed25519.PrivateKey
	cdnKey    []byte
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced on every state change
	calls        []Call
	violations   []string
	buckets      map[string]*bucket
	failures     []*failure
	interactions map[string]*interaction // by id
	byToken      map[string]*interaction
	order        []*interaction
	channels     map[string]*channel
	dmByUser     map[string]string
	users        map[string]User
	denied       map[string]bool // channel ids the bot cannot access
	deniedDM     map[string]bool // user ids that do not accept DMs
	messages     map[string]*message
	commands     map[string][]*discordgo.ApplicationCommand // by guild id, "" = global
	cdn          map[string]*cdnFile                        // by attachment id
	modals       map[string]bool                            // custom ids of modals shown
	gwConns      map[*gwConn]bool
	gwSessions   map[string]*gwSession
	readyConn    *gwConn
	interactURL  string
	shop         shop // SKUs and entitlements
}

// New starts a fake Discord on 127.0.0.1.
func New(opt Options) *Server {
	opt.defaults()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	s := &Server{
		opt:          opt,
		spec:         loadSpec(),
		pub:          pub,
		priv:         priv,
		cdnKey:       []byte(randomHex(16)),
		changed:      make(chan struct{}),
		buckets:      map[string]*bucket{},
		interactions: map[string]*interaction{},
		byToken:      map[string]*interaction{},
		channels:     map[string]*channel{},
		dmByUser:     map[string]string{},
		users:        map[string]User{},
		denied:       map[string]bool{},
		deniedDM:     map[string]bool{},
		messages:     map[string]*message{},
		commands:     map[string][]*discordgo.ApplicationCommand{},
		cdn:          map[string]*cdnFile{},
		modals:       map[string]bool{},
		gwConns:      map[*gwConn]bool{},
		gwSessions:   map[string]*gwSession{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hs = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic("discordtest: listen: " + err.Error())
	}
	s.hs.Listener = ln
	s.hs.Start()
	s.URL = s.hs.URL
	s.GatewayURL = "ws://" + strings.TrimPrefix(s.hs.URL, "http://")
	s.transport = http.DefaultTransport.(*http.Transport).Clone()
	return s
}

// Close stops the server, closes gateway connections and stops timers.
func (s *Server) Close() {
	s.cancel()
	s.mu.Lock()
	for _, it := range s.interactions {
		if it.timer != nil {
			it.timer.Stop()
		}
	}
	conns := make([]*gwConn, 0, len(s.gwConns))
	for c := range s.gwConns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(1001, "going away")
	}
	s.hs.Close()
	s.wg.Wait()
	s.transport.CloseIdleConnections()
}

// PublicKey is the application's public key, for verifying signed HTTP interactions.
func (s *Server) PublicKey() ed25519.PublicKey { return s.pub }

// Options returns the effective options (with defaults filled in).
func (s *Server) Options() Options { return s.opt }

// Calls returns every HTTP request received so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Violations returns the rule breaks observed: interactions not acknowledged
// in time or acknowledged twice, requests made while a rate limit said wait,
// undeliverable events, routes the fake does not implement, and the like.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

func (s *Server) violatef(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
	s.notifyLocked()
}

// notifyLocked wakes every waiter; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor polls cond (under s.mu) until it holds or the timeout passes.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.mu.Lock()
			ok = cond()
			s.mu.Unlock()
			return ok
		}
	}
}

// serveHTTP routes gateway upgrades, CDN downloads and REST calls.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		s.serveGateway(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/attachments/") || strings.HasPrefix(r.URL.Path, "/ephemeral-attachments/"):
		s.serveCDN(w, r)
		return
	}
	s.serveREST(w, r)
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.notifyLocked()
	s.mu.Unlock()
}

func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	// Drain what a handler left unread before the buffered answer is flushed,
	// so that a client still writing its upload gets the answer, not a reset.
	defer func() { _, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 4*s.opt.MaxRequestBytes)) }()
	call := Call{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	status := s.handleREST(w, r, &call)
	call.Status = status
	s.record(call)
}

// apiPath strips /api/v9 or /api/v10; ok is false for other prefixes.
func apiPath(p string) (string, bool) {
	for _, pre := range []string{"/api/v9/", "/api/v10/"} {
		if strings.HasPrefix(p, pre) {
			return "/" + strings.TrimPrefix(p, pre), true
		}
	}
	return "", false
}

func (s *Server) handleREST(w http.ResponseWriter, r *http.Request, call *Call) int {
	path, okPrefix := apiPath(r.URL.Path)
	if !okPrefix {
		writeAPIError(w, errNotFound())
		return http.StatusNotFound
	}
	rt, params := s.spec.match(path)
	if rt == nil {
		writeAPIError(w, errNotFound())
		return http.StatusNotFound
	}
	op := rt.ops[r.Method]
	if op == nil {
		writeAPIError(w, errMethodNotAllowed())
		return http.StatusMethodNotAllowed
	}
	if e := s.checkAuth(r, op); e != nil {
		writeAPIError(w, e)
		return e.status
	}
	bk := bucketKey(r.Method, rt.template, params)
	if st, limited := s.rateLimit(w, r.Method, path, bk, rt.template); limited {
		return st
	}
	b, e := s.readBody(r)
	if b != nil {
		call.Body = b.raw
		call.Files = b.files
	}
	if e != nil {
		writeAPIError(w, e)
		return e.status
	}
	if b.tooLarge {
		writeAPIError(w, errTooLarge())
		return http.StatusRequestEntityTooLarge
	}
	if errs := s.spec.checkParams(rt, params); errs != nil {
		writeAPIError(w, errForm(errs))
		return http.StatusBadRequest
	}
	if errs := s.spec.checkQuery(op, r.URL.Query()); errs != nil {
		writeAPIError(w, errForm(errs))
		return http.StatusBadRequest
	}
	if errs := s.checkBody(op, b); errs != nil {
		writeAPIError(w, errForm(errs))
		return http.StatusBadRequest
	}
	if errs := s.checkPremiumButtons(b); errs != nil {
		writeAPIError(w, errForm(errs))
		return http.StatusBadRequest
	}
	rep := s.dispatchREST(r, rt.template, params, b)
	if rep.err != nil {
		writeAPIError(w, rep.err)
		return rep.err.status
	}
	if rep.status == http.StatusNoContent || rep.body == nil {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	writeJSON(w, rep.status, rep.body)
	return rep.status
}

// checkBody validates the JSON body (or payload_json) against the operation's schema.
func (s *Server) checkBody(op *operation, b *body) fieldErrors {
	if op.body == nil {
		return nil
	}
	if b.raw == nil {
		if !op.bodyRequired {
			return nil
		}
		if t := s.spec.allowedTypes(s.spec.resolve(op.body), 0); t != nil && !t["object"] {
			return leafError("BASE_TYPE_REQUIRED", "This field is required")
		}
		return s.spec.validate(map[string]any{}, op.body, 0)
	}
	return s.spec.validate(b.val, op.body, 0)
}

func (s *Server) checkAuth(r *http.Request, op *operation) *apiError {
	h := r.Header.Get("Authorization")
	if h == "" {
		if op.botOnly {
			return errUnauthorized()
		}
		return nil
	}
	tok, isBot := strings.CutPrefix(h, "Bot ")
	if !isBot || tok == "" || (s.opt.Token != "" && tok != s.opt.Token) {
		return errUnauthorized()
	}
	return nil
}

// dispatchREST runs the handler for a spec route the fake implements.
func (s *Server) dispatchREST(r *http.Request, tmpl string, p map[string]string, b *body) reply {
	key := r.Method + " " + tmpl
	switch key {
	case "GET /gateway", "GET /gateway/bot":
		return ok(map[string]any{
			"url":    s.GatewayURL,
			"shards": 1,
			"session_start_limit": map[string]int{
				"total": 1000, "remaining": 999, "reset_after": 14400000, "max_concurrency": 1,
			},
		})
	case "GET /users/@me":
		return ok(s.botUser())
	case "GET /oauth2/applications/@me", "GET /applications/@me":
		return ok(s.application())
	case "GET /applications/{application_id}/commands", "PUT /applications/{application_id}/commands",
		"GET /applications/{application_id}/guilds/{guild_id}/commands", "PUT /applications/{application_id}/guilds/{guild_id}/commands":
		return s.handleCommands(r.Method, p["application_id"], p["guild_id"], b)
	case "POST /interactions/{interaction_id}/{interaction_token}/callback":
		return s.handleCallback(p["interaction_id"], p["interaction_token"], b)
	case "GET /webhooks/{webhook_id}/{webhook_token}/messages/@original",
		"PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original",
		"DELETE /webhooks/{webhook_id}/{webhook_token}/messages/@original":
		return s.handleWebhookMessage(r.Method, p["webhook_id"], p["webhook_token"], "@original", b)
	case "GET /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
		"PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
		"DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}":
		return s.handleWebhookMessage(r.Method, p["webhook_id"], p["webhook_token"], p["message_id"], b)
	case "POST /webhooks/{webhook_id}/{webhook_token}":
		return s.handleFollowup(p["webhook_id"], p["webhook_token"], r.URL.Query().Get("wait") == "true", b)
	case "POST /channels/{channel_id}/messages":
		return s.handleChannelMessageCreate(p["channel_id"], b)
	case "GET /channels/{channel_id}/messages/{message_id}",
		"PATCH /channels/{channel_id}/messages/{message_id}",
		"DELETE /channels/{channel_id}/messages/{message_id}":
		return s.handleChannelMessage(r.Method, p["channel_id"], p["message_id"], b)
	case "GET /channels/{channel_id}":
		return s.handleGetChannel(p["channel_id"])
	case "POST /users/@me/channels":
		return s.handleCreateDM(b)
	}
	if rep, ok := s.dispatchShop(r, key, p, b); ok {
		return rep
	}
	s.mu.Lock()
	s.violatef("discordtest does not implement %s %s", r.Method, tmpl)
	s.mu.Unlock()
	return fail(errCode(http.StatusNotImplemented, 0, "discordtest: "+key+" is not implemented"))
}

func (s *Server) botUser() map[string]any {
	return map[string]any{
		"id": s.opt.BotUserID, "username": s.opt.BotName, "discriminator": "0", "global_name": nil,
		"avatar": nil, "bot": true, "verified": true, "flags": 0, "public_flags": 0, "mfa_enabled": false,
		"locale": "en-US", "premium_type": 0, "email": nil,
	}
}

// author is the bot as a message author.
func (s *Server) author() map[string]any {
	return map[string]any{
		"id": s.opt.BotUserID, "username": s.opt.BotName, "discriminator": "0", "global_name": nil,
		"avatar": nil, "bot": true, "public_flags": 0, "flags": 0,
	}
}

func (s *Server) application() map[string]any {
	return map[string]any{
		"id": s.opt.AppID, "name": s.opt.BotName, "icon": nil, "description": "", "summary": "",
		"type": nil, "bot_public": true, "bot_require_code_grant": false,
		"verify_key": fmt.Sprintf("%x", []byte(s.pub)), "flags": 0, "team": nil,
		"owner": map[string]any{"id": "100000000000000001", "username": "owner", "discriminator": "0", "avatar": nil, "flags": 0},
		"bot":   s.botUser(),
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
