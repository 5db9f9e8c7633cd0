package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

func TestPutRelationsAndConsents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{})
		setOrg(t, e.reg, "acme", objections.SectorCharity)
		// One JSON object.
		var rel relationView
		e.do(req{method: "PUT", path: "/v1/relations", role: access.RoleIntegrator,
			body: map[string]string{"org": "acme", "number": "06 1234 5678", "person": "p1", "kind": "donation", "peildatum": "2025-06-30"}}).
			want(t, http.StatusOK).json(t, &rel)
		if rel.Number != "+31612345678" || rel.Peildatum != "2025-06-30" || rel.Person != "p1" || rel.ID == "" {
			t.Fatalf("relation = %+v", rel)
		}
		p := e.do(req{method: "PUT", path: "/v1/relations", role: access.RoleIntegrator,
			body: map[string]string{"org": "acme", "number": "0612345678", "kind": "donation", "peildatum": "30-06-2025"}}).want(t, http.StatusBadRequest).problem(t)
		if p.Field != "peildatum" || *p.Value != "30-06-2025" {
			t.Fatalf("bad date = %+v", p)
		}
		p = e.do(req{method: "PUT", path: "/v1/relations", role: access.RoleIntegrator,
			body: map[string]string{"org": "nobody", "number": "0612345678", "kind": "donation", "peildatum": "2025-06-30"}}).want(t, http.StatusNotFound).problem(t)
		if p.Field != "org" || *p.Value != "nobody" {
			t.Fatalf("unknown org = %+v", p)
		}
		var c consentView
		e.do(req{method: "PUT", path: "/v1/consents", role: access.RoleIntegrator,
			body: map[string]string{"org": "acme", "number": "0687654321", "given_at": "2026-01-02T10:00:00+01:00", "evidence_ref": "form-7"}}).
			want(t, http.StatusOK).json(t, &c)
		if c.Channel != "phone" || c.GivenAt.UTC().Hour() != 9 || c.EvidenceRef != "form-7" {
			t.Fatalf("consent = %+v", c)
		}
		var d decisionView
		e.do(req{method: "GET", path: "/v1/callability/0687654321?org=acme", role: access.RoleDialer}).want(t, http.StatusOK).json(t, &d)
		if !d.Callable || d.Basis != "consent" {
			t.Fatalf("after consent = %+v", d)
		}
	})
}

func TestBulkRelations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{})
		setOrg(t, e.reg, "acme", objections.SectorCharity)
		ndjson := `{"number": "0612345601", "kind": "purchase", "peildatum": "2025-01-31"}
{"org": "acme", "number": "0612345602", "kind": "donation", "peildatum": "2025-02-28", "person": "p2"}

{"number": "not a number", "kind": "donation", "peildatum": "2025-02-28"}
{"number": "0612345603", "kind": "gift", "peildatum": "2025-02-28"}
{"number": "0612345604", "kind": "donation", "peildatum": "2025-02-28", "colour": "red"}
not json at all
{"number": "0612345605", "kind": "donation", "peildatum": "2025-02-28"}
`
		var res bulkResult
		e.do(req{method: "PUT", path: "/v1/relations?org=acme", role: access.RoleIntegrator, body: ndjson, contentType: "application/x-ndjson"}).
			want(t, http.StatusOK).json(t, &res)
		if res.Stored != 3 || res.Failed != 4 || len(res.Errors) != 4 {
			t.Fatalf("result = %+v", res)
		}
		byLine := map[int]problem{}
		for _, p := range res.Errors {
			byLine[p.Line] = p
		}
		for line, field := range map[int]string{4: "number", 5: "kind", 6: "colour", 7: "body"} {
			if p, ok := byLine[line]; !ok || p.Field != field {
				t.Errorf("line %d: %+v, want field %s", line, p, field)
			}
		}
		if p := byLine[5]; *p.Value != "gift" {
			t.Errorf("line 5 value = %q", *p.Value)
		}

		csvBody := "number,kind,peildatum,person\n0612345606,donation,2025-03-01,\n0612345607,donation,2025-13-01,\n\"0612345608\",volunteer,2025-03-01,p8\n0612345609,donation,2025-03-01,x,extra\n"
		e.do(req{method: "PUT", path: "/v1/relations?org=acme", role: access.RoleIntegrator, body: csvBody, contentType: "text/csv"}).
			want(t, http.StatusOK).json(t, &res)
		if res.Stored != 2 || res.Failed != 2 || fmt.Sprint(lines(res.Errors)) != "[3 5]" {
			t.Fatalf("csv result = %+v", res)
		}
		p := e.do(req{method: "PUT", path: "/v1/relations", role: access.RoleIntegrator, body: "number,colour\n", contentType: "text/csv"}).
			want(t, http.StatusBadRequest).problem(t)
		if p.Field != "header" || *p.Value != "colour" {
			t.Fatalf("bad header = %+v", p)
		}
		// Stored relations decide.
		for n, want := range map[string]bool{"0612345601": true, "0612345606": true, "0612345608": true, "0612345607": false} {
			var d decisionView
			e.do(req{method: "GET", path: "/v1/callability/" + n + "?org=acme", role: access.RoleDialer}).want(t, http.StatusOK).json(t, &d)
			if d.Callable != want {
				t.Errorf("%s callable = %v", n, d.Callable)
			}
		}
		// Consents in bulk.
		consents := "number,given_at,withdrawn_at,evidence_ref\n0612345701,2026-01-01T09:00:00Z,,f1\n0612345702,2026-01-01T09:00:00Z,2025-01-01T00:00:00Z,f2\n0612345703,yesterday,,f3\n"
		e.do(req{method: "PUT", path: "/v1/consents?org=acme", role: access.RoleIntegrator, body: consents, contentType: "text/csv"}).
			want(t, http.StatusOK).json(t, &res)
		if res.Stored != 1 || res.Failed != 2 || res.Errors[0].Field == "" || res.Errors[1].Field == "" {
			t.Fatalf("consents = %+v", res)
		}
	})
}

// A bulk import of many lines keeps only a bounded number of errors.
func TestBulkManyBadLines(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	var sb strings.Builder
	sb.WriteString("number,kind,peildatum\n")
	for range 500 {
		sb.WriteString("bad,donation,2025-01-01\n")
	}
	var res bulkResult
	e.do(req{method: "PUT", path: "/v1/relations?org=acme", role: access.RoleIntegrator, body: sb.String(), contentType: "text/csv"}).
		want(t, http.StatusOK).json(t, &res)
	if res.Failed != 500 || len(res.Errors) != maxBulkErrors || res.ErrorsOmitted != 500-maxBulkErrors {
		t.Fatalf("result: failed %d, %d errors, %d omitted", res.Failed, len(res.Errors), res.ErrorsOmitted)
	}
}

func lines(ps []problem) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = p.Line
	}
	sortInts(out)
	return out
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
