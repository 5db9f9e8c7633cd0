package httpapi

import (
	"net/http"
	"testing"

	"github.com/verzet/verzet/objections"
)

// A consent or a relation dated in the future is a 400 naming the field,
// one at a time and per line of a bulk import (issue 13, item 3).
func TestFutureDatesRefused(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	setOrg(t, e.reg, "acme", objections.SectorCharity)
	for _, tc := range []struct {
		path  string
		body  map[string]string
		field string
	}{
		{"/v1/consents", map[string]string{"org": "acme", "number": "0612345678", "given_at": "2030-01-01T09:00:00Z"}, "given_at"},
		{"/v1/consents", map[string]string{"org": "acme", "number": "0612345678", "given_at": "2025-01-01T09:00:00Z",
			"withdrawn_at": "2030-01-01T09:00:00Z"}, "withdrawn_at"},
		{"/v1/relations", map[string]string{"org": "acme", "number": "0612345678", "kind": "donation", "peildatum": "2030-01-01"}, "peildatum"},
	} {
		p := e.do(req{method: "PUT", path: tc.path, role: objections.RoleIntegrator, body: tc.body}).want(t, http.StatusBadRequest).problem(t)
		if p.Field != tc.field {
			t.Errorf("PUT %s %v: field %q, want %q (%s)", tc.path, tc.body, p.Field, tc.field, p.Detail)
		}
	}
	var res bulkResult
	e.do(req{method: "PUT", path: "/v1/consents?org=acme", role: objections.RoleIntegrator, contentType: "text/csv",
		body: "number,given_at\n0612345601,2025-01-01T09:00:00Z\n0612345602,2030-01-01T09:00:00Z\n"}).want(t, http.StatusOK).json(t, &res)
	if res.Stored != 1 || res.Failed != 1 || res.Errors[0].Line != 3 || res.Errors[0].Field != "given_at" {
		t.Fatalf("bulk consents = %+v", res)
	}
	// Nothing was stored that would override an objection.
	recordVia(t, e.reg, "acme", "0612345678")
	var d decisionView
	e.do(req{method: "GET", path: "/v1/callability/0612345678?org=acme", role: objections.RoleDialer}).want(t, http.StatusOK).json(t, &d)
	if d.Callable {
		t.Fatalf("callable after an objection: %+v", d)
	}
}
