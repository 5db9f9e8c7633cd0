package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// auditToken makes a supervisor token named auditee; it returns the token
// and its bearer string.
func (e *apiEnv) auditToken() (access.Token, string) {
	e.t.Helper()
	tok, bearer, err := access.NewToken("auditee", access.RoleSupervisor, nil, "test", time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if tok, err = e.store.CreateToken(context.Background(), tok); err != nil {
		e.t.Fatal(err)
	}
	return tok, bearer
}

// auditLog returns the store's audit log, oldest first.
func (e *apiEnv) auditLog() []access.AuditEntry {
	e.t.Helper()
	list, err := e.store.AuditLog(context.Background(), access.AuditFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// auditFixture records, on 06 1234 5678 for acme, an objection, the offer
// it came from and a dial attempt it stopped.
func auditFixture(t *testing.T, e *apiEnv) objections.Objection {
	t.Helper()
	ctx := context.Background()
	setOrg(t, e.reg, "acme", objections.SectorCharity)
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	off, _, err := e.reg.RecordOffer(ctx, objections.Offer{Org: "acme", Number: "0612345678", Provider: "twilio", CallRef: "CA1",
		Outcome: objections.OutcomeObjected, StartedAt: at, EndedAt: at.Add(9 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	o, _, err := e.reg.Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceIVRTwilio,
		Provider: "twilio", CallRef: "CA1", OfferID: off.ID})
	if err != nil {
		t.Fatal(err)
	}
	stop := o.ReceivedAt.Add(2 * time.Second)
	if _, err := e.store.AppendDecisions(ctx, []objections.DecisionRecord{{ID: objections.NewID(stop),
		DecidedAt: stop, Org: "acme", Number: o.Number, Basis: objections.BasisNone,
		Reasons: []objections.Reason{objections.ReasonObjection}, ObjectionID: o.ID, ListVersion: 1, TokenName: "dialer"}}, nil); err != nil {
		t.Fatal(err)
	}
	return o
}

// auditedRead is one read of personal data and the entry it must leave.
type auditedRead struct {
	name    string
	path    string
	accept  string
	action  access.AuditAction
	subject string
	detail  string
	// body is a part of the answer: the data was read.
	body string
}

func auditedReads(o objections.Objection) []auditedRead {
	return []auditedRead{
		{"objections export", "/v1/objections/export?org=acme&number=06+1234+5678&since=2020-03-01", "",
			access.AuditExport, "objections", "format=csv org=acme number=+31612345678 since=2020-02-29T23:00:00Z", o.ID},
		{"objections export as NDJSON", "/v1/objections/export?status=active", "application/x-ndjson",
			access.AuditExport, "objections", "format=ndjson status=active", o.ID},
		{"offers export", "/v1/offers/export?org=acme&outcome=objected&campaign=spring", "",
			access.AuditExport, "offers", "format=csv org=acme campaign=spring outcome=objected", "id,org,number"},
		{"decisions export", "/v1/decisions/export?objection=" + o.ID, "application/x-ndjson",
			access.AuditExport, "decisions", "format=ndjson objection=" + o.ID, `"token_name":"dialer"`},
		{"evidence pack", "/v1/people/0612345678/evidence?org=acme", "",
			access.AuditView, "+31612345678", "evidence pack org=acme format=json", `"first_blocks"`},
		{"evidence pack as HTML", "/v1/people/+31612345678/evidence?org=acme&person=P-7", "text/html",
			access.AuditView, "+31612345678", "evidence pack org=acme person=P-7 format=html", "<html"},
		{"objection", "/v1/objections/" + o.ID, "",
			access.AuditView, o.ID, "", `"evidence"`},
	}
}

// Every read of personal data through the API leaves exactly one entry in
// the audit log the UI keeps, naming the token; refused requests and
// reads of no personal data leave none.
func TestReadsOfPersonalDataAreAudited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{})
		o := auditFixture(t, e)
		tok, bearer := e.auditToken()
		wantActor := "token:" + tok.ID + " (auditee)"
		for _, rd := range auditedReads(o) {
			before := len(e.auditLog())
			a := e.do(req{method: "GET", path: rd.path, bearer: bearer, header: map[string]string{"Accept": rd.accept}}).want(t, http.StatusOK)
			if !strings.Contains(string(a.body), rd.body) {
				t.Fatalf("%s: the answer lacks %q:\n%s", rd.name, rd.body, a.body)
			}
			log := e.auditLog()
			if len(log) != before+1 {
				t.Fatalf("%s: %d audit entries written, want 1: %+v", rd.name, len(log)-before, log[before:])
			}
			got := log[len(log)-1]
			if got.Actor != wantActor || got.Action != rd.action || got.Subject != rd.subject || got.Detail != rd.detail ||
				got.Remote != "127.0.0.1" || got.ID == "" || time.Since(got.At) > time.Minute {
				t.Fatalf("%s: audit entry = %+v\nwant actor %q, action %s, subject %q, detail %q", rd.name, got, wantActor, rd.action, rd.subject, rd.detail)
			}
		}
		// Refused requests and reads of no personal data leave nothing to audit.
		before := len(e.auditLog())
		for _, rq := range []struct {
			path   string
			status int
		}{
			{"/v1/objections/export?status=dancing", http.StatusBadRequest},
			{"/v1/decisions/export?colour=red", http.StatusBadRequest},
			{"/v1/people/not-a-number/evidence?org=acme", http.StatusBadRequest},
			{"/v1/objections/01ARZ3NDEKTSV4RRFFQ69G5FAV", http.StatusNotFound},
			{"/v1/orgs", http.StatusOK},
		} {
			e.do(req{method: "GET", path: rq.path, bearer: bearer}).want(t, rq.status)
		}
		if log := e.auditLog(); len(log) != before {
			t.Fatalf("refused requests and listings wrote audit entries: %+v", log[before:])
		}
	})
}

