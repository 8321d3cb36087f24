package chat

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sorabot/core"
	"sorabot/i18n"
)

// idLiteral is a message id written in the frontends' code.
var idLiteral = regexp.MustCompile(`"((?:chat|core|language)\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)"`)

// TestEveryChatMessageIsInTheCatalog: every message id the chat packages
// name (bots/..., tests aside) and every id they build from a name
// (ledger kinds, states, commands, orientations) is in the catalog, so a
// new text cannot ship untranslated (i18n's tests check every language
// has what English has).
func TestEveryChatMessageIsInTheCatalog(t *testing.T) {
	seen := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range idLiteral.FindAllStringSubmatch(string(src), -1) {
			seen++
			if id := m[1]; !strings.HasSuffix(id, ".") && !i18n.Has(id) {
				t.Errorf("%s: message %q is not in the catalog", path, id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 100 {
		t.Fatalf("found only %d message ids in bots/: is the pattern right?", seen)
	}
	var built []string
	for _, k := range core.LedgerKinds {
		built = append(built, "chat.ledger."+k)
	}
	for _, s := range statsOrder {
		built = append(built, "chat.state."+string(s))
	}
	for _, sp := range Specs() {
		built = append(built, sp.Summary)
		for _, a := range sp.Args {
			built = append(built, a.Help)
		}
	}
	built = append(built, "chat.orientation."+core.Portrait, "chat.orientation."+core.Landscape)
	for _, id := range built {
		if !i18n.Has(id) {
			t.Errorf("message %q is not in the catalog", id)
		}
	}
}

// TestTextsInEveryLanguage renders the texts of a whole job in each
// language: none falls back to English, and a balance is "<N> <word>".
func TestTextsInEveryLanguage(t *testing.T) {
	j := testJob()
	j.State, j.ErrID, j.ErrArgs, j.Err = core.Failed, "storage.no_credits", core.Args{"Price": 100, "Balance": 5}, "English"
	for _, lang := range i18n.Languages {
		j.Lang = lang
		texts := map[string]string{
			"Balance": Balance(lang, core.Account{Balance: 21}, nil),
			"Failed":  Failed(j),
			"Help":    Help(lang, core.DefaultCatalog(), core.ProtocolSoraPro, Typed),
			"Models":  Models(lang, core.DefaultCatalog(), core.ProtocolSoraPro, Slash),
		}
		if got, want := texts["Balance"], i18n.Credits(lang, 21); got != want {
			t.Errorf("%s: Balance = %q, want %q", lang, got, want)
		}
		if lang == i18n.Default {
			continue
		}
		for name, text := range texts {
			for _, english := range []string{"credits", "Job #", "Commands:", "Models and prices", "costs"} {
				if strings.Contains(text, english) {
					t.Errorf("%s: %s has English %q:\n%s", lang, name, english, text)
				}
			}
		}
		if !strings.Contains(texts["Failed"], i18n.Credits(lang, 100)) {
			t.Errorf("%s: the failure's reason is not rendered in the language: %q", lang, texts["Failed"])
		}
	}
	if got := Failed(&core.Job{ID: "1", Lang: "it", Err: "Old English reason."}); !strings.Contains(got, "Old English reason.") {
		t.Errorf("a job stored before message ids shows %q", got)
	}
}
