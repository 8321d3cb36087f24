package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sorabot/core"
	"sorabot/core/provider/providertest"
	"sorabot/storage"
)

// poolEnv is the environment of a program in dir whose providers are the
// SORABOT_PROVIDERS file holding providers (a JSON array); A_KEY and B_KEY
// hold testKey.
func poolEnv(t *testing.T, dir, providers string, extra ...string) []string {
	t.Helper()
	path := filepath.Join(dir, "providers.json")
	if err := os.WriteFile(path, []byte(`{"providers": `+providers+`}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return append([]string{
		"USER=alice",
		"SORABOT_DB=" + filepath.Join(dir, "data", "sorabot.db"),
		"SORABOT_OUT_DIR=" + filepath.Join(dir, "out"),
		"SORABOT_HTTP_ADDR=127.0.0.1:0",
		"SORABOT_POLL_FIRST=100ms",
		"SORABOT_POLL_INTERVAL=200ms",
		"SORABOT_STATUS_INTERVAL=10ms",
		"SORABOT_PROVIDERS=" + path,
		"A_KEY=" + testKey,
		"B_KEY=" + testKey,
	}, extra...)
}

// twoResellers is a pool of two sorapro resellers, fsg preferred.
func twoResellers(a, b *providertest.Server) string {
	return fmt.Sprintf(`[
		{"name": "fsg", "protocol": "sorapro", "url": %q, "api_key_env": "A_KEY"},
		{"name": "backup", "protocol": "sorapro", "url": %q, "api_key_env": "B_KEY"}]`, a.URL, b.URL)
}

// closedURL is the address of a listener that is gone: connection refused.
func closedURL() string {
	s := providertest.New(providertest.Options{})
	s.Close()
	return s.URL
}

// ledgerOK runs `sorabot ledger verify` on the program's database.
func ledgerOK(t *testing.T, env []string) {
	t.Helper()
	p := startMain(t, env, "ledger", "verify")
	if err := p.finish(); err != nil {
		t.Fatalf("ledger verify: %v", err)
	}
}

func TestPoolFailoverOnACreateThatMadeNoTask(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(a *providertest.Server) string // returns fsg's URL
	}{
		{"out of credit", func(a *providertest.Server) string {
			a.FailCreates(1, providertest.Fault{Message: providertest.ReasonNoCredits})
			return a.URL
		}},
		{"model paused", func(a *providertest.Server) string {
			a.FailCreates(1, providertest.Fault{Message: providertest.ReasonModelPaused})
			return a.URL
		}},
		{"concurrency limit", func(a *providertest.Server) string {
			a.FailCreates(1, providertest.Fault{Message: "Too many concurrent tasks: the limit is 20"})
			return a.URL
		}},
		{"connection refused", func(a *providertest.Server) string { return closedURL() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := newEmulator(t), newEmulator(t)
			url := tc.script(a)
			env := poolEnv(t, dir, fmt.Sprintf(`[
				{"name": "fsg", "protocol": "sorapro", "url": %q, "api_key_env": "A_KEY"},
				{"name": "backup", "protocol": "sorapro", "url": %q, "api_key_env": "B_KEY"}]`, url, b.URL))
			p := startMain(t, env, "console")
			p.oneVideo(dir)
			if len(a.Tasks()) != 0 || len(b.Tasks()) != 1 || len(creates(b)) != 1 {
				t.Errorf("tasks at fsg %d, at backup %d (creates %d)", len(a.Tasks()), len(b.Tasks()), len(creates(b)))
			}
			ledgerOK(t, env)
		})
	}
}

func TestPoolFailoverOnAProviderSideTaskFailure(t *testing.T) {
	dir := t.TempDir()
	a, b := newEmulator(t), newEmulator(t)
	a.FailNextTasks(1, providertest.ReasonGeneric)
	env := poolEnv(t, dir, twoResellers(a, b))
	p := startMain(t, env, "console")
	p.oneVideo(dir)
	if !strings.Contains(p.out.String(), "another provider") {
		t.Errorf("the user was not told of the retry:\n%s", p.out.String())
	}
	if len(a.Tasks()) != 1 || len(b.Tasks()) != 1 || downloads(a) != 0 || downloads(b) != 1 {
		t.Errorf("tasks fsg %d backup %d, downloads %d/%d", len(a.Tasks()), len(b.Tasks()), downloads(a), downloads(b))
	}
	checkVideo(t, filepath.Join(dir, "out", "1.mp4"))
	ledgerOK(t, env)
}

func TestPoolNoFailover(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script func(a *providertest.Server)
		tasks  int // tasks made at fsg
		env    func(dir string) []string
	}{
		{"content policy", func(a *providertest.Server) { a.FailNextTasks(1, providertest.ReasonContentPolicy) }, 1, nil},
		{"content policy at create", func(a *providertest.Server) {
			a.FailCreates(1, providertest.Fault{Message: providertest.ReasonContentPolicy})
		}, 0, nil},
		{"ambiguous create", func(a *providertest.Server) {
			a.FailCreates(1, providertest.Fault{Drop: true, Accept: true}) // made, but the answer never came
		}, 1, nil},
		{"deadline", func(a *providertest.Server) { a.SetDuration(time.Minute) }, 1, func(dir string) []string {
			catalog := filepath.Join(dir, "catalog.json")
			os.WriteFile(catalog, []byte(`{"models": [{"id": "sora-2-text-to-video", "protocol": "sorapro",
				"durations": [10, 15], "default_duration": 10, "watermark_option": true,
				"prices": {"10": 100, "15": 150}, "typical_seconds": 1, "deadline_seconds": 2}]}`), 0o600)
			return []string{"SORABOT_CATALOG=" + catalog}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			a, b := newEmulator(t), newEmulator(t)
			tc.script(a)
			var extra []string
			if tc.env != nil {
				extra = tc.env(dir)
			}
			env := poolEnv(t, dir, twoResellers(a, b), extra...)
			p := startMain(t, env, "console")
			p.send("/video something that must not be made twice")
			p.wait("refunded", 1)
			p.send("/balance")
			p.wait("500 credits", 1)
			if err := p.finish(); err != nil {
				t.Fatal(err)
			}
			if b.Creates() != 0 || a.Creates() != 1 || len(a.Tasks()) != tc.tasks || strings.Contains(p.out.String(), "another provider") {
				t.Errorf("creates fsg %d backup %d, tasks at fsg %d: no failover wanted", a.Creates(), b.Creates(), len(a.Tasks()))
			}
			ledgerOK(t, env)
		})
	}
}

// maxConcurrent is the most tasks made with key at one moment at the emulator.
func maxConcurrent(tasks []providertest.TaskInfo, key string) int {
	most := 0
	for _, t := range tasks {
		if t.Key != key {
			continue
		}
		n := 0
		for _, o := range tasks {
			if o.Key == key && !o.Created.After(t.Created) && o.Created.Add(o.Duration).After(t.Created) {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

func TestPoolTwoKeysFillTwiceTheSlots(t *testing.T) {
	dir := t.TempDir()
	emu := providertest.New(providertest.Options{Key: "sk-account-one", Keys: []string{"sk-account-two"}, Duration: 1500 * time.Millisecond})
	defer emu.Close()
	addr := freeAddr(t)
	env := poolEnv(t, dir, fmt.Sprintf(`[
		{"name": "fsg", "protocol": "sorapro", "url": %q, "api_key_env": "KEY_ONE", "max_inflight": 2},
		{"name": "fsg-2", "protocol": "sorapro", "url": %q, "api_key_file": %q, "max_inflight": 2}]`,
		emu.URL, emu.URL, filepath.Join(dir, "key2")),
		"KEY_ONE=sk-account-one", "SORABOT_USER_MAX_ACTIVE=10", "SORABOT_USER_RATE=100000", "SORABOT_HTTP_ADDR="+addr)
	os.WriteFile(filepath.Join(dir, "key2"), []byte("sk-account-two\n"), 0o600)
	p := startMain(t, env, "console")
	for i := range 5 {
		p.send(fmt.Sprintf("/video cat number %d", i))
	}
	if !waitFor(10*time.Second, func() bool { return emu.Creates() == 4 }) {
		t.Fatalf("%d creates; want 4 (2 slots × 2 keys)", emu.Creates())
	}
	body := getBody(t, "http://"+addr+"/readyz")
	for _, want := range []string{`"name":"fsg","protocol":"sorapro","state":"up","inflight":2,"max_inflight":2`,
		`"name":"fsg-2","protocol":"sorapro","state":"up","inflight":2,"max_inflight":2`, `"queue":1`} {
		if !strings.Contains(body, want) {
			t.Errorf("readyz lacks %s:\n%s", want, body)
		}
	}
	p.wait("✅ Job #5 done", 1)
	p.wait("done", 5)
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	tasks := emu.Tasks()
	if len(tasks) != 5 {
		t.Fatalf("%d tasks", len(tasks))
	}
	for _, key := range []string{"sk-account-one", "sk-account-two"} {
		if n := maxConcurrent(tasks, key); n != 2 {
			t.Errorf("key %s had %d tasks at once, want its 2 slots filled", key[:14], n)
		}
	}
}

func TestPoolCrossProtocolRoute(t *testing.T) {
	dir := t.TempDir()
	a, gw := newEmulator(t), newEmulator(t)
	a.FailCreates(1, providertest.Fault{Message: providertest.ReasonModelPaused})
	catalog := filepath.Join(dir, "catalog.json")
	os.WriteFile(catalog, []byte(`{"models": [{"id": "sora-2-text-to-video", "protocol": "sorapro",
		"durations": [10, 15], "default_duration": 10, "watermark_option": true,
		"prices": {"10": 100, "15": 150}, "typical_seconds": 180, "deadline_seconds": 3600,
		"routes": [{"provider": "fsg"}, {"provider": "gw", "model": "sora-2"}]}]}`), 0o600)
	env := poolEnv(t, dir, fmt.Sprintf(`[
		{"name": "fsg", "protocol": "sorapro", "url": %q, "api_key_env": "A_KEY"},
		{"name": "gw", "protocol": "videocreate", "url": %q, "api_key_env": "B_KEY", "max_inflight": 10, "rate": 5}]`, a.URL, gw.URL),
		"SORABOT_CATALOG="+catalog)
	p := startMain(t, env, "console")
	p.send("/video --15s a cat surfing")
	p.wait("✅ Job #1 done", 1)
	p.send("/balance")
	p.wait("350 credits", 1)
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	c := creates(gw)
	if len(c) != 1 || c[0]["model"] != "sora-2" || fmt.Sprint(c[0]["duration"]) != "15" || c[0]["size"] != "small" {
		t.Fatalf("the gateway got %v", c)
	}
	checkVideo(t, filepath.Join(dir, "out", "1.mp4"))
}

func TestPoolReadyzAndMetricsShowADownProvider(t *testing.T) {
	dir := t.TempDir()
	b := newEmulator(t)
	addr := freeAddr(t)
	env := poolEnv(t, dir, fmt.Sprintf(`[
		{"name": "fsg", "protocol": "sorapro", "url": %q, "api_key_env": "A_KEY"},
		{"name": "backup", "protocol": "sorapro", "url": %q, "api_key_env": "B_KEY"},
		{"name": "spare", "protocol": "sorapro", "api_key_env": "A_KEY", "disabled": true}]`, closedURL(), b.URL),
		"SORABOT_HTTP_ADDR="+addr)
	p := startMain(t, env, "console")
	for i := range 3 {
		p.send(fmt.Sprintf("/video cat %d", i))
		p.wait(fmt.Sprintf("✅ Job #%d done", i+1), 1)
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(raw)
	if resp.StatusCode != 200 {
		t.Errorf("readyz %d with a provider up", resp.StatusCode)
	}
	for _, want := range []string{`"provider":"degraded: fsg down"`, `"name":"fsg","protocol":"sorapro","state":"down"`,
		`"last_error":"The video service`, `"name":"backup","protocol":"sorapro","state":"up","inflight":0,"max_inflight":20`,
		`"balance":10000`, `"name":"spare","protocol":"sorapro","state":"disabled"`} {
		if !strings.Contains(body, want) {
			t.Errorf("readyz lacks %s:\n%s", want, body)
		}
	}
	metrics := getBody(t, "http://"+addr+"/metrics")
	for _, want := range []string{`sorabot_provider_errors_total{code="unavailable",op="submit",provider="fsg"} 3`,
		`sorabot_provider_request_duration_seconds_count{op="submit",provider="backup"} 3`,
		`sorabot_provider_inflight{provider="backup"} 0`, `sorabot_provider_up{provider="fsg"} 0`,
		`sorabot_provider_up{provider="backup"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	p.finish()
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestPoolDemoFailoverWithoutAnAccount: the console shows failover with a
// demo provider behind a reseller that is not there.
func TestPoolDemoFailoverWithoutAnAccount(t *testing.T) {
	dir := t.TempDir()
	env := poolEnv(t, dir, fmt.Sprintf(`[
		{"name": "unreachable", "protocol": "sorapro", "url": %q, "api_key_env": "A_KEY"},
		{"name": "demo", "protocol": "demo"}]`, closedURL()), "SORABOT_DEMO_DURATION=300ms")
	p := startMain(t, env, "console")
	p.send("/video a cat surfing")
	p.wait("✅ Job #1 done", 1)
	if err := p.finish(); err != nil {
		t.Fatal(err)
	}
	checkVideo(t, filepath.Join(dir, "out", "1.mp4"))
	if !strings.Contains(p.out.String(), "another provider") {
		t.Errorf("no sign of the failover:\n%s", p.out.String())
	}
}

// TestPoolKill9 kills the real binary while jobs are at both providers; the
// next start polls each at its own provider and delivers each once.
func TestPoolKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	a := providertest.New(providertest.Options{Key: testKey, Duration: 3 * time.Second})
	defer a.Close()
	b := providertest.New(providertest.Options{Key: testKey, Duration: 3 * time.Second})
	defer b.Close()
	env := append(os.Environ(), poolEnv(t, dir, fmt.Sprintf(`[
		{"name": "fsg", "protocol": "sorapro", "url": %q, "api_key_env": "A_KEY", "max_inflight": 2},
		{"name": "backup", "protocol": "sorapro", "url": %q, "api_key_env": "B_KEY", "max_inflight": 2}]`, a.URL, b.URL),
		"SORABOT_START_CREDITS=100000", "SORABOT_USER_MAX_ACTIVE=100", "SORABOT_USER_RATE=100000",
		"SORABOT_LOG_LEVEL=info")...)
	cmd := newCmd(bin, env, dir)
	stdin, _ := cmd.StdinPipe()
	out := &syncBuf{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		fmt.Fprintf(stdin, "/video kill me %d\n", i)
	}
	// Killed once every job is stored as submitted (its task id recorded),
	// not merely once the providers saw the creates.
	submitted := func() int { return strings.Count(out.String(), `msg="job submitted"`) }
	if !waitFor(20*time.Second, func() bool { return a.Creates() == 2 && b.Creates() == 2 && submitted() == 4 }) {
		t.Fatalf("creates %d/%d, %d stored as submitted:\n%s", a.Creates(), b.Creates(), submitted(), out.String())
	}
	cmd.Process.Kill()
	cmd.Wait()

	again := newCmd(bin, env, dir)
	again.Stdin = strings.NewReader("")
	if b, err := again.CombinedOutput(); err != nil {
		t.Fatalf("restart: %v\n%s", err, b)
	}
	ledgerOK(t, env)
	db, err := storage.Open(filepath.Join(dir, "data", "sorabot.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	jobs, err := db.History(context.Background(), "console:alice", 0)
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]int{}
	for _, j := range jobs {
		if j.State != core.Delivered || j.Refunded {
			t.Errorf("job %s ended %s (refunded %v)", j.ID, j.State, j.Refunded)
		}
		at[j.Provider]++
		checkVideo(t, filepath.Join(dir, "out", j.ID+".mp4"))
	}
	if len(jobs) != 4 || at["fsg"] != 2 || at["backup"] != 2 {
		t.Errorf("%d jobs, by provider %v", len(jobs), at)
	}
	if a.Creates() != 2 || b.Creates() != 2 || downloads(a) != 2 || downloads(b) != 2 {
		t.Errorf("creates %d/%d, downloads %d/%d: each job made and fetched once", a.Creates(), b.Creates(), downloads(a), downloads(b))
	}
	acc, err := db.Account(context.Background(), "console:alice")
	if err != nil || acc.Balance != 100000-400 {
		t.Errorf("balance %d (%v), want paid once per job", acc.Balance, err)
	}
}

func newCmd(bin string, env []string, dir string) *exec.Cmd {
	cmd := exec.Command(bin, "console")
	cmd.Env, cmd.Dir = env, dir
	return cmd
}
