package providertest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "k-123"

func pngDataURL(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 1, 1)))
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

type answer struct {
	status int
	body   map[string]any
	header http.Header
}

func call(t *testing.T, method, url, key, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	return answer{resp.StatusCode, m, resp.Header}
}

func TestSoraProValidation(t *testing.T) {
	srv := New(Options{Key: testKey})
	defer srv.Close()
	img := pngDataURL(t)
	tests := []struct {
		name, body string
		ok         bool
		msg        string
	}{
		{"text ok", `{"model":"sora-2-text-to-video","prompt":"x","aspectRatio":"landscape","nFrames":"10","removeWatermark":true}`, true, ""},
		{"pro with size", `{"model":"sora-2-pro-text-to-video","prompt":"x","nFrames":"15","size":"high"}`, true, ""},
		{"image ok", `{"model":"sora-2-image-to-video","prompt":"x","imageData":"` + img + `"}`, true, ""},
		{"image by URL", `{"model":"sora-2-image-to-video","prompt":"x","imageUrl":"https://example.com/a.png"}`, true, ""},
		{"storyboard ok", `{"model":"sora-2-pro-storyboard","shots":[{"Scene":"a","duration":5},{"Scene":"b","duration":5}],"nFrames":"10"}`, true, ""},
		{"unknown model", `{"model":"sora-9","prompt":"x"}`, false, "not supported"},
		{"videocreate model", `{"model":"sora-2","prompt":"x"}`, false, "not supported"},
		{"nFrames as a number", `{"model":"sora-2-text-to-video","prompt":"x","nFrames":10}`, false, "nFrames must be a string"},
		{"nFrames odd", `{"model":"sora-2-text-to-video","prompt":"x","nFrames":"12"}`, false, "nFrames"},
		{"missing prompt", `{"model":"sora-2-text-to-video","nFrames":"10"}`, false, "prompt is required"},
		{"blank prompt", `{"model":"sora-2-text-to-video","prompt":"  "}`, false, "prompt is required"},
		{"lowercase scene", `{"model":"sora-2-pro-storyboard","shots":[{"scene":"a","duration":5}]}`, false, "Scene is required"},
		{"zero duration shot", `{"model":"sora-2-pro-storyboard","shots":[{"Scene":"a","duration":0}]}`, false, "duration must be"},
		{"string duration shot", `{"model":"sora-2-pro-storyboard","shots":[{"Scene":"a","duration":"5"}]}`, false, "duration must be"},
		{"no shots", `{"model":"sora-2-pro-storyboard","prompt":"x"}`, false, "shots is required"},
		{"image-to-video without image", `{"model":"sora-2-image-to-video","prompt":"x"}`, false, "required for image-to-video"},
		{"data URL not base64", `{"model":"sora-2-image-to-video","prompt":"x","imageData":"data:image/png;base64,@@@"}`, false, "base64"},
		{"data URL wrong type", `{"model":"sora-2-image-to-video","prompt":"x","imageData":"data:image/gif;base64,R0lGODlh"}`, false, "PNG, JPEG or WebP"},
		{"data URL lies", `{"model":"sora-2-image-to-video","prompt":"x","imageData":"data:image/jpeg;base64,` + strings.TrimPrefix(img, "data:image/png;base64,") + `"}`, false, "holds image/png"},
		{"raw base64 without prefix", `{"model":"sora-2-image-to-video","prompt":"x","imageData":"iVBORw0KGgo="}`, false, "data URL"},
		{"telegram URL", `{"model":"sora-2-image-to-video","prompt":"x","imageUrl":"https://api.telegram.org/file/bot1:A/x.png"}`, false, "could not be fetched"},
		{"bad size", `{"model":"sora-2-pro-text-to-video","prompt":"x","size":"large"}`, false, "size"},
		{"bad orientation", `{"model":"sora-2-text-to-video","prompt":"x","aspectRatio":"square"}`, false, "aspectRatio"},
		{"not JSON", `model=x`, false, "Invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, "POST", srv.URL+"/api/v1/video/sora-pro", testKey, tt.body)
			if a.status != 200 {
				t.Fatalf("HTTP %d, want 200", a.status)
			}
			code, _ := a.body["code"].(float64)
			msg, _ := a.body["message"].(string)
			if (code == 0) != tt.ok || !strings.Contains(msg, tt.msg) {
				t.Errorf("code %v message %q; want ok=%v containing %q", code, msg, tt.ok, tt.msg)
			}
			if tt.ok {
				data, _ := a.body["data"].(map[string]any)
				if id, _ := data["taskId"].(string); len(id) != 32 {
					t.Errorf("taskId %v", data["taskId"])
				}
			}
		})
	}
	if a := call(t, "POST", srv.URL+"/api/v1/video/sora-pro", "wrong", `{}`); a.status != 401 {
		t.Errorf("bad key: HTTP %d", a.status)
	}
}

