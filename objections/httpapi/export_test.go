package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// pagedStore counts the pages the API reads and, once failAfter pages
// have been read, fails every further one (failAfter -1: never).
type pagedStore struct {
	testStore
	calls     atomic.Int32
	failAfter atomic.Int32
	delay     atomic.Int64 // each page takes this long (time.Duration)
}

func newPagedStore(st testStore) *pagedStore {
	p := &pagedStore{testStore: st}
	p.failAfter.Store(-1)
	return p
}

// failFrom makes the store fail from the page after n on.
func (p *pagedStore) failFrom(n int32) {
	p.calls.Store(0)
	p.failAfter.Store(n)
}

func (p *pagedStore) page() error {
	n := p.calls.Add(1)
	time.Sleep(time.Duration(p.delay.Load()))
	if f := p.failAfter.Load(); f >= 0 && n > f {
		return objections.Unavailable("list", errors.New("connection refused"))
	}
	return nil
}

func (p *pagedStore) Objections(ctx context.Context, f objections.ObjectionFilter) ([]objections.Objection, error) {
	if err := p.page(); err != nil {
		return nil, err
	}
	return p.testStore.Objections(ctx, f)
}

func (p *pagedStore) Offers(ctx context.Context, f objections.OfferFilter) ([]objections.Offer, error) {
	if err := p.page(); err != nil {
		return nil, err
	}
	return p.testStore.Offers(ctx, f)
}

// exportClock is 00:30 on 2 July in Amsterdam (summer time), still 1 July
// in UTC: the file name must carry the Amsterdam date.
func exportClock() time.Time { return time.Date(2030, 7, 1, 22, 30, 0, 0, time.UTC) }

// exportEnv is an env whose exports read pages of 10 records, counted.
func exportEnv(t *testing.T, b backend) (*apiEnv, *pagedStore) {
	t.Helper()
	st, reopen := b.open(t)
	ps := newPagedStore(st)
	return envOn(t, ps, reopen, Config{ExportPage: 10}, WithClock(exportClock)), ps
}

// readCSV parses a CSV export whose every row has the header's width.
func readCSV(t *testing.T, a answer) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(a.body)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, a.body)
	}
	return rows
}

// column returns the cells of row by header name.
func column(header, row []string) map[string]string {
	m := make(map[string]string, len(header))
	for i, h := range header {
		m[h] = row[i]
	}
	return m
}

