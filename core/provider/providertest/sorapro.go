package providertest

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"sorabot/core"
)

// soraReply is the sorapro envelope: code 0 is success.
type soraReply struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func soraError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, soraReply{Code: code, Message: msg})
}

// soraFault answers a scripted fault the sorapro way.
func (s *Server) soraFault(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if s.generic(w, r, f) {
		return true
	}
	if !f.answers() {
		return false
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	if f.Status == 0 {
		soraError(w, http.StatusOK, 500, msg)
	} else {
		soraError(w, f.Status, f.Status, msg)
	}
	return true
}

// soraCheck answers the common parts of every sorapro call and decodes its
// JSON object body; ok false means the answer was sent.
func (s *Server) soraCheck(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	if r.Method != http.MethodPost {
		soraError(w, http.StatusMethodNotAllowed, 405, "Method not allowed")
		return nil, false
	}
	if !s.authorized(r) {
		soraError(w, http.StatusUnauthorized, 401, "Invalid API key")
		return nil, false
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		soraError(w, http.StatusOK, 400, "Content-Type must be application/json")
		return nil, false
	}
	body, err := decodeObject(r.Body)
	if err != nil {
		soraError(w, http.StatusOK, 400, "Invalid JSON body: "+err.Error())
		return nil, false
	}
	return body, true
}

func (s *Server) soraCreate(w http.ResponseWriter, r *http.Request) {
	body, ok := s.soraCheck(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.creates++
	s.mu.Unlock()
	if f, ok := s.takeFault(&s.createFaults); ok {
		var id string
		if f.Accept {
			id = s.soraAccept(r, body)
		}
		if s.soraFault(w, r, f) {
			return
		}
		if f.Accept {
			writeJSON(w, http.StatusOK, soraReply{Message: "ok", Data: map[string]string{"taskId": id}})
			return
		}
	}
	if msg := s.soraValidate(body); msg != "" {
		soraError(w, http.StatusOK, 400, msg)
		return
	}
	id := s.soraAccept(r, body)
	writeJSON(w, http.StatusOK, soraReply{Message: "ok", Data: map[string]string{"taskId": id}})
}

func (s *Server) soraAccept(r *http.Request, body map[string]any) string {
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	model, _ := body["model"].(string)
	s.newTask(core.ProtocolSoraPro, id, model, bearer(r), body)
	return id
}

// soraValidate returns what the real service would complain about, or "".
func (s *Server) soraValidate(b map[string]any) string {
	m, ok := s.model(core.ProtocolSoraPro, b["model"])
	if !ok {
		return fmt.Sprintf("Model %v is not supported", b["model"])
	}
	if v, ok := b["aspectRatio"]; ok && v != "portrait" && v != "landscape" {
		return "aspectRatio must be portrait or landscape"
	}
	if v, ok := b["nFrames"]; ok {
		str, isStr := v.(string)
		if !isStr {
			return "nFrames must be a string such as \"10\""
		}
		if str != "10" && str != "15" && str != "25" {
			return "nFrames must be one of \"10\", \"15\" or \"25\""
		}
	}
	if v, ok := b["size"]; ok && v != "standard" && v != "high" {
		return "size must be standard or high"
	}
	if v, ok := b["removeWatermark"]; ok {
		if _, isBool := v.(bool); !isBool {
			return "removeWatermark must be a boolean"
		}
	}
	if m.Storyboard {
		return validateShots(b["shots"])
	}
	if p, _ := b["prompt"].(string); strings.TrimSpace(p) == "" {
		return "prompt is required"
	}
	hasImage := false
	if v, ok := b["imageData"]; ok {
		if msg := validateDataURL(v); msg != "" {
			return msg
		}
		hasImage = true
	} else if v, ok := b["imageUrl"]; ok {
		u, _ := v.(string)
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return "imageUrl must be a public http(s) URL"
		}
		if strings.Contains(u, "/file/bot") {
			return "imageUrl could not be fetched"
		}
		hasImage = true
	}
	if m.MinImages > 0 && !hasImage {
		return "imageData or imageUrl is required for image-to-video"
	}
	return ""
}

func validateShots(v any) string {
	shots, ok := v.([]any)
	if !ok || len(shots) == 0 {
		return "shots is required for sora-2-pro-storyboard"
	}
	for i, sv := range shots {
		shot, ok := sv.(map[string]any)
		if !ok {
			return fmt.Sprintf("shots[%d] must be an object { Scene, duration }", i)
		}
		scene, _ := shot["Scene"].(string)
		if strings.TrimSpace(scene) == "" {
			return fmt.Sprintf("shots[%d].Scene is required (capital S)", i)
		}
		d, _ := shot["duration"].(json.Number)
		if f, err := d.Float64(); err != nil || f <= 0 {
			return fmt.Sprintf("shots[%d].duration must be a number > 0", i)
		}
	}
	return ""
}

// validateDataURL checks data:image/(png|jpeg|webp);base64,<bytes of that type>.
func validateDataURL(v any) string {
	str, _ := v.(string)
	head, data, ok := strings.Cut(str, ",")
	mime, ok2 := strings.CutSuffix(strings.TrimPrefix(head, "data:"), ";base64")
	if !ok || !ok2 || !strings.HasPrefix(head, "data:") {
		return "imageData must be a base64 data URL such as data:image/png;base64,..."
	}
	if mime != "image/png" && mime != "image/jpeg" && mime != "image/webp" {
		return "imageData must be a PNG, JPEG or WebP image"
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(raw) == 0 {
		return "imageData is not valid base64"
	}
	if got := http.DetectContentType(raw); got != mime {
		return fmt.Sprintf("imageData says %s but holds %s", mime, got)
	}
	return ""
}

func (s *Server) soraStatus(w http.ResponseWriter, r *http.Request) {
	body, ok := s.soraCheck(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.polls++
	s.mu.Unlock()
	if f, ok := s.takeFault(&s.pollFaults); ok && s.soraFault(w, r, f) {
		return
	}
	id, _ := body["taskId"].(string)
	ph, ok := s.lookup(core.ProtocolSoraPro, id)
	if !ok {
		soraError(w, http.StatusOK, 404, "Task not found")
		return
	}
	data := map[string]any{
		"status": "pending", "progress": ph.progress, "result_url": "", "result_urls": []string{},
		"failure_reason": "", "error_message": nil, "credits_refunded": false,
	}
	switch ph.state {
	case core.TaskRunning:
		data["status"] = "running"
	case core.TaskDone:
		u := s.resultURL(id)
		data["status"], data["result_url"], data["result_urls"] = "succeeded", u, []string{u}
	case core.TaskFailed:
		data["status"], data["failure_reason"], data["error_message"] = "failed", ph.reason, ph.reason
		data["credits_refunded"] = true
	}
	writeJSON(w, http.StatusOK, soraReply{Message: "Success", Data: data})
}

func (s *Server) soraBalance(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.soraCheck(w, r); !ok {
		return
	}
	s.mu.Lock()
	b := s.balance
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, soraReply{Message: "ok", Data: map[string]any{"left_credits": b}})
}

// decodeObject decodes a JSON object body with numbers kept as json.Number,
// so that 15 and "15" and 15.5 stay apart.
func decodeObject(r io.Reader) (map[string]any, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("body must be a JSON object")
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	return m, nil
}
