package httpapi

import (
	"net/http"
	"slices"
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// An org id a person typed that no org has is a 404 naming the closest
// known ids, for checks, scrubs and writes alike: a typo must neither answer
// "no basis" for an org that holds the objections under another id, nor
// start a new org that no dialer asks about.
func TestUnknownOrgIs404(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			e := newEnv(t, b, Config{})
			setOrg(t, e.reg, "acme", objections.SectorCharity)
			setOrg(t, e.reg, "globex", objections.SectorCharity)
			cases := []struct {
				name string
				r    req
			}{
				{"callability", req{method: "GET", path: "/v1/callability/0612345678?org=acmee", role: access.RoleDialer}},
				{"scrub", req{method: "POST", path: "/v1/scrub?org=acmee", role: access.RoleDialer, body: "0612345678\n", contentType: "text/csv"}},
				{"objection", req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: map[string]string{"org": "acmee", "number": "0612345678"}}},
				{"relation", req{method: "PUT", path: "/v1/relations", role: access.RoleIntegrator, body: map[string]string{"org": "acmee", "number": "0612345678", "kind": "purchase", "peildatum": "2025-01-02"}}},
				{"consent", req{method: "PUT", path: "/v1/consents", role: access.RoleIntegrator, body: map[string]string{"org": "acmee", "number": "0612345678", "given_at": "2025-01-02T10:00:00Z"}}},
			}
			for _, c := range cases {
				a := e.do(c.r).want(t, http.StatusNotFound)
				p := a.problem(t)
				if p.Code != objections.ENOTFOUND || p.Field != "org" || p.Value == nil || *p.Value != "acmee" || !slices.Equal(p.Closest, []string{"acme"}) {
					t.Errorf("%s: problem %+v, want not_found on org acmee with closest [acme]", c.name, p)
				}
			}
			// Nothing was created: the typo is not an org now.
			if _, err := e.store.Org(t.Context(), "acmee"); objections.ErrorCode(err) != objections.ENOTFOUND {
				t.Fatalf("org acmee after refused requests: %v", err)
			}
			// The org that exists answers as before.
			e.do(req{method: "GET", path: "/v1/callability/0612345678?org=acme", role: access.RoleDialer}).want(t, http.StatusOK)
		})
	}
}
