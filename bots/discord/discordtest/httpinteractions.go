package discordtest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// SetInteractionsEndpoint switches interaction delivery from the gateway to
// signed HTTP POSTs to url, as when an "Interactions Endpoint URL" is set in
// the developer portal. Like Discord, it first checks the endpoint: a signed
// PING must be answered {"type":1} and a badly signed one 401. The HTTP answer
// to each delivered interaction is its initial response. "" switches back.
func (s *Server) SetInteractionsEndpoint(url string) error {
	if url != "" {
		id := newID()
		ping, _ := json.Marshal(map[string]any{
			"id": id, "application_id": s.opt.AppID, "type": 1, "token": newToken(id), "version": 1,
			"user": userObject(User{ID: "643945264868098049", Username: "discord"}),
		})
		resp, body, err := s.postSigned(context.Background(), url, ping, true)
		if err != nil {
			return fmt.Errorf("interactions endpoint PING: %w", err)
		}
		var pong struct {
			Type int `json:"type"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &pong) != nil || pong.Type != 1 {
			return fmt.Errorf("interactions endpoint PING: got %d %q, want 200 {\"type\":1}", resp.StatusCode, body)
		}
		resp, body, err = s.postSigned(context.Background(), url, ping, false)
		if err != nil {
			return fmt.Errorf("interactions endpoint bad-signature check: %w", err)
		}
		if resp.StatusCode != http.StatusUnauthorized {
			return fmt.Errorf("interactions endpoint accepted a bad signature: got %d %q, want 401", resp.StatusCode, body)
		}
	}
	s.mu.Lock()
	s.interactURL = url
	s.mu.Unlock()
	return nil
}

// Sign returns the X-Signature-Ed25519 and X-Signature-Timestamp headers
// Discord would send with body.
func (s *Server) Sign(body []byte) (signature, timestamp string) {
	timestamp = strconv.FormatInt(time.Now().Unix(), 10)
	sig := ed25519.Sign(s.priv, append([]byte(timestamp), body...))
	return hex.EncodeToString(sig), timestamp
}

func (s *Server) postSigned(ctx context.Context, url string, payload []byte, good bool) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.AckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		return nil, nil, err
	}
	sig, ts := s.Sign(payload)
	if !good {
		b, _ := hex.DecodeString(sig)
		b[0] ^= 0xff
		sig = hex.EncodeToString(b)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Discord-Interactions/1.0 (+https://discord.com)")
	req.Header.Set("X-Signature-Ed25519", sig)
	req.Header.Set("X-Signature-Timestamp", ts)
	resp, err := s.transport.RoundTrip(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	return resp, body, err
}

// postInteraction delivers an interaction over HTTP and applies the answer
// as its initial response.
func (s *Server) postInteraction(url string, it *interaction) {
	resp, raw, err := s.postSigned(s.ctx, url, it.raw, true)
	if err != nil {
		if s.ctx.Err() == nil {
			s.mu.Lock()
			s.violatef("interaction %s (%s): POST to interactions endpoint: %v", it.i.ID, it.label, err)
			s.mu.Unlock()
		}
		return
	}
	if resp.StatusCode != http.StatusOK {
		s.mu.Lock()
		s.violatef("interaction %s (%s): interactions endpoint answered %d %q", it.i.ID, it.label, resp.StatusCode, raw)
		s.mu.Unlock()
		return
	}
	b, apiErr := s.parseBody(resp.Header.Get("Content-Type"), bytes.NewReader(raw))
	rt, _ := s.spec.match("/interactions/1/t/callback")
	var errs fieldErrors
	switch {
	case apiErr != nil:
		errs = fieldErrors{"_errors": []map[string]string{{"code": strconv.Itoa(apiErr.Code), "message": apiErr.Message}}}
	case b.tooLarge:
		errs = fieldErrors{"_errors": []map[string]string{{"code": "40005", "message": "Request entity too large"}}}
	default:
		errs = s.checkBody(rt.ops[http.MethodPost], b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if errs != nil {
		e, _ := json.Marshal(errs)
		s.violatef("interaction %s (%s): invalid HTTP interaction response %s: %s", it.i.ID, it.label, raw, e)
		return
	}
	if rep := s.ackLocked(it, b); rep.err != nil {
		s.violatef("interaction %s (%s): HTTP interaction response rejected: %d %s", it.i.ID, it.label, rep.err.Code, rep.err.Message)
		return
	}
	it.answered = time.Now()
}
