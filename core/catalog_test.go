package core

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func catLoad(t *testing.T, name string, base *Catalog) (*Catalog, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return LoadCatalog(f, base)
}

func catIDs(ms []*Model) []string {
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	return ids
}

func TestDefaultCatalogValidates(t *testing.T) {
	c := DefaultCatalog()
	if err := c.Validate(); err != nil {
		t.Fatalf("DefaultCatalog().Validate() = %v", err)
	}
	// The default models of each protocol, all enabled.
	if got, want := catIDs(c.Enabled(ProtocolSoraPro)), []string{
		"sora-2-text-to-video", "sora-2-image-to-video", "sora-2-pro-text-to-video",
		"sora-2-pro-image-to-video", "sora-2-pro-storyboard",
	}; !slices.Equal(got, want) {
		t.Errorf("sorapro models = %v, want %v", got, want)
	}
	if got, want := catIDs(c.Enabled(ProtocolVideoCreate)), []string{"sora-2", "sora-2-pro"}; !slices.Equal(got, want) {
		t.Errorf("videocreate models = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		id         string
		durations  []int
		def        int
		qualities  []string
		storyboard bool
	}{
		{"sora-2-text-to-video", []int{10, 15}, 10, nil, false},
		{"sora-2-image-to-video", []int{10, 15}, 10, nil, false},
		{"sora-2-pro-text-to-video", []int{10, 15}, 10, []string{"standard", "high"}, false},
		{"sora-2-pro-image-to-video", []int{10, 15}, 10, []string{"standard", "high"}, false},
		{"sora-2-pro-storyboard", []int{10, 15, 25}, 10, nil, true},
		{"sora-2", []int{10, 15}, 10, []string{"small"}, false},
		{"sora-2-pro", []int{15, 25}, 15, []string{"small", "large"}, false},
	} {
		m, ok := c.Model(tc.id)
		if !ok {
			t.Errorf("no model %s", tc.id)
			continue
		}
		if !slices.Equal(m.Durations, tc.durations) || m.DefaultDuration != tc.def ||
			!slices.Equal(m.Qualities, tc.qualities) || m.Storyboard != tc.storyboard {
			t.Errorf("%s: durations %v default %d qualities %v storyboard %v; want %v %d %v %v",
				tc.id, m.Durations, m.DefaultDuration, m.Qualities, m.Storyboard, tc.durations, tc.def, tc.qualities, tc.storyboard)
		}
		if m.Deadline() <= m.Typical() || m.Typical() <= 0 {
			t.Errorf("%s: typical %v deadline %v", tc.id, m.Typical(), m.Deadline())
		}
		if m.PromptLimit() != DefaultMaxPrompt {
			t.Errorf("%s: prompt limit %d, want %d", tc.id, m.PromptLimit(), DefaultMaxPrompt)
		}
	}
	if m, _ := c.Model("sora-2-pro-storyboard"); m.MaxShots != 10 || m.MaxImages != 0 {
		t.Errorf("storyboard max_shots %d max_images %d, want 10 and 0", m.MaxShots, m.MaxImages)
	}
	// Every call returns a fresh catalog: changing one leaves the next intact.
	m, _ := c.Model("sora-2")
	m.Disabled = true
	m.Prices["10:small"] = 1
	m2, _ := DefaultCatalog().Model("sora-2")
	if m2.Disabled || m2.Prices["10:small"] != 100 {
		t.Error("DefaultCatalog shares state between calls")
	}
}

func TestLoadCatalogExtends(t *testing.T) {
	base := DefaultCatalog()
	c, err := catLoad(t, "catalog_extend.json", base)
	if err != nil {
		t.Fatalf("LoadCatalog: %v", err)
	}
	if len(c.Models) != len(base.Models)+1 {
		t.Errorf("%d models, want %d", len(c.Models), len(base.Models)+1)
	}
	veo, ok := c.Model("veo-3.1")
	if !ok || veo.Protocol != ProtocolVideoCreate || veo.Title != "Veo 3.1" {
		t.Fatalf("veo-3.1 = %+v, %v", veo, ok)
	}
	sora2, _ := c.Model("sora-2")
	if !sora2.Disabled {
		t.Error("sora-2 is not disabled")
	}
	if got, want := catIDs(c.Enabled(ProtocolVideoCreate)), []string{"sora-2-pro", "veo-3.1"}; !slices.Equal(got, want) {
		t.Errorf("videocreate enabled = %v, want %v", got, want)
	}
	if got := catIDs(c.Enabled(ProtocolSoraPro)); len(got) != 5 {
		t.Errorf("sorapro enabled = %v, want the 5 defaults", got)
	}
	// The base catalog is not changed.
	if m, _ := base.Model("sora-2"); m.Disabled {
		t.Error("LoadCatalog changed the base catalog")
	}
	if _, ok := base.Model("veo-3.1"); ok {
		t.Error("LoadCatalog added to the base catalog")
	}

	// The loaded catalog drives Normalize.
	r := Request{Model: "veo-3.1", Prompt: "a cat", Images: []Image{rqImg(rqPNG()), rqImg(rqJPEG())}}
	q, err := c.Normalize(ProtocolVideoCreate, &r)
	if err != nil || q.Price != 300 || r.Duration != 8 {
		t.Errorf("veo-3.1: price %d duration %d err %v; want 300, 8, nil", q.Price, r.Duration, err)
	}
	r = Request{Prompt: "a cat"}
	if q, err := c.Normalize(ProtocolVideoCreate, &r); err != nil || q.Model.ID != "veo-3.1" {
		t.Errorf("picked %v, %v; want veo-3.1 (sora-2 is disabled)", q.Model, err)
	}
	r = Request{Model: "sora-2", Prompt: "a cat"}
	_, err = c.Normalize(ProtocolVideoCreate, &r)
	if ErrorCode(err) != EUNAVAILABLE || !strings.Contains(ErrorMessage(err), "Available models: sora-2-pro, veo-3.1.") {
		t.Errorf("disabled sora-2: %v", err)
	}
}

func TestLoadCatalogReplace(t *testing.T) {
	c, err := catLoad(t, "catalog_replace.json", DefaultCatalog())
	if err != nil {
		t.Fatalf("LoadCatalog: %v", err)
	}
	if got := catIDs(c.Models); !slices.Equal(got, []string{"veo-3.1"}) {
		t.Fatalf("models = %v, want only veo-3.1", got)
	}
	if m, _ := c.Model("veo-3.1"); m.PromptLimit() != 500 {
		t.Errorf("prompt limit %d, want 500", m.PromptLimit())
	}
	r := Request{Prompt: "a cat"}
	if _, err := c.Normalize(ProtocolSoraPro, &r); ErrorCode(err) != EUNAVAILABLE {
		t.Errorf("sorapro after replace: %v, want EUNAVAILABLE", err)
	}
	r = Request{Model: "sora-2", Prompt: "a cat"}
	if _, err := c.Normalize(ProtocolVideoCreate, &r); ErrorCode(err) != EUNAVAILABLE || !strings.Contains(ErrorMessage(err), "Available models: veo-3.1.") {
		t.Errorf("sora-2 after replace: %v", err)
	}
	// Without a base, extending is the same as replacing.
	c, err = catLoad(t, "catalog_extend.json", nil)
	if err != nil {
		t.Fatalf("LoadCatalog(nil base): %v", err)
	}
	if got := catIDs(c.Models); !slices.Equal(got, []string{"veo-3.1", "sora-2"}) {
		t.Errorf("models = %v", got)
	}
}

func TestLoadCatalogRejects(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string // fragments of the error
	}{
		{"catalog_unknown_field.json", []string{"unknown field", "durration"}},
		{"catalog_unknown_top.json", []string{"unknown field", "extend"}},
		{"catalog_missing_price.json", []string{`"veo-missing-price"`, `"16"`}},
		{"catalog_missing_quality_price.json", []string{`"veo-missing-quality-price"`, `"8:large"`}},
		{"catalog_bad_default.json", []string{`"veo-bad-default"`, "default_duration 10"}},
		{"catalog_bad_protocol.json", []string{`"veo-bad-protocol"`, `"veo"`}},
		{"catalog_bad_deadline.json", []string{`"veo-bad-deadline"`, "deadline_seconds"}},
		{"catalog_bad_deadline_less.json", []string{`"veo-short-deadline"`, "deadline_seconds"}},
		{"catalog_duplicate.json", []string{`"veo-dup"`, "duplicate"}},
		{"catalog_storyboard_no_shots.json", []string{`"veo-storyboard"`, "max_shots"}},
		{"catalog_bad_base_override.json", []string{`"sora-2-pro"`, `"25:large"`}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			base := DefaultCatalog()
			c, err := catLoad(t, tc.file, base)
			if err == nil {
				t.Fatalf("accepted: %v", catIDs(c.Models))
			}
			for _, frag := range tc.want {
				if !strings.Contains(err.Error(), frag) {
					t.Errorf("error %q does not contain %q", err, frag)
				}
			}
			// The duplicate is rejected in replace mode too.
			if tc.file == "catalog_duplicate.json" {
				if _, err := catLoad(t, tc.file, nil); err == nil || !strings.Contains(err.Error(), `"veo-dup"`) {
					t.Errorf("without base: %v", err)
				}
			}
		})
	}
	for _, tc := range []struct{ name, doc, want string }{
		{"syntax", `{"models": [`, "catalog"},
		{"empty", ``, "catalog"},
		{"null model", `{"models": [null]}`, "models[0] is null"},
		{"wrong type", `{"models": {"id": "x"}}`, "catalog"},
		{"empty id", `{"models": [{"id": "", "protocol": "videocreate", "durations": [8], "default_duration": 8, "prices": {"8": 1}, "typical_seconds": 1, "deadline_seconds": 2}]}`, "id is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadCatalog(strings.NewReader(tc.doc), DefaultCatalog())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestCatalogValidateRejects(t *testing.T) {
	good := func() *Model {
		return &Model{ID: "m-test", Protocol: ProtocolVideoCreate, Durations: []int{8, 16}, DefaultDuration: 8,
			Qualities:      []string{"small", "large"},
			Prices:         map[string]int{"8:small": 1, "16:small": 2, "8:large": 3, "16:large": 4},
			TypicalSeconds: 60, DeadlineSeconds: 600}
	}
	if err := (&Catalog{Models: []*Model{good()}}).Validate(); err != nil {
		t.Fatalf("good model rejected: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(m *Model)
		want string
	}{
		{"missing price", func(m *Model) { delete(m.Prices, "16:large") }, `"16:large"`},
		{"negative price", func(m *Model) { m.Prices["8:small"] = -1 }, "negative"},
		{"default not allowed", func(m *Model) { m.DefaultDuration = 10 }, "default_duration"},
		{"no durations", func(m *Model) { m.Durations = nil }, "durations"},
		{"unsorted durations", func(m *Model) { m.Durations = []int{16, 8} }, "ascending"},
		{"zero duration", func(m *Model) { m.Durations = []int{0, 8}; m.Prices["0:small"], m.Prices["0:large"] = 1, 1 }, "not positive"},
		{"unknown protocol", func(m *Model) { m.Protocol = "veo" }, "protocol"},
		{"deadline equals typical", func(m *Model) { m.DeadlineSeconds = m.TypicalSeconds }, "deadline_seconds"},
		{"deadline below typical", func(m *Model) { m.DeadlineSeconds = 10 }, "deadline_seconds"},
		{"zero typical", func(m *Model) { m.TypicalSeconds = 0 }, "typical_seconds"},
		{"storyboard without max_shots", func(m *Model) { m.Storyboard = true }, "max_shots"},
		{"storyboard with images", func(m *Model) { m.Storyboard, m.MaxShots, m.MaxImages = true, 10, 1 }, "max_shots"},
		{"min over max images", func(m *Model) { m.MinImages = 2; m.MaxImages = 1 }, "min_images"},
		{"negative max_prompt", func(m *Model) { m.MaxPrompt = -1 }, "max_prompt"},
		{"empty quality", func(m *Model) { m.Qualities = []string{""} }, "empty name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			tc.edit(m)
			c := DefaultCatalog()
			c.Models = append(c.Models, m)
			err := c.Validate()
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), `"m-test"`) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q should name \"m-test\" and contain %q", err, tc.want)
			}
		})
	}
	t.Run("duplicate id", func(t *testing.T) {
		c := DefaultCatalog()
		dup := *c.Models[0]
		c.Models = append(c.Models, &dup)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), `"sora-2-text-to-video"`) || !strings.Contains(err.Error(), "duplicate") {
			t.Errorf("err = %v", err)
		}
	})
}
