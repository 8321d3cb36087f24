package sorapro

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"sorabot/core"
	"sorabot/core/provider/internal/wire"
)

// createBody is the create call's JSON. Field names are the wire's.
type createBody struct {
	Model           string `json:"model"`
	Prompt          string `json:"prompt,omitempty"`
	ImageData       string `json:"imageData,omitempty"`
	ImageURL        string `json:"imageUrl,omitempty"`
	AspectRatio     string `json:"aspectRatio,omitempty"`
	NFrames         string `json:"nFrames,omitempty"`
	Size            string `json:"size,omitempty"`
	RemoveWatermark *bool  `json:"removeWatermark,omitempty"`
	Shots           []shot `json:"shots,omitempty"`
}

// shot is one storyboard scene; the capital S is the wire's.
type shot struct {
	Scene    string `json:"Scene"`
	Duration int    `json:"duration"`
}

// newCreateBody builds the create body for a normalized request.
func newCreateBody(m *core.Model, r *core.Request) createBody {
	b := createBody{Model: m.ID, AspectRatio: r.Orientation}
	if b.AspectRatio == "" {
		b.AspectRatio = core.Landscape
	}
	d := r.Duration
	if d == 0 {
		d = m.DefaultDuration
	}
	b.NFrames = strconv.Itoa(d)
	if m.Storyboard {
		// The storyboard's content is its shots: no prompt, no watermark option.
		for _, s := range r.Shots {
			b.Shots = append(b.Shots, shot{Scene: s.Scene, Duration: s.Duration})
		}
		return b
	}
	b.Prompt = r.Prompt
	if r.Quality != "" && len(m.Qualities) > 0 {
		b.Size = r.Quality
	}
	if m.WatermarkOption {
		remove := !r.Watermark
		b.RemoveWatermark = &remove
	}
	if len(r.Images) > 0 {
		img := r.Images[0]
		switch {
		case len(img.Data) > 0:
			mime := img.MIME
			if mime == "" {
				mime = http.DetectContentType(img.Data)
			}
			b.ImageData = "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(img.Data)
		case img.URL != "" && !strings.Contains(img.URL, "/file/bot"):
			b.ImageURL = img.URL
		}
	}
	return b
}

// Submit creates a task. Errors are *core.Error underneath: EINVALID for
// content policy, EUNAVAILABLE otherwise; Temporary only when the provider
// certainly did not take the task (no connection, or 5xx/429 answered).
func (c *Client) Submit(ctx context.Context, m *core.Model, r *core.Request) (string, error) {
	status, reply, after, err := c.conn.Call(ctx, http.MethodPost, createPath, newCreateBody(m, r))
	id, err := c.conn.ReadCreate(status, reply, err, wire.MsgBusy.Err(core.EUNAVAILABLE, nil), parseCreate)
	return id, wire.Wait(err, after)
}

// parseCreate reads a create reply.
func parseCreate(status int, body []byte) (string, error) {
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	switch {
	case wire.RetryStatus(status):
		return "", core.Temporary(fail(status, string(body), wire.MsgBusy.Err(core.EUNAVAILABLE, nil), false))
	case status == http.StatusUnauthorized || status == http.StatusPaymentRequired || status == http.StatusForbidden:
		detail := string(body)
		if jsonErr == nil && env.text() != "" {
			detail = env.text()
		}
		if ce, _ := classify(detail, wire.MsgCreate, true); jsonErr == nil && ce.Code == core.EINVALID {
			return "", fail(status, detail, ce, false)
		}
		return "", fail(status, detail, wire.MsgBusy.Err(core.EUNAVAILABLE, nil), true)
	case jsonErr != nil:
		return "", fail(status, "unreadable reply: "+string(body), wire.MsgCreate.Err(core.EUNAVAILABLE, nil), false)
	case status < 200 || status > 299 || !env.ok():
		msg := env.text()
		detail := fmt.Sprintf("code %s: %s", wire.Str(env.Code), msg)
		if code, _ := wire.Num(env.Code); code == http.StatusTooManyRequests ||
			wire.HasAny(strings.ToLower(msg), "rate limit", "too many", "concurren", "too frequent") {
			// An explicit refusal for load (the documented limit is 20
			// tasks at once): the task was not taken, so it may be retried.
			return "", core.Temporary(fail(status, detail, wire.MsgBusy.Err(core.EUNAVAILABLE, nil), false))
		}
		ce, op := classify(msg, wire.MsgCreate, true)
		return "", fail(status, detail, ce, op)
	}
	var data struct {
		TaskID  json.RawMessage `json:"taskId"`
		ID      json.RawMessage `json:"id"`
		TaskID2 json.RawMessage `json:"task_id"`
	}
	if wire.Absent(env.Data) || json.Unmarshal(env.Data, &data) != nil {
		return "", fail(status, "no data in reply: "+string(body), wire.MsgCreate.Err(core.EUNAVAILABLE, nil), false)
	}
	for _, raw := range []json.RawMessage{data.TaskID, data.ID, data.TaskID2} {
		if id := strings.TrimSpace(wire.Str(raw)); id != "" {
			return id, nil
		}
	}
	return "", fail(status, "no task id in reply: "+string(body), wire.MsgCreate.Err(core.EUNAVAILABLE, nil), false)
}
