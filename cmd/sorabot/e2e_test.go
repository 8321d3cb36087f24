package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sorabot/core/provider/providertest"
)

// syncBuf is an output buffer safe for concurrent writes and reads.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// prog is the real program (Main) running in-process.
type prog struct {
	t      *testing.T
	in     *io.PipeWriter
	out    *syncBuf
	errOut *syncBuf
	done   chan error
	cancel context.CancelFunc
}

const testKey = "sk-test-key"

// baseEnv is the environment of a program in dir talking to emu over protocol.
func baseEnv(dir string, emu *providertest.Server, protocol string) []string {
	return []string{
		"USER=alice",
		"SORABOT_DB=" + filepath.Join(dir, "data", "sorabot.db"),
		"SORABOT_OUT_DIR=" + filepath.Join(dir, "out"),
		"SORABOT_HTTP_ADDR=127.0.0.1:0",
		"SORABOT_POLL_FIRST=100ms",
		"SORABOT_POLL_INTERVAL=200ms",
		"PROVIDER=" + protocol,
		"PROVIDER_URL=" + emu.URL,
		"PROVIDER_API_KEY=" + testKey,
	}
}

func startMain(t *testing.T, env []string, args ...string) *prog {
	t.Helper()
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	p := &prog{t: t, in: pw, out: &syncBuf{}, errOut: &syncBuf{}, done: make(chan error, 1), cancel: cancel}
	m := &Main{Args: args, Env: env, Stdin: pr, Stdout: p.out, Stderr: p.errOut}
	go func() { p.done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		pw.Close()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Error("program did not stop")
		}
	})
	return p
}

func (p *prog) send(line string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		p.t.Fatalf("send %q: %v", line, err)
	}
}

// wait waits until the output holds n occurrences of s.
func (p *prog) wait(s string, n int) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(p.out.String(), s) < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("no %d× %q in output:\n%s\nstderr:\n%s", n, s, p.out.String(), p.errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop cancels the program (like SIGTERM) and waits for it to exit.
func (p *prog) stop() error {
	p.t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(30 * time.Second):
		p.t.Fatalf("program did not stop:\n%s", p.errOut.String())
		return nil
	}
}

// oneVideo makes one video from the console, checks it cost 100 of the
// 500 start credits and that it was written to dir/out/1.mp4, and ends
// the program.
func (p *prog) oneVideo(dir string) {
	p.t.Helper()
	p.send("/video a cat surfing")
	p.wait("✅ Job #1 done", 1)
	p.send("/balance")
	p.wait("400 credits", 1)
	if err := p.finish(); err != nil {
		p.t.Fatal(err)
	}
	checkVideo(p.t, filepath.Join(dir, "out", "1.mp4"))
}

// finish ends the input and waits for the program to exit.
func (p *prog) finish() error {
	p.t.Helper()
	p.in.Close()
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(30 * time.Second):
		p.t.Fatalf("program did not exit:\n%s", p.out.String())
		return nil
	}
}

func newEmulator(t *testing.T) *providertest.Server {
	emu := providertest.New(providertest.Options{Key: testKey, Duration: 600 * time.Millisecond})
	t.Cleanup(emu.Close)
	return emu
}

// creates returns the JSON bodies of the create calls the emulator got.
func creates(emu *providertest.Server) []map[string]any {
	var out []map[string]any
	for _, r := range emu.Requests() {
		if r.Method == http.MethodPost && (strings.HasSuffix(r.Path, "/video/sora-pro") || strings.HasSuffix(r.Path, "/video/create")) {
			if b, ok := r.Body.(map[string]any); ok {
				out = append(out, b)
			}
		}
	}
	return out
}

func checkVideo(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("video: %v", err)
	}
	if !bytes.Equal(b, providertest.SampleMP4()) {
		t.Fatalf("%s is not the emulator's MP4 (%d bytes)", path, len(b))
	}
}

// tinyPNG is a valid 1×1 PNG.
var tinyPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

