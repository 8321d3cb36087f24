package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sorabot/core"
)

func TestPoolConfigErrors(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "empty")
	os.WriteFile(keyFile, nil, 0o600)
	for _, tc := range []struct {
		providers string
		env       []string
		want      []string
	}{
		{`[{"name": "fsg", "protocol": "sorapro", "api_key_env": "A_KEY"}]`, []string{"PROVIDER=sorapro"},
			[]string{"SORABOT_PROVIDERS", "PROVIDER", "not both"}},
		{`[{"name": "fsg", "protocol": "sorapro", "api_key": "sk-in-the-file"}]`, nil,
			[]string{`providers[0] "fsg": api_key: keys never go in this file`}},
		{`[{"name": "fsg", "protocol": "sorapro", "api_key_env": "NOT_SET"},
		   {"name": "Bad Name", "protocol": "sorapro", "api_key_env": "A_KEY"},
		   {"name": "gw", "protocol": "videocreate", "api_key_file": "` + keyFile + `"},
		   {"name": "fsg", "protocol": "sora", "api_key_env": "A_KEY"},
		   {"name": "two", "protocol": "sorapro", "api_key_env": "A_KEY", "api_key_file": "/x", "max_inflight": 0, "rate": -1},
		   {"name": "demo", "protocol": "demo", "url": "http://x"}]`, nil,
			[]string{`providers[0] "fsg": api_key_env: variable NOT_SET is not set`,
				`providers[1] "Bad Name": name: "Bad Name" may hold only a-z, 0-9 and -`,
				`providers[2] "gw": url: is required for protocol videocreate`,
				`providers[2] "gw": api_key_file: ` + keyFile + ` is empty`,
				`providers[3] "fsg": name: "fsg" is also the name of providers[0]`,
				`providers[3] "fsg": protocol: "sora" is not sorapro, videocreate or demo`,
				`providers[4] "two": api_key_env: set either api_key_env or api_key_file, not both`,
				`providers[4] "two": max_inflight: 0 is not at least 1`,
				`providers[4] "two": rate: -1 is not a number of calls per second above 0`,
				`providers[5] "demo": url: a demo provider takes none`}},
		{`[{"name": "fsg", "protocol": "sorapro", "api_key_env": "A_KEY", "disabled": true}]`, nil,
			[]string{"every provider is disabled"}},
		{`[{"name": "fsg", "protocol": "sorapro", "api_key_env": "A_KEY", "weight": 2}]`, nil,
			[]string{`providers[0] "fsg"`, `unknown field "weight"`}},
	} {
		env := append(poolEnv(t, dir, tc.providers), tc.env...)
		err := startMain(t, env, "serve").finish()
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: err %v\nwant it to say %s", tc.providers, err, w)
			}
		}
	}
	// A route the providers cannot serve names the model and the route.
	catalog := filepath.Join(dir, "catalog.json")
	os.WriteFile(catalog, []byte(`{"models": [{"id": "sora-2-pro-text-to-video", "protocol": "sorapro", "pro": true,
		"durations": [10, 15], "default_duration": 10, "qualities": ["standard", "high"],
		"prices": {"10:standard": 375, "15:standard": 675, "10:high": 825, "15:high": 1575},
		"typical_seconds": 420, "deadline_seconds": 7200,
		"routes": [{"provider": "fsg"}, {"provider": "gw", "model": "sora-2"}]}]}`), 0o600)
	env := append(poolEnv(t, dir, `[{"name": "fsg", "protocol": "sorapro", "api_key_env": "A_KEY"},
		{"name": "gw", "protocol": "videocreate", "url": "https://gw.example", "api_key_env": "B_KEY"}]`), "SORABOT_CATALOG="+catalog)
	err := startMain(t, env, "serve").finish()
	if err == nil || !strings.Contains(err.Error(), `SORABOT_CATALOG: catalog: model "sora-2-pro-text-to-video" route 2 (provider "gw", model "sora-2")`) ||
		!strings.Contains(err.Error(), `quality "high" has no equivalent`) {
		t.Errorf("bad route: %v", err)
	}
}

func TestProviderSpecs(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(name string) string {
			for _, s := range kv {
				if k, v, _ := strings.Cut(s, "="); k == name {
					return v
				}
			}
			return ""
		}
	}
	files := map[string][]byte{"/p.json": []byte(`{"providers": [
		{"name": "fsg", "protocol": "sorapro", "api_key_env": "FSG_KEY"},
		{"name": "fsg-2", "protocol": "sorapro", "url": "https://fsg.example/", "api_key_file": "/k2", "max_inflight": 5, "rate": 2.5},
		{"name": "gw", "protocol": "videocreate", "url": "https://gw.example", "api_key_env": "GW_KEY", "disabled": true},
		{"name": "demo", "protocol": "demo"}]}`), "/k2": []byte(" sk-two \n")}
	read := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return b, nil
		}
		return nil, os.ErrNotExist
	}
	c, err := LoadConfig(env("SORABOT_PROVIDERS=/p.json", "FSG_KEY=sk-one", "GW_KEY=sk-gw"), read)
	if err != nil {
		t.Fatal(err)
	}
	want := []ProviderSpec{
		{Name: "fsg", Protocol: "sorapro", Wire: "sorapro", URL: defaultSoraProURL, Key: "sk-one", MaxInflight: 20, Rate: 10},
		{Name: "fsg-2", Protocol: "sorapro", Wire: "sorapro", URL: "https://fsg.example", Key: "sk-two", MaxInflight: 5, Rate: 2.5},
		{Name: "gw", Protocol: "videocreate", Wire: "videocreate", URL: "https://gw.example", Key: "sk-gw", MaxInflight: 20, Rate: 10, Disabled: true},
		{Name: "demo", Protocol: "demo", Wire: core.ProtocolDemo, MaxInflight: 20, Rate: 10},
	}
	if !slices.Equal(c.Providers, want) {
		t.Errorf("providers\n%+v\nwant\n%+v", c.Providers, want)
	}
	// The PROVIDER* variables make one provider named after its protocol.
	c, err = LoadConfig(env("PROVIDER=videocreate", "PROVIDER_URL=https://gw.example", "PROVIDER_API_KEY=k",
		"PROVIDER_MAX_INFLIGHT=7", "PROVIDER_RATE=0.5"), read)
	if err != nil {
		t.Fatal(err)
	}
	if one := (ProviderSpec{Name: "videocreate", Protocol: "videocreate", Wire: "videocreate", URL: "https://gw.example", Key: "k",
		MaxInflight: 7, Rate: 0.5}); !slices.Equal(c.Providers, []ProviderSpec{one}) {
		t.Errorf("one provider %+v", c.Providers)
	}
	c, err = LoadConfig(env(), read)
	if err != nil || len(c.Providers) != 1 || c.Providers[0].Name != "demo" || c.Providers[0].Wire != core.ProtocolSoraPro || c.Providers[0].Rate != 10 {
		t.Errorf("the default demo: %+v, %v", c.Providers, err)
	}
	for _, bad := range []string{"0", "-1", "fast", "NaN", "+Inf"} {
		if _, err := LoadConfig(env("PROVIDER_RATE="+bad), read); err == nil || !strings.Contains(err.Error(), "PROVIDER_RATE") {
			t.Errorf("PROVIDER_RATE=%s: %v", bad, err)
		}
	}
}
