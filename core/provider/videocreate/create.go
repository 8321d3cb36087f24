package videocreate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"sorabot/core"
	"sorabot/core/provider/internal/wire"
)

// mediaTTL is how long a published image stays fetchable: the gateway
// fetches it when the task starts, which may be after a wait in its queue.
const mediaTTL = time.Hour

// createBody is the create call's JSON: every field is required by the
// seed, so none is omitted. Field order follows the seed.
type createBody struct {
	Images      []string `json:"images"`
	Model       string   `json:"model"`
	Orientation string   `json:"orientation"`
	Prompt      string   `json:"prompt"`
	Size        string   `json:"size"`
	Duration    int      `json:"duration"`
	Watermark   bool     `json:"watermark"`
	Private     bool     `json:"private"`
}

// usableURL returns u when it may be handed to the gateway: a public
// http(s) link that is not a Telegram file URL (those carry the bot token).
func usableURL(u string) string {
	u = strings.TrimSpace(u)
	if strings.Contains(u, "/file/bot") || !(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
		return ""
	}
	return u
}

// CheckRequest refuses requests whose images the gateway could not fetch:
// an image without a public URL while no MediaHost is configured.
func (c *Client) CheckRequest(m *core.Model, r *core.Request) error {
	if c.media != nil {
		return nil
	}
	for _, img := range r.Images {
		if usableURL(img.URL) == "" {
			return core.Errorf(core.EINVALID, "%s", msgNoPublicURL)
		}
	}
	return nil
}

// newCreateBody builds the create body; images are the public URLs.
func newCreateBody(m *core.Model, r *core.Request, images []string) createBody {
	b := createBody{
		Images:      images,
		Model:       m.ID,
		Orientation: r.Orientation,
		Prompt:      r.Prompt,
		Size:        r.Quality,
		Duration:    r.Duration,
		// The seed: watermark true means "prefer no watermark, fall back to a
		// watermarked video if removing it fails"; false forces removal and
		// may keep a job pending for hours. Both r.Watermark values (the user
		// accepts a watermark, or prefers none) are served by true; false is
		// reserved for a future strict option.
		Watermark: true,
		Private:   r.Private && m.PrivateOption,
	}
	if b.Images == nil {
		b.Images = []string{}
	}
	if b.Orientation == "" {
		b.Orientation = core.Landscape
	}
	if b.Size == "" {
		b.Size = m.DefaultQuality()
	}
	if b.Size == "" {
		b.Size = "small"
	}
	if b.Duration == 0 {
		b.Duration = m.DefaultDuration
	}
	return b
}

// imageURLs returns a public URL for every image, publishing through the
// MediaHost those that have none.
func (c *Client) imageURLs(ctx context.Context, r *core.Request) ([]string, error) {
	urls := make([]string, 0, len(r.Images))
	for i, img := range r.Images {
		if u := usableURL(img.URL); u != "" {
			urls = append(urls, u)
			continue
		}
		if c.media == nil || len(img.Data) == 0 {
			return nil, core.Errorf(core.EINVALID, "%s", msgNoPublicURL)
		}
		mime := img.MIME
		if mime == "" {
			mime = http.DetectContentType(img.Data)
		}
		u, err := c.media.Publish(ctx, img.Data, mime, mediaTTL)
		if err != nil {
			// Nothing was sent to the gateway yet: safe to retry.
			return nil, core.Temporary(fmt.Errorf("videocreate: publish image %d: %w: %w", i+1,
				core.Errorf(core.EUNAVAILABLE, "%s", wire.MsgBusy), err))
		}
		if usableURL(u) == "" {
			return nil, fmt.Errorf("videocreate: the media host gave an unusable URL for image %d: %w",
				i+1, core.Errorf(core.EINVALID, "%s", msgNoPublicURL))
		}
		urls = append(urls, u)
	}
	return urls, nil
}

// Submit creates a task. Errors are *core.Error underneath: EINVALID for
// content policy and unpassable images, EUNAVAILABLE otherwise; Temporary
// only when the gateway certainly did not take the task (no connection,
// 5xx or 429 answered).
func (c *Client) Submit(ctx context.Context, m *core.Model, r *core.Request) (string, error) {
	images, err := c.imageURLs(ctx, r)
	if err != nil {
		return "", err
	}
	status, reply, after, err := c.conn.Call(ctx, http.MethodPost, createPath, newCreateBody(m, r, images))
	id, err := c.conn.ReadCreate(status, reply, err, core.Errorf(core.EUNAVAILABLE, "%s", wire.MsgBusy), parseCreate)
	return id, wire.Wait(err, after)
}

// parseCreate reads a create reply.
func parseCreate(status int, body []byte) (string, error) {
	if status < 200 || status > 299 {
		pe := classifyCall(status, readAPIError(body), body)
		if pe.Err.Code == core.EUNAVAILABLE && !pe.Operator && pe.Err.Message != wire.MsgModel && wire.RetryStatus(status) {
			pe.Err = core.Errorf(core.EUNAVAILABLE, "%s", wire.MsgBusy)
			return "", core.Temporary(pe)
		}
		return "", pe
	}
	var r struct {
		ID     json.RawMessage `json:"id"`
		TaskID json.RawMessage `json:"task_id"`
		Status json.RawMessage `json:"status"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil {
		return "", fail(status, "unreadable reply: "+string(body), core.Errorf(core.EUNAVAILABLE, "%s", wire.MsgCreate), false)
	}
	word := strings.ToLower(strings.TrimSpace(wire.Str(r.Status)))
	id := strings.TrimSpace(wire.Str(r.ID))
	if id == "" {
		id = strings.TrimSpace(wire.Str(r.TaskID))
	}
	if state, known := statusWords[word]; known && state == core.TaskFailed || id == "" {
		pe := classifyCall(status, readAPIError(body), body)
		if pe.Err.Code == core.EUNAVAILABLE && !pe.Operator && pe.Err.Message != wire.MsgModel {
			pe.Err = core.Errorf(core.EUNAVAILABLE, "%s", wire.MsgCreate)
		}
		return "", pe
	}
	return id, nil
}