func TestConsoleSoraPro(t *testing.T) {
	dir := t.TempDir()
	emu := newEmulator(t)
	img := filepath.Join(dir, "cat.png")
	os.WriteFile(img, tinyPNG, 0o600)
	p := startMain(t, baseEnv(dir, emu, "sorapro"), "console")

	p.send("/video a cat surfing")
	p.wait("✅ Job #1 done", 1)
	checkVideo(t, filepath.Join(dir, "out", "1.mp4"))
	p.send("/balance")
	p.wait("400 credits", 1)

	p.send("/video --image=" + img + " --portrait make it dance")
	p.wait("✅ Job #2 done", 1)
	checkVideo(t, filepath.Join(dir, "out", "2.mp4"))

	p.send("/balance")
	p.wait("300 credits", 1)
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}

	c := creates(emu)
	if len(c) < 2 {
		t.Fatalf("%d creates", len(c))
	}
	text, image := c[0], c[1]
	if text["model"] != "sora-2-text-to-video" || text["nFrames"] != "10" || text["aspectRatio"] != "landscape" ||
		text["prompt"] != "a cat surfing" || text["removeWatermark"] != true {
		t.Errorf("text create body %v", text)
	}
	if image["model"] != "sora-2-image-to-video" || image["aspectRatio"] != "portrait" ||
		!strings.HasPrefix(fmt.Sprint(image["imageData"]), "data:image/png;base64,") {
		t.Errorf("image create body %v", image)
	}
	if _, ok := image["imageUrl"]; ok {
		t.Errorf("imageUrl sent with imageData")
	}
}

