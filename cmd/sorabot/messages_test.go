package main

import (
	"testing"

	"sorabot/core"
	"sorabot/i18n"
)

// TestEveryCoreMessageIsInTheCatalog: every message the core, the store and
// the provider clients can show a user (all made with core.NewMsg, and all
// linked into this binary) is in the catalog, and the catalog's English is
// the text the code logs. So a new error cannot ship untranslated.
func TestEveryCoreMessageIsInTheCatalog(t *testing.T) {
	msgs := core.Messages()
	if len(msgs) < 50 {
		t.Fatalf("only %d messages registered: are the store and the provider clients linked in?", len(msgs))
	}
	for _, m := range msgs {
		if !i18n.Has(m.ID) {
			t.Errorf("message %s is not in i18n/locales (English: %q)", m.ID, m.English)
			continue
		}
		if got := i18n.Raw(i18n.Default, m.ID); got != m.English {
			t.Errorf("message %s: the catalog's English %q differs from the code's %q", m.ID, got, m.English)
		}
	}
}
