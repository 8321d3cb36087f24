package core

import (
	"context"
	"time"
)

// MediaHost publishes bytes at a short-lived public URL of the bot's own
// (the /media/<random> links, when SORABOT_PUBLIC_URL is set), so a
// provider that takes image URLs can fetch an uploaded picture.
type MediaHost interface {
	Publish(ctx context.Context, data []byte, contentType string, ttl time.Duration) (url string, err error)
}
