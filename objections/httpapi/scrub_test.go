package httpapi

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// scrubFixture sets up acme: a relation on ...01 and ...02, an objection on
// ...02, a consent on ...03.
func scrubFixture(t *testing.T, reg *objections.Register) {
	t.Helper()
	ctx := context.Background()
	setOrg(t, reg, "acme", objections.SectorCharity)
	for _, n := range []string{"0612345601", "0612345602"} {
		if _, err := reg.PutRelation(ctx, objections.Relation{Org: "acme", Number: n, Kind: objections.RelationDonation, Peildatum: time.Now().AddDate(-1, 0, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	recordVia(t, reg, "acme", "0612345602")
	if _, err := reg.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345603", GivenAt: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

const scrubCSV = "number\n06 1234 5601\n+31612345602\nnot a number\n0031612345603\n\n0612345604\n0612345601\n"

func TestScrubCSV(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{ScrubBatch: 2, ScrubWorkers: 3})
		scrubFixture(t, e.reg)
		a := e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: scrubCSV, contentType: "text/csv"}).want(t, http.StatusOK)
		want := "number,callable,basis,reason\n" +
			"06 1234 5601,true,customer-relation,customer_relation\n" +
			"+31612345602,false,none,objection\n" +
			"not a number,false,none,invalid_number\n" +
			"0031612345603,true,consent,consent\n" +
			"0612345604,false,none,no_basis\n" +
			"0612345601,true,customer-relation,customer_relation\n"
		if string(a.body) != want || a.header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("scrub =\n%s\nwant\n%s", a.body, want)
		}
		// Without a header, and as text/plain, the same; a formula in a bad
		// line is defused.
		a = e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: "0612345602\n=cmd|' /C calc'!A0\n", contentType: "text/plain"}).want(t, http.StatusOK)
		if string(a.body) != "number,callable,basis,reason\n0612345602,false,none,objection\n'=cmd|' /C calc'!A0,false,none,invalid_number\n" {
			t.Fatalf("headerless scrub =\n%s", a.body)
		}
		// A CSV with more columns: the number column is found by its header.
		a = e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: "lead,number\nL1,0612345602\nL2,0612345603\n", contentType: "text/csv"}).want(t, http.StatusOK)
		if string(a.body) != "number,callable,basis,reason\n0612345602,false,none,objection\n0612345603,true,consent,consent\n" {
			t.Fatalf("two-column scrub =\n%s", a.body)
		}
		// An empty list is a header alone.
		a = e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: "", contentType: "text/csv"}).want(t, http.StatusOK)
		if string(a.body) != "number,callable,basis,reason\n" {
			t.Fatalf("empty scrub = %q", a.body)
		}
	})
}

func TestScrubJSONInNDJSONOut(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{ScrubBatch: 2})
		scrubFixture(t, e.reg)
		body := `["0612345601", 612345602, "", "0612345602"]`
		a := e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: body, contentType: "application/json",
			header: map[string]string{"Accept": "application/x-ndjson"}}).want(t, http.StatusOK)
		var lines []scrubLine
		sc := bufio.NewScanner(strings.NewReader(string(a.body)))
		for sc.Scan() {
			var l scrubLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			lines = append(lines, l)
		}
		if len(lines) != 4 {
			t.Fatalf("%d lines:\n%s", len(lines), a.body)
		}
		if l := lines[0]; l.Line != 1 || l.Number != "+31612345601" || !l.Callable || fmt.Sprint(l.Reasons) != "[customer_relation must_offer_objection]" || l.Error != nil {
			t.Fatalf("line 1 = %+v", l)
		}
		if l := lines[1]; l.Line != 2 || l.Callable || l.Error == nil || l.Error.Field != "number" || *l.Error.Value != "612345602" ||
			l.Error.Line != 2 || fmt.Sprint(l.Reasons) != "[invalid_number]" {
			t.Fatalf("line 2 = %+v %+v", l, l.Error)
		}
		if l := lines[2]; l.Error == nil || l.Error.Field != "number" || *l.Error.Value != "" {
			t.Fatalf("line 3 = %+v", l)
		}
		if l := lines[3]; l.Callable || fmt.Sprint(l.Reasons) != "[objection]" {
			t.Fatalf("line 4 = %+v", l)
		}
		// A body that is not an array is refused before anything is sent.
		p := e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: `{"numbers": []}`, contentType: "application/json"}).
			want(t, http.StatusBadRequest).problem(t)
		if p.Field != "body" {
			t.Fatalf("object body = %+v", p)
		}
	})
}

func TestScrubSummary(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{ScrubBatch: 3})
		scrubFixture(t, e.reg)
		var s scrubCounts
		e.do(req{method: "POST", path: "/v1/scrub?org=acme&summary=1", role: access.RoleDialer, body: scrubCSV, contentType: "text/csv"}).
			want(t, http.StatusOK).json(t, &s)
		want := scrubCounts{Org: "acme", Total: 6, Callable: 3, NotCallable: 2, Invalid: 1,
			Reasons: map[string]int{"customer_relation": 2, "objection": 1, "invalid_number": 1, "consent": 1, "no_basis": 1}}
		if fmt.Sprint(s) != fmt.Sprint(want) {
			t.Fatalf("summary = %+v, want %+v", s, want)
		}
	})
}

