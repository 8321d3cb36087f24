package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"sorabot/bots/chat/chattest"
	"sorabot/bots/telegram"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
	"sorabot/storage"
)

// sendAlbum queues an album of two pictures from the user of private chat
// chatID, the command on the first; before the bot starts, one getUpdates
// brings both parts.
func sendAlbum(fake *telegramtest.Server, chatID int64, group string) {
	for i, caption := range []string{"/video the two of them", ""} {
		img := image.NewRGBA(image.Rect(0, 0, 2+i, 2+i))
		img.SetRGBA(0, 0, color.RGBA{R: 255, A: 255})
		var b bytes.Buffer
		png.Encode(&b, img)
		fake.SendPhoto(chatID, chatID, caption, b.Bytes(), group)
	}
}

// oneJob checks that the user has exactly one job, charged once.
func (s *shop) oneJob(chatID int64) {
	s.t.Helper()
	user := fmt.Sprintf("%s:%d", telegram.Platform, chatID)
	jobs, err := s.db.History(context.Background(), user, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	if len(jobs) != 1 {
		s.t.Fatalf("%d jobs for one album", len(jobs))
	}
	if charges := s.ledger(user, core.LedgerCharge); len(charges) != 1 {
		s.t.Errorf("%d charges for one album: %+v", len(charges), charges)
	}
}

// An album whose handling fails on our side (the picture could not be
// fetched) is not confirmed: Telegram delivers it again and it is handled
// then, as one job charged once.
func TestAlbumFailureRedelivered(t *testing.T) {
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 500})
	const user = 5101
	s.fake.FailNext("getFile", 1, 500, 0)
	sendAlbum(s.fake, user, "album-fail")
	s.start()
	s.next(user, 0, "Job #1 ")
	s.settled()
	calls := s.fake.CallsTo("getFile")
	if len(calls) == 0 || calls[0].Status != 500 {
		t.Fatalf("getFile calls %+v: the scripted failure did not happen", calls)
	}
	s.oneJob(user)
}

// albumTimer fires only when the test says so.
type albumTimer struct{ f func() }

func (*albumTimer) Stop() bool               { return true }
func (*albumTimer) Reset(time.Duration) bool { return true }

// Stopping while an album is being gathered leaves its parts unconfirmed,
// even though the album is handled while the bot stops (its timer fires
// after the updates were confirmed): were that handling to fail, or the
// process to be killed, the request would be lost. After a restart the
// album comes again and is one job, charged once.
func TestAlbumStopWhileGathering(t *testing.T) {
	s := newShop(t, telegramtest.Options{}, storage.Options{StartCredits: 500})
	const user = 5102
	timers := make(chan *albumTimer, 10)
	s.setup = func(b *telegram.Bot) {
		telegram.SetAlbumTimers(b, func(_ time.Duration, f func()) telegram.AlbumTimer {
			tm := &albumTimer{f: f}
			timers <- tm
			return tm
		})
	}
	sendAlbum(s.fake, user, "album-stop")
	s.start()
	var tm *albumTimer
	select {
	case tm = <-timers:
	case <-time.After(chattest.Deadline):
		t.Fatal("the album was not gathered")
	}
	stopped := make(chan struct{})
	go func() { s.stop(); close(stopped) }()
	// The bot confirms what it handled (getUpdates with timeout 0), then
	// waits for the album being gathered: only now does its timer fire.
	if !waitFor(func() bool {
		for _, c := range s.fake.CallsTo("getUpdates") {
			if c.Params["timeout"] == "0" {
				return true
			}
		}
		return false
	}) {
		t.Fatal("the bot did not confirm its updates when stopping")
	}
	tm.f()
	<-stopped
	if len(timers) != 0 {
		t.Fatalf("%d more albums gathered", len(timers))
	}
	if n := s.fake.PendingUpdates(); n != 2 {
		t.Fatalf("%d updates unconfirmed after stopping, want the album's 2", n)
	}
	s.setup = nil
	s.start()
	s.next(user, 0, "Job #1 ")
	s.settled()
	s.oneJob(user)
}
