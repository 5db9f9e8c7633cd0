package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// A supervisor lists the blocked dial-time checks, filtered and paged,
// and reads the daily counts of all checks; a dialer may do neither.
func TestDecisionsAPI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e, o := decisionsEnv(t, b)
		ctx := context.Background()
		check := func(number string) {
			t.Helper()
			e.do(req{method: "GET", path: "/v1/callability/" + number + "?org=acme", role: access.RoleDialer}).want(t, http.StatusOK)
		}
		for range 3 {
			check("0612345678") // blocked by the objection
		}
		check("0611111111") // blocked: no basis
		check("0687654321") // allowed: consent
		check("0687654321")
		e.srv.decisions.flush(ctx)

		type decisionPage struct {
			Items []objections.DecisionRecord `json:"items"`
			Next  *string                     `json:"next"`
		}
		list := func(query string) decisionPage {
			t.Helper()
			var p decisionPage
			e.do(req{method: "GET", path: "/v1/decisions" + query, role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &p)
			return p
		}
		all := list("?org=acme")
		if len(all.Items) != 4 || all.Next != nil {
			t.Fatalf("blocked checks of acme: %d (next %v), want 4", len(all.Items), all.Next)
		}
		for _, r := range all.Items {
			if r.Callable || r.Org != "acme" || r.ListVersion != 1 {
				t.Fatalf("record %+v", r)
			}
		}
		byObjection := list("?objection=" + o.ID)
		if len(byObjection.Items) != 3 || byObjection.Items[0].ObjectionID != o.ID || byObjection.Items[0].Number != "+31612345678" {
			t.Fatalf("checks blocked by the objection: %+v", byObjection.Items)
		}
		if p := list("?org=acme&number=06-1111-1111"); len(p.Items) != 1 || p.Items[0].MainReason() != objections.ReasonNoBasis {
			t.Fatalf("by number: %+v", p.Items)
		}
		if p := list("?org=acme&since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); len(p.Items) != 0 {
			t.Fatalf("since the future: %+v", p.Items)
		}
		// Pages of 3: the cursor gives the fourth.
		p1 := list("?org=acme&limit=3")
		if len(p1.Items) != 3 || p1.Next == nil {
			t.Fatalf("first page: %d items, next %v", len(p1.Items), p1.Next)
		}
		p2 := list("?org=acme&limit=3&cursor=" + *p1.Next)
		if len(p2.Items) != 1 || p2.Next != nil || p2.Items[0].ID != all.Items[3].ID {
			t.Fatalf("second page: %+v", p2)
		}

		var c decisionCountsView
		e.do(req{method: "GET", path: "/v1/decisions/counts?org=acme", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &c)
		today := objections.DecisionDay(time.Now()).Format("2006-01-02")
		if c.Org != "acme" || c.To != today || c.Totals != (decisionTotals{Checks: 6, Allowed: 2, Blocked: 4}) {
			t.Fatalf("counts = %+v, want 6 checks today (%s), 2 allowed", c, today)
		}
		got := map[objections.Reason]int64{}
		for _, it := range c.Items {
			if it.Day != today {
				t.Fatalf("count on %s: %+v", it.Day, it)
			}
			got[it.Reason] += it.Count
		}
		if got[objections.ReasonObjection] != 3 || got[objections.ReasonNoBasis] != 1 || got[objections.ReasonConsent] != 2 {
			t.Fatalf("counts by reason = %v", got)
		}
		var past decisionCountsView
		e.do(req{method: "GET", path: "/v1/decisions/counts?org=acme&from=2025-01-01&to=2025-01-31", role: access.RoleSupervisor}).
			want(t, http.StatusOK).json(t, &past)
		if len(past.Items) != 0 || past.Totals.Checks != 0 || past.From != "2025-01-01" {
			t.Fatalf("counts of January 2025 = %+v", past)
		}

		// The export: every blocked check, as CSV and as NDJSON.
		a := e.do(req{method: "GET", path: "/v1/decisions/export?org=acme", role: access.RoleSupervisor}).want(t, http.StatusOK)
		rows, err := csv.NewReader(bytes.NewReader(a.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 5 || strings.Join(rows[0], ",") != strings.Join(objections.DecisionExportHeader(), ",") ||
			!strings.HasPrefix(a.header.Get("Content-Disposition"), `attachment; filename="verzet-decisions-`) {
			t.Fatalf("CSV export (%s):\n%s", a.header.Get("Content-Disposition"), a.body)
		}
		first := map[string]string{}
		for i, col := range rows[0] {
			first[col] = rows[1][i]
		}
		r0 := all.Items[0]
		if first["id"] != r0.ID || first["number"] != r0.Number || first["callable"] != "false" || first["reasons"] != objections.JoinReasons(r0.Reasons) ||
			first["objection_id"] != r0.ObjectionID || first["list_version"] != "1" || first["decided_at"] != r0.DecidedAt.Format(time.RFC3339Nano) {
			t.Fatalf("first row %v, want %+v", first, r0)
		}
		nd := e.do(req{method: "GET", path: "/v1/decisions/export?objection=" + o.ID, role: access.RoleSupervisor,
			header: map[string]string{"Accept": "application/x-ndjson"}}).want(t, http.StatusOK)
		lines := strings.Split(strings.TrimSpace(string(nd.body)), "\n")
		if len(lines) != 3 {
			t.Fatalf("NDJSON export of the objection's checks: %d lines\n%s", len(lines), nd.body)
		}
		for _, l := range lines {
			var r objections.DecisionRecord
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.ObjectionID != o.ID {
				t.Fatalf("NDJSON line %s: %v", l, err)
			}
		}
		e.do(req{method: "GET", path: "/v1/decisions/export?org=acme&limit=5", role: access.RoleSupervisor}).want(t, http.StatusBadRequest)
		e.do(req{method: "GET", path: "/v1/decisions/export?org=acme", role: access.RoleDialer}).want(t, http.StatusForbidden)

		e.do(req{method: "GET", path: "/v1/decisions?org=acme", role: access.RoleDialer}).want(t, http.StatusForbidden)
		e.do(req{method: "GET", path: "/v1/decisions/counts?org=acme", role: access.RoleDialer}).want(t, http.StatusForbidden)
		for _, tc := range []struct{ query, field string }{
			{"/v1/decisions?org=acme&number=12", "number"},
			{"/v1/decisions?org=acme&cursor=xyz", "cursor"},
			{"/v1/decisions?org=acme&limit=0", "limit"},
			{"/v1/decisions?org=acme&colour=red", "colour"},
			{"/v1/decisions/counts?org=acme&from=2026-13-01", "from"},
			{"/v1/decisions/counts?org=acme&from=2026-03-02&to=2026-03-01", "from"},
			{"/v1/decisions/counts?org=acme&from=2024-01-01&to=2026-01-01", "from"},
			{"/v1/decisions/counts", "org"},
		} {
			p := e.do(req{method: "GET", path: tc.query, role: access.RoleSupervisor}).want(t, http.StatusBadRequest).problem(t)
			if p.Field != tc.field {
				t.Errorf("%s: problem names %q, want %q (%+v)", tc.query, p.Field, tc.field, p)
			}
		}
	})
}
