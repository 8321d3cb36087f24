package core

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Tiny images, valid as far as content sniffing goes.
func rqPNG() []byte  { return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01") }
func rqJPEG() []byte { return []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00} }
func rqWebP() []byte { return []byte("RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00") }
func rqGIF() []byte  { return []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00") }

// rqSized returns a PNG-sniffing blob of exactly n bytes.
func rqSized(n int) []byte {
	b := make([]byte, n)
	copy(b, rqPNG())
	return b
}

func rqImg(data []byte) Image { return Image{Data: data} }

func rqShots(durs ...int) []Shot {
	out := make([]Shot, len(durs))
	for i, d := range durs {
		out[i] = Shot{Scene: "scene " + strconv.Itoa(i+1), Duration: d}
	}
	return out
}

// rqCatalog returns a default catalog after applying edit to it.
func rqCatalog(edit func(c *Catalog)) func() *Catalog {
	return func() *Catalog {
		c := DefaultCatalog()
		edit(c)
		if err := c.Validate(); err != nil {
			panic(err)
		}
		return c
	}
}

func rqModel(c *Catalog, id string) *Model {
	m, ok := c.Model(id)
	if !ok {
		panic("no model " + id)
	}
	return m
}

// rqCopy deep-copies the slices of a request so that a table entry is never
// changed by Normalize.
func rqCopy(r Request) Request {
	r.Images = slices.Clone(r.Images)
	r.Shots = slices.Clone(r.Shots)
	return r
}

const (
	sp = ProtocolSoraPro
	vc = ProtocolVideoCreate
)

// normCase is one request through Normalize. With code set it must be
// rejected with that code and a message holding every msg fragment;
// otherwise it must be accepted as described.
type normCase struct {
	name  string
	cat   func() *Catalog // nil: DefaultCatalog
	proto string
	req   Request

	// Accepted form.
	model       string
	price       int
	duration    int
	quality     string   // the normalized quality ("" for single-quality sorapro models)
	orientation string   // "" means landscape
	notes       []string // one fragment per expected note, in order; nil means no notes
	check       func(t *testing.T, r *Request, q Quote)

	// Rejected form.
	code string
	msg  []string
}

func rqRun(t *testing.T, cases []normCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultCatalog()
			if tc.cat != nil {
				c = tc.cat()
			}
			r := rqCopy(tc.req)
			q, err := c.Normalize(tc.proto, &r)
			if tc.code != "" {
				if err == nil {
					t.Fatalf("accepted (model %s, price %d, notes %q); want %s error", r.Model, q.Price, q.Notes, tc.code)
				}
				if got := ErrorCode(err); got != tc.code {
					t.Errorf("ErrorCode = %q, want %q (err: %v)", got, tc.code, err)
				}
				msg := ErrorMessage(err)
				if strings.TrimSpace(msg) == "" {
					t.Errorf("ErrorMessage is empty (err: %v)", err)
				}
				for _, frag := range tc.msg {
					if !strings.Contains(msg, frag) {
						t.Errorf("ErrorMessage %q does not contain %q", msg, frag)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if q.Model == nil {
				t.Fatal("Quote.Model is nil")
			}
			if q.Model.ID != tc.model || r.Model != tc.model {
				t.Errorf("model: quote %q, request %q; want %q", q.Model.ID, r.Model, tc.model)
			}
			if q.Price != tc.price {
				t.Errorf("Price = %d, want %d", q.Price, tc.price)
			}
			if r.Duration != tc.duration {
				t.Errorf("Duration = %d, want %d", r.Duration, tc.duration)
			}
			if !q.Model.AllowsDuration(r.Duration) {
				t.Errorf("Duration %d is not one the model allows (%v)", r.Duration, q.Model.Durations)
			}
			if p, ok := q.Model.Price(r.Duration, r.Quality); !ok || p != q.Price {
				t.Errorf("Price %d is not the catalog price %d (ok=%v) of what is made (%d s, %q)", q.Price, p, ok, r.Duration, r.Quality)
			}
			if r.Quality != tc.quality {
				t.Errorf("Quality = %q, want %q", r.Quality, tc.quality)
			}
			wantO := tc.orientation
			if wantO == "" {
				wantO = Landscape
			}
			if r.Orientation != wantO {
				t.Errorf("Orientation = %q, want %q", r.Orientation, wantO)
			}
			if r.Storyboard != q.Model.Storyboard {
				t.Errorf("Storyboard = %v, model says %v", r.Storyboard, q.Model.Storyboard)
			}
			if len(q.Notes) != len(tc.notes) {
				t.Errorf("Notes = %q, want %d note(s) like %q", q.Notes, len(tc.notes), tc.notes)
			} else {
				for i, frag := range tc.notes {
					if !strings.Contains(q.Notes[i].English, frag) {
						t.Errorf("Notes[%d] = %q, want it to contain %q", i, q.Notes[i], frag)
					}
				}
			}
			if tc.check != nil {
				tc.check(t, &r, q)
			}
		})
	}
}

func TestNormalizeModel(t *testing.T) {
	noSora2 := rqCatalog(func(c *Catalog) { rqModel(c, "sora-2").Disabled = true })
	noPro := rqCatalog(func(c *Catalog) { rqModel(c, "sora-2-pro-text-to-video").Disabled = true })
	rqRun(t, []normCase{
		// Named, enabled models: accepted.
		{name: "sorapro/named text", proto: sp,
			req:   Request{Model: "sora-2-text-to-video", Prompt: "a cat"},
			model: "sora-2-text-to-video", price: 100, duration: 10},
		{name: "sorapro/named image", proto: sp,
			req:   Request{Model: "sora-2-image-to-video", Prompt: "a cat", Images: []Image{rqImg(rqPNG())}},
			model: "sora-2-image-to-video", price: 100, duration: 10},
		{name: "sorapro/named pro text", proto: sp,
			req:   Request{Model: "sora-2-pro-text-to-video", Prompt: "a cat"},
			model: "sora-2-pro-text-to-video", price: 375, duration: 10, quality: "standard"},
		{name: "sorapro/named pro image", proto: sp,
			req:   Request{Model: "sora-2-pro-image-to-video", Prompt: "a cat", Images: []Image{rqImg(rqJPEG())}},
			model: "sora-2-pro-image-to-video", price: 375, duration: 10, quality: "standard"},
		{name: "sorapro/named storyboard", proto: sp,
			req:   Request{Model: "sora-2-pro-storyboard", Shots: rqShots(5, 5)},
			model: "sora-2-pro-storyboard", price: 375, duration: 10},
		{name: "videocreate/named sora-2", proto: vc,
			req:   Request{Model: "sora-2", Prompt: "a cat"},
			model: "sora-2", price: 100, duration: 10, quality: "small"},
		{name: "videocreate/named sora-2-pro", proto: vc,
			req:   Request{Model: "sora-2-pro", Prompt: "a cat"},
			model: "sora-2-pro", price: 675, duration: 15, quality: "small"},

		// Unknown, disabled and other-protocol models: unavailable, listing what is.
		{name: "sorapro/unknown", proto: sp,
			req:  Request{Model: "sora-3", Prompt: "a cat"},
			code: EUNAVAILABLE, msg: []string{`"sora-3"`, "Available models: sora-2-text-to-video, sora-2-image-to-video, sora-2-pro-text-to-video, sora-2-pro-image-to-video, sora-2-pro-storyboard."}},
		{name: "videocreate/unknown", proto: vc,
			req:  Request{Model: "veo-3.1", Prompt: "a cat"},
			code: EUNAVAILABLE, msg: []string{`"veo-3.1"`, "Available models: sora-2, sora-2-pro."}},
		{name: "sorapro/other protocol model", proto: sp,
			req:  Request{Model: "sora-2", Prompt: "a cat"},
			code: EUNAVAILABLE, msg: []string{`"sora-2"`, "Available models: sora-2-text-to-video,"}},
		{name: "videocreate/other protocol model", proto: vc,
			req:  Request{Model: "sora-2-text-to-video", Prompt: "a cat"},
			code: EUNAVAILABLE, msg: []string{`"sora-2-text-to-video"`, "Available models: sora-2, sora-2-pro."}},
		{name: "videocreate/disabled", cat: noSora2, proto: vc,
			req:  Request{Model: "sora-2", Prompt: "a cat"},
			code: EUNAVAILABLE, msg: []string{`"sora-2"`, "Available models: sora-2-pro."}},
		{name: "sorapro/disabled", cat: noPro, proto: sp,
			req:  Request{Model: "sora-2-pro-text-to-video", Prompt: "a cat"},
			code: EUNAVAILABLE, msg: []string{`"sora-2-pro-text-to-video"`, "sora-2-text-to-video, sora-2-image-to-video, sora-2-pro-image-to-video"}},
		{name: "unknown protocol", proto: "midjourney",
			req:  Request{Prompt: "a cat"},
			code: EUNAVAILABLE, msg: []string{"text-to-video"}},

		// Picking by kind.
		{name: "sorapro/pick text", proto: sp,
			req:   Request{Prompt: "a cat"},
			model: "sora-2-text-to-video", price: 100, duration: 10},
		{name: "sorapro/pick image", proto: sp,
			req:   Request{Prompt: "a cat", Images: []Image{rqImg(rqPNG())}},
			model: "sora-2-image-to-video", price: 100, duration: 10},
		{name: "sorapro/pick pro text", proto: sp,
			req:   Request{Prompt: "a cat", Pro: true},
			model: "sora-2-pro-text-to-video", price: 375, duration: 10, quality: "standard"},
		{name: "sorapro/pick pro image", proto: sp,
			req:   Request{Prompt: "a cat", Pro: true, Images: []Image{rqImg(rqWebP())}},
			model: "sora-2-pro-image-to-video", price: 375, duration: 10, quality: "standard"},
		{name: "sorapro/pick storyboard by shots", proto: sp,
			req:   Request{Shots: rqShots(10, 5)},
			model: "sora-2-pro-storyboard", price: 675, duration: 15},
		{name: "sorapro/pick storyboard by flag", proto: sp,
			req:   Request{Storyboard: true, Shots: rqShots(10)},
			model: "sora-2-pro-storyboard", price: 375, duration: 10},
		{name: "sorapro/pick hd without pro", proto: sp,
			req:   Request{Prompt: "a cat", Quality: "hd"},
			model: "sora-2-pro-text-to-video", price: 825, duration: 10, quality: "high"},
		{name: "sorapro/pick hd image without pro", proto: sp,
			req:   Request{Prompt: "a cat", Quality: "hd", Images: []Image{rqImg(rqPNG())}},
			model: "sora-2-pro-image-to-video", price: 825, duration: 10, quality: "high"},
		{name: "sorapro/pick falls back to pro when standard tier disabled", proto: sp,
			cat:   rqCatalog(func(c *Catalog) { rqModel(c, "sora-2-text-to-video").Disabled = true }),
			req:   Request{Prompt: "a cat"},
			model: "sora-2-pro-text-to-video", price: 375, duration: 10, quality: "standard"},
		{name: "videocreate/pick text", proto: vc,
			req:   Request{Prompt: "a cat"},
			model: "sora-2", price: 100, duration: 10, quality: "small"},
		{name: "videocreate/pick images", proto: vc,
			req:   Request{Prompt: "a cat", Images: []Image{rqImg(rqPNG()), rqImg(rqJPEG())}},
			model: "sora-2", price: 100, duration: 10, quality: "small"},
		{name: "videocreate/pick pro", proto: vc,
			req:   Request{Prompt: "a cat", Pro: true},
			model: "sora-2-pro", price: 675, duration: 15, quality: "small"},
		{name: "videocreate/pick pro images", proto: vc,
			req:   Request{Prompt: "a cat", Pro: true, Images: []Image{rqImg(rqPNG())}},
			model: "sora-2-pro", price: 675, duration: 15, quality: "small"},
		{name: "videocreate/pick hd without pro", proto: vc,
			req:   Request{Prompt: "a cat", Quality: "hd"},
			model: "sora-2-pro", price: 1575, duration: 15, quality: "large"},
		{name: "videocreate/pick 1080p without pro", proto: vc,
			req:   Request{Prompt: "a cat", Quality: "1080p"},
			model: "sora-2-pro", price: 1575, duration: 15, quality: "large"},
		// 720p is what sora-2 makes: it must not escalate to the pro tier.
		{name: "videocreate/pick 720p stays standard", proto: vc,
			req:   Request{Prompt: "a cat", Quality: "720p"},
			model: "sora-2", price: 100, duration: 10, quality: "small"},
		{name: "videocreate/pick small stays standard", proto: vc,
			req:   Request{Prompt: "a cat", Quality: "small"},
			model: "sora-2", price: 100, duration: 10, quality: "small"},
		{name: "videocreate/pick pro disabled", cat: rqCatalog(func(c *Catalog) { rqModel(c, "sora-2-pro").Disabled = true }), proto: vc,
			req:  Request{Prompt: "a cat", Pro: true},
			code: EUNAVAILABLE, msg: []string{"No available model"}},
		{name: "videocreate/pick storyboard", proto: vc,
			req:  Request{Storyboard: true, Prompt: "a cat"},
			code: EUNAVAILABLE, msg: []string{"Storyboards are not available"}},
		// An album: the image model takes the first picture, and says so.
		{name: "sorapro/pick two images", proto: sp,
			req:   Request{Prompt: "a cat", Images: []Image{rqImg(rqPNG()), rqImg(rqPNG())}},
			model: "sora-2-image-to-video", price: 100, duration: 10,
			notes: []string{"sora-2-image-to-video takes one image: using the first of the 2 you sent."}},
		{name: "sorapro/pick two images pro", proto: sp,
			req:   Request{Prompt: "a cat", Pro: true, Images: []Image{rqImg(rqPNG()), rqImg(rqPNG())}},
			model: "sora-2-pro-image-to-video", price: 375, duration: 10, quality: "standard",
			notes: []string{"using the first of the 2"}},
		{name: "sorapro/named text with storyboard flag", proto: sp,
			req:  Request{Model: "sora-2-text-to-video", Storyboard: true, Prompt: "a cat"},
			code: EINVALID, msg: []string{"sora-2-text-to-video is not a storyboard model"}},
	})
}

func TestNormalizePrompt(t *testing.T) {
	limit50 := rqCatalog(func(c *Catalog) {
		rqModel(c, "sora-2-text-to-video").MaxPrompt = 50
		rqModel(c, "sora-2").MaxPrompt = 50
		rqModel(c, "sora-2-pro-storyboard").MaxPrompt = 50
	})
	storyboardPromptCleared := func(t *testing.T, r *Request, q Quote) {
		if r.Prompt != "" {
			t.Errorf("storyboard Prompt = %q, want it cleared (not sent)", r.Prompt)
		}
	}
	trimmed := func(t *testing.T, r *Request, q Quote) {
		if r.Prompt != "a cat" {
			t.Errorf("Prompt = %q, want it trimmed to %q", r.Prompt, "a cat")
		}
	}
	var cases []normCase
	for _, p := range []struct {
		proto, model string
		price        int
		quality      string
	}{{sp, "sora-2-text-to-video", 100, ""}, {vc, "sora-2", 100, "small"}} {
		ok := func(name, prompt string) normCase {
			return normCase{name: p.proto + "/" + name, proto: p.proto,
				req:   Request{Model: p.model, Prompt: prompt},
				model: p.model, price: p.price, duration: 10, quality: p.quality}
		}
		bad := func(name, prompt string, msg ...string) normCase {
			return normCase{name: p.proto + "/" + name, proto: p.proto,
				req: Request{Model: p.model, Prompt: prompt}, code: EINVALID, msg: msg}
		}
		cases = append(cases,
			ok("short prompt", "a cat"),
			bad("missing prompt", "", "prompt is required"),
			bad("blank prompt", " \t\n ", "prompt is required"),
			ok("2000 ascii", strings.Repeat("a", 2000)),
			bad("2001 ascii", strings.Repeat("a", 2001), "2001 characters", "limit is 2000"),
			// Runes, not bytes: 2000 two-byte, three-byte and four-byte characters fit.
			ok("2000 accented", strings.Repeat("é", 2000)),
			ok("2000 cjk", strings.Repeat("猫", 2000)),
			ok("2000 emoji", strings.Repeat("🎬", 2000)),
			bad("2001 cjk", strings.Repeat("猫", 2001), "2001 characters", "limit is 2000"),
			ok("2000 after trimming", "  "+strings.Repeat("é", 2000)+"\n"),
		)
		c := ok("prompt trimmed", "  a cat \n")
		c.check = trimmed
		cases = append(cases, c)
		c = ok("custom max_prompt 50 ok", strings.Repeat("ü", 50))
		c.cat = limit50
		cases = append(cases, c)
		c = bad("custom max_prompt 51 rejected", strings.Repeat("ü", 51), "51 characters", "limit is 50")
		c.cat = limit50
		cases = append(cases, c)
	}
	cases = append(cases,
		normCase{name: "sorapro/image model needs a prompt", proto: sp,
			req:  Request{Model: "sora-2-image-to-video", Images: []Image{rqImg(rqPNG())}},
			code: EINVALID, msg: []string{"prompt is required"}},
		normCase{name: "videocreate/pro needs a prompt", proto: vc,
			req:  Request{Model: "sora-2-pro"},
			code: EINVALID, msg: []string{"prompt is required"}},
		normCase{name: "sorapro/storyboard without prompt", proto: sp,
			req:   Request{Model: "sora-2-pro-storyboard", Shots: rqShots(5, 5)},
			model: "sora-2-pro-storyboard", price: 375, duration: 10, check: storyboardPromptCleared},
		normCase{name: "sorapro/storyboard prompt cleared", proto: sp,
			req:   Request{Model: "sora-2-pro-storyboard", Prompt: "ignored", Shots: rqShots(5, 5)},
			model: "sora-2-pro-storyboard", price: 375, duration: 10, check: storyboardPromptCleared},
		normCase{name: "sorapro/storyboard over-long prompt ignored", proto: sp,
			req:   Request{Model: "sora-2-pro-storyboard", Prompt: strings.Repeat("x", 5000), Shots: rqShots(5, 5)},
			model: "sora-2-pro-storyboard", price: 375, duration: 10, check: storyboardPromptCleared},
		normCase{name: "sorapro/storyboard scene within limit", proto: sp, cat: limit50,
			req:   Request{Model: "sora-2-pro-storyboard", Shots: []Shot{{Scene: strings.Repeat("猫", 50), Duration: 10}}},
			model: "sora-2-pro-storyboard", price: 375, duration: 10},
		normCase{name: "sorapro/storyboard scene over limit", proto: sp, cat: limit50,
			req:  Request{Model: "sora-2-pro-storyboard", Shots: []Shot{{Scene: "a", Duration: 5}, {Scene: strings.Repeat("猫", 51), Duration: 5}}},
			code: EINVALID, msg: []string{"Shot 2", "51 characters", "limit is 50"}},
	)
	rqRun(t, cases)
}

func TestNormalizeImages(t *testing.T) {
	mimes := func(want ...string) func(t *testing.T, r *Request, q Quote) {
		return func(t *testing.T, r *Request, q Quote) {
			if len(r.Images) != len(want) {
				t.Fatalf("%d images, want %d", len(r.Images), len(want))
			}
			for i, w := range want {
				if r.Images[i].MIME != w {
					t.Errorf("Images[%d].MIME = %q, want %q", i, r.Images[i].MIME, w)
				}
			}
		}
	}
	big := rqSized(MaxImageBytes + 1)
	exact := rqSized(MaxImageBytes)
	img := func(name, model string, data []byte) normCase {
		return normCase{name: name, proto: sp,
			req: Request{Model: model, Prompt: "animate", Images: []Image{{Data: data, MIME: "image/gif", URL: "https://example.com/a.png"}}}}
	}
	var cases []normCase
	for _, model := range []string{"sora-2-image-to-video", "sora-2-pro-image-to-video"} {
		price, quality := 100, ""
		if strings.Contains(model, "pro") {
			price, quality = 375, "standard"
		}
		for _, k := range []struct {
			kind string
			data []byte
			mime string
		}{{"png", rqPNG(), "image/png"}, {"jpeg", rqJPEG(), "image/jpeg"}, {"webp", rqWebP(), "image/webp"}, {"exactly 10 MiB", exact, "image/png"}} {
			c := img("sorapro/"+model+"/"+k.kind, model, k.data)
			c.model, c.price, c.duration, c.quality, c.check = model, price, 10, quality, mimes(k.mime)
			cases = append(cases, c)
		}
		for _, k := range []struct {
			kind string
			data []byte
			msg  string
		}{
			{"gif named png", rqGIF(), "not a PNG, JPEG or WebP"},
			{"text named png", []byte("just some text, honestly"), "not a PNG, JPEG or WebP"},
			{"html", []byte("<html><body>hi</body></html>"), "not a PNG, JPEG or WebP"},
			{"empty", nil, "Image 1 is empty"},
			{"over 10 MiB", big, "limit is 10 MiB"},
		} {
			c := img("sorapro/"+model+"/"+k.kind, model, k.data)
			c.code, c.msg = EINVALID, []string{k.msg}
			cases = append(cases, c)
		}
		cases = append(cases,
			normCase{name: "sorapro/" + model + "/without image", proto: sp,
				req:  Request{Model: model, Prompt: "animate"},
				code: EINVALID, msg: []string{model, "needs an image"}},
			// The first image is used; the others are neither sent nor checked.
			normCase{name: "sorapro/" + model + "/two images", proto: sp,
				req:   Request{Model: model, Prompt: "animate", Images: []Image{rqImg(rqJPEG()), rqImg(rqPNG())}},
				model: model, price: price, duration: 10, quality: quality, check: mimes("image/jpeg"),
				notes: []string{model + " takes one image: using the first of the 2 you sent."}},
			normCase{name: "sorapro/" + model + "/three images, a later one bad", proto: sp,
				req:   Request{Model: model, Prompt: "animate", Images: []Image{rqImg(rqWebP()), rqImg(rqGIF()), {}}},
				model: model, price: price, duration: 10, quality: quality, check: mimes("image/webp"),
				notes: []string{"using the first of the 3"}},
			normCase{name: "sorapro/" + model + "/two images, the first bad", proto: sp,
				req:  Request{Model: model, Prompt: "animate", Images: []Image{rqImg(rqGIF()), rqImg(rqPNG())}},
				code: EINVALID, msg: []string{"Image 1", "not a PNG, JPEG or WebP"}},
		)
	}
	four := []Image{rqImg(rqPNG()), rqImg(rqJPEG()), rqImg(rqWebP()), {Data: rqJPEG(), MIME: "image/png"}}
	five := append(slices.Clone(four), rqImg(rqPNG()))
	cases = append(cases,
		normCase{name: "sorapro/text model with image", proto: sp,
			req:  Request{Model: "sora-2-text-to-video", Prompt: "a cat", Images: []Image{rqImg(rqPNG())}},
			code: EINVALID, msg: []string{"sora-2-text-to-video does not take images"}},
		normCase{name: "sorapro/pro text model with image", proto: sp,
			req:  Request{Model: "sora-2-pro-text-to-video", Prompt: "a cat", Images: []Image{rqImg(rqPNG())}},
			code: EINVALID, msg: []string{"does not take images"}},
		normCase{name: "sorapro/storyboard with image", proto: sp,
			req:  Request{Shots: rqShots(5, 5), Images: []Image{rqImg(rqPNG())}},
			code: EINVALID, msg: []string{"sora-2-pro-storyboard does not take images"}},
		normCase{name: "sorapro/pick image gif", proto: sp,
			req:  Request{Prompt: "a cat", Images: []Image{rqImg(rqGIF())}},
			code: EINVALID, msg: []string{"not a PNG, JPEG or WebP"}},
		normCase{name: "videocreate/sora-2 text only", proto: vc,
			req:   Request{Model: "sora-2", Prompt: "a cat"},
			model: "sora-2", price: 100, duration: 10, quality: "small", check: mimes()},
		normCase{name: "videocreate/sora-2 one image", proto: vc,
			req:   Request{Model: "sora-2", Prompt: "a cat", Images: []Image{rqImg(rqWebP())}},
			model: "sora-2", price: 100, duration: 10, quality: "small", check: mimes("image/webp")},
		normCase{name: "videocreate/sora-2 four images", proto: vc,
			req:   Request{Model: "sora-2", Prompt: "a cat", Images: four},
			model: "sora-2", price: 100, duration: 10, quality: "small",
			check: mimes("image/png", "image/jpeg", "image/webp", "image/jpeg")},
		normCase{name: "videocreate/sora-2-pro four images", proto: vc,
			req:   Request{Model: "sora-2-pro", Prompt: "a cat", Images: four},
			model: "sora-2-pro", price: 675, duration: 15, quality: "small",
			check: mimes("image/png", "image/jpeg", "image/webp", "image/jpeg")},
		normCase{name: "videocreate/sora-2 five images", proto: vc,
			req:   Request{Model: "sora-2", Prompt: "a cat", Images: five},
			model: "sora-2", price: 100, duration: 10, quality: "small",
			check: mimes("image/png", "image/jpeg", "image/webp", "image/jpeg"),
			notes: []string{"sora-2 takes at most 4 images: using the first 4 of the 5 you sent."}},
		normCase{name: "videocreate/pick five images", proto: vc,
			req:   Request{Prompt: "a cat", Images: five},
			model: "sora-2", price: 100, duration: 10, quality: "small",
			check: mimes("image/png", "image/jpeg", "image/webp", "image/jpeg"),
			notes: []string{"using the first 4 of the 5"}},
		normCase{name: "videocreate/second image gif", proto: vc,
			req:  Request{Model: "sora-2", Prompt: "a cat", Images: []Image{rqImg(rqPNG()), {Data: rqGIF(), MIME: "image/png", URL: "https://example.com/b.png"}}},
			code: EINVALID, msg: []string{"Image 2", "not a PNG, JPEG or WebP"}},
		normCase{name: "videocreate/third image too big", proto: vc,
			req:  Request{Model: "sora-2-pro", Prompt: "a cat", Images: []Image{rqImg(rqPNG()), rqImg(rqJPEG()), rqImg(big)}},
			code: EINVALID, msg: []string{"Image 3", "limit is 10 MiB"}},
		normCase{name: "videocreate/url only image", proto: vc,
			req:  Request{Model: "sora-2", Prompt: "a cat", Images: []Image{{URL: "https://example.com/a.png"}}},
			code: EINVALID, msg: []string{"Image 1 is empty"}},
	)
	rqRun(t, cases)
}

func TestNormalizeOrientation(t *testing.T) {
	var cases []normCase
	for _, p := range []struct {
		proto, model string
		price        int
		quality      string
	}{{sp, "sora-2-text-to-video", 100, ""}, {vc, "sora-2", 100, "small"}} {
		for _, o := range []struct{ in, want string }{
			{"", Landscape}, {"landscape", Landscape}, {"portrait", Portrait},
			{"PORTRAIT", Portrait}, {" Landscape ", Landscape},
		} {
			cases = append(cases, normCase{name: p.proto + "/" + strconv.Quote(o.in), proto: p.proto,
				req:   Request{Model: p.model, Prompt: "a cat", Orientation: o.in},
				model: p.model, price: p.price, duration: 10, quality: p.quality, orientation: o.want})
		}
		for _, o := range []string{"square", "vertical", "16:9"} {
			cases = append(cases, normCase{name: p.proto + "/" + o, proto: p.proto,
				req:  Request{Model: p.model, Prompt: "a cat", Orientation: o},
				code: EINVALID, msg: []string{"portrait or landscape", strconv.Quote(o)}})
		}
	}
	cases = append(cases, normCase{name: "sorapro/storyboard portrait", proto: sp,
		req:   Request{Shots: rqShots(5, 5), Orientation: "Portrait"},
		model: "sora-2-pro-storyboard", price: 375, duration: 10, orientation: Portrait})
	rqRun(t, cases)
}

func TestNormalizeDuration(t *testing.T) {
	text := func(name, proto, model string, d, wantD, price int, quality string, notes ...string) normCase {
		return normCase{name: proto + "/" + name, proto: proto,
			req:   Request{Model: model, Prompt: "a cat", Duration: d},
			model: model, price: price, duration: wantD, quality: quality, notes: notes}
	}
	rqRun(t, []normCase{
		// Defaults per model.
		text("text default", sp, "sora-2-text-to-video", 0, 10, 100, ""),
		text("pro default", sp, "sora-2-pro-text-to-video", 0, 10, 375, "standard"),
		{name: "sorapro/image default", proto: sp,
			req:   Request{Model: "sora-2-image-to-video", Prompt: "a cat", Images: []Image{rqImg(rqPNG())}},
			model: "sora-2-image-to-video", price: 100, duration: 10},
		text("sora-2 default", vc, "sora-2", 0, 10, 100, "small"),
		text("sora-2-pro default", vc, "sora-2-pro", 0, 15, 675, "small"),

		// Allowed durations kept.
		text("text 10", sp, "sora-2-text-to-video", 10, 10, 100, ""),
		text("text 15", sp, "sora-2-text-to-video", 15, 15, 150, ""),
		text("pro 15", sp, "sora-2-pro-text-to-video", 15, 15, 675, "standard"),
		text("sora-2 15", vc, "sora-2", 15, 15, 150, "small"),
		text("sora-2-pro 25", vc, "sora-2-pro", 25, 25, 875, "small"),

		// Not allowed: nearest, ties down, with a note, charged for what is made.
		text("text 25 storyboard only", sp, "sora-2-text-to-video", 25, 15, 150, "",
			"25 s is only for storyboards: making 15 s."),
		text("pro 25 storyboard only", sp, "sora-2-pro-text-to-video", 25, 15, 675, "standard",
			"25 s is only for storyboards: making 15 s."),
		text("text 12 nearest", sp, "sora-2-text-to-video", 12, 10, 100, "",
			"12 s is not available for sora-2-text-to-video: making 10 s."),
		text("text 13 nearest", sp, "sora-2-text-to-video", 13, 15, 150, "",
			"13 s is not available for sora-2-text-to-video: making 15 s."),
		text("text 5 nearest", sp, "sora-2-text-to-video", 5, 10, 100, "", "making 10 s"),
		text("text 60 nearest", sp, "sora-2-text-to-video", 60, 15, 150, "", "making 15 s"),
		text("text negative", sp, "sora-2-text-to-video", -5, 10, 100, "", "making 10 s"),
		text("sora-2 12 nearest", vc, "sora-2", 12, 10, 100, "small",
			"12 s is not available for sora-2: making 10 s."),
		// 25 s exists on videocreate (sora-2-pro), so it is not "only for storyboards".
		text("sora-2 25 nearest", vc, "sora-2", 25, 15, 150, "small",
			"25 s is not available for sora-2: making 15 s."),
		text("sora-2-pro 20 tie goes down", vc, "sora-2-pro", 20, 15, 675, "small",
			"20 s is not available for sora-2-pro: making 15 s."),
		text("sora-2-pro 21 nearest up", vc, "sora-2-pro", 21, 25, 875, "small", "making 25 s"),
		text("sora-2-pro 10 nearest", vc, "sora-2-pro", 10, 15, 675, "small",
			"10 s is not available for sora-2-pro: making 15 s."),
		{name: "videocreate/sora-2-pro 20 large charged 15 s large", proto: vc,
			req:   Request{Model: "sora-2-pro", Prompt: "a cat", Duration: 20, Quality: "large"},
			model: "sora-2-pro", price: 1575, duration: 15, quality: "large", notes: []string{"making 15 s"}},
		{name: "sorapro/pro 25 high charged 15 s high", proto: sp,
			req:   Request{Model: "sora-2-pro-text-to-video", Prompt: "a cat", Duration: 25, Quality: "high"},
			model: "sora-2-pro-text-to-video", price: 1575, duration: 15, quality: "high",
			notes: []string{"25 s is only for storyboards: making 15 s."}},
		{name: "sorapro/tie goes down in a custom catalog", proto: sp,
			cat: rqCatalog(func(c *Catalog) {
				m := rqModel(c, "sora-2-text-to-video")
				m.Durations = []int{10, 20}
				m.Prices = map[string]int{"10": 100, "20": 200}
			}),
			req:   Request{Model: "sora-2-text-to-video", Prompt: "a cat", Duration: 15},
			model: "sora-2-text-to-video", price: 100, duration: 10, notes: []string{"making 10 s"}},
	})
}

func TestNormalizeQuality(t *testing.T) {
	q := func(name, proto, model string, in string, d int, wantQ string, price int, notes ...string) normCase {
		return normCase{name: proto + "/" + name, proto: proto,
			req:   Request{Model: model, Prompt: "a cat", Quality: in, Duration: d},
			model: model, price: price, duration: max(d, rqModel(DefaultCatalog(), model).DefaultDuration), quality: wantQ, notes: notes}
	}
	bad := func(name, proto, model, in string, msg ...string) normCase {
		return normCase{name: proto + "/" + name, proto: proto,
			req:  Request{Model: model, Prompt: "a cat", Quality: in},
			code: EINVALID, msg: msg}
	}
	var cases []normCase
	for _, model := range []string{"sora-2-pro-text-to-video", "sora-2-pro-image-to-video"} {
		for _, c := range []normCase{
			q("default standard", sp, model, "", 0, "standard", 375),
			q("standard", sp, model, "standard", 0, "standard", 375),
			q("high", sp, model, "high", 0, "high", 825),
			q("HIGH", sp, model, "HIGH", 0, "high", 825),
			q("hd alias", sp, model, "hd", 0, "high", 825),
			q("1080p alias", sp, model, "1080p", 0, "high", 825),
			q("sd alias", sp, model, "sd", 0, "standard", 375),
			q("standard 15", sp, model, "standard", 15, "standard", 675),
			q("high 15", sp, model, "high", 15, "high", 1575),
			bad("ultra rejected", sp, model, "ultra", "standard, high", `"ultra"`),
			bad("4k rejected", sp, model, "4k", "standard, high", `"4k"`),
		} {
			c.name = c.name + " " + model
			if model == "sora-2-pro-image-to-video" {
				c.req.Images = []Image{rqImg(rqPNG())}
			}
			cases = append(cases, c)
		}
	}
	cases = append(cases,
		// Single-quality models: a quality is noted and ignored, never rejected.
		q("text high ignored", sp, "sora-2-text-to-video", "high", 0, "", 100,
			`sora-2-text-to-video has one quality only: ignoring "high".`),
		q("text ultra ignored", sp, "sora-2-text-to-video", "ultra", 0, "", 100, `ignoring "ultra"`),
		normCase{name: "sorapro/image hd ignored", proto: sp,
			req:   Request{Model: "sora-2-image-to-video", Prompt: "a cat", Quality: "hd", Images: []Image{rqImg(rqPNG())}},
			model: "sora-2-image-to-video", price: 100, duration: 10, notes: []string{`ignoring "hd"`}},
		normCase{name: "sorapro/storyboard high ignored", proto: sp,
			req:   Request{Model: "sora-2-pro-storyboard", Quality: "high", Shots: rqShots(5, 5)},
			model: "sora-2-pro-storyboard", price: 375, duration: 10, notes: []string{`sora-2-pro-storyboard has one quality only: ignoring "high".`}},
		// Without a named model, a storyboard with a quality is still a storyboard.
		normCase{name: "sorapro/picked storyboard high ignored", proto: sp,
			req:   Request{Quality: "high", Shots: rqShots(5, 5)},
			model: "sora-2-pro-storyboard", price: 375, duration: 10, notes: []string{`ignoring "high"`}},
		q("sora-2 default small", vc, "sora-2", "", 0, "small", 100),
		q("sora-2 small", vc, "sora-2", "small", 0, "small", 100),
		q("sora-2 720p alias", vc, "sora-2", "720p", 0, "small", 100),
		q("sora-2 large ignored", vc, "sora-2", "large", 0, "small", 100,
			`sora-2 has one quality only: ignoring "large".`),
		q("sora-2 hd ignored", vc, "sora-2", "hd", 15, "small", 150, `ignoring "hd"`),
		q("sora-2-pro default small", vc, "sora-2-pro", "", 0, "small", 675),
		q("sora-2-pro small", vc, "sora-2-pro", "small", 0, "small", 675),
		q("sora-2-pro 720p", vc, "sora-2-pro", "720p", 0, "small", 675),
		q("sora-2-pro large", vc, "sora-2-pro", "large", 0, "large", 1575),
		q("sora-2-pro LARGE", vc, "sora-2-pro", " LARGE ", 0, "large", 1575),
		q("sora-2-pro hd alias", vc, "sora-2-pro", "hd", 0, "large", 1575),
		q("sora-2-pro high alias", vc, "sora-2-pro", "high", 0, "large", 1575),
		q("sora-2-pro 1080p alias", vc, "sora-2-pro", "1080p", 0, "large", 1575),
		q("sora-2-pro large 25", vc, "sora-2-pro", "large", 25, "large", 2625),
		bad("sora-2-pro ultra rejected", vc, "sora-2-pro", "ultra", "small, large", `"ultra"`),
		// Pro asked with a quality nobody has: the pro model explains its qualities.
		normCase{name: "sorapro/picked pro ultra rejected", proto: sp,
			req:  Request{Pro: true, Prompt: "a cat", Quality: "ultra"},
			code: EINVALID, msg: []string{"standard, high", `"ultra"`}},
		normCase{name: "videocreate/picked pro ultra rejected", proto: vc,
			req:  Request{Pro: true, Prompt: "a cat", Quality: "ultra"},
			code: EINVALID, msg: []string{"small, large", `"ultra"`}},
	)
	rqRun(t, cases)
}

func TestNormalizeOptions(t *testing.T) {
	flags := func(wm, priv bool) func(t *testing.T, r *Request, q Quote) {
		return func(t *testing.T, r *Request, q Quote) {
			if r.Watermark != wm || r.Private != priv {
				t.Errorf("Watermark, Private = %v, %v; want %v, %v", r.Watermark, r.Private, wm, priv)
			}
		}
	}
	noWM := rqCatalog(func(c *Catalog) { rqModel(c, "sora-2").WatermarkOption = false })
	rqRun(t, []normCase{
		{name: "sorapro/text watermark honoured", proto: sp,
			req:   Request{Model: "sora-2-text-to-video", Prompt: "a cat", Watermark: true},
			model: "sora-2-text-to-video", price: 100, duration: 10, check: flags(true, false)},
		{name: "sorapro/pro image watermark honoured", proto: sp,
			req:   Request{Model: "sora-2-pro-image-to-video", Prompt: "a cat", Watermark: true, Images: []Image{rqImg(rqPNG())}},
			model: "sora-2-pro-image-to-video", price: 375, duration: 10, quality: "standard", check: flags(true, false)},
		{name: "sorapro/defaults", proto: sp,
			req:   Request{Model: "sora-2-text-to-video", Prompt: "a cat"},
			model: "sora-2-text-to-video", price: 100, duration: 10, check: flags(false, false)},
		{name: "sorapro/storyboard watermark ignored", proto: sp,
			req:   Request{Model: "sora-2-pro-storyboard", Shots: rqShots(5, 5), Watermark: true},
			model: "sora-2-pro-storyboard", price: 375, duration: 10, check: flags(false, false),
			notes: []string{"sora-2-pro-storyboard has no watermark option: ignoring it."}},
		{name: "sorapro/private ignored", proto: sp,
			req:   Request{Model: "sora-2-text-to-video", Prompt: "a cat", Private: true},
			model: "sora-2-text-to-video", price: 100, duration: 10, check: flags(false, false),
			notes: []string{"sora-2-text-to-video cannot make private videos: ignoring it."}},
		{name: "sorapro/storyboard both ignored", proto: sp,
			req:   Request{Shots: rqShots(5, 5), Watermark: true, Private: true},
			model: "sora-2-pro-storyboard", price: 375, duration: 10, check: flags(false, false),
			notes: []string{"no watermark option", "cannot make private videos"}},
		{name: "videocreate/sora-2 both honoured", proto: vc,
			req:   Request{Model: "sora-2", Prompt: "a cat", Watermark: true, Private: true},
			model: "sora-2", price: 100, duration: 10, quality: "small", check: flags(true, true)},
		{name: "videocreate/sora-2-pro both honoured", proto: vc,
			req:   Request{Model: "sora-2-pro", Prompt: "a cat", Watermark: true, Private: true},
			model: "sora-2-pro", price: 675, duration: 15, quality: "small", check: flags(true, true)},
		{name: "videocreate/defaults", proto: vc,
			req:   Request{Model: "sora-2", Prompt: "a cat"},
			model: "sora-2", price: 100, duration: 10, quality: "small", check: flags(false, false)},
		{name: "videocreate/watermark ignored without option", proto: vc, cat: noWM,
			req:   Request{Model: "sora-2", Prompt: "a cat", Watermark: true, Private: true},
			model: "sora-2", price: 100, duration: 10, quality: "small", check: flags(false, true),
			notes: []string{"sora-2 has no watermark option: ignoring it."}},
	})
}

func TestNormalizeShots(t *testing.T) {
	eleven := rqShots(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	ten := rqShots(1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
	scenesTrimmed := func(t *testing.T, r *Request, q Quote) {
		want := []Shot{{Scene: "A city at dusk", Duration: 5}, {Scene: "A runner", Duration: 5}}
		if !slices.Equal(r.Shots, want) {
			t.Errorf("Shots = %+v, want %+v", r.Shots, want)
		}
	}
	sb := func(name string, r Request, dur, price int) normCase {
		return normCase{name: "sorapro/" + name, proto: sp, req: r,
			model: "sora-2-pro-storyboard", price: price, duration: dur}
	}
	bad := func(name, proto string, r Request, code string, msg ...string) normCase {
		return normCase{name: proto + "/" + name, proto: proto, req: r, code: code, msg: msg}
	}
	rqRun(t, []normCase{
		sb("5+5", Request{Shots: rqShots(5, 5)}, 10, 375),
		sb("10", Request{Shots: rqShots(10)}, 10, 375),
		sb("5+10", Request{Shots: rqShots(5, 10)}, 15, 675),
		sb("10+10+5", Request{Shots: rqShots(10, 10, 5)}, 25, 875),
		sb("ten shots", Request{Shots: ten}, 10, 375),
		sb("explicit total matches", Request{Shots: rqShots(5, 5), Duration: 10}, 10, 375),
		sb("explicit 25 matches", Request{Model: "sora-2-pro-storyboard", Shots: rqShots(20, 5), Duration: 25}, 25, 875),
		{name: "sorapro/scenes trimmed", proto: sp,
			req:   Request{Shots: []Shot{{Scene: "  A city at dusk\n", Duration: 5}, {Scene: "\tA runner ", Duration: 5}}},
			model: "sora-2-pro-storyboard", price: 375, duration: 10, check: scenesTrimmed},

		bad("storyboard without shots", sp, Request{Storyboard: true, Prompt: "a cat"}, EINVALID, "needs shots"),
		bad("named storyboard without shots", sp, Request{Model: "sora-2-pro-storyboard", Prompt: "a cat"}, EINVALID, "needs shots"),
		bad("eleven shots", sp, Request{Shots: eleven}, EINVALID, "at most 10 shots", "has 11"),
		bad("empty scene", sp, Request{Shots: []Shot{{Scene: "a", Duration: 5}, {Scene: "", Duration: 5}}}, EINVALID, "Shot 2 has no scene"),
		bad("blank scene", sp, Request{Shots: []Shot{{Scene: " \n\t ", Duration: 10}}}, EINVALID, "Shot 1 has no scene"),
		bad("zero duration", sp, Request{Shots: []Shot{{Scene: "a", Duration: 10}, {Scene: "b", Duration: 0}}}, EINVALID, "Shot 2 needs a duration above 0"),
		bad("negative duration", sp, Request{Shots: []Shot{{Scene: "a", Duration: 15}, {Scene: "b", Duration: -5}}}, EINVALID, "Shot 2 needs a duration above 0"),
		bad("5+7", sp, Request{Shots: rqShots(5, 7)}, EINVALID, "add up to 12 s", "10, 15 or 25"),
		bad("20+10", sp, Request{Shots: rqShots(20, 10)}, EINVALID, "10, 15 or 25"),
		bad("explicit total mismatch", sp, Request{Shots: rqShots(5, 5), Duration: 15}, EINVALID, "add up to 10 s", "asked for 15 s", "10, 15 or 25"),
		// Shot durations so large their sum wraps around to an allowed total.
		bad("overflowing durations", sp, Request{Shots: []Shot{{Scene: "a", Duration: math.MaxInt}, {Scene: "b", Duration: math.MaxInt}, {Scene: "c", Duration: 12}}}, EINVALID, "10, 15 or 25"),
		bad("shots on text model", sp, Request{Model: "sora-2-text-to-video", Prompt: "a cat", Shots: rqShots(5, 5)}, EINVALID, "not a storyboard model"),
		bad("shots on image model", sp, Request{Model: "sora-2-image-to-video", Prompt: "a cat", Images: []Image{rqImg(rqPNG())}, Shots: rqShots(5, 5)}, EINVALID, "not a storyboard model"),
		bad("shots on sora-2", vc, Request{Model: "sora-2", Prompt: "a cat", Shots: rqShots(5, 5)}, EINVALID, "sora-2 is not a storyboard model"),
		bad("shots on sora-2-pro", vc, Request{Model: "sora-2-pro", Prompt: "a cat", Shots: rqShots(10, 5)}, EINVALID, "not a storyboard model"),
		bad("shots without model", vc, Request{Prompt: "a cat", Shots: rqShots(5, 5)}, EUNAVAILABLE, "Storyboards are not available"),
	})
}

// TestNormalizePrices checks every default price of the built-in catalog through
// Normalize's quote.
func TestNormalizePrices(t *testing.T) {
	type pc struct {
		proto, model string
		dur          int
		quality      string
		price        int
	}
	var cases []normCase
	for _, p := range []pc{
		{sp, "sora-2-text-to-video", 10, "", 100},
		{sp, "sora-2-text-to-video", 15, "", 150},
		{sp, "sora-2-image-to-video", 10, "", 100},
		{sp, "sora-2-image-to-video", 15, "", 150},
		{sp, "sora-2-pro-text-to-video", 10, "standard", 375},
		{sp, "sora-2-pro-text-to-video", 15, "standard", 675},
		{sp, "sora-2-pro-text-to-video", 10, "high", 825},
		{sp, "sora-2-pro-text-to-video", 15, "high", 1575},
		{sp, "sora-2-pro-image-to-video", 10, "standard", 375},
		{sp, "sora-2-pro-image-to-video", 15, "standard", 675},
		{sp, "sora-2-pro-image-to-video", 10, "high", 825},
		{sp, "sora-2-pro-image-to-video", 15, "high", 1575},
		{vc, "sora-2", 10, "small", 100},
		{vc, "sora-2", 15, "small", 150},
		{vc, "sora-2-pro", 15, "small", 675},
		{vc, "sora-2-pro", 25, "small", 875},
		{vc, "sora-2-pro", 15, "large", 1575},
		{vc, "sora-2-pro", 25, "large", 2625},
	} {
		r := Request{Model: p.model, Prompt: "a cat", Duration: p.dur, Quality: p.quality}
		if strings.Contains(p.model, "image") {
			r.Images = []Image{rqImg(rqPNG())}
		}
		cases = append(cases, normCase{name: p.proto + "/" + p.model + "/" + strconv.Itoa(p.dur) + p.quality, proto: p.proto, req: r,
			model: p.model, price: p.price, duration: p.dur, quality: p.quality})
	}
	for _, s := range []struct {
		shots []int
		dur   int
		price int
	}{{[]int{5, 5}, 10, 375}, {[]int{15}, 15, 675}, {[]int{5, 5, 5, 5, 5}, 25, 875}} {
		cases = append(cases, normCase{name: "sorapro/storyboard/" + strconv.Itoa(s.dur), proto: sp,
			req:   Request{Model: "sora-2-pro-storyboard", Shots: rqShots(s.shots...)},
			model: "sora-2-pro-storyboard", price: s.price, duration: s.dur})
	}
	rqRun(t, cases)
}

func TestNormalizeUnpricedDuration(t *testing.T) {
	// A catalog that does not validate (built by hand) must still not quote a
	// free job.
	c := DefaultCatalog()
	delete(rqModel(c, "sora-2-text-to-video").Prices, "15")
	r := Request{Model: "sora-2-text-to-video", Prompt: "a cat", Duration: 15}
	_, err := c.Normalize(sp, &r)
	if ErrorCode(err) != EUNAVAILABLE || !strings.Contains(ErrorMessage(err), "no price for 15 s") {
		t.Fatalf("err = %v, want EUNAVAILABLE about the missing price", err)
	}
}

// TestNormalizeIdempotent: normalizing a normalized request changes nothing.
func TestNormalizeIdempotent(t *testing.T) {
	c := DefaultCatalog()
	for _, tc := range []struct {
		proto string
		r     Request
	}{
		{sp, Request{Prompt: " a cat ", Quality: "hd", Duration: 25, Orientation: "PORTRAIT"}},
		{sp, Request{Shots: rqShots(5, 5), Prompt: "x", Watermark: true, Private: true}},
		{sp, Request{Prompt: "a cat", Images: []Image{rqImg(rqJPEG())}}},
		{vc, Request{Prompt: "a cat", Pro: true, Duration: 20, Quality: "1080p", Private: true}},
		{vc, Request{Model: "sora-2", Prompt: "a cat", Quality: "large", Images: []Image{rqImg(rqWebP())}}},
	} {
		r1 := rqCopy(tc.r)
		q1, err := c.Normalize(tc.proto, &r1)
		if err != nil {
			t.Fatalf("%+v: %v", tc.r, err)
		}
		r2 := rqCopy(r1)
		q2, err := c.Normalize(tc.proto, &r2)
		if err != nil {
			t.Fatalf("second pass of %+v: %v", r1, err)
		}
		if q2.Model != q1.Model || q2.Price != q1.Price || len(q2.Notes) != 0 {
			t.Errorf("second pass: model %s price %d notes %q; first: %s %d", q2.Model.ID, q2.Price, q2.Notes, q1.Model.ID, q1.Price)
		}
		if r2.Duration != r1.Duration || r2.Quality != r1.Quality || r2.Orientation != r1.Orientation || r2.Prompt != r1.Prompt {
			t.Errorf("second pass changed the request: %+v -> %+v", r1, r2)
		}
	}
}

func TestPick(t *testing.T) {
	c := DefaultCatalog()
	for _, tc := range []struct {
		proto string
		w     Want
		want  string // "" means an EUNAVAILABLE error
	}{
		{sp, Want{}, "sora-2-text-to-video"},
		{sp, Want{Images: 1}, "sora-2-image-to-video"},
		{sp, Want{Pro: true}, "sora-2-pro-text-to-video"},
		{sp, Want{Pro: true, Images: 1}, "sora-2-pro-image-to-video"},
		{sp, Want{Storyboard: true}, "sora-2-pro-storyboard"},
		{sp, Want{Storyboard: true, Pro: true}, "sora-2-pro-storyboard"},
		{sp, Want{Quality: "hd"}, "sora-2-pro-text-to-video"},
		{sp, Want{Quality: "HIGH", Images: 1}, "sora-2-pro-image-to-video"},
		{sp, Want{Images: 2}, "sora-2-image-to-video"}, // the first image is used
		{sp, Want{Pro: true, Images: 3}, "sora-2-pro-image-to-video"},
		{sp, Want{Quality: "ultra"}, ""},
		{vc, Want{}, "sora-2"},
		{vc, Want{Images: 3}, "sora-2"},
		{vc, Want{Images: 4}, "sora-2"},
		{vc, Want{Images: 5}, "sora-2"},
		{vc, Want{Pro: true}, "sora-2-pro"},
		{vc, Want{Pro: true, Images: 2}, "sora-2-pro"},
		{vc, Want{Quality: "large"}, "sora-2-pro"},
		{vc, Want{Quality: "hd"}, "sora-2-pro"},
		{vc, Want{Quality: "small"}, "sora-2"},
		{vc, Want{Quality: "720p"}, "sora-2"},
		{vc, Want{Quality: "sd"}, "sora-2"},
		{vc, Want{Storyboard: true}, ""},
		{"nope", Want{}, ""},
	} {
		m, err := c.Pick(tc.proto, tc.w)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("Pick(%s, %+v) = %s, want an error", tc.proto, tc.w, m.ID)
		case tc.want == "" && (ErrorCode(err) != EUNAVAILABLE || ErrorMessage(err) == ""):
			t.Errorf("Pick(%s, %+v) error = %v, want EUNAVAILABLE with a message", tc.proto, tc.w, err)
		case tc.want != "" && err != nil:
			t.Errorf("Pick(%s, %+v) = %v, want %s", tc.proto, tc.w, err, tc.want)
		case tc.want != "" && m.ID != tc.want:
			t.Errorf("Pick(%s, %+v) = %s, want %s", tc.proto, tc.w, m.ID, tc.want)
		}
	}
}

// With more images than some models take, Pick keeps to the asked tier
// first (a standard request never turns pro to take more pictures), then
// prefers a model that takes every image.
func TestPickPrefersEveryImage(t *testing.T) {
	m := func(id string, pro bool, maxImages int) *Model {
		return &Model{ID: id, Protocol: sp, Pro: pro, MinImages: 1, MaxImages: maxImages, Durations: []int{10}, DefaultDuration: 10}
	}
	c := &Catalog{Models: []*Model{m("one", false, 1), m("pro-four", true, 4), m("two", false, 2), m("pro-one", true, 1)}}
	for _, tc := range []struct {
		w    Want
		want string
	}{
		{Want{Images: 1}, "one"},
		{Want{Images: 2}, "two"},
		{Want{Images: 3}, "one"}, // the first standard model; both take fewer
		{Want{Images: 2, Pro: true}, "pro-four"},
		{Want{Images: 5, Pro: true}, "pro-four"},
	} {
		got, err := c.Pick(sp, tc.w)
		if err != nil || got.ID != tc.want {
			t.Errorf("Pick(%+v) = %v, %v; want %s", tc.w, got, err, tc.want)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	type seed struct {
		proto                               uint8
		model, prompt, orientation          string
		duration                            int
		quality                             string
		pro, storyboard, watermark, private bool
		scene                               string
		shotDur                             int
		nShots, nImages                     uint8
	}
	for _, s := range []seed{
		{0, "", "a cat", "", 0, "", false, false, false, false, "", 0, 0, 0},
		{0, "", "a cat", "PORTRAIT", 25, "hd", false, false, true, true, "", 0, 0, 1},
		{0, "", "", "", 0, "", true, true, false, false, "A city", 5, 2, 0},
		{0, "sora-2-pro-storyboard", "x", "landscape", 25, "", false, false, false, false, " scene ", 5, 5, 0},
		{0, "sora-2-pro-image-to-video", "é猫🎬", "portrait", 12, "HIGH", true, false, false, false, "", 0, 0, 1},
		{1, "", "a cat", "", 20, "large", true, false, true, true, "", 0, 0, 3},
		{1, "sora-2", "a cat", "square", 12, "720p", false, false, false, false, "", 0, 0, 5},
		{1, "sora-2-pro", "a cat", "", -7, "ultra", false, false, false, false, "s", 5, 2, 0},
		{2, "", "a cat", "", 0, "", false, false, false, false, "", 0, 0, 0},
		{0, "", "a cat", "", math.MinInt, "", false, false, false, false, "", math.MaxInt, 3, 0},
		{0, "", "\x00\xff", "\u00a0", math.MaxInt, "\xff", false, true, false, false, "\xff", math.MaxInt, 12, 4},
	} {
		f.Add(s.proto, s.model, s.prompt, s.orientation, s.duration, s.quality, s.pro, s.storyboard,
			s.watermark, s.private, s.scene, s.shotDur, s.nShots, s.nImages)
	}
	cat := DefaultCatalog()
	images := [][]byte{rqPNG(), rqJPEG(), rqWebP(), rqGIF(), []byte("text")}
	f.Fuzz(func(t *testing.T, proto uint8, model, prompt, orientation string, duration int, quality string,
		pro, storyboard, watermark, private bool, scene string, shotDur int, nShots, nImages uint8) {
		protocol := []string{ProtocolSoraPro, ProtocolVideoCreate, "other"}[proto%3]
		r := Request{Model: model, Prompt: prompt, Orientation: orientation, Duration: duration, Quality: quality,
			Pro: pro, Storyboard: storyboard, Watermark: watermark, Private: private}
		for i := range int(nShots % 13) {
			r.Shots = append(r.Shots, Shot{Scene: scene, Duration: shotDur + i%2})
		}
		for i := range int(nImages % 6) {
			// Mostly valid images; a prompt-derived blob now and then.
			data := images[(i+int(proto/3))%3]
			if nImages >= 128 {
				data = images[(i+int(proto))%len(images)]
			}
			r.Images = append(r.Images, Image{Data: data, MIME: "image/png"})
		}
		orig := rqCopy(r)
		q, err := cat.Normalize(protocol, &r)
		if err != nil {
			if code := ErrorCode(err); code != EINVALID && code != EUNAVAILABLE {
				t.Fatalf("%+v: error code %q (%v)", orig, code, err)
			}
			if ErrorMessage(err) == "" {
				t.Fatalf("%+v: empty error message", orig)
			}
			return
		}
		m := q.Model
		if m == nil || r.Model != m.ID || m.Disabled || m.Protocol != protocol {
			t.Fatalf("%+v: bad model %+v (request model %q)", orig, m, r.Model)
		}
		if q.Price <= 0 {
			t.Fatalf("%+v: price %d", orig, q.Price)
		}
		if !m.AllowsDuration(r.Duration) {
			t.Fatalf("%+v: duration %d not allowed by %s %v", orig, r.Duration, m.ID, m.Durations)
		}
		if p, ok := m.Price(r.Duration, r.Quality); !ok || p != q.Price {
			t.Fatalf("%+v: price %d is not the catalog's %d for %d s %q", orig, q.Price, p, r.Duration, r.Quality)
		}
		if r.Orientation != Portrait && r.Orientation != Landscape {
			t.Fatalf("%+v: orientation %q", orig, r.Orientation)
		}
		if len(m.Qualities) == 0 && r.Quality != "" || len(m.Qualities) > 0 && !slices.Contains(m.Qualities, r.Quality) {
			t.Fatalf("%+v: quality %q for %s %v", orig, r.Quality, m.ID, m.Qualities)
		}
		if r.Watermark && !m.WatermarkOption || r.Private && !m.PrivateOption {
			t.Fatalf("%+v: option kept on %s", orig, m.ID)
		}
		if n := len(r.Images); n < m.MinImages || n > m.MaxImages {
			t.Fatalf("%+v: %d images on %s", orig, n, m.ID)
		}
		for _, img := range r.Images {
			if !imageTypes[img.MIME] {
				t.Fatalf("%+v: image MIME %q", orig, img.MIME)
			}
		}
		if m.Storyboard {
			sum := 0
			for _, s := range r.Shots {
				if s.Scene == "" || s.Scene != strings.TrimSpace(s.Scene) || s.Duration <= 0 {
					t.Fatalf("%+v: bad shot %+v", orig, s)
				}
				sum += s.Duration
			}
			if r.Prompt != "" || len(r.Shots) == 0 || len(r.Shots) > m.MaxShots || sum != r.Duration {
				t.Fatalf("%+v: bad storyboard %+v", orig, r)
			}
		} else if r.Prompt == "" || utf8.RuneCountInString(r.Prompt) > m.PromptLimit() || len(r.Shots) > 0 {
			t.Fatalf("%+v: bad prompt or shots %+v", orig, r)
		}
		// A normalized request normalizes to itself at the same price.
		again := rqCopy(r)
		q2, err := cat.Normalize(protocol, &again)
		if err != nil || q2.Model != m || q2.Price != q.Price || again.Duration != r.Duration {
			t.Fatalf("%+v: second pass %v, model %v, price %d, duration %d", r, err, q2.Model, q2.Price, again.Duration)
		}
	})
}
