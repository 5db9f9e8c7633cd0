package httpapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
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
		if _, _, err := e.reg.Record(ctx, objections.Objection{Org: "acme", RawNumber: "06 1234 5678", Source: objections.SourceAgent,
			Note: `<script>alert("x")</script> & said stop`}); err != nil {
			t.Fatal(err)
		}
		recordVia(t, e.reg, "beta", "0612345678") // another org's: not in acme's pack

		var p evidencePack
		e.do(req{method: "GET", path: "/v1/people/06%201234%205678/evidence?org=acme", role: objections.RoleSupervisor}).want(t, http.StatusOK).json(t, &p)
		if p.Number != "+31612345678" || p.Org.ID != "acme" || len(p.Objections) != 1 || len(p.Consents) != 1 || len(p.Relations) != 1 ||
			len(p.Offers) != 1 || p.Decision.Callable || p.Decision.Reasons[0] != "objection" {
			t.Fatalf("pack = %+v", p)
		}
		a := e.do(req{method: "GET", path: "/v1/people/0612345678/evidence?org=acme", role: objections.RoleSupervisor,
			header: map[string]string{"Accept": "text/html,application/xhtml+xml"}}).want(t, http.StatusOK)
		html := string(a.body)
		if !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(a.header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("headers = %v", a.header)
		}
		for _, want := range []string{"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; said stop", "Acme &lt;Goede&gt; Doelen", "May not be called",
			"&#43;31612345678", "form-1", "donation", "1 at ", "objected", "Objections (1)"} {
			if !strings.Contains(html, want) {
				t.Errorf("HTML lacks %q", want)
			}
		}
		if strings.Contains(html, "<script>") {
			t.Fatal("HTML carries an unescaped script")
		}
		e.do(req{method: "GET", path: "/v1/people/0612345678/evidence?org=acme&format=html", role: objections.RoleAdmin}).want(t, http.StatusOK)
		e.do(req{method: "GET", path: "/v1/people/0612345678/evidence?org=acme&format=pdf", role: objections.RoleAdmin}).want(t, http.StatusBadRequest)
		e.do(req{method: "GET", path: "/v1/people/0612345678/evidence?org=acme", role: objections.RoleDialer}).want(t, http.StatusForbidden)
	})
}
