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

func TestUploadLimit(t *testing.T) {
	if got := UploadLimit("http://127.0.0.1:8081", 0); got != MaxUploadLocal {
		t.Errorf("self-hosted default: %d", got)
	}
	if got := UploadLimit("https://api.telegram.org", 300<<10); got != 300<<10 {
		t.Errorf("configured: %d", got)
	}
}
