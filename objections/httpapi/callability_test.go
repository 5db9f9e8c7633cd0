package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// The dial-time gate: an objection recorded by another process is in the
// very next answer, in any number format, on both stores.
func TestCallabilitySeesObjectionAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{})
		ctx := context.Background()
		setOrg(t, e.reg, "acme", objections.SectorCharity)
		if _, err := e.reg.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345678", Kind: objections.RelationDonation,
			Peildatum: time.Now().AddDate(-1, 0, 0)}); err != nil {
			t.Fatal(err)
		}
		check := func(number string) decisionView {
			t.Helper()
			var d decisionView
			e.do(req{method: "GET", path: "/v1/callability/" + url.PathEscape(number) + "?org=acme", role: access.RoleDialer}).
				want(t, http.StatusOK).json(t, &d)
			return d
		}
		d := check("06 1234 5678")
		if !d.Callable || d.Basis != "customer-relation" || fmt.Sprint(d.Reasons) != "[customer_relation must_offer_objection]" ||
			d.Objection != nil || d.Number != "+31612345678" || d.Org != "acme" {
			t.Fatalf("before = %+v", d)
		}
		other := objections.NewRegister(e.reopen(t), objections.Numbers{Region: "NL"}, nil)
		o := recordVia(t, other, "acme", "+31612345678")
		for _, n := range []string{"+31612345678", "0031612345678", "06-12345678", "+31 6 12345678"} {
			d := check(n)
			if d.Callable || d.Basis != "none" || fmt.Sprint(d.Reasons) != "[objection]" || d.Objection == nil ||
				d.Objection.ID != o.ID || d.Objection.Source != "agent" || d.Objection.Scope != "number" {
				t.Fatalf("%s after objection = %+v", n, d)
			}
		}
		// The answer names no more of the objection than needed (§4).
		a := e.do(req{method: "GET", path: "/v1/callability/0612345678?org=acme", role: access.RoleDialer})
		for _, leak := range []string{"raw_number", "note", "actor", "06 1234"} {
			if contains(a.body, leak) {
				t.Fatalf("callability answer holds %q: %s", leak, a.body)
			}
		}
		// Another org is not affected; a person-scoped objection blocks the
		// person's other numbers.
		if d := check("0612345678"); d.Org != "acme" {
			t.Fatal(d)
		}
		var d2 decisionView
		e.do(req{method: "GET", path: "/v1/callability/0612345678?org=beta", role: access.RoleDialer}).want(t, http.StatusOK).json(t, &d2)
		if d2.Callable || fmt.Sprint(d2.Reasons) != "[no_basis]" {
			t.Fatalf("beta = %+v", d2)
		}
		if _, _, err := other.Record(ctx, objections.Objection{Org: "acme", RawNumber: "0687654321", PersonID: "p-7", Source: objections.SourceEmail}); err != nil {
			t.Fatal(err)
		}
		e.do(req{method: "GET", path: "/v1/callability/0611111111?org=acme&person=p-7", role: access.RoleDialer}).want(t, http.StatusOK).json(t, &d2)
		if d2.Callable || d2.Objection == nil || d2.Objection.Scope != "person" || d2.Person != "p-7" {
			t.Fatalf("person scope = %+v", d2)
		}
	})
}

// Checks from many goroutines while objections are recorded elsewhere:
// once an objection's Record returned, no later check says callable.
func TestCallabilityUnderConcurrentWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, Config{})
		other := objections.NewRegister(e.reopen(t), objections.Numbers{Region: "NL"}, nil)
		var committed sync.Map
		var wg sync.WaitGroup
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for w := range 4 {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					n := fmt.Sprintf("+316%08d", 10000000+(w*7+i)%20)
					_, wasCommitted := committed.Load(n)
					var d decisionView
					a := e.do(req{method: "GET", path: "/v1/callability/" + url.PathEscape(n) + "?org=acme", role: access.RoleDialer})
					if a.status != http.StatusOK {
						t.Errorf("check: %d %s", a.status, a.body)
						return
					}
					a.json(t, &d)
					if wasCommitted && d.Objection == nil {
						t.Errorf("%s: objection committed before the check, but the check did not see it", n)
						return
					}
				}
			})
		}
		for i := range 20 {
			n := fmt.Sprintf("+316%08d", 10000000+i)
			recordVia(t, other, "acme", n)
			committed.Store(n, true)
		}
		cancel()
		wg.Wait()
	})
}

// An objection stamped by an instance whose clock runs ahead still blocks
// at once.
func TestCallabilityClockSkew(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	ahead := objections.NewRegister(e.reopen(t), objections.Numbers{Region: "NL"}, func() time.Time { return time.Now().Add(3 * time.Second) })
	recordVia(t, ahead, "acme", "0612345678")
	var d decisionView
	e.do(req{method: "GET", path: "/v1/callability/0612345678?org=acme", role: access.RoleDialer}).want(t, http.StatusOK).json(t, &d)
	if d.Callable || d.Objection == nil {
		t.Fatalf("objection from a clock 3 s ahead not honoured: %+v", d)
	}
}

func contains(b []byte, s string) bool { return len(s) > 0 && bytesContains(b, s) }

func bytesContains(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

// flakyMany is the PostgreSQL store whose batched reads fail while down is
// set, as when the database is unreachable.
type flakyMany struct {
	testStore
	many FactsMany
	down atomic.Bool
}

func (f *flakyMany) FactsMany(ctx context.Context, qs []objections.FactsQuery) ([]objections.Facts, error) {
	if f.down.Load() {
		return nil, objections.Unavailable("read facts", errors.New("dial unix /run/postgresql: connection refused"))
	}
	return f.many.FactsMany(ctx, qs)
}

// The batched check with the store down: every check gets a 503 problem
// (never an answer that looks like "callable"), and checks work again as
// soon as the store does.
func TestCallabilityStoreDown(t *testing.T) {
	st, reopen := backends()[1].open(t) // postgres
	f := &flakyMany{testStore: st, many: st.(FactsMany)}
	e := envOn(t, f, reopen, Config{CheckFlights: 1})
	setOrg(t, e.reg, "acme", objections.SectorCharity)
	recordVia(t, e.reg, "acme", "+31612345678")
	check := func() answer {
		return e.do(req{method: "GET", path: "/v1/callability/0612345678?org=acme", role: access.RoleDialer})
	}
	var d decisionView
	check().want(t, http.StatusOK).json(t, &d)
	if d.Callable {
		t.Fatalf("before: %+v", d)
	}
	f.down.Store(true)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			a := check()
			if a.status != http.StatusServiceUnavailable {
				t.Errorf("store down: status %d: %s", a.status, a.body)
				return
			}
			if p := a.problem(t); p.Code != objections.EUNAVAILABLE || strings.Contains(string(a.body), "postgresql") {
				t.Errorf("store down: problem %+v", p)
			}
		})
	}
	wg.Wait()
	f.down.Store(false)
	check().want(t, http.StatusOK).json(t, &d)
	if d.Callable || d.Objection == nil {
		t.Fatalf("after: %+v", d)
	}
}
