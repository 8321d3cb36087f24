// Package videocreate is a client for the /v1/video/create protocol of seed
// 001 (PROTOCOLS.md B), served by one-api/new-api style gateways: images
// travel as public URLs, errors come in the OpenAI error envelope with a 4xx.
package videocreate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"sorabot/core"
)

// Paths of the protocol, below the base URL.
const (
	createPath = "/v1/video/create"
	queryPath  = "/v1/video/query"
)

// minScrub is the shortest key scrubbed from replies.
const minScrub = 8

// maxReply caps how much of a reply is read.
const maxReply = 1 << 20

// Client talks to one gateway with one key.
type Client struct {
	base  string
	key   core.Secret
	hc    *http.Client
	log   *slog.Logger
	media core.MediaHost
}

var (
	_ core.Provider       = (*Client)(nil)
	_ core.RequestChecker = (*Client)(nil)
)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with a 2-minute timeout;
// the caller's context bounds each call too).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithLogger sets the logger for operator warnings (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithMedia lets the client publish uploaded images that have no public
// URL, so the gateway can fetch them. Without it such requests are refused.
func WithMedia(h core.MediaHost) Option { return func(c *Client) { c.media = h } }

// New returns a client for the gateway at baseURL using key as its bearer key.
func New(baseURL string, key core.Secret, opts ...Option) *Client {
	c := &Client{
		base: strings.TrimRight(baseURL, "/"),
		key:  key,
		hc:   &http.Client{Timeout: 2 * time.Minute},
		log:  slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// do sends a request (body, when not nil, as JSON) and returns the status
// and the (capped) reply. The key is scrubbed from the reply, so no error
// built from it can carry it.
func (c *Client) do(ctx context.Context, method, pathQuery string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+pathQuery, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.key.Reveal())
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	// A key echoed back is scrubbed. Keys too short to be real are not:
	// replacing a couple of letters would garble every reply.
	if k := c.key.Reveal(); len(k) >= minScrub {
		reply = bytes.ReplaceAll(reply, []byte(k), []byte("[redacted]"))
	}
	if err != nil {
		return resp.StatusCode, reply, fmt.Errorf("read reply (HTTP %d): %w", resp.StatusCode, err)
	}
	return resp.StatusCode, reply, nil
}

// notSent reports whether a transport error happened before the request
// could reach the gateway (DNS, dial, connection refused).
func notSent(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// retryStatus reports whether an HTTP status answering a create says the
// gateway did not take it. 504 is left out: a gateway timeout means the
// request reached the service, which may have accepted it.
func retryStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests ||
		(code >= 500 && code != http.StatusGatewayTimeout)
}

// transient reports whether an HTTP status answering a query is worth retrying.
func transient(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// warnOperator logs failures only the operator can fix.
func (c *Client) warnOperator(call string, err error) {
	var pe *providerError
	if errors.As(err, &pe) && pe.operator {
		c.log.Warn("videocreate: the provider account needs the operator's attention", "call", call, "status", pe.status, "detail", pe.detail)
	}
}
