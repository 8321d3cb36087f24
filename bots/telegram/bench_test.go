package telegram_test

import (
	"bufio"
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
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

func newWorld(b *testing.B, taskDuration time.Duration, tune ...func(*core.Config)) *world {
	dir := b.TempDir()
	w := &world{}
	// The fakes' goroutines carry the profile label side=fake, apart from
	// the bot's (started from a goroutine of their own, so that this one
	// keeps its labels).
	started := make(chan struct{})
	go pprof.Do(context.Background(), pprof.Labels("side", "fake"), func(context.Context) {
		w.fake = telegramtest.New(telegramtest.Options{Token: token})
		w.emu = providertest.New(providertest.Options{Key: "k", Duration: taskDuration})
		close(started)
	})
	<-started
	db, err := storage.Open(filepath.Join(dir, "db"), storage.Options{StartCredits: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	w.db = db
	cfg := core.Config{
		// The defaults (20 jobs at the provider, 10 provider calls/s), with
		// no per-user limits: the benchmark's users are busy.
		Protocol: core.ProtocolSoraPro, UserMaxActive: -1, UserRate: rate.Inf,
		VideoDir: filepath.Join(dir, "videos"),
		Poll:     core.PollConfig{First: 100 * time.Millisecond, KeepAlive: time.Second},
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, f := range tune {
		f(&cfg)
	}
	w.svc = core.NewService(cfg, db, sorapro.New(w.emu.URL, "k"), core.DefaultCatalog())
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

// waitCalls waits until the fake has seen n calls of method, looking every
// tick (the call log is copied at each look).
func waitCalls(b *testing.B, fake *telegramtest.Server, method string, n int, tick time.Duration) {
	deadline := time.Now().Add(2 * time.Minute)
	for len(fake.CallsTo(method)) < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d %s calls", len(fake.CallsTo(method)), n, method)
		}
		time.Sleep(tick)
	}
}

// echoBot is the ceiling: a bot on the same client and fake whose handler
// only answers (answer is called for every message).
type echoBot struct {
	fake *telegramtest.Server
	stop func()
}

func newEchoBot(b *testing.B, answer func(ctx context.Context, bot *tg.Bot, m *models.Message)) *echoBot {
	fake := telegramtest.New(telegramtest.Options{Token: token})
	ctx, cancel := context.WithCancel(context.Background())
	bot, err := tg.New(token, tg.WithServerURL(fake.URL), tg.WithSkipGetMe(),
		tg.WithDefaultHandler(func(ctx context.Context, bot *tg.Bot, u *models.Update) {
			if u.Message != nil {
				answer(ctx, bot, u.Message)
			}
		}))
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { bot.Start(ctx); close(done) }()
	return &echoBot{fake: fake, stop: func() { cancel(); <-done; fake.Close() }}
}

func echoText(ctx context.Context, bot *tg.Bot, m *models.Message) {
	bot.SendMessage(ctx, &tg.SendMessageParams{ChatID: m.Chat.ID, Text: m.Text})
}

// burst sends text once from each of users users (private chats 1000,
// 1001, …) at once, waits until the fake has seen users calls of method
// (looking every tick) and returns the rate of those calls.
func burst(b *testing.B, fake *telegramtest.Server, users int, text, method string, tick time.Duration) float64 {
	start := time.Now()
	for i := range users {
		u := int64(1000 + i)
		fake.SendText(u, u, text)
	}
	waitCalls(b, fake, method, users, tick)
	return float64(users) / time.Since(start).Seconds()
}

// BenchmarkCommands reports /video commands per second from the update to
// the job's first status message (400 commands from 100 users), through
// the real client and the fake Bot API, next to a bot on the same client
// and fake that only echoes (the ceiling), measured right before. Each
// figure is the median of three rounds.
func BenchmarkCommands(b *testing.B) {
	const n, users, rounds = 400, 100, 3
	send := func(fake *telegramtest.Server) float64 {
		start := time.Now()
		for i := range n {
			u := int64(1000 + i%users)
			fake.SendText(u, u, "/video a cat surfing number "+strconv.Itoa(i))
		}
		waitCalls(b, fake, "sendMessage", n, time.Millisecond)
		return n / time.Since(start).Seconds()
	}
	var ours, echo, ratio []float64
	for b.Loop() {
		e := newEchoBot(b, echoText)
		send(e.fake) // warm up
		e.stop()
		ours, echo, ratio = nil, nil, nil
		for range rounds {
			e := newEchoBot(b, echoText)
			er := send(e.fake)
			e.stop()
			w := newWorld(b, time.Hour)
			for i := range users {
				w.fake.AddChat(int64(1000+i), int64(1000+i))
			}
			or := send(w.fake)
			w.stop()
			ours, echo, ratio = append(ours, or), append(echo, er), append(ratio, or/er)
		}
	}
	b.ReportMetric(median(ours), "cmds/s")
	b.ReportMetric(median(echo), "echo-cmds/s")
	b.ReportMetric(median(ratio), "x-echo")
}

// BenchmarkFirstContact reports /start, /help, /balance and /video
// answered per second when 500 users who never wrote to the bot send one
// each at once (each a new account), next to an echo bot on the same
// client and fake measured right before. Each figure is the median of
// three rounds (a round takes a fraction of a second, so the machine's
// other work shows).
func BenchmarkFirstContact(b *testing.B) {
	const users, rounds = 500, 3
	cmds := []struct{ name, text string }{
		{"start", "/start"}, {"help", "/help"}, {"balance", "/balance"}, {"video", "/video a cat surfing"},
	}
	ours := make([]float64, len(cmds))
	ratio := make([]float64, len(cmds))
	var echoAll []float64
	for b.Loop() {
		// Warm up (the fake's spec, connections, the runtime).
		e := newEchoBot(b, echoText)
		burst(b, e.fake, users, "/start", "sendMessage", time.Millisecond)
		e.stop()
		echoAll = echoAll[:0]
		for i, c := range cmds {
			var o, r []float64
			for range rounds {
				e := newEchoBot(b, echoText)
				echo := burst(b, e.fake, users, c.text, "sendMessage", time.Millisecond)
				e.stop()
				w := newWorld(b, time.Hour)
				v := burst(b, w.fake, users, c.text, "sendMessage", time.Millisecond)
				w.stop()
				o, r, echoAll = append(o, v), append(r, v/echo), append(echoAll, echo)
			}
			ours[i], ratio[i] = median(o), median(r)
		}
	}
	for i, c := range cmds {
		b.ReportMetric(ours[i], c.name+"/s")
	}
	b.ReportMetric(median(echoAll), "echo/s")
	for i, c := range cmds {
		b.ReportMetric(ratio[i], c.name+"-x-echo")
	}
}

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// BenchmarkDeliveries reports videos delivered per second when 2,000 users
// ask for one 0.1-s video each at once, with a fast provider
// (PROVIDER_RATE=1000, PROVIDER_MAX_INFLIGHT=300, SORABOT_POLL_FIRST=100ms),
// from the first update to the last sendVideo, next to an echo bot that
// answers each message with the same upload (the Telegram side's ceiling).
// On a shared machine the rates follow its load; the CPU time per video
// (of the whole process: bot and fakes) does much less.
//
// CPU samples carry the label side=bot (the bot), side=fake (the fake Bot
// API and the provider emulator) or side=echo: profile the bot alone with
// go tool pprof -tagfocus side=bot.
func BenchmarkDeliveries(b *testing.B) {
	const users = 2000
	var ours, echo, oursCPU, echoCPU float64
	sample := providertest.SampleMP4()
	for b.Loop() {
		pprof.Do(context.Background(), pprof.Labels("side", "bot"), func(context.Context) {
			w := newWorld(b, 100*time.Millisecond, func(c *core.Config) {
				c.ProviderRate, c.MaxInflight = 1000, 300
			})
			cpu := cpuTime()
			ours = burst(b, w.fake, users, "/video a cat surfing", "sendVideo", 10*time.Millisecond)
			oursCPU = float64(cpuTime()-cpu) / float64(time.Millisecond) / users
			if got := w.emu.Creates(); got != users {
				b.Fatalf("%d creates at the provider for %d jobs", got, users)
			}
			w.stop()
		})
		pprof.Do(context.Background(), pprof.Labels("side", "echo"), func(context.Context) {
			e := newEchoBot(b, func(ctx context.Context, bot *tg.Bot, m *models.Message) {
				bot.SendVideo(ctx, &tg.SendVideoParams{ChatID: m.Chat.ID,
					Video: &models.InputFileUpload{Filename: "v.mp4", Data: bytes.NewReader(sample)}})
			})
			cpu := cpuTime()
			echo = burst(b, e.fake, users, "/video a cat surfing", "sendVideo", 10*time.Millisecond)
			echoCPU = float64(cpuTime()-cpu) / float64(time.Millisecond) / users
			e.stop()
		})
	}
	b.ReportMetric(ours, "videos/s")
	b.ReportMetric(echo, "echo-videos/s")
	b.ReportMetric(ours/echo, "x-echo")
	b.ReportMetric(oursCPU, "cpu-ms/video")
	b.ReportMetric(echoCPU, "echo-cpu-ms/video")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
