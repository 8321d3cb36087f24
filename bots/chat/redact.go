package chat

import (
	"errors"
	"strings"

	"sorabot/core"
)

// Redact removes token from an error's text: the Bot API's URLs carry the
// Telegram token, and a library may quote a request in its errors.
func Redact(err error, token core.Secret) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token.Reveal()) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), token.Reveal(), "[redacted]"))
}
