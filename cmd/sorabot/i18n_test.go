package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"sorabot/bots/discord/discordtest"
	"sorabot/bots/telegram/telegramtest"
	"sorabot/core/provider/providertest"
)

// The language of the whole conversation, end to end through the program:
// an Italian Telegram user, a Chinese Discord user, and a /language choice
// that survives restarts, each from the first command to a delivered video
// and a refusal, with no English sentence on the way.

// englishFragments are every run of three words in a row found in the
// English catalog (placeholders cut the runs; a "word" is letters only, so
// ids, options like --hd and numbers are not words). A message containing
// one of them has English in it.
func englishFragments(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../../i18n/locales/*.en.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no English catalog: %v", err)
	}
	placeholder := regexp.MustCompile(`{{[^}]*}}`)
	frags := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var msgs map[string]any
		if err := json.Unmarshal(data, &msgs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var texts []string
		for _, v := range msgs {
			switch v := v.(type) {
			case string:
				texts = append(texts, v)
			case map[string]any:
				for _, s := range v {
					texts = append(texts, s.(string))
				}
			}
		}
		for _, text := range texts {
			for _, part := range placeholder.Split(text, -1) {
				for _, run := range wordRuns(part) {
					for i := 0; i+3 <= len(run); i++ {
						frags[strings.Join(run[i:i+3], " ")] = true
					}
				}
			}
		}
	}
	if len(frags) < 300 {
		t.Fatalf("only %d English fragments", len(frags))
	}
	return frags
}

// wordRuns splits text into runs of consecutive words, lowercased; a token
// that is not a word (it has digits, dashes, slashes, …) ends a run, and so
// do the ends of sentences.
func wordRuns(text string) [][]string {
	var runs [][]string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			runs = append(runs, cur)
		}
		cur = nil
	}
	for _, tok := range strings.Fields(text) {
		w := strings.TrimLeft(tok, `("'“«`)
		end := strings.TrimRight(w, `.,;:!?)"'”»`)
		if !isWord(end) {
			flush()
			continue
		}
		cur = append(cur, strings.ToLower(end))
		if end != w { // punctuation ends the run
			flush()
		}
	}
	flush()
	return runs
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '\'') {
			return false
		}
	}
	return true
}

// noEnglish fails for every text holding an English fragment.
func noEnglish(t *testing.T, frags map[string]bool, where string, texts []string) {
	t.Helper()
	for _, text := range texts {
		for _, run := range wordRuns(text) {
			for i := 0; i+3 <= len(run); i++ {
				if f := strings.Join(run[i:i+3], " "); frags[f] {
					t.Errorf("%s: English %q in %q", where, f, text)
				}
			}
		}
	}
}

var buttonLabel = regexp.MustCompile(`"(?:text|label)":"([^"]*)"`)

// labels are the button texts of a reply markup or components JSON.
func labels(markup string) []string {
	var out []string
	for _, m := range buttonLabel.FindAllStringSubmatch(markup, -1) {
		out = append(out, m[1])
	}
	return out
}

// tgTexts are the texts of every message the bot sent to chat from index
// from on (as they read now, after edits), with their buttons.
func tgTexts(w *tgWorld, chat int64, from int) []string {
	var out []string
	msgs := w.fake.BotMessages(chat)
	for _, m := range msgs[min(from, len(msgs)):] {
		out = append(out, m.Text, m.Caption)
		out = append(out, labels(m.ReplyMarkup)...)
	}
	return out
}

func TestI18nItalianTelegramUser(t *testing.T) {
	frags := englishFragments(t)
	w := newTGWorld(t, "sorapro", "SORABOT_START_CREDITS=150").start()
	const chat = 4001
	w.fake.SetLanguage(chat, "it")

	w.fake.SendText(chat, chat, "/start")
	w.waitText(chat, "👋 Ti do il benvenuto!")
	w.waitText(chat, "Hai 150 crediti; un video costa a partire da 100 crediti.")
	w.fake.SendText(chat, chat, "/help")
	w.waitText(chat, "Sora 2 da testo a video")
	w.fake.SendText(chat, chat, "/video un gatto che fa surf al tramonto")
	v := w.waitVideo(chat)
	if v.Caption != "un gatto che fa surf al tramonto" || !strings.Contains(v.ReplyMarkup, "🔁 Ancora") {
		t.Errorf("video caption %q, buttons %s", v.Caption, v.ReplyMarkup)
	}
	w.waitText(chat, "✅ Richiesta #1 completata")
	w.fake.SendText(chat, chat, "/balance")
	w.waitText(chat, "50 crediti\n\nUltimi movimenti:")
	// Refusals: the core's (not enough credits), the grammar's, a job's.
	w.fake.SendText(chat, chat, "/video un cane che balla")
	w.waitText(chat, "⚠️ Questo video costa 100 crediti; il tuo saldo è 50 crediti.")
	w.fake.SendText(chat, chat, "/video --lentissimo un cane")
	w.waitText(chat, "⚠️ Opzione sconosciuta: --lentissimo.")
	w.fake.SendText(chat, chat, "/cancel 1")
	w.waitText(chat, "⚠️ La richiesta 1 è già stata consegnata.")
	w.fake.SendText(chat, chat, "ciao")
	w.waitText(chat, "Invia /video seguito da una descrizione")

	noEnglish(t, frags, "Italian Telegram chat", tgTexts(w, chat, 0))
	w.noViolations()
}

// dcTexts are the texts a Discord user saw of interactions: the original
// responses and follow-ups, with their buttons.
func dcTexts(w *dcWorld, ids ...string) []string {
	var out []string
	for _, id := range ids {
		if r, ok := w.fake.Original(id); ok {
			out = append(out, r.Content)
			out = append(out, labels(r.Components)...)
		}
		for _, f := range w.fake.Followups(id) {
			out = append(out, f.Content)
			out = append(out, labels(f.Components)...)
		}
	}
	return out
}

func TestI18nChineseDiscordUser(t *testing.T) {
	frags := englishFragments(t)
	w := newDCWorld(t, discordtest.Options{}, "SORABOT_START_CREDITS=150").start()
	li := discordtest.User{ID: "260", Username: "li", Locale: "zh-CN"}
	var ids []string
	slash := func(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
		i := w.fake.SlashCommand("100", "300", li, name, opts, nil)
		ids = append(ids, i.ID)
		return i
	}
	has := func(i *discordgo.Interaction, sub string) discordtest.Response {
		t.Helper()
		return w.original(i, sub, func(r discordtest.Response) bool { return strings.Contains(r.Content, sub) })
	}

	has(slash("help"), "🎬 我能把一段文字（或一张照片）变成短视频。")
	has(slash("balance"), "150 积分")
	has(slash("models"), "Sora 2 文字生成视频")
	v := slash("video", strOpt("prompt", "一只猫在日落时冲浪"))
	r := w.videoDone(v)
	if !strings.Contains(r.Content, "✅ 任务 #1 已完成") || !strings.Contains(r.Content, "一只猫在日落时冲浪") ||
		!strings.Contains(r.Components, "🔁 再来一次") {
		t.Errorf("delivered video %+v", r)
	}
	has(slash("balance"), "50 积分")
	refused := slash("video", strOpt("prompt", "一只狗在跳舞"))
	w.ephemeral(refused, "⚠️ 这个视频需要 100 积分；你的余额为 50 积分。")
	w.ephemeral(slash("cancel", strOpt("job", "1")), "⚠️ 任务 1 已经送达。")
	has(slash("language"), "你的语言是简体中文。")

	noEnglish(t, frags, "Chinese Discord user", dcTexts(w, ids...))
	w.noViolations()
}

// The user's /language choice outlives restarts, and a job keeps the
// language it was asked in even when the user changes theirs meanwhile.
func TestI18nLanguageChoiceSurvivesRestart(t *testing.T) {
	frags := englishFragments(t)
	w := &tgWorld{t: t, dir: t.TempDir()}
	w.emu = providertest.New(providertest.Options{Key: testKey, Duration: 3 * time.Second})
	t.Cleanup(w.emu.Close)
	w.fake = telegramtest.New(telegramtest.Options{Token: tgToken})
	t.Cleanup(w.fake.Close)
	w.env = append(baseEnv(w.dir, w.emu, "sorapro"), "TELEGRAM_TOKEN="+tgToken, "TELEGRAM_API_URL="+w.fake.URL,
		"SORABOT_STATUS_INTERVAL=100ms", "SORABOT_START_CREDITS=250")
	w.start()
	const chat = 4002 // the client says "en"

	w.fake.SendText(chat, chat, "/language")
	list := w.waitText(chat, "Your language is English. Choose another:")
	if !strings.Contains(list.ReplyMarkup, `"callback_data":"lang:ru"`) || !strings.Contains(list.ReplyMarkup, "Русский") {
		t.Fatalf("no language buttons: %s", list.ReplyMarkup)
	}
	switched := len(w.fake.BotMessages(chat))
	w.fake.PressButton(chat, chat, list.MessageID, "lang:ru")
	w.waitText(chat, "Теперь я говорю с вами по-русски.")

	restart(w)
	w.fake.SendText(chat, chat, "/start")
	w.waitText(chat, "👋 Добро пожаловать!")
	w.waitText(chat, "У вас 250 кредитов; видео стоит от 100 кредитов.")
	w.fake.SendText(chat, chat, "/video кот катается на волне")
	v := w.waitVideo(chat)
	if !strings.Contains(v.ReplyMarkup, "🔁 Ещё раз") {
		t.Errorf("video buttons %s", v.ReplyMarkup)
	}
	w.waitText(chat, "✅ Задание #1 готово")

	// Job 2 is asked in Russian; the user then switches to Italian, and the
	// program restarts while the job is at the provider.
	w.fake.SendText(chat, chat, "/video собака танцует под дождём")
	if !waitFor(20*time.Second, func() bool { return w.emu.Creates() == 2 }) {
		t.Fatalf("job 2 not submitted:\n%s", w.p.errOut.String())
	}
	w.fake.SendText(chat, chat, "/language it")
	w.waitText(chat, "D'ora in poi ti parlo in italiano.")
	restart(w, func() {
		for _, m := range w.fake.BotMessages(chat) {
			if m.Kind == "video" && m.Caption == "собака танцует под дождём" {
				t.Fatal("job 2 was delivered before the restart; make the emulator slower")
			}
		}
	})
	second := w.waitMsg(chat, "job 2's video", func(m telegramtest.BotMessage) bool {
		return m.Kind == "video" && m.Caption == "собака танцует под дождём"
	})
	if !strings.Contains(second.ReplyMarkup, "🔁 Ещё раз") {
		t.Errorf("job 2's button after the restart: %s", second.ReplyMarkup)
	}
	w.waitText(chat, "✅ Задание #2 готово")
	// The user's own language is Italian now.
	w.fake.SendText(chat, chat, "/video un gatto")
	w.waitText(chat, "⚠️ Questo video costa 100 crediti; il tuo saldo è 50 crediti.")

	noEnglish(t, frags, "after /language", tgTexts(w, chat, switched))
	w.noViolations()
}

// restart stops the program once it has confirmed the updates it handled
// (as a long-polling bot does at its next getUpdates), runs between, and
// starts it again on the same database.
func restart(w *tgWorld, between ...func()) {
	w.t.Helper()
	if !waitFor(20*time.Second, func() bool { return w.fake.PendingUpdates() == 0 }) {
		w.t.Fatalf("updates not confirmed:\n%s", w.p.errOut.String())
	}
	if err := w.p.stop(); err != nil {
		w.t.Fatalf("stop: %v", err)
	}
	for _, f := range between {
		f()
	}
	w.start()
}

// The fragment check itself: English is found, translations pass.
func TestI18nEnglishFragments(t *testing.T) {
	frags := englishFragments(t)
	has := func(text string) bool {
		for _, run := range wordRuns(text) {
			for i := 0; i+3 <= len(run); i++ {
				if frags[strings.Join(run[i:i+3], " ")] {
					return true
				}
			}
		}
		return false
	}
	for _, en := range []string{"⚠️ This video costs 100 credits; you have 50 credits.", "Only the person who asked for this video can repeat it.",
		"Send /help for options, prices and examples.", "🎬 I turn a text (or a photo) into a short video."} {
		if !has(en) {
			t.Errorf("%q is not found English", en)
		}
	}
	for _, other := range []string{"⚠️ Questo video costa 100 crediti; il tuo saldo è 50 crediti.", "✅ Richiesta #1 completata",
		"Opzioni: --portrait --landscape --10s --15s --hd --pro --watermark --model=<id>", "sora-2-text-to-video — Sora 2 da testo a video"} {
		if has(other) {
			t.Errorf("%q is taken for English", other)
		}
	}
}
