package providertest

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"sorabot/core"
)

// vcError answers the one-api/new-api error envelope.
func vcError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": "new_api_error", "code": code,
	}})
}

// vcFault answers a scripted fault the videocreate way.
func (s *Server) vcFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if s.generic(w, r, f) {
		return true
	}
	if !f.answers() {
		return false
	}
	st, msg, code := f.Status, f.Message, f.Code
	if st == 0 {
		st = http.StatusBadRequest
	}
	if msg == "" {
		msg = http.StatusText(st)
	}
	if code == "" {
		code = strings.ToLower(strings.ReplaceAll(http.StatusText(st), " ", "_"))
	}
	vcError(w, st, code, msg)
	return true
}

func (s *Server) vcCreate(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		vcError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed")
		return
	}
	if !s.authorized(r) {
		vcError(w, http.StatusUnauthorized, "invalid_api_key", "Invalid token")
		return
	}
	s.mu.Lock()
	s.creates++
	s.mu.Unlock()
	body, err := decodeObject(r.Body)
	if err != nil {
		vcError(w, http.StatusBadRequest, "invalid_request", "Invalid JSON body: "+err.Error())
		return
	}
	if f, ok := s.takeFault(&s.createFaults); ok {
		var id string
		if f.Accept {
			id = s.vcAccept(r, body)
		}
		if s.vcFault(w, r, f) {
			return
		}
		if f.Accept {
			s.vcCreated(w, id)
			return
		}
	}
	if code, msg := s.vcValidate(body); msg != "" {
		vcError(w, http.StatusBadRequest, code, msg)
		return
	}
	s.vcCreated(w, s.vcAccept(r, body))
}

func (s *Server) vcCreated(w http.ResponseWriter, id string) {
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "status": "pending", "status_update_time": time.Now().UnixMilli(),
	})
}

var lowerBase32 = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

func (s *Server) vcAccept(r *http.Request, body map[string]any) string {
	var b [16]byte
	rand.Read(b[:])
	model, _ := body["model"].(string)
	prefix := model
	if prefix == "" {
		prefix = "video"
	}
	id := prefix + ":task_" + lowerBase32.EncodeToString(b[:])[:26]
	s.newTask(core.ProtocolVideoCreate, id, model, bearer(r), body)
	return id
}

// vcRequired are the seed's required body fields.
var vcRequired = []string{"images", "model", "orientation", "prompt", "size", "duration", "watermark", "private"}

// vcValidate returns the envelope code and message the gateway would
// answer, or "" when the request is fine.
func (s *Server) vcValidate(b map[string]any) (code, msg string) {
	bad := func(format string, args ...any) (string, string) {
		return "invalid_request", fmt.Sprintf(format, args...)
	}
	for _, k := range vcRequired {
		if _, ok := b[k]; !ok {
			return bad("%s is required", k)
		}
	}
	m, ok := s.model(core.ProtocolVideoCreate, b["model"])
	if !ok {
		return "model_not_found", fmt.Sprintf("model %v not found: no available channel", b["model"])
	}
	images, ok := b["images"].([]any)
	if !ok {
		return bad("images must be an array of URLs")
	}
	for i, v := range images {
		u, _ := v.(string)
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return bad("images[%d] must be a public http(s) URL", i)
		}
		if strings.Contains(u, "/file/bot") {
			return bad("images[%d] could not be fetched", i)
		}
	}
	if len(images) < m.MinImages {
		return bad("%s needs at least %d image(s)", m.ID, m.MinImages)
	}
	if len(images) > m.MaxImages {
		return bad("%s takes at most %d image(s)", m.ID, m.MaxImages)
	}
	if v := b["orientation"]; v != "portrait" && v != "landscape" {
		return bad("orientation must be portrait or landscape")
	}
	if p, _ := b["prompt"].(string); strings.TrimSpace(p) == "" {
		return bad("prompt is required")
	}
	if v := b["size"]; v != "small" && v != "large" {
		return bad("size must be small or large")
	}
	d, isNum := b["duration"].(json.Number)
	if n, err := d.Int64(); !isNum || err != nil || n <= 0 {
		return bad("duration must be an integer")
	}
	for _, k := range []string{"watermark", "private"} {
		if _, ok := b[k].(bool); !ok {
			return bad("%s must be a boolean", k)
		}
	}
	return "", ""
}

func (s *Server) vcQuery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		vcError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Method not allowed")
		return
	}
	if !s.authorized(r) {
		vcError(w, http.StatusUnauthorized, "invalid_api_key", "Invalid token")
		return
	}
	s.mu.Lock()
	s.polls++
	s.mu.Unlock()
	if f, ok := s.takeFault(&s.pollFaults); ok && s.vcFault(w, r, f) {
		return
	}
	id := r.URL.Query().Get("id")
	ph, ok := s.lookup(core.ProtocolVideoCreate, id)
	if !ok {
		vcError(w, http.StatusNotFound, "task_not_exist", "task not found")
		return
	}
	now := time.Now().UnixMilli()
	switch ph.state {
	case core.TaskPending:
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "status": "pending", "progress": "0", "status_update_time": now,
			"detail": map[string]any{"pending_info": map[string]any{"progress_pct": 0}},
		})
	case core.TaskRunning:
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "status": "processing", "progress": ph.progress, "status_update_time": now,
			"detail": map[string]any{"pending_info": map[string]any{"progress_pct": float64(ph.progress) / 100}},
		})
	case core.TaskDone:
		t, _ := s.Task(id)
		prompt, _ := t.Body["prompt"].(string)
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "status": "completed", "progress": 100, "status_update_time": now,
			"video_url": s.resultURL(id), "enhanced_prompt": prompt,
		})
	case core.TaskFailed:
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id, "status": "failed", "status_update_time": now, "error": ph.reason,
		})
	}
}
