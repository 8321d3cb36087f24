package i18n

import (
	"encoding/json"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// raw reads a language's files as id → plural form ("" for a plain
// message) → text; an id in two files fails.
func raw(t *testing.T, lang string) map[string]map[string]string {
	t.Helper()
	names, err := fs.Glob(files, "locales/*."+lang+".json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no files for %s: %v", lang, err)
	}
	out := map[string]map[string]string{}
	for _, name := range names {
		data, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for id, v := range m {
			if _, dup := out[id]; dup {
				t.Fatalf("%s: message %q is defined twice", name, id)
			}
			addMessage(t, out, lang, id, v)
		}
	}
	return out
}

func addMessage(t *testing.T, out map[string]map[string]string, lang, id string, v any) {
	t.Helper()
	switch v := v.(type) {
	case string:
		out[id] = map[string]string{"": v}
	case map[string]any:
		forms := map[string]string{}
		for f, s := range v {
			str, ok := s.(string)
			if !ok {
				t.Fatalf("%s.json: %s.%s is not a string", lang, id, f)
			}
			forms[f] = str
		}
		out[id] = forms
	default:
		t.Fatalf("%s.json: %s is neither a string nor plural forms", lang, id)
	}
}

var placeholder = regexp.MustCompile(`{{\s*\.(\w+)\s*}}`)

func placeholders(forms map[string]string) []string {
	set := map[string]bool{}
	for _, s := range forms {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			set[m[1]] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// TestEveryMessageInEveryLanguage: the same ids everywhere, each with the
// same placeholders as in English.
func TestEveryMessageInEveryLanguage(t *testing.T) {
	en := raw(t, "en")
	for _, lang := range Languages[1:] {
		msgs := raw(t, lang)
		for id, forms := range en {
			tr, ok := msgs[id]
			if !ok {
				t.Errorf("%s: message %q is missing", lang, id)
				continue
			}
			if got, want := placeholders(tr), placeholders(forms); !slices.Equal(got, want) {
				t.Errorf("%s: %q has placeholders %v, English has %v", lang, id, got, want)
			}
			if _, plain := forms[""]; plain != (tr[""] != "") {
				t.Errorf("%s: %q is plural in one language and plain in the other", lang, id)
			}
		}
		for id := range msgs {
			if _, ok := en[id]; !ok {
				t.Errorf("%s: message %q is not in English", lang, id)
			}
		}
	}
}

// TestPluralForms renders every plural message for numbers that reach
// every CLDR category; a form the language needs but the file lacks fails.
func TestPluralForms(t *testing.T) {
	counts := []int{0, 1, 2, 3, 4, 5, 11, 12, 14, 21, 22, 25, 100, 101, 111, 1000, 1000000}
	for id, forms := range raw(t, "en") {
		if _, plain := forms[""]; plain {
			continue
		}
		for _, lang := range Languages {
			for _, n := range counts {
				s, err := localizers[lang].Localize(localizeConfig(id, n))
				if err != nil || s == "" {
					t.Errorf("%s: %q for %d: %v", lang, id, n, err)
				}
			}
		}
	}
}

func TestCreditsCLDR(t *testing.T) {
	for _, c := range []struct {
		lang string
		n    int
		want string
	}{
		{"ru", 1, "1 кредит"}, {"ru", 2, "2 кредита"}, {"ru", 5, "5 кредитов"}, {"ru", 21, "21 кредит"},
		{"ru", 22, "22 кредита"}, {"ru", 11, "11 кредитов"}, {"ru", 1000, "1000 кредитов"},
		{"en", 1, "1 credit"}, {"en", 0, "0 credits"}, {"en", 1000, "1000 credits"},
		{"it", 1, "1 credito"}, {"it", 1000, "1000 crediti"}, {"it", 1000000, "1000000 crediti"},
		{"zh", 1000, "1000 积分"},
		{"es", 1, "1 crédito"}, {"es", 1000, "1000 créditos"},
		{"pt", 1, "1 crédito"}, {"pt", 1000, "1000 créditos"},
	} {
		if got := Credits(c.lang, c.n); got != c.want {
			t.Errorf("Credits(%s, %d) = %q, want %q", c.lang, c.n, got, c.want)
		}
	}
}

// sameAsEnglish lists messages that may read the same in a language as in
// English (names, symbols, ids).
var sameAsEnglish = map[string]bool{}

// TestNoUntranslatedText flags a translation identical to the English
// text, beyond the allow-list and texts without letters.
func TestNoUntranslatedText(t *testing.T) {
	en := raw(t, "en")
	letters := regexp.MustCompile(`\pL{3,}`)
	for _, lang := range Languages[1:] {
		for id, forms := range raw(t, lang) {
			if sameAsEnglish[id] {
				continue
			}
			for f, s := range forms {
				bare := placeholder.ReplaceAllString(s, "")
				if s == en[id][f] && letters.MatchString(bare) {
					t.Errorf("%s: %q reads the same as in English: %q", lang, id, s)
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	for tag, want := range map[string]string{
		"it": "it", "IT": "it", "pt-br": "pt", "pt-BR": "pt", "zh-hans": "zh", "zh-CN": "zh", "zh_TW": "zh",
		"es-ES": "es", "es-419": "es", "en-US": "en", "en-GB": "en", "ru": "ru", "fr": "", "": "", "de-DE": "",
	} {
		if got := Match(tag); got != want {
			t.Errorf("Match(%q) = %q, want %q", tag, got, want)
		}
	}
	if got := Pick("it", "", "fr", "pt-br"); got != "pt" {
		t.Errorf("Pick = %q, want the first supported tag", got)
	}
	if got := Pick("it", "fr"); got != "it" {
		t.Errorf("Pick = %q, want the default", got)
	}
	if got := Pick("xx", "fr"); got != Default {
		t.Errorf("Pick = %q, want %q", got, Default)
	}
}

func TestDiscordLocales(t *testing.T) {
	var got []string
	for _, l := range Languages {
		if k := DiscordLocale(l); k != "" {
			got = append(got, k)
		}
	}
	if want := []string{"it", "zh-CN", "es-ES", "pt-BR", "ru"}; !slices.Equal(got, want) {
		t.Errorf("Discord locales %v, want %v", got, want)
	}
}

func TestFallback(t *testing.T) {
	if got := T("xx", "language.name", nil); got != "English" {
		t.Errorf("unknown language: %q", got)
	}
	if got := T("it", "no.such.message", nil); got != "no.such.message" {
		t.Errorf("missing message: %q", got)
	}
	if got := T("it", "language.unknown", Args{"Code": "fr", "Choices": "en, it"}); !strings.Contains(got, "fr") || !strings.Contains(got, "Non parlo") {
		t.Errorf("arguments: %q", got)
	}
}
