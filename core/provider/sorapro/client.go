// Package sorapro is a client for the "sora-pro" create-task protocol of
// freesoragenerator.com and its sister sites (docs/PROTOCOLS.md): JSON over
// POST, errors mostly as HTTP 200 with a non-zero code, tasks polled through
// check-result.
package sorapro

import (
	"context"
	"log/slog"
	"net/http"

	"sorabot/core"
	"sorabot/core/provider/internal/wire"
)

// Paths of the protocol, below the base URL.
const (
	createPath  = "/api/v1/video/sora-pro"
	statusPath  = "/api/video-generations/check-result"
	balancePath = "/api/get-user-credits"
)

// Client talks to one sorapro deployment with one key.
type Client struct {
	conn wire.Conn
}

var (
	_ core.Provider       = (*Client)(nil)
	_ core.BalanceChecker = (*Client)(nil)
	_ core.AccessChecker  = (*Client)(nil)
)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 2-minute timeout;
// the caller's context bounds each call too).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.conn.HTTP = hc } }

// WithLogger sets the logger for operator warnings (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.conn.Log = l } }

// New returns a client for the deployment at baseURL (for example
// https://freesoragenerator.com) using key as its bearer key.
func New(baseURL string, key core.Secret, opts ...Option) *Client {
	c := &Client{conn: wire.NewConn("sorapro", baseURL, key)}
	for _, o := range opts {
		o(c)
	}
	return c
}

// post sends body as JSON; see wire.Conn.Do.
func (c *Client) post(ctx context.Context, path string, body any) (int, []byte, error) {
	return c.conn.Do(ctx, http.MethodPost, path, body)
}