func TestExportObjections(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e, ps := exportEnv(t, b)
		ctx := t.Context()
		// 20 objections of acme (two full pages), 5 of beta: 25 in all
		// (three pages, the last short).
		var acme, beta, all []string
		for i := range 25 {
			org := "acme"
			if i%5 == 4 {
				org = "beta"
			}
			o := recordVia(t, e.reg, org, fmt.Sprintf("+316%08d", 20000000+i))
			all = append(all, o.ID)
			if org == "acme" {
				acme = append(acme, o.ID)
			} else {
				beta = append(beta, o.ID)
			}
		}
		spring, _, err := e.reg.Record(ctx, objections.Objection{Org: "acme", RawNumber: "06 1234 5678", Source: objections.SourceEmail,
			CampaignRef: "spring", LeadRef: "L-7", AgentRef: "agent-3", Note: `=HYPERLINK("http://x")`})
		if err != nil {
			t.Fatal(err)
		}
		acme, all = append(acme, spring.ID), append(all, spring.ID)
		voided, err := e.reg.Void(ctx, acme[0], "sam", "wrong number typed by agent")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(acme) // ids order the export, as they order the list
		slices.Sort(beta)
		slices.Sort(all)

		ps.calls.Store(0)
		a := e.do(req{method: "GET", path: "/v1/objections/export?org=acme", role: access.RoleSupervisor}).want(t, http.StatusOK)
		if ct := a.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("Content-Type = %q", ct)
		}
		if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename="verzet-objections-20300702-0030.csv"` {
			t.Fatalf("Content-Disposition = %q", cd)
		}
		rows := readCSV(t, a)
		wantHeader := []string{"id", "org", "number", "raw_number", "person_id", "source", "provider", "call_ref",
			"dialer_call_ref", "campaign_ref", "lead_ref", "agent_ref", "offer_id", "received_at", "status", "voided_at",
			"voided_by", "void_reason", "note", "agency", "agency_unlisted"}
		if !slices.Equal(rows[0], wantHeader) {
			t.Fatalf("header = %q", rows[0])
		}
		var ids []string
		for _, r := range rows[1:] {
			ids = append(ids, r[0])
		}
		if !slices.Equal(ids, acme) {
			t.Fatalf("exported ids\n%v\nwant\n%v", ids, acme)
		}
		// 21 records in pages of 10: three pages read.
		if n := ps.calls.Load(); n != 3 {
			t.Fatalf("the export read %d pages, want 3", n)
		}
		// One row, field by field.
		var got map[string]string
		for _, r := range rows[1:] {
			if r[0] == spring.ID {
				got = column(rows[0], r)
			}
		}
		want := map[string]string{"id": spring.ID, "org": "acme", "number": "+31612345678", "raw_number": "06 1234 5678",
			"person_id": "", "source": "email", "provider": "", "call_ref": "", "dialer_call_ref": "", "campaign_ref": "spring",
			"lead_ref": "L-7", "agent_ref": "agent-3", "offer_id": "", "status": "active", "voided_at": "", "voided_by": "",
			"void_reason": "", "note": `'=HYPERLINK("http://x")`, "agency": "", "agency_unlisted": "false"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		if at, err := time.Parse(time.RFC3339Nano, got["received_at"]); err != nil || !at.Equal(spring.ReceivedAt) {
			t.Errorf("received_at = %q, want %v", got["received_at"], spring.ReceivedAt)
		}
		// The voided one carries its void.
		a = e.do(req{method: "GET", path: "/v1/objections/export?status=voided", role: access.RoleSupervisor}).want(t, http.StatusOK)
		rows = readCSV(t, a)
		if len(rows) != 2 {
			t.Fatalf("voided export = %q", rows)
		}
		got = column(rows[0], rows[1])
		if got["id"] != voided.ID || got["status"] != "voided" || got["voided_by"] != "sam" ||
			got["void_reason"] != "wrong number typed by agent" || got["voided_at"] == "" {
			t.Fatalf("voided row = %v", got)
		}

		// Filters.
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"", all},
			{"org=beta", beta},
			{"campaign=spring", []string{spring.ID}},
			{"number=%2B31%206%201234%205678", []string{spring.ID}},
			{"source=email&org=acme", []string{spring.ID}},
			{"source=letter", []string{}},
			{"since=2000-01-01&until=2100-01-01", all},
			{"until=2000-01-01", []string{}},
		} {
			a := e.do(req{method: "GET", path: "/v1/objections/export?" + tc.query, role: access.RoleAdmin}).want(t, http.StatusOK)
			rows := readCSV(t, a)
			if !slices.Equal(rows[0], wantHeader) {
				t.Fatalf("%s: header = %q", tc.query, rows[0])
			}
			ids := []string{}
			for _, r := range rows[1:] {
				ids = append(ids, r[0])
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("%s: ids %v, want %v", tc.query, ids, tc.want)
			}
		}

		// NDJSON: the list's items, one a line, all pages.
		a = e.do(req{method: "GET", path: "/v1/objections/export?org=acme", role: access.RoleSupervisor,
			header: map[string]string{"Accept": "application/x-ndjson"}}).want(t, http.StatusOK)
		if ct, cd := a.header.Get("Content-Type"), a.header.Get("Content-Disposition"); ct != "application/x-ndjson" ||
			cd != `attachment; filename="verzet-objections-20300702-0030.ndjson"` {
			t.Fatalf("NDJSON headers %q %q", ct, cd)
		}
		var listed page[objectionView]
		e.do(req{method: "GET", path: "/v1/objections?org=acme&limit=1000", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &listed)
		lines := bytes.Split(bytes.TrimSuffix(a.body, []byte("\n")), []byte("\n"))
		if len(lines) != len(acme) || len(listed.Items) != len(acme) {
			t.Fatalf("%d NDJSON lines, %d listed, want %d", len(lines), len(listed.Items), len(acme))
		}
		for i, l := range lines {
			var v objectionView
			if err := json.Unmarshal(l, &v); err != nil {
				t.Fatalf("line %d is not JSON: %v: %s", i+1, err, l)
			}
			item, _ := json.Marshal(listed.Items[i])
			if v.ID != acme[i] || !bytes.Equal(l, item) {
				t.Fatalf("line %d\n%s\nwant the list item\n%s", i+1, l, item)
			}
		}
	})
}

