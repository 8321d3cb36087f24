package core_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"sorabot/core"
)

// Old videos of finished jobs (or of no job) and stale partial downloads
// go; recent files stay.
func TestOldVideosAreRemoved(t *testing.T) {
	h := newHarness(t, func(h *harness) { h.cfg.VideoRetention = time.Hour })
	h.start()
	a := h.mustAccept("test:ret", "r", "kept for a while")
	j := h.waitState(a.Job.ID, core.Delivered)
	if _, err := os.Stat(j.VideoPath); err != nil {
		t.Fatalf("delivered video: %v", err)
	}
	h.close()

	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(j.VideoPath, old, old)
	undelivered := filepath.Join(h.cfg.VideoDir, "999.mp4") // no such job: removable
	os.WriteFile(undelivered, []byte("x"), 0o600)
	os.Chtimes(undelivered, old, old)
	part := filepath.Join(h.cfg.VideoDir, "5.123.part")
	os.WriteFile(part, []byte("x"), 0o600)
	stalePart := filepath.Join(h.cfg.VideoDir, "6.456.part")
	os.WriteFile(stalePart, []byte("x"), 0o600)
	os.Chtimes(stalePart, old.Add(-48*time.Hour), old.Add(-48*time.Hour))
	fresh := filepath.Join(h.cfg.VideoDir, "1000.mp4")
	os.WriteFile(fresh, []byte("x"), 0o600)

	h.open()
	h.start() // sweeps at start
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err1 := os.Stat(j.VideoPath)
		_, err2 := os.Stat(undelivered)
		_, err3 := os.Stat(stalePart)
		if os.IsNotExist(err1) && os.IsNotExist(err2) && os.IsNotExist(err3) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("old videos still there: %v %v", err1, err2)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, keep := range []string{part, fresh} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s removed: %v", keep, err)
		}
	}
}
