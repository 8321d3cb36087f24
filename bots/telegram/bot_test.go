package telegram

import "testing"

func TestDefaultMaxUpload(t *testing.T) {
	for url, want := range map[string]int64{
		"https://api.telegram.org":      MaxUpload,
		"https://API.telegram.org/":     MaxUpload,
		"https://api.telegram.org:443":  MaxUpload,
		"http://127.0.0.1:8081":         MaxUploadLocal,
		"https://botapi.example.com":    MaxUploadLocal,
		"https://api.telegram.org.evil": MaxUploadLocal,
	} {
		if got := defaultMaxUpload(url); got != want {
			t.Errorf("%s: %d, want %d", url, got, want)
		}
	}
}
