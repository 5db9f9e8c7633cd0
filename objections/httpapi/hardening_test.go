package httpapi

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
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
		p := e.do(req{method: "PUT", path: tc.path, role: access.RoleIntegrator, body: tc.body}).want(t, http.StatusBadRequest).problem(t)
		if p.Field != tc.field {
			t.Errorf("PUT %s %v: field %q, want %q (%s)", tc.path, tc.body, p.Field, tc.field, p.Detail)
		}
	}
	var res bulkResult
	e.do(req{method: "PUT", path: "/v1/consents?org=acme", role: access.RoleIntegrator, contentType: "text/csv",
		body: "number,given_at\n0612345601,2025-01-01T09:00:00Z\n0612345602,2030-01-01T09:00:00Z\n"}).want(t, http.StatusOK).json(t, &res)
	if res.Stored != 1 || res.Failed != 1 || res.Errors[0].Line != 3 || res.Errors[0].Field != "given_at" {
		t.Fatalf("bulk consents = %+v", res)
	}
	// Nothing was stored that would override an objection.
	recordVia(t, e.reg, "acme", "0612345678")
	var d decisionView
	e.do(req{method: "GET", path: "/v1/callability/0612345678?org=acme", role: access.RoleDialer}).want(t, http.StatusOK).json(t, &d)
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
	a := e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: body, contentType: "text/csv"}).want(t, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(string(a.body))).ReadAll()
	if err != nil || len(rows) != 4 || strings.Join(rows[1], ",") != "'=WEBSERVICE(0612345602),false,none,objection" ||
		strings.Join(rows[2], ",") != "'@SUM(0612345603),true,consent,consent" || rows[3][3] != "invalid_number" {
		t.Fatalf("scrub (%v) =\n%s", err, a.body)
	}
	if cell := rows[3][0]; !strings.HasPrefix(cell, `'=HYPERLINK("http`) || !strings.HasSuffix(cell, "é…") || utf8.RuneCountInString(cell) != 1+64+1 {
		t.Fatalf("a long bad line is echoed as %q", cell)
	}

	a = e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, contentType: "application/json",
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

// endless is a body that starts with head and then repeats fill, counting
// what was read of it.
type endless struct {
	head []byte
	fill byte
	read int64
}

func (b *endless) Read(p []byte) (int, error) {
	n := copy(p, b.head)
	b.head = b.head[n:]
	for i := n; i < len(p); i++ {
		p[i] = b.fill
	}
	b.read += int64(len(p))
	return len(p), nil
}

// One line of a scrub list or of a CSV bulk import is limited like an
// NDJSON line (64 KiB), and a longer one is refused having read little
// more than it: a 300 MB line took the server to 1.7 GiB.
func TestLongLinesRefusedInConstantMemory(t *testing.T) {
	const streamLimit = 32 << 20
	e := newEnv(t, backends()[0], Config{StreamLimit: streamLimit})
	setOrg(t, e.reg, "acme", objections.SectorCharity)
	for _, tc := range []struct {
		name, method, path, contentType, head string
		wantLine                              string
		fill                                  byte // default '7'
	}{
		{"scrub csv", "POST", "/v1/scrub?org=acme", "text/csv", "number\n0612345678\n", "3", 0},
		{"scrub plain", "POST", "/v1/scrub?org=acme", "text/plain", "", "1", 0},
		{"scrub json", "POST", "/v1/scrub?org=acme", "application/json", `["0612345678", "`, "2", 0},
		{"scrub json blanks", "POST", "/v1/scrub?org=acme", "application/json", `["0612345678",`, "2", ' '},
		{"relations csv", "PUT", "/v1/relations?org=acme", "text/csv", "number,kind,peildatum,source\n0612345678,donation,2025-01-01,", "2", 0},
		{"consents csv", "PUT", "/v1/consents?org=acme", "text/csv", "number,given_at,evidence_ref\n", "2", 0},
		{"csv header", "PUT", "/v1/consents?org=acme", "text/csv", "number,", "1", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &endless{head: []byte(tc.head), fill: cmp.Or(tc.fill, '7')}
			hr := httptest.NewRequest(tc.method, tc.path, io.LimitReader(body, streamLimit+1))
			hr.Header.Set("Content-Type", tc.contentType)
			hr.Header.Set("Authorization", "Bearer "+e.tokens[access.RoleAdmin])
			w := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(w, hr)
			a := answer{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
			if a.status == http.StatusOK && strings.HasPrefix(tc.path, "/v1/relations") {
				// A line after a stored one is a line error of the import.
				var res bulkResult
				a.json(t, &res)
				if res.Stored != 0 && len(res.Errors) == 1 && res.Errors[0].Field == "line" && *res.Errors[0].Value == tc.wantLine {
					return
				}
				t.Fatalf("result %+v", res)
			}
			p := a.want(t, http.StatusBadRequest).problem(t)
			if p.Field != "line" || *p.Value != tc.wantLine || !strings.Contains(p.Detail, "65536") {
				t.Fatalf("problem %+v", p)
			}
			if body.read > 1<<20 {
				t.Fatalf("read %d bytes of the body for one line", body.read)
			}
		})
	}
}

