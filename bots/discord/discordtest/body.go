package discordtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
)

// Upload is one file part of a multipart request, streamed and hashed.
type Upload struct {
	Field       string // form field, e.g. "files[0]"
	Filename    string
	ContentType string
	Size        int64
	SHA256      string // hex
	Data        []byte // the bytes, kept only for files of at most 1 MiB
}

// keepDataLimit is the largest upload whose bytes are kept in memory.
const keepDataLimit = 1 << 20

// body is a parsed request body: the JSON (or payload_json) and any files.
type body struct {
	raw       []byte         // JSON text, nil when there is none
	val       any            // decoded JSON (numbers as json.Number)
	fields    map[string]any // for multipart without payload_json: plain form fields
	files     []Upload
	multipart bool
	tooLarge  bool // a file over the attachment limit or a request over the size limit
}

// obj returns the body as a JSON object (nil if it is not one).
func (b *body) obj() map[string]any {
	m, _ := b.val.(map[string]any)
	return m
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readBody parses JSON or multipart/form-data without buffering large files.
// It always consumes the whole request body so that an early error answer
// still reaches a client that is busy writing.
func (s *Server) readBody(r *http.Request) (*body, *apiError) {
	return s.parseBody(r.Header.Get("Content-Type"), r.Body)
}

func (s *Server) parseBody(ct string, rd io.Reader) (*body, *apiError) {
	cr := &countingReader{r: rd}
	defer func() { _, _ = io.Copy(io.Discard, cr) }()
	b := &body{}
	mt, params, _ := mime.ParseMediaType(ct)
	switch {
	case mt == "multipart/form-data":
		b.multipart = true
		mr := multipart.NewReader(cr, params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, errBadRequest()
			}
			name := part.FormName()
			if part.FileName() != "" || strings.HasPrefix(name, "files[") || strings.HasPrefix(name, "file") {
				up, err := s.readUpload(part)
				if err != nil {
					return nil, errBadRequest()
				}
				if up.Size > s.opt.AttachmentSizeLimit {
					b.tooLarge = true
				}
				b.files = append(b.files, up)
				continue
			}
			data, err := io.ReadAll(io.LimitReader(part, 8<<20))
			if err != nil {
				return nil, errBadRequest()
			}
			if name == "payload_json" {
				b.raw = data
				continue
			}
			if b.fields == nil {
				b.fields = map[string]any{}
			}
			b.fields[name] = string(data)
		}
		if b.raw == nil && b.fields != nil {
			b.raw, _ = json.Marshal(b.fields)
		}
	default:
		data, err := io.ReadAll(io.LimitReader(cr, s.opt.MaxRequestBytes+1))
		if err != nil {
			return nil, errBadRequest()
		}
		if len(data) > 0 {
			b.raw = data
		}
	}
	_, _ = io.Copy(io.Discard, cr)
	if cr.n > s.opt.MaxRequestBytes {
		b.tooLarge = true
	}
	if b.raw != nil {
		dec := json.NewDecoder(bytes.NewReader(b.raw))
		dec.UseNumber()
		if err := dec.Decode(&b.val); err != nil {
			return nil, &apiError{status: http.StatusBadRequest, Code: 50109, Message: "The request body contains invalid JSON."}
		}
	}
	return b, nil
}

func (s *Server) readUpload(part *multipart.Part) (Upload, error) {
	up := Upload{Field: part.FormName(), Filename: part.FileName(), ContentType: part.Header.Get("Content-Type")}
	h := sha256.New()
	var keep bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		n, err := part.Read(buf)
		if n > 0 {
			h.Write(buf[:n])
			up.Size += int64(n)
			if keep.Len() <= keepDataLimit {
				keep.Write(buf[:n])
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return up, err
		}
	}
	up.SHA256 = hex.EncodeToString(h.Sum(nil))
	if up.Size <= keepDataLimit {
		up.Data = keep.Bytes()
	}
	return up, nil
}
