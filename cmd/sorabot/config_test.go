package main

import (
	"strings"
	"testing"
)

func TestConfigTelegramMaxUpload(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  int64 // -1: the configuration is refused
	}{
		{"", 0}, // the bot picks 50 MB or 2000 MB by TELEGRAM_API_URL
		{"50MB", 50 << 20},
		{"2000MB", 2000 << 20},
		{"2000 MB", 2000 << 20},
		{"50mb", 50 << 20},
		{"52428800", 52428800},
		{"1GB", 1 << 30},
		{"512KiB", 512 << 10},
		{"10B", 10},
		{"lots", -1},
		{"50XB", -1},
		{"-5MB", -1},
		{"0", -1},
		{"MB", -1},
		{"1.5GB", -1},
		{"9999999999999GB", -1},
	} {
		env := map[string]string{"TELEGRAM_MAX_UPLOAD": tc.value}
		c, err := LoadConfig(func(k string) string { return env[k] }, nil)
		switch {
		case tc.want < 0 && (err == nil || !strings.Contains(err.Error(), "TELEGRAM_MAX_UPLOAD")):
			t.Errorf("%q: err %v, want one naming TELEGRAM_MAX_UPLOAD", tc.value, err)
		case tc.want >= 0 && err != nil:
			t.Errorf("%q: %v", tc.value, err)
		case tc.want >= 0 && c.TelegramMaxUpload != tc.want:
			t.Errorf("%q: %d bytes, want %d", tc.value, c.TelegramMaxUpload, tc.want)
		}
	}
}
