package telegram_test

import (
	"bufio"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"golang.org/x/time/rate"

	"sorabot/bots/telegram"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core"
	"sorabot/core/provider/providertest"
	"sorabot/core/provider/sorapro"
	"sorabot/storage"
)

const token = "777000111:AAFakeTelegramTestTokenForSoraBot"

// world is a whole bot in-process: bbolt (fsync on), the service, the
// provider emulator through the sorapro client, and the fake Bot API.
type world struct {
	fake *telegramtest.Server
	emu  *providertest.Server
	svc  *core.Service
	db   *storage.DB
	bot  *telegram.Bot
	stop func()
}

func newWorld(b *testing.B, taskDuration time.Duration) *world {
	dir := b.TempDir()
	w := &world{}
	w.fake = telegramtest.New(telegramtest.Options{Token: token})
	w.emu = providertest.New(providertest.Options{Key: "k", Duration: taskDuration})
	db, err := storage.Open(filepath.Join(dir, "db"), storage.Options{StartCredits: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	w.db = db
	w.svc = core.NewService(core.Config{
		// The defaults (20 jobs at the provider, 10 provider calls/s), with
		// no per-user limits: the benchmark's users are busy.
		Protocol: core.ProtocolSoraPro, UserMaxActive: -1, UserRate: rate.Inf,
		VideoDir: filepath.Join(dir, "videos"),
		Poll:     core.PollConfig{First: 100 * time.Millisecond, KeepAlive: time.Second},
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}, db, sorapro.New(w.emu.URL, "k"), core.DefaultCatalog())
	ctx, cancel := context.WithCancel(context.Background())
	w.bot, err = telegram.New(ctx, w.svc, telegram.Options{Token: core.Secret(token), APIURL: w.fake.URL})
	if err != nil {
		b.Fatal(err)
	}
	w.svc.SetFrontend(telegram.Platform, w.bot)
	if err := w.svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { w.bot.Run(ctx); close(done) }()
	w.stop = func() {
		cancel()
		<-done
		w.svc.Stop()
		db.Close()
		w.emu.Close()
		w.fake.Close()
	}
	return w
}

func waitCalls(b *testing.B, fake *telegramtest.Server, method string, n int) {
	deadline := time.Now().Add(2 * time.Minute)
	for len(fake.CallsTo(method)) < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d %s calls", len(fake.CallsTo(method)), n, method)
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkCommands reports /video commands per second from the update to
// the job's first status message, through the real client and the fake Bot
// API, next to a bot on the same client and fake that only echoes (the
// ceiling).
func BenchmarkCommands(b *testing.B) {
	const n, users = 400, 100
	var ours, echo float64
	for b.Loop() {
		w := newWorld(b, time.Hour)
		for i := range users {
			w.fake.AddChat(int64(1000+i), int64(1000+i))
		}
		start := time.Now()
		for i := range n {
			u := int64(1000 + i%users)
			w.fake.SendText(u, u, "/video a cat surfing number "+strconv.Itoa(i))
		}
		waitCalls(b, w.fake, "sendMessage", n)
		ours = n / time.Since(start).Seconds()
		w.stop()

		fake := telegramtest.New(telegramtest.Options{Token: token})
		ctx, cancel := context.WithCancel(context.Background())
		bot, err := tg.New(token, tg.WithServerURL(fake.URL), tg.WithSkipGetMe(),
			tg.WithDefaultHandler(func(ctx context.Context, bot *tg.Bot, u *models.Update) {
				if u.Message != nil {
					bot.SendMessage(ctx, &tg.SendMessageParams{ChatID: u.Message.Chat.ID, Text: u.Message.Text})
				}
			}))
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() { bot.Start(ctx); close(done) }()
		start = time.Now()
		for i := range n {
			u := int64(1000 + i%users)
			fake.SendText(u, u, "/video a cat surfing number "+strconv.Itoa(i))
		}
		waitCalls(b, fake, "sendMessage", n)
		echo = n / time.Since(start).Seconds()
		cancel()
		<-done
		fake.Close()
	}
	b.ReportMetric(ours, "cmds/s")
	b.ReportMetric(echo, "echo-cmds/s")
	b.ReportMetric(ours/echo, "x-echo")
}

// rssKB reads a field of /proc/self/status in kB.
func rssKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

// BenchmarkRelay50MB reports the peak RSS growth while a 49 MiB video goes
// from the provider to the chat: downloaded to a file, then uploaded as a
// stream (it must not be held in memory).
func BenchmarkRelay50MB(b *testing.B) {
	const size = 49 << 20
	var growth int64
	for b.Loop() {
		w := newWorld(b, 200*time.Millisecond)
		w.emu.SetResultSize(size)
		w.fake.AddChat(42, 42)
		// Start from a settled heap, then reset the peak (VmHWM) to the
		// current RSS, where the kernel allows it.
		debug.FreeOSMemory()
		os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
		base := rssKB("VmRSS")
		w.fake.SendText(42, 42, "/video a long river")
		m, ok := w.fake.WaitBotMessage(2*time.Minute, 42, func(m telegramtest.BotMessage) bool { return m.Kind == "video" })
		if !ok || m.Video == nil || m.Video.Size != size {
			b.Fatalf("video not relayed: %+v", m)
		}
		growth = rssKB("VmHWM") - base
		w.stop()
	}
	b.ReportMetric(float64(growth)/1024, "peak-rss-growth-MB")
	b.ReportMetric(float64(size)/(1<<20), "video-MB")
}