func TestExportOffers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e, ps := exportEnv(t, b)
		ctx := t.Context()
		var ids []string
		for i := range 23 {
			outcome := objections.OutcomeDeclined
			if i%4 == 0 {
				outcome = objections.OutcomeNoInput
			}
			o, _, err := e.reg.RecordOffer(ctx, objections.Offer{Org: "acme", Number: fmt.Sprintf("+316%08d", 30000000+i),
				Provider: "ari", CallRef: fmt.Sprintf("ch-%d", i), Outcome: outcome})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, o.ID)
		}
		start := time.Now().UTC().Truncate(time.Millisecond)
		objected, _, err := e.reg.RecordOffer(ctx, objections.Offer{Org: "acme", Number: "0612345678", PresentedNumber: "0201234567",
			Provider: "twilio", CallRef: "CA1", DialerCallRef: "D-1", CampaignRef: "=spring", LeadRef: "L-1", AgentRef: "A-1",
			Announced: true, PromptID: "offer", PromptVersion: "v3", Language: "nl", PromptHash: "ff00", PlayedMS: 4200, BargeIn: true,
			Keys:    []objections.Key{{Digit: "1", At: start.Add(3 * time.Second)}, {Digit: "#", At: start.Add(3500 * time.Millisecond)}},
			Outcome: objections.OutcomeObjected, EndedBy: objections.EndedByCaller, StartedAt: start, EndedAt: start.Add(9 * time.Second),
			ObjectionID: "01KJPWD6M1753ZJ2RH6KSYZ54B"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, objected.ID)
		slices.Sort(ids)

		ps.calls.Store(0)
		a := e.do(req{method: "GET", path: "/v1/offers/export?org=acme", role: access.RoleSupervisor}).want(t, http.StatusOK)
		if ct, cd := a.header.Get("Content-Type"), a.header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
			cd != `attachment; filename="verzet-offers-20300702-0030.csv"` {
			t.Fatalf("headers %q %q", ct, cd)
		}
		rows := readCSV(t, a)
		wantHeader := []string{"id", "org", "number", "presented_number", "provider", "call_ref", "dialer_call_ref",
			"campaign_ref", "lead_ref", "agent_ref", "announced", "started_at", "ended_at", "prompt_id", "prompt_version",
			"language", "prompt_hash", "played_ms", "barge_in", "keys", "outcome", "ended_by", "objection_id"}
		if !slices.Equal(rows[0], wantHeader) {
			t.Fatalf("header = %q", rows[0])
		}
		var got []string
		for _, r := range rows[1:] {
			got = append(got, r[0])
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("exported ids\n%v\nwant\n%v", got, ids)
		}
		if n := ps.calls.Load(); n != 3 {
			t.Fatalf("the export read %d pages, want 3", n)
		}
		var row map[string]string
		for _, r := range rows[1:] {
			if r[0] == objected.ID {
				row = column(rows[0], r)
			}
		}
		keys := "1@" + start.Add(3*time.Second).Format(time.RFC3339Nano) + " #@" + start.Add(3500*time.Millisecond).Format(time.RFC3339Nano)
		want := map[string]string{"id": objected.ID, "org": "acme", "number": "+31612345678", "presented_number": "+31201234567",
			"provider": "twilio", "call_ref": "CA1", "dialer_call_ref": "D-1", "campaign_ref": "'=spring", "lead_ref": "L-1",
			"agent_ref": "A-1", "announced": "true", "prompt_id": "offer", "prompt_version": "v3", "language": "nl",
			"prompt_hash": "ff00", "played_ms": "4200", "barge_in": "true", "outcome": "objected", "ended_by": "caller",
			"objection_id": "01KJPWD6M1753ZJ2RH6KSYZ54B", "keys": keys}
		for k, v := range want {
			if row[k] != v {
				t.Errorf("%s = %q, want %q", k, row[k], v)
			}
		}
		for k, at := range map[string]time.Time{"started_at": start, "ended_at": start.Add(9 * time.Second)} {
			if got, err := time.Parse(time.RFC3339Nano, row[k]); err != nil || !got.Equal(at) {
				t.Errorf("%s = %q, want %v", k, row[k], at)
			}
		}

		// Filters.
		a = e.do(req{method: "GET", path: "/v1/offers/export?outcome=no_input", role: access.RoleSupervisor}).want(t, http.StatusOK)
		rows = readCSV(t, a)
		if len(rows) != 1+6 {
			t.Fatalf("no_input export: %d rows, want 6", len(rows)-1)
		}
		for _, r := range rows[1:] {
			if column(rows[0], r)["outcome"] != "no_input" {
				t.Fatalf("no_input export holds %q", r)
			}
		}
		a = e.do(req{method: "GET", path: "/v1/offers/export?number=0612345678&campaign=%3Dspring", role: access.RoleSupervisor}).want(t, http.StatusOK)
		if rows = readCSV(t, a); len(rows) != 2 || rows[1][0] != objected.ID {
			t.Fatalf("by number and campaign: %q", rows)
		}
		a = e.do(req{method: "GET", path: "/v1/offers/export?org=beta", role: access.RoleSupervisor}).want(t, http.StatusOK)
		if rows = readCSV(t, a); len(rows) != 1 {
			t.Fatalf("beta has no offers: %q", rows)
		}

		// NDJSON.
		a = e.do(req{method: "GET", path: "/v1/offers/export?org=acme", role: access.RoleSupervisor,
			header: map[string]string{"Accept": "application/x-ndjson"}}).want(t, http.StatusOK)
		if cd := a.header.Get("Content-Disposition"); a.header.Get("Content-Type") != "application/x-ndjson" ||
			cd != `attachment; filename="verzet-offers-20300702-0030.ndjson"` {
			t.Fatalf("NDJSON headers %v", a.header)
		}
		var listed page[objections.Offer]
		e.do(req{method: "GET", path: "/v1/offers?org=acme&limit=1000", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &listed)
		sc := bufio.NewScanner(bytes.NewReader(a.body))
		n := 0
		for sc.Scan() {
			var o objections.Offer
			if err := json.Unmarshal(sc.Bytes(), &o); err != nil {
				t.Fatalf("line %d is not JSON: %v: %s", n+1, err, sc.Bytes())
			}
			item, _ := json.Marshal(listed.Items[n])
			if o.ID != ids[n] || !bytes.Equal(sc.Bytes(), item) {
				t.Fatalf("line %d\n%s\nwant the list item\n%s", n+1, sc.Bytes(), item)
			}
			n++
		}
		if n != len(ids) {
			t.Fatalf("%d NDJSON lines, want %d", n, len(ids))
		}
	})
}

