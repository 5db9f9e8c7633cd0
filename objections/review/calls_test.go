package review_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// offer records a call at the clock's time and moves the clock on.
func (e *env) offer(o objections.Offer) objections.Offer {
	e.t.Helper()
	at := e.clk.Now()
	if o.Org == "" {
		o.Org = "acme"
	}
	if o.Provider == "" {
		o.Provider = "twilio"
	}
	if o.CallRef == "" {
		o.CallRef = "CA" + at.Format("150405.000")
	}
	o.StartedAt, o.EndedAt = at, at.Add(30*time.Second)
	rec, _, err := e.reg.RecordOffer(context.Background(), o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.clk.Add(time.Minute)
	return rec
}

// The calls view lists every call whatever its outcome, newest first,
// filters them, and links each to its evidence: the objection it
// produced, or the call's own page.
func TestCallsView(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		declined := e.offer(objections.Offer{Number: "0612345678", CampaignRef: "spring", AgentRef: "agent-7", PromptID: "offer", PromptVersion: "v1",
			Language: "nl", Outcome: objections.OutcomeDeclined, EndedBy: objections.EndedByCaller,
			Keys: []objections.Key{{Digit: "2", At: e.clk.Now().Add(5 * time.Second)}}})
		noInput := e.offer(objections.Offer{Number: "0612345679", CampaignRef: "spring", Outcome: objections.OutcomeNoInput})
		hangup := e.offer(objections.Offer{Number: "0612345670", CampaignRef: "winter", AgentRef: "agent-8", Outcome: objections.OutcomeHangupDuringPrompt})
		// As the IVR does: the objection first, then the call's offer.
		obj := e.record(objections.Objection{RawNumber: "0612345671", Source: objections.SourceIVRTwilio, Provider: "twilio", CallRef: "CA-obj"})
		objected := e.offer(objections.Offer{Number: "0612345671", CampaignRef: "winter", CallRef: "CA-obj", Outcome: objections.OutcomeObjected,
			ObjectionID: obj.ID})
		b := e.signedIn("sam")
		r := b.get("/ui/calls")
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "no key pressed", "hung up during", "objected", "06 1234 5679", "agent-8", "1–3 of 4",
			`href="/ui/calls/`+hangup.ID+`"`, `href="/ui/objections/`+obj.ID+`"`)
		for _, tc := range []struct {
			query string
			want  []objections.Offer
		}{
			{"outcome=declined", []objections.Offer{declined}},
			{"outcome=no_input", []objections.Offer{noInput}},
			{"campaign=winter", []objections.Offer{objected, hangup}},
			{"agent=agent-8", []objections.Offer{hangup}},
			{"q=06+1234+5678", []objections.Offer{declined}},
			{"from=2026-03-03", nil},
		} {
			r := b.get("/ui/calls?" + tc.query)
			wantStatus(t, r, http.StatusOK)
			for _, o := range []objections.Offer{declined, noInput, hangup} {
				if strings.Contains(r.body, `href="/ui/calls/`+o.ID+`"`) != slices.ContainsFunc(tc.want, func(w objections.Offer) bool { return w.ID == o.ID }) {
					t.Errorf("%s: call %s shown wrongly", tc.query, o.Outcome)
				}
			}
		}
		for _, bad := range []string{"outcome=maybe", "from=yesterday", "q=12"} {
			wantStatus(t, b.get("/ui/calls?"+bad), http.StatusUnprocessableEntity)
		}

		// The declined call's own page: words, key, end; audited.
		r = b.get("/ui/calls/" + declined.ID)
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "+31612345678", "Key 2 pressed", "Wilt u niet meer gebeld worden?", "declined", "agent-7", "call recorded")
		log, _ := e.store.AuditLog(context.Background(), access.AuditFilter{Action: access.AuditView})
		if len(log) != 1 || log[0].Subject != declined.ID || log[0].Actor != "sam" || log[0].Orgs.Stored() != "acme" {
			t.Fatalf("the call's view is audited as %+v", log)
		}
		wantStatus(t, b.get("/ui/calls/01NOSUCHCALL0000000000000A"), http.StatusNotFound)
		wantBody(t, e.signedIn("ada").get("/ui/audit"), `href="/ui/calls/`+declined.ID+`"`)

		// The dashboard links into the calls.
		wantBody(t, b.get("/ui/dashboard?from=2026-03-01&to=2026-03-02"), `href="/ui/calls?from=2026-03-01&amp;to=2026-03-02"`)
	})
}

// A user scoped to an org sees only its calls; another org's call is not
// found.
func TestCallsScoped(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		w := e.orgWorld()
		e.scopedUser("acme-sup", access.RoleSupervisor, access.Scope{"acme"})
		e.scopedUser("cc1-sup", access.RoleSupervisor, access.Scope{"callcenter1"})
		acme := e.signedIn("acme-sup")
		r := acme.get("/ui/calls")
		wantBody(t, r, `/ui/calls/`+w.viaOffer.ID)
		if strings.Contains(r.body, w.betaOffer.ID) || strings.Contains(r.body, w.beta.ID) {
			t.Fatalf("acme sees beta's call:\n%s", r.body)
		}
		wantStatus(t, acme.get("/ui/calls/"+w.betaOffer.ID), http.StatusNotFound)
		wantStatus(t, acme.get("/ui/calls/"+w.viaOffer.ID), http.StatusOK)
		// The agency sees its own call for acme.
		wantStatus(t, e.signedIn("cc1-sup").get("/ui/calls/"+w.viaOffer.ID), http.StatusOK)
		wantStatus(t, e.signedIn("cc1-sup").get("/ui/calls/"+w.betaOffer.ID), http.StatusNotFound)
		rows := csvRows(t, acme.get("/ui/calls.csv?format=csv"), ',')
		if len(rows) != 2 || rows[1][slices.Index(rows[0], "Id")] != w.viaOffer.ID {
			t.Fatalf("acme's call export = %q", rows)
		}
	})
}

