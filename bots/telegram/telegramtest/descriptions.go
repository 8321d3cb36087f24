package telegramtest

import (
	"context"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// The bot's description (shown in an empty chat) and short description (on
// its profile), one of each per language_code ("" for the default). As on
// Telegram: 0-512 and 0-120 characters, an empty text removes the one of
// that language, and the getters answer the text of exactly the language
// asked for ("" when it has none).
type descriptions struct {
	long, short map[string]string
}

const (
	maxDescription      = 512
	maxShortDescription = 120
)

func (s *Server) setMyDescription(_ context.Context, r *request) (any, *apiError) {
	return s.setDescription(r, "description", maxDescription, &s.descriptions.long)
}

func (s *Server) setMyShortDescription(_ context.Context, r *request) (any, *apiError) {
	return s.setDescription(r, "short_description", maxShortDescription, &s.descriptions.short)
}

func (s *Server) setDescription(r *request, field string, max int, set *map[string]string) (any, *apiError) {
	text := r.params[field]
	if !utf8.ValidString(text) {
		return nil, badRequest("strings must be encoded in UTF-8")
	}
	code, e := languageCode(r)
	if e != nil {
		return nil, e
	}
	if utf8.RuneCountInString(text) > max {
		return nil, badRequest(field + " is too long")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if *set == nil {
		*set = map[string]string{}
	}
	if text == "" {
		delete(*set, code)
	} else {
		(*set)[code] = text
	}
	return true, nil
}

func (s *Server) getMyDescription(_ context.Context, r *request) (any, *apiError) {
	code, e := languageCode(r)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return models.BotDescription{Description: s.descriptions.long[code]}, nil
}

func (s *Server) getMyShortDescription(_ context.Context, r *request) (any, *apiError) {
	code, e := languageCode(r)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return models.BotShortDescription{ShortDescription: s.descriptions.short[code]}, nil
}

// Description is the description set for language_code lang ("" for the
// default), "" when none is.
func (s *Server) Description(lang string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.descriptions.long[lang]
}

// ShortDescription is the short description set for language_code lang
// ("" for the default), "" when none is.
func (s *Server) ShortDescription(lang string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.descriptions.short[lang]
}
