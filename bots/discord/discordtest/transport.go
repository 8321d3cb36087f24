package discordtest

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
)

// discordHosts are the hosts Transport sends to the fake.
var discordHosts = map[string]bool{
	"discord.com":          true,
	"discordapp.com":       true,
	"cdn.discordapp.com":   true,
	"media.discordapp.net": true,
}

type redirect struct {
	target *url.URL
	base   http.RoundTripper
}

func (t redirect) RoundTrip(r *http.Request) (*http.Response, error) {
	host := strings.ToLower(r.URL.Hostname())
	if !discordHosts[host] {
		return t.base.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.URL.Scheme = t.target.Scheme
	r2.URL.Host = t.target.Host
	r2.Host = t.target.Host
	return t.base.RoundTrip(r2)
}

// Transport returns an http.RoundTripper that sends every request for
// https://discord.com, https://cdn.discordapp.com and https://media.discordapp.net
// to the fake, keeping path and query; other hosts go out unchanged.
func (s *Server) Transport() http.RoundTripper {
	u, _ := url.Parse(s.URL)
	return redirect{target: u, base: s.transport}
}

// Apply points a discordgo session at the fake: its HTTP client's transport
// is replaced by Transport() (the gateway URL then comes from the fake's
// GET /gateway answer).
func (s *Server) Apply(sess *discordgo.Session) {
	if sess.Client == nil {
		sess.Client = &http.Client{Timeout: 20 * time.Second}
	}
	sess.Client.Transport = s.Transport()
}
