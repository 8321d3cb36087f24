package sorapro

import (
	"context"
	"encoding/json"
	"fmt"

	"sorabot/core"
	"sorabot/core/provider/internal/wire"
)

// Balance returns the credit left on the operator's provider account
// (data.left_credits). Transient failures are Temporary.
func (c *Client) Balance(ctx context.Context) (float64, error) {
	status, reply, err := c.post(ctx, balancePath, struct{}{})
	if err != nil {
		return 0, c.conn.Unreachable("balance", wire.MsgUnreachable.Err(core.EUNAVAILABLE, nil), err)
	}
	b, err := parseBalance(status, reply)
	if err != nil {
		return 0, c.conn.Refused("balance", "balance", err)
	}
	return b, nil
}

// parseBalance reads a get-user-credits reply.
func parseBalance(status int, body []byte) (float64, error) {
	unavailable := wire.MsgUnreachable.Err(core.EUNAVAILABLE, nil)
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	switch {
	case wire.Transient(status):
		return 0, core.Temporary(fail(status, string(body), unavailable, false))
	case status == 401 || status == 402 || status == 403:
		return 0, fail(status, string(body), wire.MsgBusy.Err(core.EUNAVAILABLE, nil), true)
	case status < 200 || status > 299:
		return 0, fail(status, string(body), unavailable, false)
	case jsonErr != nil:
		return 0, core.Temporary(fail(status, "unreadable reply: "+string(body), unavailable, false))
	case !env.ok():
		ce, op := classify(env.text(), wire.MsgUnreachable, true)
		return 0, fail(status, fmt.Sprintf("code %s: %s", wire.Str(env.Code), env.text()), ce, op)
	}
	var d struct {
		LeftCredits json.RawMessage `json:"left_credits"`
		Credits     json.RawMessage `json:"credits"`
		Balance     json.RawMessage `json:"balance"`
	}
	if json.Unmarshal(env.Data, &d) == nil {
		for _, raw := range []json.RawMessage{d.LeftCredits, d.Credits, d.Balance} {
			if n, ok := wire.Num(raw); ok {
				return n, nil
			}
		}
	}
	return 0, fail(status, "no left_credits in reply: "+string(body), unavailable, false)
}

// CheckAccess checks the address and the key with the balance call.
func (c *Client) CheckAccess(ctx context.Context) core.Access {
	status, reply, err := c.post(ctx, balancePath, struct{}{})
	if err != nil {
		return c.conn.Access(0, err, nil)
	}
	b, err := parseBalance(status, reply)
	a := c.conn.Access(status, nil, err)
	if err == nil {
		a.Balance, a.HasBalance = b, true
	}
	return a
}
