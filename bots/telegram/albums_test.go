package telegram

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

// albumMsg is part i of album "g" in chat 7: message id 100+i, one photo.
func albumMsg(i int, caption string) *models.Message {
	return &models.Message{
		ID: 100 + i, Chat: models.Chat{ID: 7}, MediaGroupID: "g", Caption: caption,
		Photo: []models.PhotoSize{{FileID: fmt.Sprintf("photo-%d", i), Width: 10, Height: 10}},
	}
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 1 {
		return [][]int{{0}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

// manualTimer is an albumTimer that fires only when the test says so.
type manualTimer struct {
	f     func()
	armed bool
}

func (t *manualTimer) Stop() bool { was := t.armed; t.armed = false; return was }

func (t *manualTimer) Reset(time.Duration) bool { was := t.armed; t.armed = true; return was }

// albumBot is a Bot with only what albums need; handled receives every
// album handled, and timers every timer started.
func albumBot() (b *Bot, handled chan *album, timers *[]*manualTimer) {
	b = &Bot{opt: Options{AlbumWait: time.Second}}
	b.albums.m = map[string]*album{}
	handled = make(chan *album, 10)
	timers = &[]*manualTimer{}
	b.albums.handle = func(al *album) error { handled <- al; return nil }
	b.albums.afterFunc = func(_ time.Duration, f func()) albumTimer {
		t := &manualTimer{f: f, armed: true}
		*timers = append(*timers, t)
		return t
	}
	return b, handled, timers
}

// The update that keys an album's job is the one that brought its command,
// whatever order the parts arrived in: a redelivery in another order (after
// a crash) finds the same job instead of charging again.
func TestAlbumRequestIgnoresArrivalOrder(t *testing.T) {
	for _, captionAt := range []int{0, 1, 2} {
		// Update ids out of step with the album's order, as concurrent
		// handling or a redelivery can make them look.
		updates := []int64{502, 500, 501}
		var first string
		for _, order := range permutations(3) {
			al := &album{}
			for _, i := range order {
				caption := ""
				if i == captionAt {
					caption = "/video the three of them"
				}
				al.parts = append(al.parts, albumPart{update: updates[i], msg: albumMsg(i, caption)})
			}
			cmdMsg, updateID, fileIDs := al.request()
			if cmdMsg == nil || cmdMsg.ID != 100+captionAt {
				t.Fatalf("caption on part %d, arrival %v: command message %+v", captionAt, order, cmdMsg)
			}
			if updateID != updates[captionAt] {
				t.Errorf("caption on part %d, arrival %v: key update %d, want %d (the command's own update)", captionAt, order, updateID, updates[captionAt])
			}
			if !slices.Equal(fileIDs, []string{"photo-0", "photo-1", "photo-2"}) {
				t.Errorf("arrival %v: pictures %v, want the album's order", order, fileIDs)
			}
			got := fmt.Sprint(updateID, fileIDs)
			if first == "" {
				first = got
			} else if got != first {
				t.Errorf("arrival %v gives %s, another order gave %s", order, got, first)
			}
		}
	}
}

// A part that arrives while the timer's function, already fired, waits for
// the lock joins the album: the album is handled once, with every part, and
// the timer is not started again (a second run would close done twice).
func TestAlbumPartAsTimerFires(t *testing.T) {
	b, handled, timers := albumBot()
	gathered := b.albums.add(b, 500, albumMsg(0, "/video the two of them"))
	if len(*timers) != 1 {
		t.Fatalf("%d timers for one album", len(*timers))
	}
	tm := (*timers)[0]
	// The timer expires: its function has started and waits for the lock
	// that add is about to take.
	tm.armed = false
	b.albums.add(b, 501, albumMsg(1, ""))
	if tm.armed {
		t.Error("the timer was started again after it had fired: the album would be handled twice")
	}
	tm.f()
	// Whatever is still armed would fire later: fire it now, as the
	// runtime would.
	panics := 0
	for tm.armed {
		tm.armed = false
		func() {
			defer func() {
				if recover() != nil {
					panics++
				}
			}()
			tm.f()
		}()
	}
	if panics > 0 {
		t.Errorf("%d panics handling one album", panics)
	}
	select {
	case <-gathered.done:
	default:
		t.Fatal("done not closed after the album was handled")
	}
	al := <-handled
	if len(al.parts) != 2 {
		t.Errorf("album handled with %d parts, want 2", len(al.parts))
	}
	if len(handled) != 0 {
		t.Errorf("the album was handled %d more time(s)", len(handled))
	}
	if len(b.albums.m) != 0 {
		t.Errorf("%d albums still buffered", len(b.albums.m))
	}
	waitGroupDone(t, &b.tasks.wg)
}

// Parts within the wait restart it; a redelivered part is not counted
// twice; a part after the album was handled starts a new one.
func TestAlbumGathering(t *testing.T) {
	b, handled, timers := albumBot()
	gathered := b.albums.add(b, 500, albumMsg(0, "/video a pair"))
	tm := (*timers)[0]
	b.albums.add(b, 501, albumMsg(1, ""))
	b.albums.add(b, 501, albumMsg(1, "")) // the same update again
	if !tm.armed || len(*timers) != 1 {
		t.Fatalf("timer armed %v, %d timers", tm.armed, len(*timers))
	}
	tm.armed = false
	tm.f()
	<-gathered.done
	if al := <-handled; len(al.parts) != 2 {
		t.Errorf("album handled with %d parts, want 2", len(al.parts))
	}
	late := b.albums.add(b, 502, albumMsg(2, ""))
	if len(*timers) != 2 {
		t.Fatalf("a late part started %d timers, want a new album", len(*timers)-1)
	}
	(*timers)[1].armed = false
	(*timers)[1].f()
	<-late.done
	if al := <-handled; len(al.parts) != 1 || al.parts[0].update != 502 {
		t.Errorf("late album %+v", al.parts)
	}
	waitGroupDone(t, &b.tasks.wg)
}

func waitGroupDone(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("an album's work is still counted as running")
	}
}
