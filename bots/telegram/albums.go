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
}

type album struct {
	msgs    []*models.Message
	updates []int64
	timer   *time.Timer
	done    chan struct{} // closed once the album was handled
}

// add buffers one message of an album and returns a channel closed when
// the whole album has been handled.
func (a *albums) add(b *Bot, updateID int64, m *models.Message) <-chan struct{} {
	key := chatKey(m.Chat.ID) + "/" + m.MediaGroupID
	a.mu.Lock()
	defer a.mu.Unlock()
	al := a.m[key]
	if al == nil {
		al = &album{done: make(chan struct{})}
		a.m[key] = al
		b.wg.Add(1)
		al.timer = time.AfterFunc(b.opt.AlbumWait, func() {
			defer b.wg.Done()
			defer close(al.done)
			a.mu.Lock()
			delete(a.m, key)
			a.mu.Unlock()
			b.handleAlbum(al)
		})
	} else {
		al.timer.Reset(b.opt.AlbumWait)
	}
	if !slices.Contains(al.updates, updateID) {
		al.msgs = append(al.msgs, m)
		al.updates = append(al.updates, updateID)
	}
	return al.done
}

// handleAlbum runs the command written as the caption of one of the
// album's messages with all its pictures.
func (b *Bot) handleAlbum(al *album) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	slices.SortFunc(al.msgs, func(x, y *models.Message) int { return x.ID - y.ID })
	var cmdMsg *models.Message
	var updateID int64
	var fileIDs []string
	for i, m := range al.msgs {
		if cmdMsg == nil && strings.HasPrefix(strings.TrimSpace(m.Caption), "/") {
			cmdMsg = m
			updateID = al.updates[i]
		}
		fileIDs = append(fileIDs, ownImages(m)...)
	}
	if cmdMsg == nil {
		return // pictures without a command
	}
	for i, m := range al.msgs {
		if m == cmdMsg {
			updateID = al.updates[i]
		}
	}
	cmd, err := chat.Parse(cmdMsg.Caption)
	if cmd.Bot != "" && !strings.EqualFold(cmd.Bot, b.username) {
		return
	}
	if err != nil {
		b.reply(ctx, cmdMsg, chat.ErrorText(err))
		return
	}
	if err := b.command(ctx, updateID, cmdMsg, cmd, fileIDs); err != nil {
		b.log.Warn("album not handled", "err", err)
	}
}
