package core

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Protocols a model can be served on (docs/PROTOCOLS.md).
const (
	ProtocolSoraPro     = "sorapro"
	ProtocolVideoCreate = "videocreate"
	// ProtocolDemo is the built-in emulator, which speaks both protocols.
	ProtocolDemo = "demo"
)

// DefaultMaxPrompt is the prompt length limit of a model that sets none.
const DefaultMaxPrompt = 2000

// Model is one entry of the catalog: what a provider model accepts and costs.
// Models are data: nothing in the code assumes that a given id exists.
type Model struct {
	ID       string `json:"id"`
	Protocol string `json:"protocol"`
	Title    string `json:"title,omitempty"`
	// Titles are the title in other languages, by language code ("it");
	// the id is never translated.
	Titles map[string]string `json:"titles,omitempty"`
	// Disabled models stay in the catalog (for old jobs) but take no new requests.
	Disabled bool `json:"disabled,omitempty"`
	// Pro marks the expensive tier users ask for with --pro.
	Pro bool `json:"pro,omitempty"`
	// Storyboard models take shots instead of a prompt.
	Storyboard bool `json:"storyboard,omitempty"`
	MinImages  int  `json:"min_images,omitempty"`
	MaxImages  int  `json:"max_images,omitempty"`
	MaxShots   int  `json:"max_shots,omitempty"`
	MaxPrompt  int  `json:"max_prompt,omitempty"`
	// Durations in seconds, ascending; DefaultDuration is one of them.
	Durations       []int `json:"durations"`
	DefaultDuration int   `json:"default_duration"`
	// Qualities as the wire names them ("standard", "high", "small", "large");
	// empty when the model has a single quality. The first is the default.
	Qualities []string `json:"qualities,omitempty"`
	// WatermarkOption and PrivateOption say whether the model honours them.
	WatermarkOption bool `json:"watermark_option,omitempty"`
	PrivateOption   bool `json:"private_option,omitempty"`
	// Prices in credits keyed by "<seconds>" or "<seconds>:<quality>".
	Prices map[string]int `json:"prices"`
	// TypicalSeconds is how long a job usually takes; DeadlineSeconds after
	// submission the job is failed and refunded.
	TypicalSeconds  int `json:"typical_seconds"`
	DeadlineSeconds int `json:"deadline_seconds"`
	// Routes lists the providers that make this model, most preferred
	// first; empty means every provider of the model's protocol, in the
	// order they are configured.
	Routes []Route `json:"routes,omitempty"`
}

// TitleIn is the model's title in lang, else its Title.
func (m *Model) TitleIn(lang string) string {
	if t := m.Titles[lang]; t != "" {
		return t
	}
	return m.Title
}

// Typical is the model's usual generation time.
func (m *Model) Typical() time.Duration { return time.Duration(m.TypicalSeconds) * time.Second }

// Deadline is how long a submitted job may run before it fails.
func (m *Model) Deadline() time.Duration { return time.Duration(m.DeadlineSeconds) * time.Second }

// PromptLimit is the longest prompt the model takes, in characters.
func (m *Model) PromptLimit() int {
	if m.MaxPrompt > 0 {
		return m.MaxPrompt
	}
	return DefaultMaxPrompt
}

// DefaultQuality is the quality used when the request names none.
func (m *Model) DefaultQuality() string {
	if len(m.Qualities) == 0 {
		return ""
	}
	return m.Qualities[0]
}

// Price returns the price of a job of the given duration and quality, and
// whether the catalog has one.
func (m *Model) Price(seconds int, quality string) (int, bool) {
	p, ok := m.Prices[priceKey(seconds, quality)]
	return p, ok
}

func priceKey(seconds int, quality string) string {
	if quality == "" {
		return strconv.Itoa(seconds)
	}
	return strconv.Itoa(seconds) + ":" + quality
}

// AllowsDuration reports whether the model makes videos of that length.
func (m *Model) AllowsDuration(s int) bool { return slices.Contains(m.Durations, s) }

