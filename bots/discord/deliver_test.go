package discord

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/discord/discordtest"
	"sorabot/core"
)

// brokenRewind reads, but cannot go back to its start.
type brokenRewind struct{ io.Reader }

func (brokenRewind) Seek(int64, int) (int64, error) {
	return 0, errors.New("seek: file already closed")
}

// When the channel is not writable the video goes by DM, which needs the
// file read again from its start: if it cannot be rewound, no truncated
// file is sent and the error is one the service retries (with the file
// opened anew).
func TestDMResendNeedsRewind(t *testing.T) {
	h := newHarness(t, discordtest.Options{})
	h.fake.AddChannel("100", "301")
	h.fake.DenyChannel("301")
	j := &core.Job{ID: "7", Origin: core.Origin{Platform: Platform, ChatID: "301", Extra: map[string]string{"user": alice.ID}}}
	video := func(r io.Reader) *discordgo.MessageSend {
		return &discordgo.MessageSend{Content: "here", Files: []*discordgo.File{{Name: "7.mp4", ContentType: "video/mp4", Reader: r}}}
	}
	via, err := h.bot.post(j, video(brokenRewind{strings.NewReader("video bytes")}))
	if err == nil || !strings.Contains(err.Error(), "seek") {
		t.Fatalf("post with a file that cannot be rewound: via %q, err %v", via, err)
	}
	if !core.IsTemporary(h.bot.deliveryError(err)) {
		t.Fatalf("%v is not retried", err)
	}
	if dms := h.fake.DMs(alice.ID); len(dms) != 0 {
		t.Fatalf("DM sent anyway: %+v", dms)
	}
	// A reader that cannot seek at all is refused the same way.
	if _, err := h.bot.post(j, video(io.LimitReader(strings.NewReader("video bytes"), 100))); err == nil {
		t.Fatal("a reader that cannot rewind was sent again")
	}
	// A file that can be rewound arrives whole.
	via, err = h.bot.post(j, video(strings.NewReader("video bytes")))
	if err != nil || via != "dm" {
		t.Fatalf("post: via %q, err %v", via, err)
	}
	dms := h.fake.DMs(alice.ID)
	if len(dms) != 1 || len(dms[0].Files) != 1 || string(dms[0].Files[0].Data) != "video bytes" {
		t.Fatalf("DMs %+v", dms)
	}
	h.noViolations(t)
}
