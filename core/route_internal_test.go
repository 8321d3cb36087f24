package core

import (
	"strings"
	"testing"
)

func TestPlanRoutesTranslates(t *testing.T) {
	provs := []ProviderInfo{{Name: "fsg", Protocol: ProtocolSoraPro}, {Name: "fsg-2", Protocol: ProtocolSoraPro},
		{Name: "gw", Protocol: ProtocolVideoCreate}, {Name: "demo", Protocol: ProtocolDemo}}
	cat := DefaultCatalog()
	pro, _ := cat.Model("sora-2-pro-text-to-video")
	pro.Routes = []Route{{Provider: "fsg-2"}, {Provider: "gw", Model: "veo-3.1-pro"}}
	vc, _ := cat.Model("sora-2")
	vc.MaxImages, vc.PrivateOption = 0, false // as the sorapro model it falls back to
	vc.Routes = []Route{{Provider: "gw"}, {Provider: "fsg", Model: "sora-2-text-to-video"}}
	plans, err := planRoutes(cat, provs)
	if err != nil {
		t.Fatal(err)
	}
	names := func(id string) string {
		var out []string
		for _, p := range plans[id] {
			out = append(out, p.provider+"/"+p.wire.ID)
		}
		return strings.Join(out, ",")
	}
	// Explicit routes in their order; without routes, every provider of the
	// protocol (the demo speaks both) in configuration order.
	for id, want := range map[string]string{
		"sora-2-pro-text-to-video": "fsg-2/sora-2-pro-text-to-video,gw/veo-3.1-pro",
		"sora-2":                   "gw/sora-2,fsg/sora-2-text-to-video",
		"sora-2-text-to-video":     "fsg/sora-2-text-to-video,fsg-2/sora-2-text-to-video,demo/sora-2-text-to-video",
		"sora-2-pro":               "gw/sora-2-pro,demo/sora-2-pro",
	} {
		if got := names(id); got != want {
			t.Errorf("%s routes %s, want %s", id, got, want)
		}
	}
	// sorapro pro → a gateway model the catalog does not describe.
	gw := plans["sora-2-pro-text-to-video"][1]
	r := gw.request(&Request{Model: pro.ID, Prompt: "p", Duration: 15, Quality: "high", Watermark: true})
	if r.Model != "veo-3.1-pro" || r.Quality != "large" || r.Duration != 15 || gw.wire.Protocol != ProtocolVideoCreate || !r.Watermark {
		t.Errorf("to the gateway: %+v (wire %+v)", r, gw.wire)
	}
	if gw.wire.DefaultQuality() != "small" {
		t.Errorf("wire qualities %v", gw.wire.Qualities)
	}
	// videocreate small → a sorapro model with no quality choice.
	fsg := plans["sora-2"][1]
	r = fsg.request(&Request{Model: "sora-2", Prompt: "p", Duration: 10, Quality: "small", Private: true})
	if r.Model != "sora-2-text-to-video" || r.Quality != "" || r.Duration != 10 || r.Private || fsg.wire.Protocol != ProtocolSoraPro {
		t.Errorf("to sorapro: %+v", r)
	}
}

func TestPlanRoutesRefusesWhatCannotBeSaid(t *testing.T) {
	provs := []ProviderInfo{{Name: "fsg", Protocol: ProtocolSoraPro}, {Name: "gw", Protocol: ProtocolVideoCreate}}
	for _, tc := range []struct {
		model string
		route Route
		want  string
		mod   func(m *Model)
	}{
		{"sora-2-pro-storyboard", Route{Provider: "gw", Model: "sora-2-pro"}, "makes no storyboards", nil},
		{"sora-2-pro-text-to-video", Route{Provider: "gw", Model: "sora-2"}, `quality "high" has no equivalent there (it has small)`, nil},
		{"sora-2-pro", Route{Provider: "fsg", Model: "sora-2-pro-text-to-video"}, "cannot make 25 s videos", nil},
		{"sora-2", Route{Provider: "fsg", Model: "sora-2-image-to-video"}, "at most 1 image(s)", nil},
		{"sora-2", Route{Provider: "fsg", Model: "some-new-model"}, "cannot make 20 s videos (it makes 10, 15 or 25 s)", func(m *Model) {
			m.Durations, m.Prices = []int{10, 20}, map[string]int{"10:small": 1, "20:small": 2}
		}},
		{"sora-2", Route{Provider: "fsg", Model: "some-new-model"}, "at most 1 image(s)", nil},
		{"sora-2-pro-text-to-video", Route{Provider: "fsg", Model: "sora-2-pro-storyboard"}, "makes storyboards only", nil},
		{"sora-2-text-to-video", Route{Provider: "gw"}, "name the model there", nil},
		{"sora-2-text-to-video", Route{Provider: "typo"}, "no provider of that name", nil},
	} {
		cat := DefaultCatalog()
		m, _ := cat.Model(tc.model)
		if tc.mod != nil {
			tc.mod(m)
		}
		m.Routes = []Route{{Provider: "fsg"}, tc.route}
		if m.Protocol == ProtocolVideoCreate {
			m.Routes[0].Provider = "gw"
		}
		err := CheckRoutes(cat, provs)
		if err == nil || !strings.Contains(err.Error(), tc.want) ||
			!strings.Contains(err.Error(), `model "`+tc.model+`" route 2 (provider "`+tc.route.Provider+`"`) {
			t.Errorf("%s via %+v: %v, want it to name model and route and say %q", tc.model, tc.route, err, tc.want)
		}
	}
}