// A line a little over the limit is refused however the readers buffer;
// one a little under it is read.
func TestLineLimitIsExact(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	setOrg(t, e.reg, "acme", objections.SectorCharity)
	for _, n := range []int{maxBulkLineLen - 10, maxBulkLineLen + 10} {
		body := "number\n0612345678\n" + strings.Repeat("7", n) + "\n0612345679\n"
		a := e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: body, contentType: "text/csv"})
		if n < maxBulkLineLen {
			a.want(t, http.StatusOK)
			if rows := strings.Count(string(a.body), "\n"); rows != 4 {
				t.Fatalf("%d bytes: %d rows:\n%.300s", n, rows, a.body)
			}
			continue
		}
		if p := a.want(t, http.StatusBadRequest).problem(t); p.Field != "line" || *p.Value != "3" {
			t.Fatalf("%d bytes: %+v", n, p)
		}
	}
	var res bulkResult
	e.do(req{method: "PUT", path: "/v1/consents?org=acme", role: access.RoleIntegrator, contentType: "text/csv",
		body: fmt.Sprintf("number,given_at,evidence_ref\n0612345601,2025-01-01T09:00:00Z,x\n0612345602,2025-01-01T09:00:00Z,%s\n", strings.Repeat("x", maxBulkLineLen))}).
		want(t, http.StatusOK).json(t, &res)
	if res.Stored != 1 || len(res.Errors) != 1 || res.Errors[0].Field != "line" || *res.Errors[0].Value != "3" {
		t.Fatalf("bulk = %+v", res)
	}
}

// One JSON object put to a bulk route is bounded like any JSON body, not
// like a stream.
func TestBulkOneObjectBodyLimit(t *testing.T) {
	e := newEnv(t, backends()[0], Config{BodyLimit: 4 << 10})
	setOrg(t, e.reg, "acme", objections.SectorCharity)
	body := `{"org": "acme", "number": "0612345678", "kind": "donation", "peildatum": "2025-01-01", "source": "` + strings.Repeat("x", 8<<10) + `"}`
	e.do(req{method: "PUT", path: "/v1/relations", role: access.RoleIntegrator, body: body, contentType: "application/json"}).
		want(t, http.StatusRequestEntityTooLarge)
}

// A query string that does not parse is a 400 on every route, never a
// filter silently dropped: "?org=x;" read as no org widened an export to
// every org.
func TestBadQueryStringRefused(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	recordVia(t, e.reg, "acme", "0612345678")
	recordVia(t, e.reg, "beta", "0612345679")
	for _, rt := range e.srv.apiRoutes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.NewReplacer("{number}", "0612345678", "{id}", "acme").Replace(path)
		for _, q := range []string{"org=acme;", "org=acme&number=%zz"} {
			a := e.do(req{method: method, path: path + "?" + q, role: access.RoleAdmin})
			if a.status != http.StatusBadRequest {
				t.Errorf("%s ?%s: %d, want 400: %.200s", rt.pattern, q, a.status, a.body)
				continue
			}
			if p := a.problem(t); p.Field != "query" {
				t.Errorf("%s ?%s: %+v", rt.pattern, q, p)
			}
		}
	}
}

