package discordtest

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// privilegedIntents need enabling in the developer portal.
const privilegedIntents = discordgo.IntentsGuildMembers | discordgo.IntentsGuildPresences | discordgo.IntentsMessageContent

const backlogSize = 1000

type gwEvent struct {
	seq int64
	t   string
	d   json.RawMessage
}

type gwSession struct {
	id       string
	seq      int64
	compress bool
	backlog  []gwEvent
	conn     *gwConn
}

type gwConn struct {
	s    *Server
	ws   *websocket.Conn
	wmu  sync.Mutex
	sess *gwSession // nil until IDENTIFY or RESUME (guarded by s.mu)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// serveGateway speaks the gateway protocol (JSON encoding, optional zlib
// payload compression as requested by IDENTIFY's "compress").
func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	call := Call{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	s.mu.Lock()
	closing := s.ctx.Err() != nil
	if !closing {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if closing {
		http.Error(w, "closing", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		call.Status = http.StatusBadRequest
		s.record(call)
		return
	}
	call.Status = http.StatusSwitchingProtocols
	s.record(call)
	c := &gwConn{s: s, ws: ws}
	s.mu.Lock()
	s.gwConns[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.gwConns, c)
		if c.sess != nil && c.sess.conn == c {
			c.sess.conn = nil
		}
		if s.readyConn == c {
			s.readyConn = nil
		}
		s.notifyLocked()
		s.mu.Unlock()
		_ = ws.Close()
	}()
	if enc := r.URL.Query().Get("encoding"); enc != "" && enc != "json" {
		c.close(4002, "Error while decoding payload.")
		return
	}
	if err := c.send(10, "", 0, map[string]any{"heartbeat_interval": s.opt.HeartbeatInterval.Milliseconds(), "_trace": []string{"discordtest"}}); err != nil {
		return
	}
	c.readLoop()
}

func (c *gwConn) readLoop() {
	s := c.s
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := json.Unmarshal(data, &p); err != nil {
			c.close(4002, "Error while decoding payload.")
			return
		}
		s.mu.Lock()
		authed := c.sess != nil
		s.mu.Unlock()
		switch p.Op {
		case 1:
			if err := c.send(11, "", 0, nil); err != nil {
				return
			}
		case 2:
			if authed {
				c.close(4005, "Already authenticated.")
				return
			}
			if !c.identify(p.D) {
				return
			}
		case 6:
			if !c.resume(p.D) {
				return
			}
		case 3, 4, 8:
			if !authed {
				c.close(4003, "Not authenticated.")
				return
			}
		default:
			c.close(4001, "Unknown opcode.")
			return
		}
	}
}

func (s *Server) tokenOK(tok string) bool {
	tok = strings.TrimPrefix(tok, "Bot ")
	return tok != "" && (s.opt.Token == "" || tok == s.opt.Token)
}

func (c *gwConn) identify(raw json.RawMessage) bool {
	s := c.s
	var id struct {
		Token    string  `json:"token"`
		Intents  *int64  `json:"intents"`
		Compress bool    `json:"compress"`
		Shard    *[2]int `json:"shard"`
	}
	if err := json.Unmarshal(raw, &id); err != nil {
		c.close(4002, "Error while decoding payload.")
		return false
	}
	if !s.tokenOK(id.Token) {
		c.close(4004, "Authentication failed.")
		return false
	}
	if id.Intents == nil {
		c.close(4013, "Invalid intent(s).")
		return false
	}
	if discordgo.Intent(*id.Intents)&privilegedIntents&^s.opt.PrivilegedIntents != 0 {
		c.close(4014, "Disallowed intent(s).")
		return false
	}
	if id.Shard != nil && (id.Shard[1] < 1 || id.Shard[0] < 0 || id.Shard[0] >= id.Shard[1]) {
		c.close(4010, "Invalid shard.")
		return false
	}
	sess := &gwSession{id: randomHex(16), compress: id.Compress}
	s.mu.Lock()
	s.gwSessions[sess.id] = sess
	sess.conn = c
	c.sess = sess
	s.mu.Unlock()
	ready := map[string]any{
		"v": 10, "user": s.botUser(), "session_id": sess.id, "session_type": "normal",
		"resume_gateway_url": s.GatewayURL, "application": map[string]any{"id": s.opt.AppID, "flags": 0},
		"guilds": []any{}, "private_channels": []any{}, "relationships": []any{}, "presences": []any{},
		"guild_join_requests": []any{}, "geo_ordered_rtc_regions": []any{}, "user_settings": map[string]any{},
		"_trace": []string{"discordtest"},
	}
	if id.Shard != nil {
		ready["shard"] = id.Shard
	}
	d, _ := json.Marshal(ready)
	if err := c.dispatch("READY", d); err != nil {
		return false
	}
	s.mu.Lock()
	s.readyConn = c
	s.notifyLocked()
	s.mu.Unlock()
	return true
}

func (c *gwConn) resume(raw json.RawMessage) bool {
	s := c.s
	var r struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		c.close(4002, "Error while decoding payload.")
		return false
	}
	if !s.tokenOK(r.Token) {
		c.close(4004, "Authentication failed.")
		return false
	}
	s.mu.Lock()
	sess := s.gwSessions[r.SessionID]
	if sess == nil {
		s.mu.Unlock()
		return c.send(9, "", 0, false) == nil
	}
	if old := sess.conn; old != nil && old != c {
		defer old.close(4009, "Session timed out.")
	}
	sess.conn = c
	c.sess = sess
	var replay []gwEvent
	for _, e := range sess.backlog {
		if e.seq > r.Seq {
			replay = append(replay, e)
		}
	}
	s.mu.Unlock()
	for _, e := range replay {
		if err := c.send(0, e.t, e.seq, e.d); err != nil {
			return false
		}
	}
	if err := c.dispatch("RESUMED", json.RawMessage(`{"_trace":["discordtest"]}`)); err != nil {
		return false
	}
	s.mu.Lock()
	s.readyConn = c
	s.notifyLocked()
	s.mu.Unlock()
	return true
}

