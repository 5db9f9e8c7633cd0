package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

func TestMetrics(t *testing.T) {
	rcv := newReceiver(t)
	cfg := webhookConfig(rcv.ts.URL)
	cfg.EventMetricsInterval = 10 * time.Millisecond
	e := newEnv(t, backends()[0], cfg)
	e.runBackground()
	waitTargets(t, e)
	ctx := context.Background()
	o := recordVia(t, e.reg, "acme", "0612345678")
	if _, _, err := e.reg.RecordOffer(ctx, objections.Offer{Org: "acme", Provider: "twilio", CallRef: "CA9", Outcome: objections.OutcomeDeclined}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.Void(ctx, o.ID, "admin", "test"); err != nil {
		t.Fatal(err)
	}
	e.do(req{method: "GET", path: "/v1/callability/0612345678?org=acme", role: access.RoleDialer}).want(t, http.StatusOK)
	e.do(req{method: "GET", path: "/v1/callability/0612345678?org=acme"}).want(t, http.StatusUnauthorized)
	rcv.waitAll([]string{o.ID + ".recorded", o.ID + ".voided"}, 10*time.Second)

	want := []string{
		`verzet_objections_total{source="agent"} 1`,
		`verzet_objection_voids_total 1`,
		`verzet_offers_total{outcome="declined",provider="twilio"} 1`,
		`verzet_api_requests_total{code="200",route="GET /v1/callability/{number}"} 1`,
		`verzet_api_requests_total{code="401",route="GET /v1/callability/{number}"} 1`,
		`verzet_decisions_total{callable="false",reason="no_basis"} 1`,
		`verzet_decision_duration_seconds_count{kind="check"} 1`,
		`verzet_webhook_deliveries_total{result="ok"} 2`,
		`verzet_outbox_pending 0`,
		`verzet_outbox_lag_seconds 0`,
		`go_goroutines`,
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a := e.do(req{method: "GET", path: "/metrics"}).want(t, http.StatusOK)
		var missing []string
		for _, w := range want {
			if !strings.Contains(string(a.body), w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			if strings.Contains(string(a.body), "0612345678") || strings.Contains(string(a.body), "31612345678") {
				t.Fatal("a phone number in the metrics")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics lack %q:\n%s", missing, a.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