func TestConsoleStoryboardWire(t *testing.T) {
	dir := t.TempDir()
	emu := newEmulator(t)
	env := append(baseEnv(dir, emu, "sorapro"), "SORABOT_START_CREDITS=2000")
	p := startMain(t, env, "console")
	// Telegram's form: one shot per line (the console ends it at an empty line).
	p.send("/storyboard")
	p.send("5s A city at dusk")
	p.send("5s A runner in the rain")
	p.send("")
	p.wait("✅ Job #1 done", 1)
	// Discord's form: shots separated by " | ".
	p.send("/storyboard --portrait 10s A quiet harbor | 5s Gulls take off")
	p.wait("✅ Job #2 done", 1)
	p.send("/balance")
	p.wait("950 credits", 1) // 2000 − 375 (10 s) − 675 (15 s)
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	checkVideo(t, filepath.Join(dir, "out", "1.mp4"))
	checkVideo(t, filepath.Join(dir, "out", "2.mp4"))
	c := creates(emu)
	if len(c) != 2 {
		t.Fatalf("%d creates", len(c))
	}
	if c[1]["nFrames"] != "15" || c[1]["aspectRatio"] != "portrait" {
		t.Errorf("second storyboard %v", c[1])
	}
	b := c[0]
	shots, _ := b["shots"].([]any)
	if b["model"] != "sora-2-pro-storyboard" || b["nFrames"] != "10" || len(shots) != 2 {
		t.Fatalf("storyboard body %v", b)
	}
	if _, ok := b["prompt"]; ok {
		t.Errorf("storyboard sent a prompt: %v", b)
	}
	if _, ok := b["removeWatermark"]; ok {
		t.Errorf("storyboard sent removeWatermark: %v", b)
	}
	s0, _ := shots[0].(map[string]any)
	if s0["Scene"] != "A city at dusk" || fmt.Sprint(s0["duration"]) != "5" {
		t.Errorf("shot %v", s0)
	}
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestConsoleVideoCreate(t *testing.T) {
	dir := t.TempDir()
	emu := newEmulator(t)
	img := filepath.Join(dir, "cat.png")
	os.WriteFile(img, tinyPNG, 0o600)
	addr := freeAddr(t)
	env := append(baseEnv(dir, emu, "videocreate"), "SORABOT_HTTP_ADDR="+addr, "SORABOT_PUBLIC_URL=http://"+addr)
	p := startMain(t, env, "console")
	p.send("/video a cat surfing")
	p.wait("✅ Job #1 done", 1)
	p.send("/video --image=" + img + " make it dance")
	p.wait("✅ Job #2 done", 1)
	p.send("/balance")
	p.wait("300 credits", 1)

	c := creates(emu)
	if len(c) != 2 {
		t.Fatalf("%d creates", len(c))
	}
	text, image := c[0], c[1]
	if text["model"] != "sora-2" || fmt.Sprint(text["duration"]) != "10" || text["size"] != "small" ||
		text["orientation"] != "landscape" || text["watermark"] != true || text["private"] != false {
		t.Errorf("text body %v", text)
	}
	if imgs, ok := text["images"].([]any); !ok || len(imgs) != 0 {
		t.Errorf("text images %#v, want []", text["images"])
	}
	imgs, _ := image["images"].([]any)
	if len(imgs) != 1 || !strings.HasPrefix(fmt.Sprint(imgs[0]), "http://"+addr+"/media/") {
		t.Fatalf("image body %v", image)
	}
	// The provider can fetch the picture from the bot's own link.
	resp, err := http.Get(fmt.Sprint(imgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, tinyPNG) {
		t.Fatalf("media link served %d bytes", len(got))
	}
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	checkVideo(t, filepath.Join(dir, "out", "2.mp4"))
}

func TestConsoleVideoCreateImageNeedsPublicURL(t *testing.T) {
	dir := t.TempDir()
	emu := newEmulator(t)
	img := filepath.Join(dir, "cat.png")
	os.WriteFile(img, tinyPNG, 0o600)
	p := startMain(t, baseEnv(dir, emu, "videocreate"), "console")
	p.send("/video --image=" + img + " make it dance")
	p.wait("SORABOT_PUBLIC_URL", 1)
	p.send("/balance")
	p.wait("500 credits", 1)
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	if n := len(creates(emu)); n != 0 {
		t.Fatalf("%d creates", n)
	}
}

func TestConsoleInvalidInputChargesNothing(t *testing.T) {
	dir := t.TempDir()
	emu := newEmulator(t)
	p := startMain(t, baseEnv(dir, emu, "sorapro"), "console")
	for _, line := range []string{
		"/video",
		"/video --model=sora-9 a cat",
		"/video --sideways a cat",
		"/storyboard 3s too short",
		"/storyboard 5s A | A runner",
		"/video --pro --hd --15s " + strings.Repeat("x", 2001),
	} {
		p.send(line)
	}
	p.wait("⚠️", 6)
	p.send("/video --pro --hd --15s a very expensive cat")
	p.wait("1575", 1)
	p.send("/balance")
	p.wait("500 credits", 1)
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	if n := len(creates(emu)); n != 0 {
		t.Fatalf("%d creates for invalid input", n)
	}
}

func TestConsoleProviderFailureRefunds(t *testing.T) {
	dir := t.TempDir()
	emu := newEmulator(t)
	emu.FailNextTasks(1, providertest.ReasonContentPolicy)
	p := startMain(t, baseEnv(dir, emu, "sorapro"), "console")
	p.send("/video something the provider refuses")
	p.wait("refunded", 1)
	p.send("/balance")
	p.wait("500 credits", 1)
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
}

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	emu := newEmulator(t)
	out := filepath.Join(dir, "clip.mp4")
	p := startMain(t, baseEnv(dir, emu, "sorapro"), "generate", "--prompt", "a cat surfing", "-o", out)
	if err := p.finish(); err != nil {
		t.Fatalf("generate: %v\n%s", err, p.errOut.String())
	}
	checkVideo(t, out)

	p = startMain(t, baseEnv(dir, emu, "sorapro"), "generate", "--prompt", "")
	if err := p.finish(); err == nil || !strings.Contains(err.Error(), "prompt") {
		t.Fatalf("generate without prompt: %v", err)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"PROVIDER=bogus"}, "PROVIDER"},
		{[]string{"TELEGRAM_TOKEN=123:abc"}, "PROVIDER"},
		{[]string{"PROVIDER=sorapro"}, "PROVIDER_API_KEY"},
		{[]string{"PROVIDER=videocreate", "PROVIDER_API_KEY=k"}, "PROVIDER_URL"},
		{[]string{"SORABOT_START_CREDITS=lots"}, "SORABOT_START_CREDITS"},
		{[]string{"SORABOT_ADMINS=bob"}, "SORABOT_ADMINS"},
		{[]string{"SORABOT_HTTP_ADDR=nowhere"}, "SORABOT_HTTP_ADDR"},
		{[]string{"PROVIDER=sorapro", "PROVIDER_API_KEY_FILE=/does/not/exist"}, "PROVIDER_API_KEY_FILE"},
		{[]string{"SORABOT_CATALOG=/does/not/exist"}, "SORABOT_CATALOG"},
		{[]string{"DISCORD_GUILD_ID=my-server"}, "DISCORD_GUILD_ID"},
		{[]string{"TELEGRAM_API_URL=ftp://x"}, "TELEGRAM_API_URL"},
		{[]string{"SORABOT_POLL_FIRST=soon"}, "SORABOT_POLL_FIRST"},
		{[]string{"PROVIDER_RATE=fast"}, "PROVIDER_RATE"},
		{[]string{"PROVIDER_RATE=0"}, "PROVIDER_RATE"},
	} {
		env := append([]string{"SORABOT_DB=" + filepath.Join(t.TempDir(), "db")}, tc.env...)
		p := startMain(t, env, "serve")
		err := p.finish()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err %v, want it to name %s", tc.env, err, tc.want)
		}
	}
}

