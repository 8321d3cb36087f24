package videocreate

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"sorabot/core"
	"sorabot/core/provider/internal/wire"
)

// Status asks how a task is doing; taskID is the id the create call
// returned. Timeouts, 5xx, 429 and unreadable replies are Temporary
// (carrying the reply's Retry-After, see core.RetryAfter); a task
// the gateway failed is a TaskStatus with State TaskFailed and a user-safe Err.
func (c *Client) Status(ctx context.Context, m *core.Model, taskID string) (core.TaskStatus, error) {
	status, reply, after, err := c.conn.Call(ctx, http.MethodGet, queryPath+"?id="+url.QueryEscape(taskID), nil)
	if err != nil {
		return unknown, c.conn.Unreachable("query "+taskID, wire.MsgUnreachable.Err(core.EUNAVAILABLE, nil), err)
	}
	st, err := parseStatus(status, reply, c.conn.Log)
	if err != nil {
		return unknown, wire.Wait(c.conn.Refused("query", "query "+taskID, err), after)
	}
	return st, nil
}

var unknown = core.TaskStatus{State: core.TaskPending, Progress: -1}

// statusWords maps the status words seen in the wild to states.
var statusWords = map[string]core.TaskState{
	"pending": core.TaskPending, "queued": core.TaskPending, "waiting": core.TaskPending,
	"submitted": core.TaskPending, "not_start": core.TaskPending,
	"processing": core.TaskRunning, "in_progress": core.TaskRunning, "running": core.TaskRunning, "generating": core.TaskRunning,
	"completed": core.TaskDone, "success": core.TaskDone, "succeeded": core.TaskDone, "done": core.TaskDone,
	"failed": core.TaskFailed, "failure": core.TaskFailed, "error": core.TaskFailed,
	"cancelled": core.TaskFailed, "canceled": core.TaskFailed,
}

// parseStatus reads a query reply. It never panics on any input.
func parseStatus(status int, body []byte, log *slog.Logger) (core.TaskStatus, error) {
	unavailable := wire.MsgUnreachable.Err(core.EUNAVAILABLE, nil)
	switch {
	case wire.Transient(status):
		return unknown, core.Temporary(fail(status, string(body), unavailable, false))
	case status < 200 || status > 299:
		e := readAPIError(body)
		operator := status == http.StatusUnauthorized || status == http.StatusPaymentRequired ||
			status == http.StatusForbidden || kind(e) == kindAccount
		detail := e.String()
		if detail == "" {
			detail = string(body)
		}
		if operator {
			return unknown, fail(status, detail, wire.MsgBusy.Err(core.EUNAVAILABLE, nil), true)
		}
		return unknown, fail(status, detail, unavailable, false)
	}
	var r struct {
		Status    json.RawMessage `json:"status"`
		Progress  json.RawMessage `json:"progress"`
		VideoURL  json.RawMessage `json:"video_url"`
		Error     json.RawMessage `json:"error"`
		FailRsn   json.RawMessage `json:"fail_reason"`
		FailureRs json.RawMessage `json:"failure_reason"`
		Detail    json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(body, &r) != nil {
		return unknown, core.Temporary(fail(status, "unreadable reply: "+string(body), unavailable, false))
	}
	word := strings.ToLower(strings.TrimSpace(wire.Str(r.Status)))
	if word == "" && !wire.Absent(r.Error) {
		// An error envelope with HTTP 200: the gateway, not the task, failed.
		return unknown, core.Temporary(fail(status, readAPIError(body).String(), unavailable, false))
	}
	state, known := statusWords[word]
	if !known {
		log.Warn("videocreate: unexpected task status; treating it as running", "status", wire.Clip(word))
		state = core.TaskRunning
	}
	st := core.TaskStatus{State: state, Progress: -1}
	if p, ok := wire.Num(r.Progress); ok {
		st.Progress = p
	} else if p, ok := pendingPct(r.Detail); ok {
		st.Progress = p
	}
	if st.Progress != -1 {
		st.Progress = min(max(st.Progress, 0), 100)
	}
	switch state {
	case core.TaskDone:
		st.Progress = 100
		st.VideoURL = wire.CleanURL(wire.Str(r.VideoURL))
	case core.TaskFailed:
		e := readAPIError(body)
		for _, raw := range []json.RawMessage{r.FailRsn, r.FailureRs} {
			if e.Message == "" {
				e.Message = wire.Text(raw)
			}
		}
		st.Err = taskFailure(e)
		log.Info("videocreate: task failed", "reason", wire.Clip(e.String()), "status", word, "code", st.Err.Code)
	}
	return st, nil
}

// pendingPct reads detail.pending_info.progress_pct: a 0–1 fraction (a
// value above 1 is taken as a percentage already).
func pendingPct(detail json.RawMessage) (float64, bool) {
	var d struct {
		PendingInfo struct {
			ProgressPct json.RawMessage `json:"progress_pct"`
		} `json:"pending_info"`
	}
	if wire.Absent(detail) || json.Unmarshal(detail, &d) != nil {
		return 0, false
	}
	p, ok := wire.Num(d.PendingInfo.ProgressPct)
	if !ok {
		return 0, false
	}
	if p <= 1 {
		p *= 100
	}
	return p, true
}

// checkTaskID is the task asked about by CheckAccess; no gateway has it.
const checkTaskID = "sorabot-access-check"

// CheckAccess checks the address and the key by asking about a task that
// does not exist (the protocol has no balance call): a gateway that took
// the key answers "not found".
func (c *Client) CheckAccess(ctx context.Context) core.Access {
	status, reply, err := c.conn.Do(ctx, http.MethodGet, queryPath+"?id="+url.QueryEscape(checkTaskID), nil)
	if err != nil {
		return c.conn.Access(0, err, nil)
	}
	var readErr error
	switch {
	case status >= 200 && status <= 299, status == http.StatusNotFound, status == http.StatusBadRequest:
	default:
		readErr = classifyCall(status, readAPIError(reply), reply)
	}
	return c.conn.Access(status, nil, readErr)
}