func TestVideoCreateValidation(t *testing.T) {
	srv := New(Options{Key: testKey})
	defer srv.Close()
	full := func(repl ...string) string {
		b := `{"images":[],"model":"sora-2-pro","orientation":"portrait","prompt":"make animate","size":"large","duration":15,"watermark":false,"private":true}`
		for i := 0; i+1 < len(repl); i += 2 {
			b = strings.Replace(b, repl[i], repl[i+1], 1)
		}
		return b
	}
	tests := []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"seed example", full(), 200, "", ""},
		{"with images", full(`"images":[]`, `"images":["https://example.com/a.png"]`), 200, "", ""},
		{"unknown model", full(`"sora-2-pro"`, `"sora-9"`), 400, "model_not_found", "not found"},
		{"missing private", full(`,"private":true`, ``), 400, "invalid_request", "private is required"},
		{"missing images", full(`"images":[],`, ``), 400, "invalid_request", "images is required"},
		{"images null", full(`"images":[]`, `"images":null`), 400, "invalid_request", "images must be an array"},
		{"images a string", full(`"images":[]`, `"images":"https://example.com/a.png"`), 400, "invalid_request", "images must be an array"},
		{"image not a URL", full(`"images":[]`, `"images":["data:image/png;base64,AAAA"]`), 400, "invalid_request", "public http(s) URL"},
		{"telegram URL", full(`"images":[]`, `"images":["https://api.telegram.org/file/bot1:A/x.png"]`), 400, "invalid_request", "could not be fetched"},
		{"duration string", full(`"duration":15`, `"duration":"15"`), 400, "invalid_request", "duration must be an integer"},
		{"duration float", full(`"duration":15`, `"duration":15.5`), 400, "invalid_request", "duration must be an integer"},
		{"empty prompt", full(`"make animate"`, `""`), 400, "invalid_request", "prompt is required"},
		{"bad size", full(`"large"`, `"high"`), 400, "invalid_request", "size"},
		{"watermark string", full(`"watermark":false`, `"watermark":"false"`), 400, "invalid_request", "watermark must be a boolean"},
		{"too many images", full(`"images":[]`, `"images":["http://a/1","http://a/2","http://a/3","http://a/4","http://a/5"]`), 400, "invalid_request", "at most"},
		{"sorapro model", full(`"sora-2-pro"`, `"sora-2-text-to-video"`), 400, "model_not_found", "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, "POST", srv.URL+"/v1/video/create", testKey, tt.body)
			if a.status != tt.status {
				t.Fatalf("HTTP %d, want %d: %v", a.status, tt.status, a.body)
			}
			if tt.status == 200 {
				id, _ := a.body["id"].(string)
				if !strings.HasPrefix(id, "sora-2-pro:task_") || a.body["status"] != "pending" {
					t.Errorf("reply %v", a.body)
				}
				return
			}
			e, _ := a.body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if e["code"] != tt.code || e["type"] != "new_api_error" || !strings.Contains(msg, tt.msg) {
				t.Errorf("error %v; want code %q with %q", e, tt.code, tt.msg)
			}
		})
	}
	if a := call(t, "POST", srv.URL+"/v1/video/create", "", full()); a.status != 401 {
		t.Errorf("no key: HTTP %d", a.status)
	}
}

// A task goes pending → running (progress rising) → completed, then its
// video downloads.
func TestTaskLifecycleAndFiles(t *testing.T) {
	srv := New(Options{Duration: 400 * time.Millisecond})
	defer srv.Close()
	a := call(t, "POST", srv.URL+"/v1/video/create", "", `{"images":[],"model":"sora-2","orientation":"landscape","prompt":"p","size":"small","duration":10,"watermark":true,"private":false}`)
	id, _ := a.body["id"].(string)
	deadline := time.Now().Add(5 * time.Second)
	seen := map[string]bool{}
	var final map[string]any
	for time.Now().Before(deadline) {
		q := call(t, "GET", srv.URL+"/v1/video/query?id="+id, "", "")
		st, _ := q.body["status"].(string)
		seen[st] = true
		if st == "completed" {
			final = q.body
			break
		}
		time.Sleep(10 * time.Millisecond) // polling pace, not a wait for an event
	}
	if final == nil || !seen["pending"] || !seen["processing"] {
		t.Fatalf("seen %v, final %v", seen, final)
	}
	u, _ := final["video_url"].(string)
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, sampleMP4) || resp.Header.Get("Content-Type") != "video/mp4" {
		t.Errorf("download: %d bytes, %s", len(got), resp.Header.Get("Content-Type"))
	}
	if len(sampleMP4) > 100<<10 || !bytes.Contains(sampleMP4[:64], []byte("ftyp")) {
		t.Errorf("sample.mp4 is %d bytes or not an MP4", len(sampleMP4))
	}

	srv.SetResultSize(3 << 20)
	resp, err = http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if n != 3<<20 || resp.ContentLength != 3<<20 {
		t.Errorf("sized download: %d bytes, Content-Length %d", n, resp.ContentLength)
	}
	if resp, _ := http.Get(srv.URL + "/files/nope.mp4"); resp.StatusCode != 404 {
		t.Errorf("unknown file: HTTP %d", resp.StatusCode)
	}
	info, ok := srv.Task(id)
	if !ok || info.Model != "sora-2" || info.Polls < 3 || info.Body["prompt"] != "p" {
		t.Errorf("Task = %+v, %v", info, ok)
	}
}

