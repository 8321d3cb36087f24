package providertest

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// file serves a task's result: GET /files/<task id>.mp4. Like the real
// providers' CDN links it needs no key.
func (s *Server) file(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("name"), ".mp4")
	s.mu.Lock()
	_, known := s.tasks[id]
	size := s.resultSize
	s.mu.Unlock()
	if !ok || !known {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "video/mp4")
	if size == 0 {
		http.ServeContent(w, r, "result.mp4", time.Time{}, bytes.NewReader(sampleMP4))
		return
	}
	// A result of exactly size bytes, streamed: the sample, then zeros.
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	var src io.Reader = io.MultiReader(bytes.NewReader(sampleMP4), zeros{})
	io.Copy(w, io.LimitReader(src, size)) //nolint:errcheck // the client may hang up
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
