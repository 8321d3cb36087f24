package core

import (
	"errors"
	"io/fs"
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
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Error("look for old videos", "dir", s.cfg.VideoDir, "err", err)
		}
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
			// A job not delivered yet keeps its video, however old; so does
			// any video whose job cannot be read now (the next sweep decides).
			id := strings.TrimSuffix(name, ".mp4")
			j, err := s.store.Job(s.ctx, id)
			switch {
			case ErrorCode(err) == ENOTFOUND:
			case err != nil:
				if s.ctx.Err() == nil {
					s.log.Error("old video kept: its job could not be read", "job_id", id, "err", err)
				}
				continue
			case !j.State.Terminal():
				continue
			}
		default:
			continue
		}
		if err := os.Remove(filepath.Join(s.cfg.VideoDir, name)); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				s.log.Error("remove old video", "file", name, "err", err)
			}
			continue
		}
		removed++
	}
	return removed
}
