package httpapi

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

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

// The scrub's answer repeats each input cell defused like every CSV verzet
// writes, valid number or not, and at most 64 characters of a bad line.
func TestScrubEchoIsDefusedAndShort(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	scrubFixture(t, e.reg)
	long := "=HYPERLINK(\"http://evil.example/" + strings.Repeat("é", 200) + "\")"
	body := "number\n=WEBSERVICE(0612345602)\n@SUM(0612345603)\n" + long + "\n"
	a := e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: objections.RoleDialer, body: body, contentType: "text/csv"}).want(t, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(string(a.body))).ReadAll()
	if err != nil || len(rows) != 4 || strings.Join(rows[1], ",") != "'=WEBSERVICE(0612345602),false,none,objection" ||
		strings.Join(rows[2], ",") != "'@SUM(0612345603),true,consent,consent" || rows[3][3] != "invalid_number" {
		t.Fatalf("scrub (%v) =\n%s", err, a.body)
	}
	if cell := rows[3][0]; !strings.HasPrefix(cell, `'=HYPERLINK("http`) || !strings.HasSuffix(cell, "é…") || utf8.RuneCountInString(cell) != 1+64+1 {
		t.Fatalf("a long bad line is echoed as %q", cell)
	}

	a = e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: objections.RoleDialer, contentType: "application/json",
		body: `["` + strings.Repeat("7", 300) + `"]`, header: map[string]string{"Accept": "application/x-ndjson"}}).want(t, http.StatusOK)
	sc := bufio.NewScanner(strings.NewReader(string(a.body)))
	sc.Scan()
	var l scrubLine
	if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	if l.Input != strings.Repeat("7", 64)+"…" || l.Error == nil || utf8.RuneCountInString(*l.Error.Value) > 65 {
		t.Fatalf("a long bad line in NDJSON = %+v %+v", l, l.Error)
	}
}
