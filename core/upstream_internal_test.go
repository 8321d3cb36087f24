package core

import (
	"testing"
	"time"
)

func TestHealth(t *testing.T) {
	h := health{base: 30 * time.Second, max: 5 * time.Minute}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fail := func() (bool, time.Duration) { return h.failed(now, "boom") }
	for i := range 2 {
		if down, _ := fail(); down || h.down(now) {
			t.Fatalf("down after %d failure(s)", i+1)
		}
	}
	h.succeeded() // a success breaks the row
	fail()
	fail()
	if down, d := fail(); !down || d != 30*time.Second || !h.down(now) || h.lastErr != "boom" {
		t.Fatalf("third failure in a row: down %v for %v", down, d)
	}
	if down, _ := fail(); down || !h.down(now.Add(29*time.Second)) {
		t.Fatal("failures while down extend the cool-down")
	}
	// Each relapse right after a cool-down doubles it, up to the cap.
	for _, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute} {
		now = h.downUntil
		if h.down(now) {
			t.Fatal("still down when the cool-down ends")
		}
		if down, d := fail(); !down || d != want {
			t.Fatalf("relapse: down %v for %v, want %v", down, d, want)
		}
	}
	now = h.downUntil
	if !h.succeeded() {
		t.Error("succeeded does not report the recovery")
	}
	fail()
	fail()
	if down, d := fail(); !down || d != 30*time.Second {
		t.Errorf("after a recovery: down %v for %v, want the base cool-down again", down, d)
	}
}
