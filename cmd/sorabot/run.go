package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"sorabot/storage"
)

const usage = `usage: sorabot [command]

commands:
  serve            start every configured chat platform (the default)
  ledger verify    check that every balance equals the sum of its ledger
`

// Run runs the command named by m.Args.
func (m *Main) Run(ctx context.Context) error {
	cmd := "serve"
	if len(m.Args) > 0 {
		cmd = m.Args[0]
	}
	switch cmd {
	case "ledger":
		if len(m.Args) < 2 || m.Args[1] != "verify" {
			return fmt.Errorf("usage: sorabot ledger verify")
		}
		return m.ledgerVerify(ctx)
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	case "serve":
		return fmt.Errorf("serve: not wired yet")
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

func (m *Main) getenv(name string) string {
	for _, kv := range m.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

func (m *Main) ledgerVerify(ctx context.Context) error {
	path := m.getenv("SORABOT_DB")
	if path == "" {
		path = "data/sorabot.db"
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("SORABOT_DB: %w", err)
	}
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := db.VerifyReport(ctx)
	if err != nil {
		return err
	}
	if err := db.Verify(ctx); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "ledger ok: %+v\n", r)
	return nil
}