func TestProviderRate(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  float64
		bad   bool
	}{
		{"", 10, false},
		{"1000", 1000, false},
		{" 0.5 ", 0.5, false},
		{"0", 0, true},
		{"-3", 0, true},
		{"NaN", 0, true},
		{"Inf", 0, true},
		{"ten", 0, true},
	} {
		env := map[string]string{"PROVIDER_RATE": tc.value}
		c, err := LoadConfig(func(k string) string { return env[k] }, nil)
		switch {
		case tc.bad && (err == nil || !strings.Contains(err.Error(), "PROVIDER_RATE")):
			t.Errorf("PROVIDER_RATE=%q: err %v, want one naming PROVIDER_RATE", tc.value, err)
		case !tc.bad && err != nil:
			t.Errorf("PROVIDER_RATE=%q: %v", tc.value, err)
		case !tc.bad && c.ProviderRate != tc.want:
			t.Errorf("PROVIDER_RATE=%q: rate %v, want %v", tc.value, c.ProviderRate, tc.want)
		}
	}
}

func TestSecretFileAndNoLeak(t *testing.T) {
	dir := t.TempDir()
	emu := newEmulator(t)
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte(testKey+"\n"), 0o600)
	env := []string{}
	for _, kv := range baseEnv(dir, emu, "sorapro") {
		if !strings.HasPrefix(kv, "PROVIDER_API_KEY=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PROVIDER_API_KEY_FILE="+keyFile, "SORABOT_LOG_LEVEL=debug")
	p := startMain(t, env, "console")
	p.send("/video a cat")
	p.wait("✅ Job #1 done", 1)
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.out.String()+p.errOut.String(), testKey) {
		t.Fatal("the provider key appeared in the output or logs")
	}
}

func TestHTTPEndpoints(t *testing.T) {
	dir := t.TempDir()
	emu := newEmulator(t)
	addr := freeAddr(t)
	p := startMain(t, append(baseEnv(dir, emu, "sorapro"), "SORABOT_HTTP_ADDR="+addr), "console")
	p.send("/video a cat")
	p.wait("✅ Job #1 done", 1)
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"provider":"ok"`) {
		t.Errorf("readyz %d %s", code, body)
	}
	code, body := get("/metrics")
	for _, want := range []string{`sorabot_jobs{state="delivered"} 1`, "sorabot_credits_charged_total 100",
		"sorabot_queue_length 0", `sorabot_deliveries_total{via="file"} 1`, "sorabot_provider_request_duration_seconds"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q (HTTP %d)", want, code)
		}
	}
	// A model the provider no longer serves shows in /readyz.
	emu.FailCreates(1, providertest.Fault{Message: "model not supported"})
	p.send("/video a cat nobody can make")
	p.wait("failed", 1)
	if _, body := get("/readyz"); !strings.Contains(body, "recent_unavailable") || !strings.Contains(body, "sora-2-text-to-video") {
		t.Errorf("readyz after an unavailable model: %s", body)
	}
	p.finish()
}

// TestServeDefaultsToDemoConsole is `make run` on a fresh machine: no chat
// token, no provider: the console with the demo provider, over both wires.
func TestServeDefaultsToDemoConsole(t *testing.T) {
	for _, protocol := range []string{"sorapro", "videocreate"} {
		t.Run(protocol, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"USER=bob", "SORABOT_DB=" + filepath.Join(dir, "data", "sorabot.db"),
				"SORABOT_OUT_DIR=" + filepath.Join(dir, "out"), "SORABOT_HTTP_ADDR=127.0.0.1:0",
				"SORABOT_DEMO_DURATION=500ms", "SORABOT_DEMO_PROTOCOL=" + protocol}
			p := startMain(t, env)
			p.wait("demo provider", 1)
			p.oneVideo(dir)
		})
	}
}
