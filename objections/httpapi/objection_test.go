package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

func TestRecordObjectionIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{})
		body := map[string]string{"org": "acme", "number": "06 1234 5678", "source": "web", "campaign_ref": "spring",
			"call_ref": "c-1", "note": "said: stop calling"}
		key := map[string]string{"Idempotency-Key": "form-42"}
		var first, again objectionView
		a := e.do(req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: body, header: key}).want(t, http.StatusCreated)
		a.json(t, &first)
		if first.Number != "+31612345678" || first.RawNumber != "06 1234 5678" || first.Source != "web" || first.Status != "active" ||
			first.CampaignRef != "spring" || first.CallRef != "c-1" || first.Provider != "api" || first.IdempotencyKey != "form-42" ||
			!strings.Contains(first.Actor, "test-integrator") || a.header.Get("Location") != "/v1/objections/"+first.ID {
			t.Fatalf("recorded = %+v, Location %q", first, a.header.Get("Location"))
		}
		// The same request again (the client lost the answer): the same objection, 200.
		e.do(req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: body, header: key}).want(t, http.StatusOK).json(t, &again)
		if again.ID != first.ID {
			t.Fatalf("repeat made %s, first %s", again.ID, first.ID)
		}
		// The same key for another number is a client bug.
		other := map[string]string{"org": "acme", "number": "0687654321"}
		p := e.do(req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: other, header: key}).want(t, http.StatusConflict).problem(t)
		if p.Field != "Idempotency-Key" || *p.Value != "form-42" {
			t.Fatalf("key reuse = %+v", p)
		}
		// Without a key, an objection on a number that has one is the same objection.
		e.do(req{method: "POST", path: "/v1/objections", role: access.RoleAdmin, body: map[string]string{"org": "acme", "number": "+31612345678", "source": "email"}}).
			want(t, http.StatusOK).json(t, &again)
		if again.ID != first.ID || again.Source != "web" {
			t.Fatalf("repeat without key = %+v", again)
		}
		// An objection without a number but with a lead is kept pending.
		var pending objectionView
		e.do(req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: map[string]string{"org": "acme", "lead_ref": "L-9"}}).
			want(t, http.StatusCreated).json(t, &pending)
		if pending.Status != "pending_number" || pending.Number != "" {
			t.Fatalf("pending = %+v", pending)
		}
	})
}

