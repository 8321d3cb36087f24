package chat

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"sorabot/core"
)

func TestStatus(t *testing.T) {
	j := testJob()
	failed := testJob()
	failed.State, failed.Err = core.Failed, "Timed out."
	moved := testJob()
	moved.Tried = []string{"fsg"}
	tests := []struct {
		ev   core.Event
		want string
	}{
		{core.Event{Type: core.EventQueued, Job: j, Position: 3, Balance: 400}, "🎬 Job #12 queued (position 3) — 100 credits, balance 400 credits."},
		{core.Event{Type: core.EventPosition, Job: j, Position: 1}, "⏳ Job #12 is queued: position 1"},
		{core.Event{Type: core.EventPosition, Job: j}, "⏳ Job #12 is queued"},
		{core.Event{Type: core.EventSubmitted, Job: j, Progress: -1}, "🎨 Job #12: the provider started…"},
		{core.Event{Type: core.EventProgress, Job: j, Progress: 45}, "🎨 Job #12: 45% ▓▓▓▓░░░░░░"},
		{core.Event{Type: core.EventProgress, Job: j, Progress: 0}, "🎨 Job #12: 0% ░░░░░░░░░░"},
		{core.Event{Type: core.EventProgress, Job: j, Progress: 130}, "🎨 Job #12: 100% ▓▓▓▓▓▓▓▓▓▓"},
		{core.Event{Type: core.EventProgress, Job: j, Progress: -1}, "🎨 Job #12: working…"},
		{core.Event{Type: core.EventDelivered, Job: j, Progress: 100}, "✅ Job #12 done"},
		{core.Event{Type: core.EventFailed, Job: failed}, "❌ Job #12 failed: Timed out. Your 100 credits were refunded."},
		{core.Event{Type: core.EventCanceled, Job: j}, "🚫 Job #12 canceled. Your 100 credits were refunded."},
		{core.Event{Type: "other", Job: j}, "⏳ Job #12: queued"},
		{core.Event{Type: core.EventRetrying, Job: moved, Progress: -1}, "⚠️ Job #12: the video service could not make it; retrying with another provider…"},
		{core.Event{Type: core.EventPosition, Job: moved, Position: 1}, "⏳ Job #12 is queued: position 1\n↪️ retried with another provider"},
		{core.Event{Type: core.EventProgress, Job: moved, Progress: 45}, "🎨 Job #12: 45% ▓▓▓▓░░░░░░\n↪️ retried with another provider"},
		{core.Event{Type: core.EventDelivered, Job: moved, Progress: 100}, "✅ Job #12 done"},
	}
	for _, tt := range tests {
		if got := Status(tt.ev); got != tt.want {
			t.Errorf("Status(%s, %d%%) = %q, want %q", tt.ev.Type, tt.ev.Progress, got, tt.want)
		}
	}
	if Bar(-5) != "░░░░░░░░░░" || Bar(99) != "▓▓▓▓▓▓▓▓▓░" {
		t.Errorf("Bar clamps wrongly: %q %q", Bar(-5), Bar(99))
	}
}

// A job moved to another provider says so in its own language.
func TestStatusRetriedInTheJobsLanguage(t *testing.T) {
	moved := testJob()
	moved.Tried, moved.Lang = []string{"fsg"}, "it"
	for _, tt := range []struct {
		ev   core.Event
		want string
	}{
		{core.Event{Type: core.EventRetrying, Job: moved, Progress: -1}, "⚠️ Richiesta #12: il servizio video non è riuscito a realizzarla; riprovo con un altro fornitore…"},
		{core.Event{Type: core.EventProgress, Job: moved, Progress: 45}, "🎨 Richiesta #12: 45% ▓▓▓▓░░░░░░\n↪️ ritentata con un altro fornitore"},
	} {
		if got := Status(tt.ev); got != tt.want {
			t.Errorf("Status(%s) = %q, want %q", tt.ev.Type, got, tt.want)
		}
	}
}

