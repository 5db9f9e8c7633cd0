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

func TestEvidencePack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{})
		ctx := context.Background()
		if _, err := e.reg.SetOrg(ctx, objections.Org{ID: "acme", Name: "Acme <Goede> Doelen", Sector: objections.SectorCharity}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.reg.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", GivenAt: time.Now().Add(-48 * time.Hour), EvidenceRef: "form-1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.reg.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345678", Kind: objections.RelationDonation, Peildatum: time.Now().AddDate(-1, 0, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.reg.RecordOffer(ctx, objections.Offer{Org: "acme", Number: "0612345678", Provider: "ari", CallRef: "ch-1",
			PromptID: "offer", PromptVersion: "v1", Language: "nl", Outcome: objections.OutcomeObjected, Keys: []objections.Key{{Digit: "1", At: time.Now()}}}); err != nil {
			t.Fatal(err)
		}
		o, _, err := e.reg.Record(ctx, objections.Objection{Org: "acme", RawNumber: "06 1234 5678", Source: objections.SourceAgent,
			Note: `<script>alert("x")</script> & said stop`})
		if err != nil {
			t.Fatal(err)
		}
		recordVia(t, e.reg, "beta", "0612345678") // another org's: not in acme's pack

		// Before any dial attempt: no checks, the first block unknown.
		var p evidencePack
		e.do(req{method: "GET", path: "/v1/people/0612345678/evidence?org=acme", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &p)
		if len(p.Checks) != 0 || len(p.FirstBlocks) != 1 || p.FirstBlocks[0].ObjectionID != o.ID || p.FirstBlocks[0].BlockedAt != nil ||
			p.FirstBlocks[0].LatencySeconds != nil {
			t.Fatalf("pack before a check: checks %+v, first blocks %+v", p.Checks, p.FirstBlocks)
		}

		// Two blocked dial attempts, and another org's and number's.
		for _, path := range []string{"/v1/callability/0612345678?org=acme", "/v1/callability/0612345678?org=acme",
			"/v1/callability/0612345678?org=beta", "/v1/callability/0687654321?org=acme"} {
			e.do(req{method: "GET", path: path, role: access.RoleDialer}).want(t, http.StatusOK)
		}
		e.srv.decisions.flush(ctx)

		p = evidencePack{}
		e.do(req{method: "GET", path: "/v1/people/06%201234%205678/evidence?org=acme", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &p)
		if p.Number != "+31612345678" || p.Org.ID != "acme" || len(p.Objections) != 1 || len(p.Consents) != 1 || len(p.Relations) != 1 ||
			len(p.Offers) != 1 || p.Decision.Callable || p.Decision.Reasons[0] != "objection" || p.Decision.ListVersion != 3 {
			t.Fatalf("pack = %+v", p)
		}
		if len(p.Checks) != 2 || p.ChecksTruncated || p.Checks[0].ObjectionID != o.ID || p.Checks[0].ListVersion != 3 ||
			p.Checks[0].DecidedAt.Before(p.Checks[1].DecidedAt) || !strings.HasPrefix(p.Checks[0].TokenName, "test-dialer-") {
			t.Fatalf("checks = %+v; want acme's two on the number, newest first", p.Checks)
		}
		fb := p.FirstBlocks
		if len(fb) != 1 || fb[0].ObjectionID != o.ID || fb[0].BlockedAt == nil || !fb[0].BlockedAt.Equal(p.Checks[1].DecidedAt) ||
			fb[0].LatencySeconds == nil || *fb[0].LatencySeconds != fb[0].BlockedAt.Sub(o.ReceivedAt).Seconds() || *fb[0].LatencySeconds < 0 {
			t.Fatalf("first blocks = %+v; want the first check, after the objection's receipt", fb)
		}
		a := e.do(req{method: "GET", path: "/v1/people/0612345678/evidence?org=acme", role: access.RoleSupervisor,
			header: map[string]string{"Accept": "text/html,application/xhtml+xml"}}).want(t, http.StatusOK)
		html := string(a.body)
		if !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(a.header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("headers = %v", a.header)
		}
		for _, want := range []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; said stop", "Acme &lt;Goede&gt; Doelen", "May not be called",
			"&#43;31612345678", "form-1", "donation", "1 at ", "objected", "Objections (1)", "list version 3",
			"Dial-time checks that were blocked (2)", "after receipt", o.ID} {
			if !strings.Contains(html, want) {
				t.Errorf("HTML lacks %q", want)
			}
		}
		if strings.Contains(html, "<script>") {
			t.Fatal("HTML carries an unescaped script")
		}
		e.do(req{method: "GET", path: "/v1/people/0612345678/evidence?org=acme&format=html", role: access.RoleAdmin}).want(t, http.StatusOK)
		e.do(req{method: "GET", path: "/v1/people/0612345678/evidence?org=acme&format=pdf", role: access.RoleAdmin}).want(t, http.StatusBadRequest)
		e.do(req{method: "GET", path: "/v1/people/0612345678/evidence?org=acme", role: access.RoleDialer}).want(t, http.StatusForbidden)
	})
}
