package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// errVideoTooLarge: the result is over MaxVideoBytes; it is sent as a link.
var errVideoTooLarge = errors.New("video over the download cap")

// deliver downloads a succeeded job's video (once) and hands it to the
// job's frontend, retrying temporary failures; a video that cannot reach the
// user fails the job and refunds it.
func (s *Service) deliver(j *Job) {
	ctx := s.ctx
	f := s.frontend(j.Origin.Platform)
	if f == nil {
		// The platform is not running now; the job stays succeeded and is
		// delivered at a start where it is.
		s.log.Warn("no frontend for a finished video; keeping it for later", "job_id", j.ID, "platform", j.Origin.Platform)
		return
	}
	v := Video{Path: j.VideoPath, Size: j.VideoSize}
	if v.Path != "" {
		if fi, err := os.Stat(v.Path); err != nil || fi.Size() != v.Size {
			v.Path = ""
		}
	}
	if v.Path == "" {
		path, size, err := s.download(ctx, j)
		switch {
		case errors.Is(err, errVideoTooLarge):
			s.log.Warn("video over the download cap; sending the link", "job_id", j.ID)
			v.URL = j.VideoURL
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("download failed", "job_id", j.ID, "err", err)
			s.fail(ctx, j, []State{Succeeded}, Errorf(EUNAVAILABLE, "The video was made but could not be downloaded."))
			return
		default:
			v.Path, v.Size = path, size
			nj, ok, err := s.writeJob(ctx, "record download", j.ID, Succeeded, 0, func(ctx context.Context) (*Job, bool, error) {
				return s.store.Transition(ctx, j.ID, []State{Succeeded}, func(j *Job) { j.VideoPath, j.VideoSize = path, size })
			})
			if err != nil {
				// Stopping (the next start delivers the job), or the job is gone.
				s.log.Error("record download", "job_id", j.ID, "err", err)
				return
			}
			if !ok {
				s.log.Warn("downloaded the video of a job no longer succeeded", "job_id", j.ID, "state", nj.State)
				return
			}
			j = nj
		}
	}
	if v.Path != "" && v.Size > f.MaxUpload(j) {
		v = s.linkFor(j, v)
	}
	for attempt := 0; ; attempt++ {
		via, err := f.Deliver(ctx, j, v)
		if err == nil {
			s.delivered(j, via)
			return
		}
		if ctx.Err() != nil {
			return // shutting down: delivered at the next start
		}
		if errors.Is(err, ErrTooBig) && v.Path != "" {
			v = s.linkFor(j, v)
			continue
		}
		if IsTemporary(err) && attempt < s.cfg.DeliverRetries {
			s.log.Warn("delivery failed; retrying", "job_id", j.ID, "attempt", attempt+1, "err", err)
			if !Sleep(ctx, s.cfg.RetryBase<<attempt) {
				return
			}
			continue
		}
		s.log.Warn("delivery failed", "job_id", j.ID, "err", err)
		if ErrorCode(err) == EINTERNAL || IsTemporary(err) {
			err = Errorf(EUNAVAILABLE, "The video was made but could not be delivered to you.")
		}
		s.fail(ctx, j, []State{Succeeded}, err)
		return
	}
}

// linkFor turns a file delivery into a link: the bot's own public media
// link when there is one, else the provider's.
func (s *Service) linkFor(j *Job, v Video) Video {
	link := j.VideoURL
	if s.cfg.MediaURL != nil && v.Path != "" {
		if u, err := s.cfg.MediaURL(v.Path); err == nil {
			link = u
		} else {
			s.log.Warn("publish media", "job_id", j.ID, "err", err)
		}
	}
	return Video{URL: link, Size: v.Size}
}

func (s *Service) delivered(j *Job, via string) {
	ctx := context.WithoutCancel(s.ctx)
	fj, ok, err := s.writeJob(ctx, "mark delivered", j.ID, Delivered, 0, func(ctx context.Context) (*Job, bool, error) {
		return s.store.Finish(ctx, j.ID, []State{Succeeded}, Delivered, "", via)
	})
	if err != nil {
		// Stopping (the next start delivers the video again), or the job is gone.
		s.log.Error("mark delivered", "job_id", j.ID, "via", via, "err", err)
		return
	}
	if !ok {
		s.log.Warn("delivered a job no longer succeeded", "job_id", j.ID, "state", fj.State)
		return
	}
	s.cfg.Metrics.JobState(Succeeded, Delivered)
	s.cfg.Metrics.Delivered(via)
	s.log.Info("job delivered", "job_id", j.ID, "via", via)
	s.notify(Event{Type: EventDelivered, Job: fj, Progress: 100})
}

// download fetches the result into VideoDir/<id>.mp4 with the size cap,
// retrying network errors and 5xx a few times.
func (s *Service) download(ctx context.Context, j *Job) (string, int64, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var path string
		var size int64
		path, size, err = s.downloadOnce(ctx, j)
		if err == nil || !IsTemporary(err) {
			return path, size, err
		}
		if !Sleep(ctx, s.cfg.RetryBase<<attempt) {
			return "", 0, ctx.Err()
		}
	}
	return "", 0, err
}

func (s *Service) downloadOnce(ctx context.Context, j *Job) (string, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.VideoURL, nil)
	if err != nil {
		return "", 0, fmt.Errorf("download request: %w", err)
	}
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", 0, Temporary(fmt.Errorf("download: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("download: HTTP %d", resp.StatusCode)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return "", 0, Temporary(err)
		}
		return "", 0, err
	}
	if resp.ContentLength > s.cfg.MaxVideoBytes {
		return "", 0, errVideoTooLarge
	}
	if err := os.MkdirAll(s.cfg.VideoDir, 0o750); err != nil {
		return "", 0, err
	}
	final := filepath.Join(s.cfg.VideoDir, j.ID+".mp4")
	tmp, err := os.CreateTemp(s.cfg.VideoDir, j.ID+".*.part")
	if err != nil {
		return "", 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, io.LimitReader(resp.Body, s.cfg.MaxVideoBytes+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, Temporary(fmt.Errorf("download body: %w", err))
	}
	if n > s.cfg.MaxVideoBytes {
		return "", 0, errVideoTooLarge
	}
	if n == 0 {
		return "", 0, Temporary(fmt.Errorf("download: empty body"))
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", 0, err
	}
	return final, n, nil
}
