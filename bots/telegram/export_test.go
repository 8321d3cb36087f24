package telegram

import "time"

// AlbumTimer is what an album's timer does.
type AlbumTimer = albumTimer

// SetAlbumTimers makes b start its album timers with after instead of
// time.AfterFunc, so that a test fires them when it chooses. Call it
// before Run.
func SetAlbumTimers(b *Bot, after func(time.Duration, func()) AlbumTimer) {
	b.albums.afterFunc = after
}
