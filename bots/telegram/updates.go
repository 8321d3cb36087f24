package telegram

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"sorabot/core"
)

// allowedUpdates are the update kinds the bot handles, for getUpdates and
// setWebhook: without pre_checkout_query nobody could pay.
var allowedUpdates = []string{"message", "callback_query", "pre_checkout_query"}

type apiReply struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// getUpdates asks for the updates from offset on. Polling is done here
// rather than by the library so that an update is confirmed (the next
// offset) only after it was handled: a crash before that makes Telegram
// deliver it again, and its idempotency key keeps it from charging twice.
func (b *Bot) getUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]*models.Update, time.Duration, error) {
	body, _ := json.Marshal(map[string]any{
		"offset":          offset,
		"timeout":         int(timeout.Seconds()),
		"allowed_updates": allowedUpdates,
	})
	u := strings.TrimRight(b.opt.APIURL, "/") + "/bot" + b.opt.Token.Reveal() + "/getUpdates"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("getUpdates: %v", redact(err, b.opt.Token))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.poll.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("getUpdates: %v", redact(err, b.opt.Token))
	}
	defer resp.Body.Close()
	var r apiReply
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&r); err != nil {
		return nil, 0, fmt.Errorf("getUpdates: HTTP %d: %v", resp.StatusCode, err)
	}
	if !r.OK {
		return nil, time.Duration(r.Parameters.RetryAfter) * time.Second,
			fmt.Errorf("getUpdates: %d %s", r.ErrorCode, r.Description)
	}
	var ups []*models.Update
	if err := json.Unmarshal(r.Result, &ups); err != nil {
		return nil, 0, fmt.Errorf("getUpdates: %v", err)
	}
	return ups, 0, nil
}

// longPoll receives updates and handles each in its own goroutine. The
// offset it confirms never passes an update still being handled (or one
// whose handling failed and is retried), so a crash makes Telegram deliver
// those again; new updates keep flowing meanwhile.
func (b *Bot) longPoll(ctx context.Context) error {
	const maxAttempts = 3
	var (
		mu       sync.Mutex
		pending  = map[int64]bool{} // update id → running (true) or failed (false)
		attempts = map[int64]int{}
		next     int64 // highest update id seen + 1
		wg       sync.WaitGroup
	)
	finished := make(chan struct{}, 1)
	// firstUnconfirmed is the offset that confirms every handled update and
	// no update still pending (failed or not handled yet).
	firstUnconfirmed := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		offset := next
		for id := range pending {
			offset = min(offset, id)
		}
		return offset
	}
	defer func() {
		wg.Wait()
		b.confirmOnStop(firstUnconfirmed())
	}()
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		if backoff > 0 && !core.Sleep(ctx, backoff) {
			break
		}
		mu.Lock()
		offset, running := next, 0
		for id, run := range pending {
			offset = min(offset, id)
			if run {
				running++
			}
		}
		mu.Unlock()
		ups, wait, err := b.getUpdates(ctx, offset, b.opt.PollTimeout)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			backoff = min(max(2*backoff, time.Second, wait), 30*time.Second)
			b.log.Warn("telegram getUpdates failed", "err", err, "retry_in", backoff)
			continue
		}
		backoff = 0
		started, retrying := 0, false
		for _, u := range ups {
			mu.Lock()
			run, isPending := pending[u.ID]
			switch {
			case isPending && run:
				mu.Unlock()
				continue // still being handled
			case isPending && attempts[u.ID] >= maxAttempts:
				b.log.Error("update dropped after repeated failures", "update_id", u.ID)
				delete(pending, u.ID)
				delete(attempts, u.ID)
				mu.Unlock()
				continue
			case !isPending && u.ID < next:
				mu.Unlock()
				continue // handled already
			}
			if isPending {
				retrying = true
			}
			pending[u.ID] = true
			attempts[u.ID]++
			next = max(next, u.ID+1)
			mu.Unlock()
			started++
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := b.handleUpdate(ctx, u)
				mu.Lock()
				if err != nil {
					// Also when stopping: left unconfirmed, it comes again
					// after the restart.
					b.log.Warn("update not handled; it will be retried", "update_id", u.ID, "err", err)
					pending[u.ID] = false
				} else {
					delete(pending, u.ID)
					delete(attempts, u.ID)
				}
				mu.Unlock()
				select {
				case finished <- struct{}{}:
				default:
				}
			}()
		}
		if retrying {
			backoff = time.Second
		}
		if started == 0 && running > 0 {
			// Only updates in hand came back: wait for one to finish.
			select {
			case <-ctx.Done():
			case <-finished:
			}
		}
	}
	return nil
}

// confirmOnStop tells Telegram, when polling stops, that the updates before
// offset were handled, so that a restart does not deliver them (and answer
// them) again. Failing that only means they are handled again, harmlessly.
func (b *Bot) confirmOnStop(offset int64) {
	if offset == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := b.getUpdates(ctx, offset, 0); err != nil {
		b.log.Warn("telegram: could not confirm the handled updates before stopping; they will be handled again after a restart", "offset", offset, "err", err)
	}
}

// maxUpdateBytes caps a webhook body.
const maxUpdateBytes = 1 << 20

// WebhookHandler receives updates in webhook mode. It checks the secret
// header, handles the update before answering, and answers 500 when the
// update was not handled so that Telegram delivers it again (the library's
// own handler always answers 200).
func (b *Bot) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if subtle.ConstantTimeCompare([]byte(got), []byte(b.secret)) != 1 {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var u models.Update
		if err := json.NewDecoder(io.LimitReader(r.Body, maxUpdateBytes)).Decode(&u); err != nil {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 50*time.Second)
		defer cancel()
		if err := b.handleUpdate(ctx, &u); err != nil {
			b.log.Warn("update not handled; Telegram will deliver it again", "update_id", u.ID, "err", err)
			http.Error(w, "not handled", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// WebhookSecret is the secret Telegram sends with every webhook update.
func (b *Bot) WebhookSecret() string { return b.secret }