func TestListObjectionsCursor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{})
		var want []string
		for i := range 25 {
			org := "acme"
			if i%5 == 4 {
				org = "beta"
			}
			o := recordVia(t, e.reg, org, fmt.Sprintf("+316%08d", 20000000+i))
			if org == "acme" {
				want = append(want, o.ID)
			}
		}
		slices.Sort(want) // ids order the list; two in one millisecond order by their random part
		var got []string
		path := "/v1/objections?org=acme&limit=7"
		pages := 0
		for {
			var pg page[objectionView]
			e.do(req{method: "GET", path: path, role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &pg)
			pages++
			for _, o := range pg.Items {
				got = append(got, o.ID)
			}
			if pg.Next == nil {
				break
			}
			path = "/v1/objections?org=acme&limit=7&cursor=" + url.QueryEscape(*pg.Next)
			if pages > 10 {
				t.Fatal("cursor does not end")
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || pages != 3 {
			t.Fatalf("%d pages, ids %v; want %v", pages, got, want)
		}
		// Filters.
		var pg page[objectionView]
		e.do(req{method: "GET", path: "/v1/objections?number=06%202000%200001&status=active", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &pg)
		if len(pg.Items) != 1 || pg.Items[0].Number != "+31620000001" || pg.Next != nil {
			t.Fatalf("by number = %+v", pg)
		}
		e.do(req{method: "GET", path: "/v1/objections?source=email", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &pg)
		if len(pg.Items) != 0 {
			t.Fatalf("by source = %+v", pg)
		}
		e.do(req{method: "GET", path: "/v1/objections?since=2000-01-01&until=2100-01-01&org=beta", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &pg)
		if len(pg.Items) != 5 {
			t.Fatalf("by time = %d items", len(pg.Items))
		}
	})
}

func TestObjectionEvidenceAndVoid(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{}, WithPromptTexts(fakePrompts{}))
		ctx := t.Context()
		off, _, err := e.reg.RecordOffer(ctx, objections.Offer{Org: "acme", Number: "0612345678", Provider: "twilio", CallRef: "CA1",
			PromptID: "offer", PromptVersion: "abc123", Language: "nl", PromptHash: "ff", PlayedMS: 4200, Outcome: objections.OutcomeObjected,
			Keys: []objections.Key{{Digit: "1", At: e.reg.Now()}}})
		if err != nil {
			t.Fatal(err)
		}
		o, _, err := e.reg.Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceIVRTwilio,
			Provider: "twilio", CallRef: "CA1", OfferID: off.ID})
		if err != nil {
			t.Fatal(err)
		}
		var ev objectionEvidence
		e.do(req{method: "GET", path: "/v1/objections/" + o.ID, role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &ev)
		if ev.ID != o.ID || ev.Evidence.Offer == nil || ev.Evidence.Offer.ID != off.ID || len(ev.Evidence.Keys) != 1 ||
			ev.Evidence.Keys[0].Digit != "1" || ev.Evidence.Prompt == nil || ev.Evidence.Prompt.Version != "abc123" ||
			ev.Evidence.Prompt.Text != "Druk 1 (offer abc123 nl)" {
			t.Fatalf("evidence = %+v", ev)
		}
		// Void: admin only, reason required, once.
		e.do(req{method: "POST", path: "/v1/objections/" + o.ID + "/void", role: access.RoleSupervisor, body: map[string]string{"reason": "x"}}).want(t, http.StatusForbidden)
		var v objectionView
		e.do(req{method: "POST", path: "/v1/objections/" + o.ID + "/void", role: access.RoleAdmin, body: map[string]string{"reason": "wrong number typed by agent"}}).
			want(t, http.StatusOK).json(t, &v)
		if v.Status != "voided" || v.VoidReason != "wrong number typed by agent" || !strings.Contains(v.VoidedBy, "test-admin") {
			t.Fatalf("voided = %+v", v)
		}
		e.do(req{method: "POST", path: "/v1/objections/" + o.ID + "/void", role: access.RoleAdmin, body: map[string]string{"reason": "again"}}).want(t, http.StatusConflict)
		e.do(req{method: "POST", path: "/v1/objections/01KJPWD6M1753ZJ2RH6KSYZ54B/void", role: access.RoleAdmin, body: map[string]string{"reason": "x"}}).want(t, http.StatusNotFound)
		e.do(req{method: "POST", path: "/v1/objections/" + o.ID + "/void", role: access.RoleAdmin, body: map[string]any{}}).want(t, http.StatusBadRequest)
		// Without an offer the evidence is empty, not missing.
		plain := recordVia(t, e.reg, "acme", "0687654321")
		a := e.do(req{method: "GET", path: "/v1/objections/" + plain.ID, role: access.RoleSupervisor}).want(t, http.StatusOK)
		if !contains(a.body, `"evidence":{"offer":null,"prompt":null,"keys":[]}`) {
			t.Fatalf("evidence without offer: %s", a.body)
		}
		// Offers list.
		var offers page[objections.Offer]
		e.do(req{method: "GET", path: "/v1/offers?org=acme&outcome=objected", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &offers)
		if len(offers.Items) != 1 || offers.Items[0].ID != off.ID || offers.Next != nil {
			t.Fatalf("offers = %+v", offers)
		}
		e.do(req{method: "GET", path: "/v1/offers?outcome=declined", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &offers)
		if len(offers.Items) != 0 {
			t.Fatalf("declined offers = %+v", offers)
		}
	})
}

type fakePrompts struct{}

func (fakePrompts) PromptText(_ context.Context, o objections.Offer) (string, bool) {
	return "Druk 1 (" + o.PromptID + " " + o.PromptVersion + " " + o.Language + ")", true
}