func TestExportRefusals(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	if e.srv.cfg.ExportPage != 1000 {
		t.Fatalf("default export page = %d, want the stores' largest, 1000", e.srv.cfg.ExportPage)
	}
	for _, path := range []string{"/v1/objections/export", "/v1/offers/export"} {
		for _, role := range []access.Role{access.RoleDialer, access.RoleIntegrator} {
			if p := e.do(req{method: "GET", path: path, role: role}).want(t, http.StatusForbidden).problem(t); p.Code != codeForbidden {
				t.Errorf("%s as %s: %+v", path, role, p)
			}
		}
		e.do(req{method: "GET", path: path}).want(t, http.StatusUnauthorized)
	}
	for _, tc := range []struct {
		path, field, value string
	}{
		{"/v1/objections/export?status=gone", "status", "gone"},
		{"/v1/objections/export?source=pigeon", "source", "pigeon"},
		{"/v1/objections/export?number=06-12", "number", "06-12"},
		{"/v1/objections/export?since=yesterday", "since", "yesterday"},
		{"/v1/objections/export?until=2026-13-01", "until", "2026-13-01"},
		{"/v1/objections/export?cursor=AAAA", "cursor", "AAAA"}, // an export has no pages
		{"/v1/objections/export?limit=10", "limit", "10"},
		{"/v1/offers/export?outcome=maybe", "outcome", "maybe"},
		{"/v1/offers/export?number=abc", "number", "abc"},
		{"/v1/offers/export?since=" + url.QueryEscape("2026-03-01 09:00"), "since", "2026-03-01 09:00"},
		{"/v1/offers/export?limit=10", "limit", "10"},
	} {
		p := e.do(req{method: "GET", path: tc.path, role: access.RoleSupervisor}).want(t, http.StatusBadRequest).problem(t)
		if p.Code != objections.EINVALID || p.Field != tc.field || p.Value == nil || *p.Value != tc.value {
			t.Errorf("%s: problem %+v, want field %q value %q", tc.path, p, tc.field, tc.value)
		}
	}
}

