// Package videocreate is a client for the /v1/video/create protocol
// (docs/PROTOCOLS.md), served by one-api/new-api style gateways: images
// travel as public URLs, errors come in the OpenAI error envelope with a 4xx.
package videocreate

import (
	"log/slog"
	"net/http"

	"sorabot/core"
	"sorabot/core/provider/internal/wire"
)

// Paths of the protocol, below the base URL.
const (
	createPath = "/v1/video/create"
	queryPath  = "/v1/video/query"
)

// Client talks to one gateway with one key.
type Client struct {
	conn  wire.Conn
	media core.MediaHost
}

var (
	_ core.Provider       = (*Client)(nil)
	_ core.RequestChecker = (*Client)(nil)
	_ core.AccessChecker  = (*Client)(nil)
)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 2-minute timeout;
// the caller's context bounds each call too).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.conn.HTTP = hc } }

// WithLogger sets the logger for operator warnings (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.conn.Log = l } }

// WithMedia lets the client publish uploaded images that have no public
// URL, so the gateway can fetch them. Without it such requests are refused.
func WithMedia(h core.MediaHost) Option { return func(c *Client) { c.media = h } }

// New returns a client for the gateway at baseURL using key as its bearer key.
func New(baseURL string, key core.Secret, opts ...Option) *Client {
	c := &Client{conn: wire.NewConn("videocreate", baseURL, key)}
	for _, o := range opts {
		o(c)
	}
	return c
}