// dispatch sends an op 0 event with the session's next sequence number.
func (c *gwConn) dispatch(t string, d json.RawMessage) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	s := c.s
	s.mu.Lock()
	sess := c.sess
	if sess == nil {
		s.mu.Unlock()
		return errors.New("gateway connection not identified")
	}
	sess.seq++
	seq := sess.seq
	sess.backlog = append(sess.backlog, gwEvent{seq: seq, t: t, d: d})
	if len(sess.backlog) > backlogSize {
		sess.backlog = sess.backlog[len(sess.backlog)-backlogSize:]
	}
	s.mu.Unlock()
	return c.writeLocked(0, t, seq, d)
}

func (c *gwConn) send(op int, t string, seq int64, d any) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(op, t, seq, d)
}

func (c *gwConn) writeLocked(op int, t string, seq int64, d any) error {
	msg := map[string]any{"op": op, "d": d, "s": nil, "t": nil}
	if t != "" {
		msg["t"], msg["s"] = t, seq
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	c.s.mu.Lock()
	compress := c.sess != nil && c.sess.compress
	c.s.mu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if compress {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		_, _ = zw.Write(data)
		_ = zw.Close()
		return c.ws.WriteMessage(websocket.BinaryMessage, buf.Bytes())
	}
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

func (c *gwConn) close(code int, text string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	_ = c.ws.Close()
}

// dispatch sends an event to the identified gateway session, waiting up to
// DispatchWait for one to connect.
func (s *Server) dispatch(t string, d json.RawMessage) error {
	var c *gwConn
	if !s.waitFor(s.opt.DispatchWait, func() bool { c = s.readyConn; return c != nil }) {
		return errors.New("no gateway session is connected and identified")
	}
	return c.dispatch(t, d)
}

// WaitReady waits until a gateway session has identified (READY sent).
func (s *Server) WaitReady(timeout time.Duration) bool {
	return s.waitFor(timeout, func() bool { return s.readyConn != nil })
}

// DropGateway closes every gateway connection abruptly (no close frame),
// as a network failure would; sessions stay resumable.
func (s *Server) DropGateway() {
	s.mu.Lock()
	conns := make([]*gwConn, 0, len(s.gwConns))
	for c := range s.gwConns {
		conns = append(conns, c)
	}
	s.readyConn = nil
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.Close()
	}
}
