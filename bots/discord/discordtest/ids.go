package discordtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"
)

// discordEpoch is the first millisecond of 2015, the zero of Discord snowflakes.
const discordEpoch = 1420070400000

var snowflakeSeq atomic.Uint64

// newID returns a fresh, time-ordered snowflake.
func newID() string {
	ms := uint64(time.Now().UnixMilli() - discordEpoch)
	return strconv.FormatUint(ms<<22|(snowflakeSeq.Add(1)&0x3FFFFF), 10)
}

// newToken returns an interaction token shaped like Discord's (long, url-safe).
func newToken(id string) string {
	b := make([]byte, 96)
	_, _ = rand.Read(b)
	return "aW50ZXJhY3Rpb246" + base64.RawURLEncoding.EncodeToString([]byte(id)) + "OjE" + base64.RawURLEncoding.EncodeToString(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}
