package sorapro

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"sorabot/core"
	"sorabot/core/provider/internal/wire"
)

// Status asks how a task is doing. Timeouts, 5xx, 429, unreadable replies
// and HTTP 200 with a non-zero code are Temporary (carrying the reply's
// Retry-After, see core.RetryAfter); a task the provider
// failed is a TaskStatus with State TaskFailed and a user-safe Err.
func (c *Client) Status(ctx context.Context, m *core.Model, taskID string) (core.TaskStatus, error) {
	status, reply, after, err := c.conn.Call(ctx, http.MethodPost, statusPath, map[string]string{"taskId": taskID})
	if err != nil {
		return unknown, c.conn.Unreachable("status "+taskID, core.Errorf(core.EUNAVAILABLE, "%s", wire.MsgUnreachable), err)
	}
	st, err := parseStatus(status, reply, c.conn.Log)
	if err != nil {
		return unknown, wire.Wait(c.conn.Refused("status", "status "+taskID, err), after)
	}
	return st, nil
}

var unknown = core.TaskStatus{State: core.TaskPending, Progress: -1}

// statusWords maps the status words seen in the wild to states.
var statusWords = map[string]core.TaskState{
	"pending": core.TaskPending, "queued": core.TaskPending, "waiting": core.TaskPending,
	"submitted": core.TaskPending, "created": core.TaskPending, "not_start": core.TaskPending,
	"running": core.TaskRunning, "processing": core.TaskRunning, "in_progress": core.TaskRunning, "generating": core.TaskRunning,
	"succeeded": core.TaskDone, "success": core.TaskDone, "completed": core.TaskDone, "done": core.TaskDone,
	"failed": core.TaskFailed, "failure": core.TaskFailed, "error": core.TaskFailed,
	"cancelled": core.TaskFailed, "canceled": core.TaskFailed,
}

// parseStatus reads a check-result reply. It never panics on any input.
func parseStatus(status int, body []byte, log *slog.Logger) (core.TaskStatus, error) {
	unavailable := core.Errorf(core.EUNAVAILABLE, "%s", wire.MsgUnreachable)
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	switch {
	case wire.Transient(status):
		return unknown, core.Temporary(fail(status, string(body), unavailable, false))
	case status == http.StatusUnauthorized || status == http.StatusPaymentRequired || status == http.StatusForbidden:
		return unknown, fail(status, string(body), core.Errorf(core.EUNAVAILABLE, "%s", wire.MsgBusy), true)
	case status < 200 || status > 299:
		return unknown, fail(status, string(body), unavailable, false)
	case jsonErr != nil:
		return unknown, core.Temporary(fail(status, "unreadable reply: "+string(body), unavailable, false))
	case !env.ok():
		return unknown, core.Temporary(fail(status, fmt.Sprintf("code %s: %s", wire.Str(env.Code), env.text()), unavailable, false))
	}
	var d struct {
		Status        json.RawMessage `json:"status"`
		Progress      json.RawMessage `json:"progress"`
		ResultURL     json.RawMessage `json:"result_url"`
		ResultURLs    json.RawMessage `json:"result_urls"`
		FailureReason json.RawMessage `json:"failure_reason"`
		ErrorMessage  json.RawMessage `json:"error_message"`
	}
	if wire.Absent(env.Data) || json.Unmarshal(env.Data, &d) != nil {
		return unknown, core.Temporary(fail(status, "no data in reply: "+string(body), unavailable, false))
	}
	st := core.TaskStatus{Progress: -1}
	word := strings.ToLower(strings.TrimSpace(wire.Str(d.Status)))
	state, known := statusWords[word]
	if !known {
		log.Warn("sorapro: unexpected task status; treating it as running", "status", wire.Clip(word))
		state = core.TaskRunning
	}
	st.State = state
	if p, ok := wire.Num(d.Progress); ok {
		st.Progress = min(max(p, 0), 100)
	}
	switch state {
	case core.TaskDone:
		st.Progress = 100
		st.VideoURL = wire.CleanURL(wire.Str(d.ResultURL))
		if st.VideoURL == "" {
			var urls []json.RawMessage
			if json.Unmarshal(d.ResultURLs, &urls) == nil {
				for _, u := range urls {
					if st.VideoURL = wire.CleanURL(wire.Str(u)); st.VideoURL != "" {
						break
					}
				}
			}
		}
	case core.TaskFailed:
		reason := strings.TrimSpace(wire.Text(d.FailureReason))
		if reason == "" {
			reason = strings.TrimSpace(wire.Text(d.ErrorMessage))
		}
		st.Err, _ = classify(reason, wire.MsgFailed, false)
		log.Info("sorapro: task failed", "reason", wire.Clip(reason), "code", st.Err.Code)
	}
	return st, nil
}