func TestThrottle(t *testing.T) {
	th := NewThrottle(5 * time.Second)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	steps := []struct {
		chat, msg, text string
		sec             int
		force           bool
		want            bool
	}{
		{"c1", "12", "a", 0, false, true},
		{"c1", "12", "b", 2, false, false},  // too soon
		{"c2", "13", "x", 2, false, true},   // another chat has its own interval
		{"c1", "12", "b", 5, false, true},   // interval passed
		{"c1", "12", "b", 20, false, false}, // unchanged
		{"c1", "14", "b", 20, false, true},  // same text, other message
		{"c1", "12", "done", 21, true, true},
		{"c1", "12", "c", 22, false, false},   // the forced edit counts for the interval
		{"c1", "12", "done", 40, true, false}, // a repeated final event
	}
	for i, s := range steps {
		var got bool
		if s.force {
			got = th.Force(s.chat, s.msg, s.text, at(s.sec))
		} else {
			got = th.AllowMessage(s.chat, s.msg, s.text, at(s.sec))
		}
		if got != s.want {
			t.Errorf("step %d (%+v) = %v, want %v", i, s, got, s.want)
		}
	}
	if w := th.Wait("c1", at(24)); w != 2*time.Second {
		t.Errorf("Wait = %v, want 2s", w)
	}
	if w := th.Wait("new", at(24)); w != 0 {
		t.Errorf("Wait(new chat) = %v, want 0", w)
	}
	th.Forget("c1", "12")
	if !th.Force("c1", "12", "done", at(41)) {
		t.Error("Force after Forget refused")
	}

	// Allow is the one-message-per-chat form.
	if !th.Allow("c3", "a", at(0)) || th.Allow("c3", "a", at(10)) || !th.Allow("c3", "b", at(10)) {
		t.Error("Allow does not compare with the chat's last text")
	}
}

func TestThrottleUpdate(t *testing.T) {
	th := NewThrottle(5 * time.Second)
	j := testJob()
	ev := func(typ core.EventType, p int) core.Event {
		return core.Event{Type: typ, Job: j, Progress: p, Position: 1}
	}
	if text, ok := th.Update("chat", ev(core.EventPosition, -1), t0); !ok || text != "⏳ Job #12 is queued: position 1" {
		t.Fatalf("Update(position) = %q, %v", text, ok)
	}
	if _, ok := th.Update("chat", ev(core.EventProgress, 10), t0.Add(time.Second)); ok {
		t.Fatal("Update let progress through within the interval")
	}
	if text, ok := th.Update("chat", ev(core.EventRetrying, -1), t0.Add(1500*time.Millisecond)); !ok || !strings.Contains(text, "another provider") {
		t.Fatalf("Update(retrying) = %q, %v; a move to another provider must pass", text, ok)
	}
	if text, ok := th.Update("chat", ev(core.EventDelivered, 100), t0.Add(2*time.Second)); !ok || text != "✅ Job #12 done" {
		t.Fatalf("Update(delivered) = %q, %v; final states must pass", text, ok)
	}
}

func TestThrottlePrunes(t *testing.T) {
	th := NewThrottle(time.Second)
	for i := range 100 {
		th.AllowMessage(fmt.Sprint("chat", i), "1", "x", t0)
	}
	th.Allow("last", "x", t0.Add(2*time.Hour))
	th.mu.Lock()
	defer th.mu.Unlock()
	if len(th.chats) != 1 || len(th.messages) != 1 {
		t.Errorf("after pruning: %d chats, %d messages; want 1, 1", len(th.chats), len(th.messages))
	}
}

func TestThrottleConcurrent(t *testing.T) {
	th := NewThrottle(time.Second)
	var wg sync.WaitGroup
	allowed := make([]int, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if th.AllowMessage("chat", fmt.Sprint(g), fmt.Sprint(i), t0) {
					allowed[g]++
				}
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, n := range allowed {
		total += n
	}
	if total != 1 {
		t.Errorf("%d edits allowed at one instant in one chat, want 1", total)
	}
}