// failingAudit is a store whose audit log cannot be written while fail is
// set.
type failingAudit struct {
	testStore
	fail atomic.Bool
}

func (f *failingAudit) AppendAudit(ctx context.Context, e access.AuditEntry) error {
	if f.fail.Load() {
		return objections.Unavailable("append audit entry", errors.New("disk full"))
	}
	return f.testStore.AppendAudit(ctx, e)
}

// As in the UI, a read that cannot be audited is not done: 503, and none
// of the data.
func TestUnauditedReadsAreRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		st, reopen := b.open(t)
		fa := &failingAudit{testStore: st}
		e := envOn(t, fa, reopen, Config{})
		o := auditFixture(t, e)
		_, bearer := e.auditToken()
		fa.fail.Store(true)
		for _, rd := range auditedReads(o) {
			a := e.do(req{method: "GET", path: rd.path, bearer: bearer, header: map[string]string{"Accept": rd.accept}}).
				want(t, http.StatusServiceUnavailable)
			p := a.problem(t)
			if p.Code != objections.EUNAVAILABLE || p.Detail != "audit log unavailable" || a.header.Get("Retry-After") == "" ||
				strings.Contains(string(a.body), "+31612345678") || strings.Contains(string(a.body), o.ID) {
				t.Fatalf("%s: refused with %+v, Retry-After %q:\n%s", rd.name, p, a.header.Get("Retry-After"), a.body)
			}
		}
		if log := e.auditLog(); len(log) != 0 {
			t.Fatalf("audit log = %+v", log)
		}
		// Reads that are not audited go on; audited ones again once the
		// log can be written.
		e.do(req{method: "GET", path: "/v1/orgs", bearer: bearer}).want(t, http.StatusOK)
		fa.fail.Store(false)
		e.do(req{method: "GET", path: "/v1/objections/" + o.ID, bearer: bearer}).want(t, http.StatusOK)
		if log := e.auditLog(); len(log) != 1 || log[0].Subject != o.ID {
			t.Fatalf("audit log after recovery = %+v", log)
		}
	})
}