// The scrub answers while the list is still coming in: the first lines are
// back before the last ones are sent, and memory stays flat.
func TestScrubStreams(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{ScrubBatch: 100})
		pr, pw := io.Pipe()
		hr, _ := http.NewRequest("POST", e.ts.URL+"/v1/scrub?org=acme", pr)
		hr.Header.Set("Authorization", "Bearer "+e.tokens[access.RoleDialer])
		hr.Header.Set("Content-Type", "text/csv")
		const half = 5000
		write := func(from, to int) {
			var sb strings.Builder
			for i := from; i < to; i++ {
				fmt.Fprintf(&sb, "+316%08d\n", 30000000+i)
			}
			if _, err := pw.Write([]byte(sb.String())); err != nil {
				t.Error(err)
			}
		}
		go write(0, half)
		resp, err := e.ts.Client().Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		cr := csv.NewReader(resp.Body)
		rows := 0
		for rows < half { // the header and the first half, before the rest is sent
			if _, err := cr.Read(); err != nil {
				t.Fatalf("after %d rows: %v", rows, err)
			}
			rows++
		}
		go func() { write(half, 2*half); pw.Close() }()
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if rows == 2*half && rec[0] != fmt.Sprintf("+316%08d", 30000000+2*half-1) {
				t.Fatalf("last row %v", rec)
			}
			rows++
		}
		if rows != 2*half+1 {
			t.Fatalf("%d rows, want %d", rows, 2*half+1)
		}
	})
}

// failingBatch fails FactsBatch after n calls.
type failingBatch struct {
	testStore
	n atomic.Int32
}

func (f *failingBatch) FactsBatch(ctx context.Context, org string, numbers []string) ([]objections.Facts, error) {
	if f.n.Add(-1) < 0 {
		return nil, objections.Unavailable("read facts", errors.New("connection refused"))
	}
	return f.testStore.FactsBatch(ctx, org, numbers)
}

// A store failure midway ends the transfer abnormally: the client cannot
// take the part it got for the whole list.
func TestScrubFailsLoudly(t *testing.T) {
	st, reopen := backends()[0].open(t)
	fb := &failingBatch{testStore: st}
	fb.n.Store(3)
	e := envOn(t, fb, reopen, Config{ScrubBatch: 10, ScrubWorkers: 1})
	e.validate = false
	var sb strings.Builder
	for i := range 200 {
		fmt.Fprintf(&sb, "+316%08d\n", 40000000+i)
	}
	hr, _ := http.NewRequest("POST", e.ts.URL+"/v1/scrub?org=acme", strings.NewReader(sb.String()))
	hr.Header.Set("Authorization", "Bearer "+e.tokens[access.RoleDialer])
	hr.Header.Set("Content-Type", "text/csv")
	resp, err := e.ts.Client().Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("a failed scrub ended like a complete one:\n%s", body)
	}
	if !strings.Contains(string(body), "error: store unavailable") || strings.Count(string(body), "\n") != 32 {
		t.Fatalf("partial answer (%v):\n%s", err, body)
	}
	// Failing before the first line: a proper problem.
	fb.n.Store(0)
	p := e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: "0612345678\n", contentType: "text/csv"}).
		want(t, http.StatusServiceUnavailable).problem(t)
	if p.Code != objections.EUNAVAILABLE {
		t.Fatalf("problem = %+v", p)
	}
}

// Over the stream limit: 413 when the length says so up front; an aborted
// answer when a chunked body runs over midway.
func TestScrubBodyLimit(t *testing.T) {
	e := newEnv(t, backends()[0], Config{StreamLimit: 1000, ScrubBatch: 5})
	e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: strings.Repeat("0612345678\n", 100), contentType: "text/csv"}).
		want(t, http.StatusRequestEntityTooLarge).problem(t)
	pr, pw := io.Pipe()
	go func() {
		for range 100 {
			if _, err := pw.Write([]byte("0612345678\n")); err != nil {
				return
			}
		}
		pw.Close()
	}()
	hr, _ := http.NewRequest("POST", e.ts.URL+"/v1/scrub?org=acme", pr)
	hr.Header.Set("Authorization", "Bearer "+e.tokens[access.RoleDialer])
	hr.Header.Set("Content-Type", "text/csv")
	resp, err := e.ts.Client().Do(hr)
	if err != nil {
		return // the server may close before the client finished sending: also a failure the client sees
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && err == nil {
		t.Fatalf("an over-limit scrub ended like a complete one:\n%s", body)
	}
}

// plainStore hides FactsBatch: the scrub asks number by number.
type plainStore struct{ objections.Store }

func TestScrubWithoutBatch(t *testing.T) {
	st, _ := backends()[0].open(t)
	reg := objections.NewRegister(plainStore{st}, objections.Numbers{Region: "NL"}, nil)
	scrubFixture(t, reg)
	srv := New(Config{ScrubBatch: 2, RateLimit: -1}, reg, Stores{Tokens: st}, testLogger(t))
	if srv.batch != nil {
		t.Fatal("plain store batches")
	}
	e := &apiEnv{t: t, store: st, reg: reg, srv: srv, tokens: map[access.Role]string{}}
	e.ts = newTestServer(t, srv.Handler())
	e.tokens[access.RoleDialer] = e.newToken(access.RoleDialer, "d")
	a := e.do(req{method: "POST", path: "/v1/scrub?org=acme", role: access.RoleDialer, body: scrubCSV, contentType: "text/csv"}).want(t, http.StatusOK)
	if !strings.HasPrefix(string(a.body), "number,callable,basis,reason\n06 1234 5601,true,customer-relation,customer_relation\n+31612345602,false,none,objection\n") {
		t.Fatalf("scrub =\n%s", a.body)
	}
}
