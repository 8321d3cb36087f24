package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"sorabot/core"
)

// checkTimeout bounds each provider's check.
const checkTimeout = 30 * time.Second

// providersCheck calls every configured provider (its balance, or an
// authenticated read that creates nothing) and prints one line each. It
// fails when an enabled provider is unreachable or refuses its key. It
// opens no database, so it runs beside a serving bot.
func (m *Main) providersCheck(ctx context.Context) error {
	cfg, err := LoadConfig(m.getenv, nil)
	if err != nil {
		return err
	}
	log := newLogger(m.Stderr, cfg.LogLevel, levelWarn)
	clients, demos := providerClients(cfg, log, nil)
	defer func() {
		for _, d := range demos {
			d.Close()
		}
	}()
	results := make([]core.Access, len(clients))
	var wg sync.WaitGroup
	for i, pc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			results[i] = checkAccess(ctx, pc.Client)
		}()
	}
	wg.Wait()
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPROTOCOL\tREACHABLE\tKEY ACCEPTED\tBALANCE\tERROR")
	failed := 0
	for i, p := range cfg.Providers {
		a := results[i]
		name := p.Name
		if p.Disabled {
			name += " (disabled)"
		} else if !a.Reachable || !a.KeyAccepted || a.Err != nil {
			failed++
		}
		bal := "-"
		if a.HasBalance {
			bal = strconv.FormatFloat(a.Balance, 'f', -1, 64)
		}
		msg := ""
		if a.Err != nil {
			msg = a.Err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", name, p.Protocol, yesNo(a.Reachable), yesNo(a.KeyAccepted), bal, msg)
	}
	tw.Flush()
	if failed > 0 {
		return fmt.Errorf("providers check: %d enabled provider(s) failed", failed)
	}
	return nil
}

// checkAccess checks one provider with the best call its client has.
func checkAccess(ctx context.Context, p core.Provider) core.Access {
	if c, ok := p.(core.AccessChecker); ok {
		return c.CheckAccess(ctx)
	}
	if c, ok := p.(core.BalanceChecker); ok {
		b, err := c.Balance(ctx)
		if err != nil {
			return core.Access{Err: err}
		}
		return core.Access{Reachable: true, KeyAccepted: true, Balance: b, HasBalance: true}
	}
	return core.Access{Err: fmt.Errorf("this provider's client has no check")}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
