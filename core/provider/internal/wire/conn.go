package wire

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
	"strconv"
	"strings"
	"syscall"
	"time"

	"sorabot/core"
)

// MinScrub is the shortest key scrubbed from replies.
const MinScrub = 8

// MaxReply caps how much of a reply is read.
const MaxReply = 1 << 20

// Conn is one provider deployment reached with one bearer key.
type Conn struct {
	Name string // the client's name, the prefix of its errors and logs
	Base string // base URL, without a trailing slash
	Key  core.Secret
	HTTP *http.Client
	Log  *slog.Logger
}

// NewConn returns a Conn to baseURL with the defaults: an HTTP client with a
// 2-minute timeout (the caller's context bounds each call too) that keeps
// up to 100 connections to the provider alive, and a logger that discards.
func NewConn(name, baseURL string, key core.Secret) Conn {
	// Many creates and status calls run at once: the default transport
	// keeps only 2 idle connections per host and dials anew for the rest.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 100, 100
	return Conn{
		Name: name,
		Base: strings.TrimRight(baseURL, "/"),
		Key:  key,
		HTTP: &http.Client{Timeout: 2 * time.Minute, Transport: tr},
		Log:  slog.New(slog.DiscardHandler),
	}
}

// Do sends a request (body, when not nil, as JSON) and returns the status
// and the (capped) reply. The key is scrubbed from the reply, so no error
// built from it can carry it.
func (c *Conn) Do(ctx context.Context, method, pathQuery string, body any) (int, []byte, error) {
	status, reply, _, err := c.Call(ctx, method, pathQuery, body)
	return status, reply, err
}

// Call is Do that also returns the wait the reply's Retry-After header asks
// for (0 when there is none).
func (c *Conn) Call(ctx context.Context, method, pathQuery string, body any) (status int, reply []byte, after time.Duration, err error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, 0, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+pathQuery, rd)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Key.Reveal())
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, nil, 0, err
	}
	defer resp.Body.Close()
	after = RetryAfter(resp.Header.Get("Retry-After"), time.Now())
	reply, err = io.ReadAll(io.LimitReader(resp.Body, MaxReply))
	// A key echoed back is scrubbed. Keys too short to be real are not:
	// replacing a couple of letters would garble every reply.
	if k := c.Key.Reveal(); len(k) >= MinScrub {
		reply = bytes.ReplaceAll(reply, []byte(k), []byte("[redacted]"))
	}
	if err != nil {
		return resp.StatusCode, reply, after, fmt.Errorf("read reply (HTTP %d): %w", resp.StatusCode, err)
	}
	return resp.StatusCode, reply, after, nil
}

// RetryAfter reads a Retry-After header value, delay-seconds or an HTTP
// date, as a wait from now; anything else (absent, garbage, in the past)
// is 0.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, maxRetryAfterSeconds)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfterSeconds*time.Second)
	}
	return 0
}

// maxRetryAfterSeconds bounds a Retry-After read, so a silly value cannot
// overflow; the service caps the wait it honours further.
const maxRetryAfterSeconds = 24 * 60 * 60

// Wait attaches the wait a reply asked for to a retryable error of the call
// it answered; other errors are returned as they are.
func Wait(err error, after time.Duration) error {
	if after <= 0 || !core.IsTemporary(err) {
		return err
	}
	return core.WithRetryAfter(err, after)
}

// ReadCreate reads what Do returned for a create call: parse reads the
// reply into a task id, and a failure only the operator can fix is logged.
// busy is the user's error when the exchange itself failed.
func (c *Conn) ReadCreate(status int, reply []byte, err error, busy *core.Error, parse func(status int, reply []byte) (string, error)) (string, error) {
	if err := c.submitError(status, err, busy); err != nil {
		return "", err
	}
	id, err := parse(status, reply)
	if err != nil {
		c.WarnOperator("create", err)
		if refusal(err) {
			err = core.Refused(err)
		}
		return "", err
	}
	return id, nil
}

// refusal reports whether a create's error reply is the provider's explicit
// refusal for its own reasons (its account's key or credit, the model
// unavailable there): it answered, so it certainly made no task.
func refusal(err error) bool {
	var f *Failure
	if core.IsTemporary(err) || !errors.As(err, &f) || f.Status == 0 || f.Err.Code == core.EINVALID {
		return false
	}
	return f.Operator || f.Err.ID == MsgModel.ID
}

// submitError reads a failed create exchange. A request that certainly did
// not reach the provider is Temporary; one that may have reached it must
// never be resent. nil means the reply (complete, or cut short behind a
// status that says the task was not taken) is for the protocol's parser.
func (c *Conn) submitError(status int, err error, busy *core.Error) error {
	switch {
	case err == nil:
		return nil
	case status == 0 && NotSent(err):
		return core.Temporary(fmt.Errorf("%s: create: %w: %w", c.Name, busy, err))
	case status == 0:
		// The request may have reached the provider: never resend it.
		return fmt.Errorf("%s: create, outcome unknown: %w: %w", c.Name, busy, err)
	case !RetryStatus(status):
		return fmt.Errorf("%s: create: %w: %w", c.Name, busy, err)
	}
	return nil
}

// Unreachable wraps the transport failure of a read-only call (a status
// poll, a balance) about what: always Temporary, unreachable for the user.
func (c *Conn) Unreachable(what string, unreachable *core.Error, err error) error {
	return core.Temporary(fmt.Errorf("%s: %s: %w: %w", c.Name, what, unreachable, err))
}

// Refused wraps the error a reply to call about what was read as, after a
// warning when only the operator can fix it.
func (c *Conn) Refused(call, what string, err error) error {
	c.WarnOperator(call, err)
	return fmt.Errorf("%s: %s: %w", c.Name, what, err)
}

// NotSent reports whether a transport error happened before the request
// could reach the provider (DNS, dial, connection refused).
func NotSent(err error) bool {
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

// RetryStatus reports whether an HTTP status answering a create says the
// provider did not take the request and may take it later. 504 is left out:
// a gateway timeout means the request reached the service, which may have
// accepted it.
func RetryStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests ||
		(code >= 500 && code != http.StatusGatewayTimeout)
}

// Transient reports whether an HTTP status answering a read-only call
// (status, balance) is worth retrying.
func Transient(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// Access reads a provider check's authenticated read: err is the exchange's
// failure, readErr what the protocol made of the reply. A failed exchange or
// a 5xx is unreachable; 401, 403 or a reply about the key means the key is
// not accepted; any other failure (an account out of credit) is reported
// with the key accepted.
func (c *Conn) Access(status int, err, readErr error) core.Access {
	switch {
	case err != nil:
		return core.Access{Err: fmt.Errorf("%s: check: %w", c.Name, err)}
	case status == 0 || status >= 500:
		return core.Access{Err: fmt.Errorf("%s: check: HTTP %d: %w", c.Name, status, readErr)}
	}
	a := core.Access{Reachable: true, KeyAccepted: true, Err: readErr}
	var f *Failure
	about := errors.As(readErr, &f) && HasAny(strings.ToLower(f.Detail), "api key", "apikey", "api_key",
		"unauthorized", "invalid token", "invalid_token", "authentication", "令牌")
	if status == http.StatusUnauthorized || status == http.StatusForbidden || about {
		a.KeyAccepted = false
		if a.Err == nil {
			a.Err = fmt.Errorf("%s: check: HTTP %d", c.Name, status)
		}
	}
	return a
}
