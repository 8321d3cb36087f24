package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"sorabot/core"
	"sorabot/storage"
)

func loadEnv(vars map[string]string) (Config, error) {
	return LoadConfig(func(k string) string { return vars[k] }, nil)
}

func TestConfigCredits(t *testing.T) {
	c, err := loadEnv(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Packs) != 0 || len(c.SKUs) != 0 || c.DailyCredits != 0 || c.PaySupport != "" || c.Terms != "" {
		t.Fatalf("defaults: %+v %+v %d %q %q", c.Packs, c.SKUs, c.DailyCredits, c.PaySupport, c.Terms)
	}
	c, err = loadEnv(map[string]string{
		"SORABOT_PACKS":         "500:50, 1500:125",
		"DISCORD_SKUS":          "1288888888888888888:300",
		"SORABOT_DAILY_CREDITS": "100",
		"SORABOT_PAYSUPPORT":    "Write to @ops.",
		"SORABOT_TERMS":         "  Be nice.\nNo refunds of spent credits.  ",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Packs) != 2 || c.Packs[1] != (core.Pack{Credits: 1500, Stars: 125}) ||
		len(c.SKUs) != 1 || c.SKUs[0] != (core.SKU{ID: "1288888888888888888", Credits: 300}) ||
		c.DailyCredits != 100 || c.PaySupport != "Write to @ops." || c.Terms != "Be nice.\nNo refunds of spent credits." {
		t.Fatalf("parsed: %+v %+v %d %q %q", c.Packs, c.SKUs, c.DailyCredits, c.PaySupport, c.Terms)
	}

	for name, bad := range map[string][]string{
		"SORABOT_PACKS":         {"500", "500:0", "0:50", "x:1", "500:50,500:60", "500:50:1", "1:100001", "+5:5"},
		"DISCORD_SKUS":          {"abc:10", "123", "123:0", "123:x", "123:5,123:6"},
		"SORABOT_DAILY_CREDITS": {"-1", "many", "1000000001"},
		"SORABOT_TERMS":         {strings.Repeat("é", maxText+1)},
	} {
		for _, v := range bad {
			_, err := loadEnv(map[string]string{name: v})
			if err == nil || !strings.Contains(err.Error(), name+":") {
				t.Errorf("%s=%q: %v; want an error naming the variable", name, v, err)
			}
		}
	}
}

// `sorabot ledger verify` reports the new kinds, and fails on a payment
// record removed by hand.
func TestLedgerVerifyCredits(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sorabot.db")
	db, err := storage.Open(path, storage.Options{StartCredits: 500, DailyCredits: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Account(ctx, "telegram:1"); err != nil { // allowance 500
		t.Fatal(err)
	}
	if _, _, err := db.Purchase(ctx, core.Payment{Key: core.TelegramCharge("ch-1"), UserID: "telegram:1", Credits: 500, Stars: 50}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreatePromo(ctx, core.Promo{Code: "HI", Credits: 5}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Redeem(ctx, "telegram:1", "HI"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	run := func() (string, error) {
		var out bytes.Buffer
		m := &Main{Args: []string{"ledger", "verify"}, Env: []string{"SORABOT_DB=" + path}, Stdout: &out, Stderr: &out}
		err := m.Run(ctx)
		return out.String(), err
	}
	out, err := run()
	if err != nil {
		t.Fatal(err)
	}
	want := "ledger ok: 1 users, 4 ledger entries (grant 1, charge 0, refund 0, admin 0, purchase 1, purchase_refund 0, allowance 1, promo 1), 0 jobs (0 active), 1 payments, 1 promo codes"
	if !strings.Contains(out, want) {
		t.Fatalf("output %q, want %q", out, want)
	}

	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("payments")).Delete([]byte("telegram:ch-1")) })
	bdb.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run(); err == nil || !strings.Contains(err.Error(), `"telegram:ch-1", which has no payment record`) {
		t.Fatalf("verify of a tampered database: %v", err)
	}
}