// csvRows reads an export written with comma.
func csvRows(t *testing.T, r resp, comma rune) [][]string {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(r.body, "\uFEFF")))
	cr.Comma = comma
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%v:\n%s", err, r.body)
	}
	return rows
}

// The Dutch export opens in a spreadsheet set to Dutch: a byte order
// mark, semicolons, Dutch headers and values, Amsterdam times with their
// offset; the plain CSV is offered besides. The API's format is not
// touched (objections.ExportHeader).
func TestExportForExcelInDutch(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.record(objections.Objection{RawNumber: "0612345678", CampaignRef: "lente; zomer", Source: objections.SourceLetter, Note: "Brief van 1 maart"})
		e.offer(objections.Offer{Number: "0612345678", Outcome: objections.OutcomeDeclined, CampaignRef: "lente; zomer"})
		b := e.signedIn("sam")
		b.get("/ui/lang/nl")
		wantBody(t, b.get("/ui/objections"), `href="/ui/export.csv?format=excel"`, `href="/ui/export.csv?format=csv"`, "Exporteren voor Excel")
		r := b.get("/ui/export.csv")
		if !strings.HasPrefix(r.body, "\uFEFF") {
			t.Fatalf("the Dutch export has no byte order mark: %q", r.body[:20])
		}
		rows := csvRows(t, r, ';')
		if len(rows) != 2 || rows[0][0] != "Ontvangen (Europe/Amsterdam)" || rows[0][1] != "Nummer" || rows[1][0] != "2026-03-02 10:00:00 +01:00" ||
			rows[1][1] != "06 1234 5678" || rows[1][7] != "lente; zomer" || rows[1][8] != "brief" || rows[1][9] != "actief" || rows[1][6] != "nee" {
			t.Fatalf("Dutch rows = %q", rows)
		}
		rows = csvRows(t, b.get("/ui/calls.csv"), ';')
		if len(rows) != 2 || rows[0][0] != "Begonnen (Europe/Amsterdam)" || rows[1][slices.Index(rows[0], "Uitkomst")] != "afgeslagen" {
			t.Fatalf("Dutch call rows = %q", rows)
		}
		r = b.get("/ui/export.csv?format=csv")
		if strings.HasPrefix(r.body, "\uFEFF") {
			t.Fatal("the plain CSV has a byte order mark")
		}
		if rows := csvRows(t, r, ','); len(rows) != 2 || rows[0][1] != "Nummer" {
			t.Fatalf("plain CSV in Dutch = %q", rows)
		}
		wantStatus(t, b.get("/ui/export.csv?format=xlsx"), http.StatusUnprocessableEntity)
		acts := strings.Join(auditActions(t, e), " ")
		if strings.Count(acts, "sam:export") != 3 {
			t.Fatalf("audit = %s", acts)
		}
	})
}

// A part of a number finds it: its last digits or its beginning; one
// match is searched at once, several are offered.
func TestSearchByPartOfANumber(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.orgWorld() // 0612345671 (acme), …72 (acme via callcenter1), …73 (beta)
		one := e.record(objections.Objection{RawNumber: "0687655678"})
		e.offer(objections.Offer{Number: "0611115678", Outcome: objections.OutcomeDeclined})
		b := e.signedIn("sam")
		r := b.get("/ui/objections?q=" + url.QueryEscape("5678"))
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "Numbers ending in 5678", "06 8765 5678", "06 1111 5678", `href="/ui/objections?q=%2B31687655678"`)
		r = b.get("/ui/objections?q=55678")
		wantBody(t, r, "Searching for 06 8765 5678 (+31687655678) (ending in 55678)", "/ui/objections/"+one.ID)
		r = b.get("/ui/objections?q=" + url.QueryEscape("06 1234 567"))
		wantBody(t, r, "Numbers starting with 06 1234 567", "06 1234 5671", "06 1234 5673")
		wantBody(t, b.get("/ui/objections?q=4321"), "No number you can see ends in 4321")
		// The calls view finds the number of a call without an objection.
		wantBody(t, b.get("/ui/calls?q=15678"), "Searching for 06 1111 5678")
		// Within the user's scope only.
		e.scopedUser("acme-sup", access.RoleSupervisor, access.Scope{"acme"})
		r = e.signedIn("acme-sup").get("/ui/objections?q=" + url.QueryEscape("06 1234 567"))
		wantBody(t, r, "06 1234 5671", "06 1234 5672")
		if strings.Contains(r.body, "06 1234 5673") {
			t.Fatalf("acme's user finds beta's number:\n%s", r.body)
		}
		// An export of a part that finds several is refused.
		wantStatus(t, b.get("/ui/export.csv?q=5678"), http.StatusUnprocessableEntity)
	})
}
