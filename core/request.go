package core

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Orientations.
const (
	Portrait  = "portrait"
	Landscape = "landscape"
)

// MaxImageBytes is the largest image a request may carry.
const MaxImageBytes = 10 << 20

// Image is a picture to animate. Data holds its bytes (always checked by
// content); URL, when set, is a public address the provider may fetch.
// A Telegram file URL (it contains the bot token) must never be put here.
type Image struct {
	Data []byte `json:"-"`
	MIME string `json:"mime,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Shot is one scene of a storyboard; the JSON names are the wire's.
type Shot struct {
	Scene    string `json:"Scene"`
	Duration int    `json:"duration"`
}

// Request is what a user asks for. Zero values mean "the default".
type Request struct {
	// Model names a catalog model; empty lets the catalog pick one from
	// Storyboard, Pro, the images and the quality.
	Model       string  `json:"model,omitempty"`
	Storyboard  bool    `json:"storyboard,omitempty"`
	Pro         bool    `json:"pro,omitempty"`
	Prompt      string  `json:"prompt,omitempty"`
	Images      []Image `json:"images,omitempty"`
	Orientation string  `json:"orientation,omitempty"`
	Duration    int     `json:"duration,omitempty"`
	Quality     string  `json:"quality,omitempty"`
	// Watermark true accepts a watermarked video (the default asks for none).
	Watermark bool   `json:"watermark,omitempty"`
	Private   bool   `json:"private,omitempty"`
	Shots     []Shot `json:"shots,omitempty"`
}

// Quote is the outcome of a valid request: the model that will make it, its
// price, and notes for the user about what was adjusted.
type Quote struct {
	Model *Model
	Price int
	Notes []Message
}

// Normalize checks r against the rules of the model it names (or picks one
// for protocol; "" means any), fills in defaults, adjusts durations and qualities the model
// does not offer, and prices it. A violation is an *Error with code EINVALID
// or EUNAVAILABLE whose message tells the user what to change.
func (c *Catalog) Normalize(protocol string, r *Request) (Quote, error) {
	var q Quote
	if len(r.Shots) > 0 {
		r.Storyboard = true
	}
	m, err := c.resolveModel(protocol, r)
	if err != nil {
		return q, err
	}
	q.Model = m
	r.Model = m.ID
	r.Storyboard = m.Storyboard
	note := func(m *Msg, args Args) { q.Notes = append(q.Notes, m.With(args)) }

	if m.Storyboard {
		if err := normalizeShots(c, m, r, note); err != nil {
			return q, err
		}
	} else {
		if len(r.Shots) > 0 {
			return q, msgShotsNotStoryboard.Err(EINVALID, nil)
		}
		r.Prompt = strings.TrimSpace(r.Prompt)
		if r.Prompt == "" {
			return q, msgPromptRequired.Err(EINVALID, nil)
		}
		if n := utf8.RuneCountInString(r.Prompt); n > m.PromptLimit() {
			return q, msgPromptTooLong.Err(EINVALID, Args{"Length": n, "Limit": m.PromptLimit()})
		}
		if r.Duration == 0 {
			r.Duration = m.DefaultDuration
		} else if !m.AllowsDuration(r.Duration) {
			got := m.nearestDuration(r.Duration)
			if c.storyboardOnly(protocol, r.Duration) {
				note(msgNoteStoryboardOnly, Args{"Asked": r.Duration, "Made": got})
			} else {
				note(msgNoteDuration, Args{"Asked": r.Duration, "Model": m.ID, "Made": got})
			}
			r.Duration = got
		}
	}
	if err := checkImages(m, r, note); err != nil {
		return q, err
	}

	switch o := strings.ToLower(strings.TrimSpace(r.Orientation)); o {
	case "":
		r.Orientation = Landscape
	case Portrait, Landscape:
		r.Orientation = o
	default:
		return q, msgBadOrientation.Err(EINVALID, Args{"Value": r.Orientation})
	}

	if r.Quality == "" {
		r.Quality = m.DefaultQuality()
	} else if got := resolveQuality(m, r.Quality); got != "" {
		r.Quality = got
	} else {
		if len(m.Qualities) > 1 {
			return q, msgBadQuality.Err(EINVALID, Args{"Qualities": strings.Join(m.Qualities, ", "), "Value": r.Quality})
		}
		note(msgNoteOneQuality, Args{"Model": m.ID, "Value": r.Quality})
		r.Quality = m.DefaultQuality()
	}
	if r.Watermark && !m.WatermarkOption {
		note(msgNoteNoWatermark, Args{"Model": m.ID})
		r.Watermark = false
	}
	if r.Private && !m.PrivateOption {
		note(msgNoteNoPrivate, Args{"Model": m.ID})
		r.Private = false
	}
	price, ok := m.Price(r.Duration, r.Quality)
	if !ok {
		return q, msgNoPrice.Err(EUNAVAILABLE, Args{"Model": m.ID, "Seconds": r.Duration})
	}
	q.Price = price
	return q, nil
}

func (c *Catalog) resolveModel(protocol string, r *Request) (*Model, error) {
	if r.Model == "" {
		w := Want{Storyboard: r.Storyboard, Pro: r.Pro, Images: len(r.Images), Quality: r.Quality}
		m, err := c.Pick(protocol, w)
		if err != nil && w.Quality != "" {
			// No model of that kind has the quality asked: pick as if none
			// was asked, and let the quality rule reject or note it.
			w.Quality = ""
			if m2, err2 := c.Pick(protocol, w); err2 == nil {
				return m2, nil
			}
		}
		return m, err
	}
	m, ok := c.Model(r.Model)
	if !ok || m.Disabled || (protocol != "" && m.Protocol != protocol) {
		var ids []string
		for _, e := range c.Enabled(protocol) {
			ids = append(ids, e.ID)
		}
		return nil, msgModelNotOffered.Err(EUNAVAILABLE, Args{"Model": r.Model, "Models": strings.Join(ids, ", ")})
	}
	if r.Storyboard && !m.Storyboard {
		return nil, msgNotStoryboardModel.Err(EINVALID, Args{"Model": m.ID})
	}
	return m, nil
}

// storyboardOnly reports whether seconds is offered only by storyboard models.
func (c *Catalog) storyboardOnly(protocol string, seconds int) bool {
	found := false
	for _, m := range c.Enabled(protocol) {
		if m.AllowsDuration(seconds) {
			if !m.Storyboard {
				return false
			}
			found = true
		}
	}
	return found
}

func normalizeShots(c *Catalog, m *Model, r *Request, note func(*Msg, Args)) error {
	r.Prompt = "" // a storyboard's content is its shots; the prompt is not sent
	if len(r.Shots) == 0 {
		return msgStoryboardNeedShots.Err(EINVALID, nil)
	}
	if len(r.Shots) > m.MaxShots {
		return msgTooManyShots.Err(EINVALID, Args{"Max": m.MaxShots, "Count": len(r.Shots)})
	}
	total, most := 0, m.Durations[len(m.Durations)-1]
	for i := range r.Shots {
		s := &r.Shots[i]
		s.Scene = strings.TrimSpace(s.Scene)
		if s.Scene == "" {
			return msgShotNoScene.Err(EINVALID, Args{"Shot": i + 1})
		}
		if n := utf8.RuneCountInString(s.Scene); n > m.PromptLimit() {
			return msgShotTooLong.Err(EINVALID, Args{"Shot": i + 1, "Length": n, "Limit": m.PromptLimit()})
		}
		if s.Duration <= 0 {
			return msgShotNoDuration.Err(EINVALID, Args{"Shot": i + 1})
		}
		if s.Duration > most-total { // also keeps the sum from overflowing
			return msgShotsOver.Err(EINVALID, Args{"Most": most, "Allowed": joinInts(m.Durations)})
		}
		total += s.Duration
	}
	if r.Duration != 0 && r.Duration != total {
		return msgShotsMismatch.Err(EINVALID, Args{"Total": total, "Asked": r.Duration, "Allowed": joinInts(m.Durations)})
	}
	if !m.AllowsDuration(total) {
		return msgShotsTotal.Err(EINVALID, Args{"Total": total, "Allowed": joinInts(m.Durations)})
	}
	r.Duration = total
	return nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, d := range v {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, ", ")
}

// imageTypes are the pictures providers take, by sniffed content type.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/webp": true}

// checkImages checks the images by content; of more images than the model
// takes, the first ones are used and a note says so.
func checkImages(m *Model, r *Request, note func(*Msg, Args)) error {
	n := len(r.Images)
	switch {
	case n > 0 && m.MaxImages == 0:
		return msgNoImages.Err(EINVALID, Args{"Model": m.ID})
	case n < m.MinImages:
		return msgNeedsImage.Err(EINVALID, Args{"Model": m.ID})
	case n > m.MaxImages && m.MaxImages == 1:
		note(msgNoteOneImage, Args{"Model": m.ID, "Count": n})
		r.Images = r.Images[:1]
	case n > m.MaxImages:
		note(msgNoteMaxImages, Args{"Model": m.ID, "Max": m.MaxImages, "Count": n})
		r.Images = r.Images[:m.MaxImages]
	}
	for i := range r.Images {
		img := &r.Images[i]
		if len(img.Data) == 0 {
			return msgImageEmpty.Err(EINVALID, Args{"Image": i + 1})
		}
		if len(img.Data) > MaxImageBytes {
			return msgImageTooBig.Err(EINVALID, Args{"Image": i + 1, "Size": fmt.Sprintf("%.1f", float64(len(img.Data))/(1<<20)), "Limit": MaxImageBytes >> 20})
		}
		ct := http.DetectContentType(img.Data)
		if !imageTypes[ct] {
			return msgImageType.Err(EINVALID, Args{"Image": i + 1})
		}
		img.MIME = ct
		if strings.Contains(img.URL, "/file/bot") {
			// A Telegram file URL carries the bot token: never pass it on.
			img.URL = ""
		}
	}
	return nil
}
