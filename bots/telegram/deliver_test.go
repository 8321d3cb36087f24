package telegram_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sorabot/bots/telegram"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
	"sorabot/core/provider/providertest"
	"sorabot/core/provider/sorapro"
	"sorabot/storage"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A delivered video whose Telegram file id cannot be stored (here: the job
// is gone) is still delivered, and the failure is logged with the job.
func TestDeliverLogsUnrememberedFileID(t *testing.T) {
	fake := telegramtest.New(telegramtest.Options{Token: token})
	defer fake.Close()
	emu := providertest.New(providertest.Options{Key: "k"})
	defer emu.Close()
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, "db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs lockedBuf
	log := slog.New(slog.NewTextHandler(&logs, nil))
	svc := core.NewService(core.Config{Protocol: core.ProtocolSoraPro, VideoDir: dir, Logger: log},
		db, sorapro.New(emu.URL, "k"), core.DefaultCatalog())
	ctx := context.Background()
	b, err := telegram.New(ctx, svc, telegram.Options{Token: core.Secret(token), APIURL: fake.URL, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	fake.AddChat(42, 42)
	video := filepath.Join(dir, "77.mp4")
	if err := os.WriteFile(video, providertest.SampleMP4(), 0o600); err != nil {
		t.Fatal(err)
	}
	j := &core.Job{ID: "77", UserID: "telegram:42", Req: core.Request{Prompt: "a cat"},
		Origin: core.Origin{Platform: telegram.Platform, ChatID: "42"}}
	via, err := b.Deliver(ctx, j, core.Video{Path: video, Size: int64(len(providertest.SampleMP4()))})
	if err != nil || via != "upload" {
		t.Fatalf("Deliver = %q, %v", via, err)
	}
	if n := len(fake.CallsTo("sendVideo")); n != 1 {
		t.Fatalf("%d sendVideo calls", n)
	}
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "file id") {
			line = l
		}
	}
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "job_id=77") || !strings.Contains(line, "err=") {
		t.Errorf("no warning naming the job; log:\n%s", logs.String())
	}
}
