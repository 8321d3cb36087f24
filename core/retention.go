package core

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// sweepEvery is how often old videos are looked for.
const sweepEvery = time.Hour

// sweepLoop removes downloaded videos older than VideoRetention (their
// jobs are long delivered; /job then says the video is no longer kept) and
// partial downloads a crash left behind.
func (s *Service) sweepLoop() {
	defer s.wg.Done()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		if n := s.sweepVideos(time.Now()); n > 0 {
			s.log.Info("removed old videos", "count", n)
		}
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) sweepVideos(now time.Time) int {
	entries, err := os.ReadDir(s.cfg.VideoDir)
	if err != nil {
		return 0
	}
	removed := 0
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		name := e.Name()
		age := now.Sub(info.ModTime())
		switch {
		case strings.HasSuffix(name, ".part") && age > 24*time.Hour:
		case strings.HasSuffix(name, ".mp4") && age > s.cfg.VideoRetention:
			// A job not delivered yet keeps its video, however old.
			if j, err := s.store.Job(s.ctx, strings.TrimSuffix(name, ".mp4")); err == nil && !j.State.Terminal() {
				continue
			}
		default:
			continue
		}
		if os.Remove(filepath.Join(s.cfg.VideoDir, name)) == nil {
			removed++
		}
	}
	return removed
}
