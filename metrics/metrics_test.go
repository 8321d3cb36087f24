package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"sorabot/core"
)

func TestCreditsSold(t *testing.T) {
	m := New(Source{Stats: func(context.Context) (core.Stats, error) {
		return core.Stats{Jobs: map[core.State]int{core.Queued: 2}, Purchases: 3, PurchaseCredits: 2500}, nil
	}})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{"sorabot_credits_sold_total 2500", "sorabot_purchases_total 3", `sorabot_jobs{state="queued"} 2`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("no %q in\n%s", want, body)
		}
	}
}
