package telegramtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// keepLimit is the largest upload whose bytes are kept in memory.
const keepLimit = 1 << 20

// maxFieldSize bounds a non-file form value.
const maxFieldSize = 8 << 20

// Upload is a file the bot sent (a multipart part, or the content fetched
// from a URL it passed).
type Upload struct {
	Field       string
	Filename    string
	ContentType string
	Size        int64
	SHA256      string // hex
	Data        []byte // only when Size <= 1 MiB
}

// request is one parsed Bot API call.
type request struct {
	method  string // as described in the spec
	params  map[string]string
	files   map[string]*Upload
	uploads []Upload // in arrival order
}

// attached reports whether some value refers to the file part name with
// "attach://name" (InputMedia, stickers, thumbnails).
func (r *request) attached(name string) bool {
	ref := "attach://" + name
	for _, v := range r.params {
		if strings.Contains(v, ref) {
			return true
		}
	}
	return false
}

func (r *request) int64(name string) (int64, bool) {
	v, ok := r.params[name]
	if !ok || v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	return n, err == nil
}

func (r *request) bool(name string) bool {
	switch strings.ToLower(strings.TrimSpace(r.params[name])) {
	case "true", "1":
		return true
	}
	return false
}

var errTooLarge = errors.New("request entity too large")

// parseRequest reads the query string and the body (multipart, JSON or
// urlencoded) into params and files. File parts are streamed: hashed and
// counted, their bytes kept only up to keepLimit. A file over maxUpload makes
// it return errTooLarge after draining the body.
func parseRequest(r *http.Request, maxUpload int64) (*request, error) {
	req := &request{params: map[string]string{}, files: map[string]*Upload{}}
	for k, vs := range r.URL.Query() {
		if len(vs) > 0 {
			req.params[k] = vs[len(vs)-1]
		}
	}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return req, nil
	}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch mt {
	case "multipart/form-data":
		return req, parseMultipart(r, req, maxUpload)
	case "application/json":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxFieldSize+1))
		if err != nil {
			return nil, err
		}
		if len(body) > maxFieldSize {
			return nil, errTooLarge
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return req, nil
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, fmt.Errorf("can't parse JSON object")
		}
		for k, raw := range obj {
			var s string
			if err := json.Unmarshal(raw, &s); err == nil {
				req.params[k] = s
				continue
			}
			if string(raw) == "null" {
				continue
			}
			req.params[k] = string(raw)
		}
		return req, nil
	case "application/x-www-form-urlencoded":
		body, err := io.ReadAll(io.LimitReader(r.Body, maxFieldSize+1))
		if err != nil {
			return nil, err
		}
		if len(body) > maxFieldSize {
			return nil, errTooLarge
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("can't parse form: %v", err)
		}
		for k, vs := range vals {
			if len(vs) > 0 {
				req.params[k] = vs[len(vs)-1]
			}
		}
		return req, nil
	default:
		_, _ = io.Copy(io.Discard, r.Body)
		return req, nil
	}
}

func parseMultipart(r *http.Request, req *request, maxUpload int64) error {
	// go-telegram/bot sends an empty body for methods without parameters.
	body := bufio.NewReader(r.Body)
	if _, err := body.Peek(1); err == io.EOF {
		return nil
	}
	r.Body = io.NopCloser(body)
	mr, err := r.MultipartReader()
	if err != nil {
		return fmt.Errorf("can't parse multipart form: %v", err)
	}
	tooLarge := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("can't parse multipart form: %v", err)
		}
		name := p.FormName()
		if !isFilePart(p.Header) {
			b, err := io.ReadAll(io.LimitReader(p, maxFieldSize+1))
			if err != nil {
				return fmt.Errorf("can't parse multipart form: %v", err)
			}
			if len(b) > maxFieldSize {
				tooLarge = true
				continue
			}
			req.params[name] = string(b)
			continue
		}
		if tooLarge {
			if _, err := io.Copy(io.Discard, p); err != nil {
				return fmt.Errorf("can't read multipart form: %v", err)
			}
			continue
		}
		up, err := readUpload(p, name, filePartName(p.Header), p.Header.Get("Content-Type"), maxUpload)
		if errors.Is(err, errTooLarge) {
			tooLarge = true
			continue
		}
		if err != nil {
			return fmt.Errorf("can't read multipart form: %v", err)
		}
		req.files[name] = up
		req.uploads = append(req.uploads, *up)
	}
	if tooLarge {
		return errTooLarge
	}
	return nil
}

// readUpload streams r into an Upload. Past limit it keeps reading (so the
// client finishes writing and sees the answer) and returns errTooLarge.
func readUpload(r io.Reader, field, filename, contentType string, limit int64) (*Upload, error) {
	h := sha256.New()
	var keep bytes.Buffer
	var n int64
	buf := make([]byte, 64<<10)
	for {
		k, err := r.Read(buf)
		if k > 0 {
			n += int64(k)
			if n <= limit {
				h.Write(buf[:k])
				if n <= keepLimit {
					keep.Write(buf[:k])
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if n > limit {
		return nil, errTooLarge
	}
	up := &Upload{
		Field:       field,
		Filename:    filename,
		ContentType: contentType,
		Size:        n,
		SHA256:      hex.EncodeToString(h.Sum(nil)),
	}
	if n <= keepLimit {
		up.Data = keep.Bytes()
	}
	return up, nil
}

// paramsCopy returns the params for the call log.
func (r *request) paramsCopy() map[string]string {
	m := make(map[string]string, len(r.params))
	for k, v := range r.params {
		m[k] = v
	}
	return m
}

// isFilePart reports whether a part is a file: it has a filename (even an
// empty one) or a content type other than text.
func isFilePart(h textproto.MIMEHeader) bool {
	_, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err == nil {
		if _, ok := params["filename"]; ok {
			return true
		}
	}
	ct := h.Get("Content-Type")
	return ct != "" && !strings.HasPrefix(ct, "text/plain")
}

func filePartName(h textproto.MIMEHeader) string {
	_, params, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	return params["filename"]
}