// A store failure midway ends the transfer abnormally, after a line that
// says why: a client cannot take the rows it got for the whole export. A
// failure before the first row is a plain problem.
func TestExportFailsLoudly(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e, ps := exportEnv(t, b)
		e.validate = false // an aborted answer has no documented shape
		ctx := t.Context()
		for i := range 15 {
			recordVia(t, e.reg, "acme", fmt.Sprintf("+316%08d", 40000000+i))
			if _, _, err := e.reg.RecordOffer(ctx, objections.Offer{Org: "acme", Number: fmt.Sprintf("+316%08d", 40000000+i),
				Provider: "ari", CallRef: fmt.Sprintf("ch-%d", i), Outcome: objections.OutcomeDeclined}); err != nil {
				t.Fatal(err)
			}
		}
		for _, path := range []string{"/v1/objections/export", "/v1/offers/export"} {
			for _, ndjson := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s ndjson=%v", path, ndjson), func(t *testing.T) {
					ps.failFrom(1) // the first page, then failures
					hr, _ := http.NewRequest("GET", e.ts.URL+path, nil)
					hr.Header.Set("Authorization", "Bearer "+e.tokens[access.RoleSupervisor])
					if ndjson {
						hr.Header.Set("Accept", "application/x-ndjson")
					}
					resp, err := e.ts.Client().Do(hr)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					body, err := io.ReadAll(resp.Body)
					if err == nil {
						t.Fatalf("a failed export ended like a complete one:\n%s", body)
					}
					lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
					last := lines[len(lines)-1]
					if ndjson {
						var l struct{ Error problem }
						if len(lines) != 10+1 || json.Unmarshal([]byte(last), &l) != nil || l.Error.Code != objections.EUNAVAILABLE {
							t.Fatalf("partial answer (%v), %d lines:\n%s", err, len(lines), body)
						}
						return
					}
					if len(lines) != 1+10+1 || !strings.HasPrefix(last, "error: store unavailable") {
						t.Fatalf("partial answer (%v), %d lines:\n%s", err, len(lines), body)
					}
				})
			}
			// Failing before the first row: a proper problem.
			ps.failFrom(0)
			p := e.do(req{method: "GET", path: path, role: access.RoleSupervisor}).want(t, http.StatusServiceUnavailable).problem(t)
			if p.Code != objections.EUNAVAILABLE {
				t.Fatalf("problem = %+v", p)
			}
		}
		ps.failFrom(-1)
		e.do(req{method: "GET", path: "/v1/objections/export", role: access.RoleSupervisor}).want(t, http.StatusOK)
	})
}

// An export may take longer than the server's WriteTimeout, which bounds a
// whole response: each page gets its own write window.
func TestExportOutlastsWriteTimeout(t *testing.T) {
	e, ps := exportEnv(t, backends()[0])
	for i := range 45 {
		recordVia(t, e.reg, "acme", fmt.Sprintf("+316%08d", 50000000+i))
	}
	ts := httptest.NewUnstartedServer(e.srv.Handler())
	ts.Config.WriteTimeout = 250 * time.Millisecond
	ts.Start()
	t.Cleanup(ts.Close)
	e.ts = ts
	ps.delay.Store(int64(100 * time.Millisecond)) // five pages: 500 ms
	start := time.Now()
	a := e.do(req{method: "GET", path: "/v1/objections/export", role: access.RoleSupervisor}).want(t, http.StatusOK)
	if rows := readCSV(t, a); len(rows) != 1+45 || time.Since(start) < 500*time.Millisecond {
		t.Fatalf("%d rows in %v", len(rows)-1, time.Since(start))
	}
}