// nearestDuration returns the allowed duration nearest to s; ties go down.
func (m *Model) nearestDuration(s int) int {
	best := m.Durations[0]
	for _, d := range m.Durations {
		if abs(d-s) < abs(best-s) {
			best = d
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Catalog is the set of models the bot knows.
type Catalog struct {
	Models []*Model `json:"models"`
}

// Model returns the model with that id, enabled or not.
func (c *Catalog) Model(id string) (*Model, bool) {
	for _, m := range c.Models {
		if m.ID == id {
			return m, true
		}
	}
	return nil, false
}

// Enabled returns the enabled models of a protocol ("" for every
// protocol), in catalog order.
func (c *Catalog) Enabled(protocol string) []*Model {
	var out []*Model
	for _, m := range c.Models {
		if !m.Disabled && (protocol == "" || m.Protocol == protocol) {
			out = append(out, m)
		}
	}
	return out
}

// Want describes what a user asked for when they did not name a model.
type Want struct {
	Storyboard bool
	Pro        bool
	Images     int
	Quality    string // "" or an alias such as "hd"
}

// Pick chooses the model for a request that names none: the first enabled
// model of the protocol that fits, preferring the standard tier unless Pro
// is asked (or the asked quality exists only in the pro tier), and within
// a tier a model that takes every image over one that takes fewer (the
// first ones are then used).
func (c *Catalog) Pick(protocol string, w Want) (*Model, error) {
	var all, fewer []*Model
	for _, m := range c.Enabled(protocol) {
		if m.Storyboard != w.Storyboard {
			continue
		}
		if w.Quality != "" && resolveQuality(m, w.Quality) == "" {
			continue
		}
		switch {
		case w.Storyboard, w.Images >= m.MinImages && w.Images <= m.MaxImages:
			all = append(all, m)
		case w.Images > m.MaxImages && m.MaxImages > 0:
			fewer = append(fewer, m)
		}
	}
	fits := append(all, fewer...)
	for _, m := range fits {
		if m.Pro == w.Pro {
			return m, nil
		}
	}
	if len(fits) > 0 && !w.Pro {
		return fits[0], nil
	}
	switch {
	case w.Storyboard:
		return nil, msgNoStoryboards.Err(EUNAVAILABLE, nil)
	case w.Images > 0:
		return nil, msgNoImageModel.Err(EUNAVAILABLE, Args{"Count": w.Images})
	default:
		return nil, msgNoTextModel.Err(EUNAVAILABLE, nil)
	}
}

// resolveQuality maps a requested quality (a wire name or an alias) to one of
// the model's qualities, or "" when the model has no such quality.
func resolveQuality(m *Model, q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	if slices.Contains(m.Qualities, q) {
		return q
	}
	tier, ok := qualityTiers[q]
	if !ok || len(m.Qualities) == 0 {
		return ""
	}
	if len(m.Qualities) == 1 {
		// A single quality answers only the aliases of its own tier:
		// sora-2's "small" is 720p, but it is not "hd".
		if qualityTiers[m.Qualities[0]] == tier {
			return m.Qualities[0]
		}
		return ""
	}
	if tier == "high" {
		return m.Qualities[len(m.Qualities)-1]
	}
	return m.Qualities[0]
}

// qualityTiers maps the quality names and aliases users type to a tier.
var qualityTiers = map[string]string{
	"hd": "high", "high": "high", "large": "high", "1080p": "high",
	"sd": "low", "standard": "low", "small": "low", "720p": "low",
}

// DefaultCatalog returns the built-in catalog: the seed documents' models
// with the seed provider's published prices.
func DefaultCatalog() *Catalog {
	std := func(sec10, sec15 int) map[string]int {
		return map[string]int{"10": sec10, "15": sec15}
	}
	pro := map[string]int{
		"10:standard": 375, "15:standard": 675,
		"10:high": 825, "15:high": 1575,
	}
	titles := func(it, zh, es, pt, ru string) map[string]string {
		return map[string]string{"it": it, "zh": zh, "es": es, "pt": pt, "ru": ru}
	}
	return &Catalog{Models: []*Model{
		{ID: "sora-2-text-to-video", Protocol: ProtocolSoraPro, Title: "Sora 2 text to video",
			Titles:    titles("Sora 2 da testo a video", "Sora 2 文字生成视频", "Sora 2 de texto a vídeo", "Sora 2 de texto para vídeo", "Sora 2: видео из текста"),
			Durations: []int{10, 15}, DefaultDuration: 10, WatermarkOption: true,
			Prices: std(100, 150), TypicalSeconds: 180, DeadlineSeconds: 3600},
		{ID: "sora-2-image-to-video", Protocol: ProtocolSoraPro, Title: "Sora 2 image to video",
			Titles:    titles("Sora 2 da immagine a video", "Sora 2 图片生成视频", "Sora 2 de imagen a vídeo", "Sora 2 de imagem para vídeo", "Sora 2: видео из изображения"),
			MinImages: 1, MaxImages: 1, Durations: []int{10, 15}, DefaultDuration: 10, WatermarkOption: true,
			Prices: std(100, 150), TypicalSeconds: 180, DeadlineSeconds: 3600},
		{ID: "sora-2-pro-text-to-video", Protocol: ProtocolSoraPro, Title: "Sora 2 Pro text to video", Pro: true,
			Titles:    titles("Sora 2 Pro da testo a video", "Sora 2 Pro 文字生成视频", "Sora 2 Pro de texto a vídeo", "Sora 2 Pro de texto para vídeo", "Sora 2 Pro: видео из текста"),
			Durations: []int{10, 15}, DefaultDuration: 10, Qualities: []string{"standard", "high"}, WatermarkOption: true,
			Prices: pro, TypicalSeconds: 420, DeadlineSeconds: 7200},
		{ID: "sora-2-pro-image-to-video", Protocol: ProtocolSoraPro, Title: "Sora 2 Pro image to video", Pro: true,
			Titles:    titles("Sora 2 Pro da immagine a video", "Sora 2 Pro 图片生成视频", "Sora 2 Pro de imagen a vídeo", "Sora 2 Pro de imagem para vídeo", "Sora 2 Pro: видео из изображения"),
			MinImages: 1, MaxImages: 1, Durations: []int{10, 15}, DefaultDuration: 10, Qualities: []string{"standard", "high"},
			WatermarkOption: true, Prices: pro, TypicalSeconds: 420, DeadlineSeconds: 7200},
		{ID: "sora-2-pro-storyboard", Protocol: ProtocolSoraPro, Title: "Sora 2 Pro storyboard", Pro: true,
			Titles:     titles("Sora 2 Pro storyboard", "Sora 2 Pro 故事板", "Sora 2 Pro storyboard", "Sora 2 Pro storyboard", "Sora 2 Pro: раскадровка"),
			Storyboard: true, MaxShots: 10, Durations: []int{10, 15, 25}, DefaultDuration: 10,
			Prices: map[string]int{"10": 375, "15": 675, "25": 875}, TypicalSeconds: 600, DeadlineSeconds: 7200},
		{ID: "sora-2", Protocol: ProtocolVideoCreate, Title: "Sora 2",
			MaxImages: 4, Durations: []int{10, 15}, DefaultDuration: 10, Qualities: []string{"small"},
			WatermarkOption: true, PrivateOption: true,
			Prices: map[string]int{"10:small": 100, "15:small": 150}, TypicalSeconds: 180, DeadlineSeconds: 3600},
		{ID: "sora-2-pro", Protocol: ProtocolVideoCreate, Title: "Sora 2 Pro", Pro: true,
			MaxImages: 4, Durations: []int{15, 25}, DefaultDuration: 15, Qualities: []string{"small", "large"},
			WatermarkOption: true, PrivateOption: true,
			Prices:         map[string]int{"15:small": 675, "25:small": 875, "15:large": 1575, "25:large": 2625},
			TypicalSeconds: 420, DeadlineSeconds: 7200},
	}}
}

// catalogFile is the SORABOT_CATALOG document.
type catalogFile struct {
	// Replace drops the built-in models instead of extending them.
	Replace bool     `json:"replace"`
	Models  []*Model `json:"models"`
}

// LoadCatalog reads a catalog file and merges it into base (entries with an
// existing id replace that model, others are added), then validates the result.
func LoadCatalog(r io.Reader, base *Catalog) (*Catalog, error) {
	var f catalogFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	out := &Catalog{}
	if !f.Replace && base != nil {
		for _, m := range base.Models {
			cp := *m
			out.Models = append(out.Models, &cp)
		}
	}
	inFile := map[string]int{}
	for i, m := range f.Models {
		if m == nil {
			return nil, fmt.Errorf("catalog: models[%d] is null", i)
		}
		// Two entries with one id would silently collapse into the last.
		if j, dup := inFile[m.ID]; dup {
			return nil, fmt.Errorf("catalog: models[%d] %q: duplicate id (also models[%d])", i, m.ID, j)
		}
		inFile[m.ID] = i
		replaced := false
		for j, old := range out.Models {
			if old.ID == m.ID {
				out.Models[j] = m
				replaced = true
			}
		}
		if !replaced {
			out.Models = append(out.Models, m)
		}
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// Validate checks every model and names the first offending entry.
func (c *Catalog) Validate() error {
	seen := map[string]bool{}
	for i, m := range c.Models {
		name := fmt.Sprintf("models[%d] %q", i, m.ID)
		if m.ID == "" {
			return fmt.Errorf("catalog: %s: id is empty", name)
		}
		if seen[m.ID] {
			return fmt.Errorf("catalog: %s: duplicate id", name)
		}
		seen[m.ID] = true
		if err := m.validate(); err != nil {
			return fmt.Errorf("catalog: %s: %s", name, err)
		}
	}
	return nil
}

func (m *Model) validate() error {
	if m.Protocol != ProtocolSoraPro && m.Protocol != ProtocolVideoCreate {
		return fmt.Errorf("protocol %q is not %q or %q", m.Protocol, ProtocolSoraPro, ProtocolVideoCreate)
	}
	if len(m.Durations) == 0 {
		return fmt.Errorf("durations is empty")
	}
	if !sort.IntsAreSorted(m.Durations) {
		return fmt.Errorf("durations %v are not ascending", m.Durations)
	}
	for _, d := range m.Durations {
		if d <= 0 {
			return fmt.Errorf("duration %d is not positive", d)
		}
	}
	if !m.AllowsDuration(m.DefaultDuration) {
		return fmt.Errorf("default_duration %d is not one of durations %v", m.DefaultDuration, m.Durations)
	}
	if m.MinImages < 0 || m.MaxImages < m.MinImages {
		return fmt.Errorf("min_images %d / max_images %d are inconsistent", m.MinImages, m.MaxImages)
	}
	if m.Storyboard && (m.MaxShots <= 0 || m.MaxImages > 0) {
		return fmt.Errorf("a storyboard model needs max_shots > 0 and takes no images")
	}
	if m.MaxPrompt < 0 {
		return fmt.Errorf("max_prompt is negative")
	}
	for _, q := range m.Qualities {
		if q == "" {
			return fmt.Errorf("qualities has an empty name")
		}
	}
	quals := m.Qualities
	if len(quals) == 0 {
		quals = []string{""}
	}
	for _, d := range m.Durations {
		for _, q := range quals {
			p, ok := m.Price(d, q)
			if !ok {
				return fmt.Errorf("prices has no entry %q", priceKey(d, q))
			}
			if p < 0 {
				return fmt.Errorf("price %q is negative", priceKey(d, q))
			}
		}
	}
	if m.TypicalSeconds <= 0 || m.DeadlineSeconds <= m.TypicalSeconds {
		return fmt.Errorf("need 0 < typical_seconds (%d) < deadline_seconds (%d)", m.TypicalSeconds, m.DeadlineSeconds)
	}
	seen := map[string]bool{}
	for i, r := range m.Routes {
		if r.Provider == "" {
			return fmt.Errorf("routes[%d] names no provider", i)
		}
		if seen[r.Provider] {
			return fmt.Errorf("routes[%d]: provider %q is listed twice", i, r.Provider)
		}
		seen[r.Provider] = true
	}
	return nil
}
