package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestProvidersCheck(t *testing.T) {
	dir := t.TempDir()
	good, other := newEmulator(t), newEmulator(t)
	gw := newEmulator(t)
	env := poolEnv(t, dir, fmt.Sprintf(`[
		{"name": "fsg", "protocol": "sorapro", "url": %q, "api_key_env": "A_KEY"},
		{"name": "gw", "protocol": "videocreate", "url": %q, "api_key_env": "B_KEY"},
		{"name": "demo", "protocol": "demo"},
		{"name": "wrong-key", "protocol": "sorapro", "url": %q, "api_key_env": "WRONG"},
		{"name": "gone", "protocol": "videocreate", "url": %q, "api_key_env": "A_KEY", "disabled": true}]`,
		good.URL, gw.URL, other.URL, closedURL()), "WRONG=sk-not-the-key-0000")
	p := startMain(t, env, "providers", "check")
	err := p.finish()
	if err == nil || !strings.Contains(err.Error(), "1 enabled provider(s) failed") {
		t.Fatalf("providers check: %v\n%s", err, p.out.String())
	}
	lines := strings.Split(p.out.String(), "\n")
	want := [][]string{
		{"NAME", "PROTOCOL", "REACHABLE", "KEY", "ACCEPTED", "BALANCE"},
		{"fsg", "sorapro", "yes", "yes", "10000"},
		{"gw", "videocreate", "yes", "yes", "-"},
		{"demo", "demo", "yes", "yes", "10000"},
		{"wrong-key", "sorapro", "yes", "no", "-"},
		{"gone", "(disabled)", "videocreate", "no", "no", "-"},
	}
	for i, w := range want {
		if i >= len(lines) || !slices.Equal(strings.Fields(lines[i])[:len(w)], w) {
			t.Errorf("line %d: %q, want it to start %v\n%s", i, lines[min(i, len(lines)-1)], w, p.out.String())
		}
	}
	if strings.Contains(p.out.String(), "sk-not-the-key") || strings.Contains(p.out.String(), testKey) {
		t.Error("a key is in the table")
	}
	if good.Creates()+gw.Creates()+other.Creates() != 0 {
		t.Error("the check created a task")
	}
	// Every enabled provider fine: exit 0.
	env = poolEnv(t, dir, fmt.Sprintf(`[{"name": "fsg", "protocol": "sorapro", "url": %q, "api_key_env": "A_KEY"}]`, good.URL))
	if err := startMain(t, env, "providers", "check").finish(); err != nil {
		t.Errorf("all fine: %v", err)
	}
}