func TestSetDurationAndBalance(t *testing.T) {
	srv := New(Options{Key: testKey})
	defer srv.Close()
	srv.SetDuration(0)
	a := call(t, "POST", srv.URL+"/api/v1/video/sora-pro", testKey, `{"model":"sora-2-text-to-video","prompt":"x"}`)
	id := a.body["data"].(map[string]any)["taskId"].(string)
	q := call(t, "POST", srv.URL+"/api/video-generations/check-result", testKey, `{"taskId":"`+id+`"}`)
	data, _ := q.body["data"].(map[string]any)
	if data["status"] != "succeeded" || !strings.HasSuffix(data["result_url"].(string), id+".mp4") {
		t.Errorf("instant task: %v", q.body)
	}
	q = call(t, "POST", srv.URL+"/api/video-generations/check-result", testKey, `{"taskId":"nope"}`)
	if q.status != 200 || q.body["code"] == float64(0) {
		t.Errorf("unknown task: %v", q.body)
	}
	srv.SetBalance(12.5)
	b := call(t, "POST", srv.URL+"/api/get-user-credits", testKey, `{}`)
	if b.body["data"].(map[string]any)["left_credits"] != 12.5 {
		t.Errorf("balance %v", b.body)
	}
	if srv.Creates() != 1 || srv.Polls() != 2 || len(srv.Requests()) != 4 {
		t.Errorf("Creates %d Polls %d Requests %d", srv.Creates(), srv.Polls(), len(srv.Requests()))
	}
}

func TestFaultQueuesAreConsumedInOrder(t *testing.T) {
	srv := New(Options{})
	defer srv.Close()
	srv.FailPolls(1, Fault{Status: 429, RetryAfter: 7})
	srv.FailPolls(1, Fault{Status: 500})
	a := call(t, "GET", srv.URL+"/v1/video/query?id=x", "", "")
	if a.status != 429 || a.header.Get("Retry-After") != "7" {
		t.Errorf("first: HTTP %d Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
	if a := call(t, "GET", srv.URL+"/v1/video/query?id=x", "", ""); a.status != 500 {
		t.Errorf("second: HTTP %d", a.status)
	}
	if a := call(t, "GET", srv.URL+"/v1/video/query?id=x", "", ""); a.status != 404 {
		t.Errorf("third: HTTP %d", a.status)
	}
}

// Close ends answers held back by a delay instead of waiting for them.
func TestCloseEndsDelays(t *testing.T) {
	srv := New(Options{})
	srv.SetDelay(time.Hour)
	var wg sync.WaitGroup
	wg.Go(func() {
		resp, err := http.Post(srv.URL+"/api/get-user-credits", "application/json", strings.NewReader("{}"))
		if err == nil {
			resp.Body.Close()
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Requests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { srv.Close(); wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung on a delayed answer")
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := New(Options{Duration: time.Millisecond})
	defer srv.Close()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			srv.FailPolls(1, Fault{Status: 500})
			resp, err := http.Post(srv.URL+"/api/v1/video/sora-pro", "application/json",
				strings.NewReader(`{"model":"sora-2-text-to-video","prompt":"x"}`))
			if err == nil {
				resp.Body.Close()
			}
			_ = srv.Requests()
			_ = srv.Tasks()
		})
	}
	wg.Wait()
	if srv.Creates() != 8 || len(srv.Tasks()) != 8 {
		t.Errorf("Creates %d Tasks %d", srv.Creates(), len(srv.Tasks()))
	}
}

func TestSeveralKeys(t *testing.T) {
	s := New(Options{Key: testKey, Keys: []string{"k-2"}})
	defer s.Close()
	body := `{"model":"sora-2-text-to-video","prompt":"a cat","nFrames":"10"}`
	for _, key := range []string{testKey, "k-2"} {
		if a := call(t, "POST", s.URL+"/api/v1/video/sora-pro", key, body); a.status != 200 || a.body["code"] != 0.0 {
			t.Fatalf("key %s: %d %v", key, a.status, a.body)
		}
	}
	if a := call(t, "POST", s.URL+"/api/v1/video/sora-pro", "k-3", body); a.status != http.StatusUnauthorized {
		t.Errorf("an unknown key: %d", a.status)
	}
	tasks := s.Tasks()
	if len(tasks) != 2 || tasks[0].Key != testKey || tasks[1].Key != "k-2" {
		t.Errorf("tasks %+v", tasks)
	}
}