// Every page of a list of personal data is audited like an export: one
// entry before the data is sent, and 503 with none of the data when the
// entry cannot be written.
func TestListReadsAreAudited(t *testing.T) {
	st, reopen := backends()[0].open(t)
	fa := &failingAudit{testStore: st}
	e := envOn(t, fa, reopen, Config{})
	o := auditFixture(t, e)
	tok, bearer := e.auditToken()
	for _, rd := range []auditedRead{
		{"objections", "/v1/objections?org=acme&number=0612345678&limit=5", "", access.AuditView, "objections",
			"list org=acme number=+31612345678", o.ID},
		{"offers", "/v1/offers?campaign=spring&cursor=" + *cursorAfter(o.ID), "", access.AuditView, "offers",
			"list campaign=spring after=" + o.ID, `"items"`},
		{"decisions", "/v1/decisions?objection=" + o.ID, "", access.AuditView, "decisions",
			"list objection=" + o.ID, `"token_name":"dialer"`},
	} {
		fa.fail.Store(true)
		a := e.do(req{method: "GET", path: rd.path, bearer: bearer}).want(t, http.StatusServiceUnavailable)
		if strings.Contains(string(a.body), o.ID) || strings.Contains(string(a.body), "+31612345678") {
			t.Fatalf("%s: an unaudited read sent data:\n%s", rd.name, a.body)
		}
		fa.fail.Store(false)
		before := len(e.auditLog())
		a = e.do(req{method: "GET", path: rd.path, bearer: bearer}).want(t, http.StatusOK)
		if !strings.Contains(string(a.body), rd.body) {
			t.Fatalf("%s: the answer lacks %q:\n%s", rd.name, rd.body, a.body)
		}
		log := e.auditLog()
		if len(log) != before+1 {
			t.Fatalf("%s: %d audit entries, want 1", rd.name, len(log)-before)
		}
		if got := log[len(log)-1]; got.Actor != "token:"+tok.ID+" (auditee)" || got.Action != rd.action || got.Subject != rd.subject || got.Detail != rd.detail {
			t.Fatalf("%s: audit entry %+v, want subject %q detail %q", rd.name, got, rd.subject, rd.detail)
		}
	}
}

// Text that is not UTF-8, or holds a NUL byte, is a 400 naming the field
// on both stores, checked before anything is stored: PostgreSQL answered
// with its SQLSTATE text, SQLite stored it.
func TestInvalidTextRefusedOnEveryStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{})
		setOrg(t, e.reg, "acme", objections.SectorCharity)
		o := recordVia(t, e.reg, "acme", "0612345678")
		for _, tc := range []struct {
			name  string
			r     req
			field string
		}{
			{"objection note", req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator,
				body: `{"org": "acme", "number": "0612345679", "note": "a\u0000b"}`, contentType: "application/json"}, "note"},
			{"void reason", req{method: "POST", path: "/v1/objections/" + o.ID + "/void", role: access.RoleAdmin,
				body: `{"reason": "\u0000"}`, contentType: "application/json"}, "reason"},
			{"org name", req{method: "PUT", path: "/v1/orgs/acme", role: access.RoleAdmin,
				body: `{"name": "Acme\u0000", "sector": "charity"}`, contentType: "application/json"}, "name"},
			{"token name", req{method: "POST", path: "/v1/tokens", role: access.RoleAdmin,
				body: `{"name": "x\u0000", "role": "dialer"}`, contentType: "application/json"}, "name"},
			{"relation source", req{method: "PUT", path: "/v1/relations?org=acme", role: access.RoleIntegrator,
				body: "number,kind,peildatum,source\n0612345678,donation,2025-01-01,\xff\xfe\n", contentType: "text/csv"}, "source"},
			{"consent evidence", req{method: "PUT", path: "/v1/consents?org=acme", role: access.RoleIntegrator,
				body: "number,given_at,evidence_ref\n0612345678,2025-01-01T09:00:00Z,form\xc3\n", contentType: "text/csv"}, "evidence_ref"},
			{"list filter", req{method: "GET", path: "/v1/objections?campaign=%ff", role: access.RoleAdmin}, "campaign"},
			{"export filter", req{method: "GET", path: "/v1/offers/export?campaign=%00", role: access.RoleAdmin}, "campaign"},
			{"check person", req{method: "GET", path: "/v1/callability/0612345678?org=acme&person=p%c3", role: access.RoleDialer}, "person"},
			{"path", req{method: "GET", path: "/v1/objections/%ff", role: access.RoleAdmin}, "path"},
		} {
			a := e.do(tc.r)
			var p problem
			if a.status == http.StatusOK && strings.Contains(tc.r.contentType, "csv") {
				var res bulkResult
				a.json(t, &res)
				if res.Stored != 0 || len(res.Errors) != 1 {
					t.Errorf("%s: %+v", tc.name, res)
					continue
				}
				p = res.Errors[0]
			} else {
				p = a.want(t, http.StatusBadRequest).problem(t)
			}
			if p.Field != tc.field || p.Code != objections.EINVALID || strings.Contains(p.Detail, "SQLSTATE") {
				t.Errorf("%s: %+v (%s), want field %s", tc.name, p, p.Detail, tc.field)
			}
		}
		// Nothing of it was stored.
		got, err := e.store.Objections(context.Background(), objections.ObjectionFilter{Org: "acme"})
		if err != nil || len(got) != 1 || got[0].Void != nil {
			t.Fatalf("objections after refusals = %+v, %v", got, err)
		}
	})
}
