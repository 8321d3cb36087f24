package telegram

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-telegram/bot/models"

	"sorabot/bots/chat"
)

// An album arrives as separate updates sharing media_group_id, with no
// count and no end marker: its messages are gathered until AlbumWait has
// passed without a new one, then handled as one request.
type albums struct {
	mu sync.Mutex
	m  map[string]*album

	// afterFunc and handle are time.AfterFunc and Bot.handleAlbum; tests
	// replace them to fire timers and observe albums at chosen moments.
	afterFunc func(time.Duration, func()) albumTimer
	handle    func(*album) error
}

// albumTimer is the part of *time.Timer an album uses.
type albumTimer interface {
	Stop() bool
	Reset(time.Duration) bool
}

// albumPart is one message of an album with the update that brought it:
// they stay together whatever order the parts arrive in.
type albumPart struct {
	update int64
	msg    *models.Message
}

type album struct {
	parts []albumPart
	timer albumTimer
	done  chan struct{} // closed once the album was handled
	err   error         // what handling it returned; set before done is closed
}

// wait waits until the album was handled and returns the error handling
// it returned, or ctx's error when ctx ends first: either way the part's
// update must not be confirmed, so that Telegram delivers it again.
func (al *album) wait(ctx context.Context) error {
	select {
	case <-al.done:
		return al.err
	case <-ctx.Done():
	}
	select {
	case <-al.done:
		return al.err
	default:
		return ctx.Err()
	}
}

// add buffers one message of an album and returns the album, which is
// handled once AlbumWait passed without a new part.
func (a *albums) add(b *Bot, updateID int64, m *models.Message) *album {
	key := chatKey(m.Chat.ID) + "/" + m.MediaGroupID
	a.mu.Lock()
	defer a.mu.Unlock()
	al := a.m[key]
	if al == nil {
		al = &album{done: make(chan struct{})}
		a.m[key] = al
		after, handle := a.afterFunc, a.handle
		if after == nil {
			after = func(d time.Duration, f func()) albumTimer { return time.AfterFunc(d, f) }
		}
		if handle == nil {
			handle = b.handleAlbum
		}
		counted := b.tasks.add()
		al.timer = after(b.opt.AlbumWait, func() {
			if counted {
				defer b.tasks.done()
			}
			defer close(al.done)
			a.mu.Lock()
			delete(a.m, key)
			a.mu.Unlock()
			al.err = handle(al)
		})
	} else if al.timer.Stop() {
		al.timer.Reset(b.opt.AlbumWait)
	}
	// Otherwise the timer has fired and its function waits for a.mu: this
	// part still joins the album, which is handled once, by that function.
	if !slices.ContainsFunc(al.parts, func(p albumPart) bool { return p.update == updateID }) {
		al.parts = append(al.parts, albumPart{update: updateID, msg: m})
	}
	return al
}

// request picks out an album's command: the first message (in the album's
// order) whose caption is a command, the update that brought it (its
// idempotency key, the same whatever order the parts arrived in), and the
// pictures of every part in the album's order. cmdMsg is nil when no part
// carries a command.
func (al *album) request() (cmdMsg *models.Message, updateID int64, fileIDs []string) {
	parts := slices.Clone(al.parts)
	slices.SortFunc(parts, func(x, y albumPart) int { return x.msg.ID - y.msg.ID })
	for _, p := range parts {
		if cmdMsg == nil && strings.HasPrefix(strings.TrimSpace(p.msg.Caption), "/") {
			cmdMsg, updateID = p.msg, p.update
		}
		fileIDs = append(fileIDs, ownImages(p.msg)...)
	}
	return cmdMsg, updateID, fileIDs
}

// handleAlbum runs the command written as the caption of one of the
// album's messages with all its pictures. It returns an error only when
// the album was not handled for a reason on our side, as handleUpdate.
func (b *Bot) handleAlbum(al *album) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmdMsg, updateID, fileIDs := al.request()
	if cmdMsg == nil {
		return nil // pictures without a command
	}
	cmd, err := chat.Parse(cmdMsg.Caption)
	if cmd.Bot != "" && !strings.EqualFold(cmd.Bot, b.username) {
		return nil
	}
	if err != nil {
		b.reply(ctx, cmdMsg, chat.ErrorText(b.lang(ctx, cmdMsg.From), err))
		return nil
	}
	if err := b.command(ctx, updateID, cmdMsg, cmd, fileIDs); err != nil {
		b.log.Warn("album not handled", "update_id", updateID, "chat_id", cmdMsg.Chat.ID, "parts", len(al.parts), "err", err)
		return err
	}
	return nil
}
