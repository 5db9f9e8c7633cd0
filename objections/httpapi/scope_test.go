package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// scopeFixture is the register of the org matrix: advertisers acme (which
// lists agency callcenter1) and beta, and records of each, one of acme's
// made on a call by callcenter1.
type scopeFixture struct {
	e *apiEnv
	// objections and offers by name: "acme", "acme-cc1" (acme's, called
	// by callcenter1), "beta".
	objections map[string]objections.Objection
	offers     map[string]objections.Offer
}

// principal is one token of the matrix.
type principal struct {
	name   string
	scope  access.Scope
	bearer map[access.Role]string
}

func newScopeFixture(t *testing.T, b backend) *scopeFixture {
	e := newEnv(t, b, Config{}, WithPrompts(&fakeRecordings{}))
	ctx := context.Background()
	if _, err := e.reg.SetOrg(ctx, objections.Org{ID: "callcenter1", Name: "Callcenter 1", Kind: objections.OrgAgency}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.reg.SetOrg(ctx, objections.Org{ID: "acme", Name: "Org acme", Agencies: []string{"callcenter1"}}); err != nil {
		t.Fatal(err)
	}
	f := &scopeFixture{e: e, objections: map[string]objections.Objection{}, offers: map[string]objections.Offer{}}
	for i, c := range []struct{ name, org, agency string }{{"acme", "acme", ""}, {"acme-cc1", "acme", "callcenter1"}, {"beta", "beta", ""}} {
		number := fmt.Sprintf("+3161234567%d", i)
		ref := "call-" + c.name
		off, _, err := e.reg.RecordOffer(ctx, objections.Offer{Org: c.org, Agency: c.agency, Number: number, Provider: "ari",
			CallRef: ref, Outcome: objections.OutcomeObjected})
		if err != nil {
			t.Fatal(err)
		}
		o, _, err := e.reg.Record(ctx, objections.Objection{Org: c.org, Agency: c.agency, RawNumber: number,
			Source: objections.SourceIVRARI, Provider: "ari", CallRef: ref, OfferID: off.ID})
		if err != nil {
			t.Fatal(err)
		}
		f.objections[c.name], f.offers[c.name] = o, off
		// A blocked check of each org, in the decision log.
		at := time.Now().UTC()
		if _, err := e.store.AppendDecisions(ctx, []objections.DecisionRecord{{ID: objections.NewID(at), DecidedAt: at, Org: c.org,
			Number: number, Basis: objections.BasisNone, Reasons: []objections.Reason{objections.ReasonObjection},
			ObjectionID: o.ID, ListVersion: 1, TokenName: "x"}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// principals are the matrix's columns: scoped to acme, to beta, to agency
// callcenter1, and unscoped; a token of every role each.
func (f *scopeFixture) principals(t *testing.T) []principal {
	var out []principal
	for _, p := range []struct {
		name  string
		scope access.Scope
	}{{"acme", access.Scope{"acme"}}, {"beta", access.Scope{"beta"}}, {"agency", access.Scope{"callcenter1"}}, {"unscoped", nil}} {
		pr := principal{name: p.name, scope: p.scope, bearer: map[access.Role]string{}}
		for _, role := range access.Roles() {
			tok, bearer, err := access.NewToken("m-"+p.name+"-"+string(role), role, p.scope, "test", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.e.store.CreateToken(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
			pr.bearer[role] = bearer
		}
		out = append(out, pr)
	}
	return out
}

// own reports whether p's scope holds org (or reaches every org).
func (p principal) own(org string) bool { return p.scope.Has(org) }

// checks reports whether p may check numbers for org: its own, or acme
// for the agency.
func (p principal) checks(org string) bool {
	return p.own(org) || org == "acme" && p.scope.Has("callcenter1")
}

// sees reports whether p may read the record named name of the fixture.
func (p principal) sees(name string) bool {
	switch name {
	case "acme":
		return p.own("acme")
	case "acme-cc1":
		return p.own("acme") || p.own("callcenter1")
	}
	return p.own("beta")
}

var matrixOrgs = []string{"acme", "beta", "callcenter1"}

// TestEveryRouteAndOrgScope is the role × org matrix over every route of
// openapi.json: for principals scoped to acme, to beta, to agency
// callcenter1 (which acme lists) and unscoped, each role that may use the
// route, every cross-org read is 404 or absent and every cross-org write
// or check is 403 naming the org. A route without a case fails the test.
func TestEveryRouteAndOrgScope(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		f := newScopeFixture(t, b)
		e := f.e
		ps := f.principals(t)
		cases := f.cases()
		for _, rt := range e.srv.apiRoutes() {
			c, ok := cases[rt.pattern]
			if !ok {
				t.Errorf("route %s has no case in the org matrix", rt.pattern)
				continue
			}
			t.Run(rt.pattern, func(t *testing.T) {
				for _, p := range ps {
					for _, role := range access.Roles() {
						if rt.perm != "" && !role.Can(rt.perm) {
							continue // the role matrix covers these
						}
						c(t, p, p.bearer[role])
					}
				}
			})
		}
	})
}

// wantStatus checks an answer's status and, for a 403, that it names org.
func wantStatus(t *testing.T, who string, a answer, want int, org string) {
	t.Helper()
	if a.status != want {
		t.Errorf("%s: status %d, want %d: %s", who, a.status, want, a.body)
		return
	}
	if want == http.StatusForbidden && org != "" && !strings.Contains(string(a.body), org) {
		t.Errorf("%s: the 403 does not name org %s: %s", who, org, a.body)
	}
}

// wantOnly checks that the records a read answered are exactly those p
// sees among names (by their ids in body).
func (f *scopeFixture) wantOnly(t *testing.T, who string, p principal, body []byte, ids func(name string) string) {
	t.Helper()
	for _, name := range []string{"acme", "acme-cc1", "beta"} {
		if got, want := strings.Contains(string(body), ids(name)), p.sees(name); got != want {
			t.Errorf("%s: record %s shown %v, want %v", who, name, got, want)
		}
	}
}

func (f *scopeFixture) cases() map[string]func(t *testing.T, p principal, bearer string) {
	e := f.e
	objID := func(name string) string { return f.objections[name].ID }
	offerID := func(name string) string { return f.offers[name].ID }
	checkStatus := func(p principal, org string) int {
		if p.checks(org) {
			return http.StatusOK
		}
		return http.StatusForbidden
	}
	n := 0
	fresh := func() int { n++; return n }
	return map[string]func(t *testing.T, p principal, bearer string){
		"GET /v1/openapi.json": func(t *testing.T, p principal, bearer string) {
			e.do(req{method: "GET", path: "/v1/openapi.json"}).want(t, http.StatusOK)
		},
		"GET /v1/callability/{number}": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				a := e.do(req{method: "GET", path: "/v1/callability/+31612345670?org=" + org, bearer: bearer})
				wantStatus(t, p.name+" checks for "+org, a, checkStatus(p, org), org)
			}
		},
		"POST /v1/scrub": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				a := e.do(req{method: "POST", path: "/v1/scrub?org=" + org, bearer: bearer, body: "0612345670\n", contentType: "text/csv"})
				wantStatus(t, p.name+" scrubs for "+org, a, checkStatus(p, org), org)
			}
		},
		"POST /v1/objections": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				a := e.do(req{method: "POST", path: "/v1/objections", bearer: bearer,
					body: map[string]string{"org": org, "number": fmt.Sprintf("+3162000%04d", fresh())}})
				want := http.StatusCreated
				if !p.checks(org) {
					want = http.StatusForbidden
				}
				wantStatus(t, p.name+" records for "+org, a, want, org)
				if a.status == http.StatusCreated && !p.own(org) {
					var o objectionView
					a.json(t, &o)
					if o.Agency != "callcenter1" {
						t.Errorf("%s recorded for %s without its agency: %+v", p.name, org, o)
					}
				}
			}
		},
		"GET /v1/objections": func(t *testing.T, p principal, bearer string) {
			a := e.do(req{method: "GET", path: "/v1/objections?limit=1000", bearer: bearer}).want(t, http.StatusOK)
			f.wantOnly(t, p.name+" lists objections", p, a.body, objID)
			for _, org := range matrixOrgs { // an org filter never widens
				a := e.do(req{method: "GET", path: "/v1/objections?org=" + org, bearer: bearer}).want(t, http.StatusOK)
				for _, name := range []string{"acme", "acme-cc1", "beta"} {
					if strings.Contains(string(a.body), objID(name)) && !p.sees(name) {
						t.Errorf("%s: ?org=%s shows %s", p.name, org, name)
					}
				}
			}
		},
		"GET /v1/objections/export": func(t *testing.T, p principal, bearer string) {
			a := e.do(req{method: "GET", path: "/v1/objections/export", bearer: bearer}).want(t, http.StatusOK)
			f.wantOnly(t, p.name+" exports objections", p, a.body, objID)
		},
		"GET /v1/objections/{id}": func(t *testing.T, p principal, bearer string) {
			for name := range f.objections {
				want := http.StatusNotFound
				if p.sees(name) {
					want = http.StatusOK
				}
				wantStatus(t, p.name+" reads "+name, e.do(req{method: "GET", path: "/v1/objections/" + objID(name), bearer: bearer}), want, "")
			}
		},
		"POST /v1/objections/{id}/void": func(t *testing.T, p principal, bearer string) {
			for _, c := range []struct{ name, org, agency string }{{"acme", "acme", ""}, {"acme-cc1", "acme", "callcenter1"}, {"beta", "beta", ""}} {
				o, _, err := e.reg.Record(context.Background(), objections.Objection{Org: c.org, Agency: c.agency,
					RawNumber: fmt.Sprintf("+3163000%04d", fresh()), Source: objections.SourceAgent})
				if err != nil {
					t.Fatal(err)
				}
				want := http.StatusNotFound
				switch {
				case p.own(c.org):
					want = http.StatusOK
				case p.sees(c.name):
					want = http.StatusForbidden // seen as the agency of the call: the advertiser's to void
				}
				a := e.do(req{method: "POST", path: "/v1/objections/" + o.ID + "/void", bearer: bearer, body: map[string]string{"reason": "test"}})
				wantStatus(t, p.name+" voids "+c.name, a, want, c.org)
			}
		},
		"PUT /v1/relations": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				a := e.do(req{method: "PUT", path: "/v1/relations", bearer: bearer,
					body: map[string]string{"org": org, "number": "+31612345670", "kind": "donation", "peildatum": "2026-01-01"}})
				want := http.StatusOK
				if !p.own(org) {
					want = http.StatusForbidden
				}
				wantStatus(t, p.name+" writes a relation of "+org, a, want, org)
			}
		},
		"PUT /v1/consents": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				a := e.do(req{method: "PUT", path: "/v1/consents", bearer: bearer,
					body: map[string]string{"org": org, "number": "+31612345679", "channel": "phone", "given_at": "2026-01-01T10:00:00Z"}})
				want := http.StatusOK
				if !p.own(org) {
					want = http.StatusForbidden
				}
				wantStatus(t, p.name+" writes a consent of "+org, a, want, org)
			}
		},
		"GET /v1/offers": func(t *testing.T, p principal, bearer string) {
			a := e.do(req{method: "GET", path: "/v1/offers?limit=1000", bearer: bearer}).want(t, http.StatusOK)
			f.wantOnly(t, p.name+" lists offers", p, a.body, offerID)
		},
		"GET /v1/offers/export": func(t *testing.T, p principal, bearer string) {
			a := e.do(req{method: "GET", path: "/v1/offers/export", bearer: bearer}).want(t, http.StatusOK)
			f.wantOnly(t, p.name+" exports offers", p, a.body, offerID)
		},
		"GET /v1/decisions": func(t *testing.T, p principal, bearer string) {
			a := e.do(req{method: "GET", path: "/v1/decisions?limit=1000", bearer: bearer}).want(t, http.StatusOK)
			f.wantDecisionOrgs(t, p, a.body, false)
		},
		"GET /v1/decisions/export": func(t *testing.T, p principal, bearer string) {
			// The validator reads a body as one JSON document; NDJSON is not.
			e.validate = false
			defer func() { e.validate = true }()
			a := e.do(req{method: "GET", path: "/v1/decisions/export", bearer: bearer, header: map[string]string{"Accept": "application/x-ndjson"}}).want(t, http.StatusOK)
			f.wantDecisionOrgs(t, p, a.body, true)
		},
		"GET /v1/decisions/counts": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				want := http.StatusOK
				if !p.own(org) {
					want = http.StatusNotFound
				}
				wantStatus(t, p.name+" counts "+org, e.do(req{method: "GET", path: "/v1/decisions/counts?org=" + org, bearer: bearer}), want, "")
			}
		},
		"GET /v1/people/{number}/evidence": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				want := http.StatusOK
				if !p.own(org) {
					want = http.StatusNotFound
				}
				a := e.do(req{method: "GET", path: "/v1/people/+31612345671/evidence?org=" + org, bearer: bearer})
				wantStatus(t, p.name+" reads the evidence pack of "+org, a, want, "")
				if a.status == http.StatusNotFound && strings.Contains(string(a.body), "did you mean") {
					for _, other := range matrixOrgs {
						if !p.own(other) && strings.Contains(string(a.body), `"`+other+`"`) && other != org {
							t.Errorf("%s: the 404 hints at %s: %s", p.name, other, a.body)
						}
					}
				}
			}
		},
		"GET /v1/orgs": func(t *testing.T, p principal, bearer string) {
			a := e.do(req{method: "GET", path: "/v1/orgs", bearer: bearer}).want(t, http.StatusOK)
			var pg page[orgView]
			a.json(t, &pg)
			for _, o := range pg.Items {
				if !p.checks(o.ID) {
					t.Errorf("%s lists org %s", p.name, o.ID)
				}
			}
			for _, org := range matrixOrgs {
				if p.checks(org) && !slices.ContainsFunc(pg.Items, func(o orgView) bool { return o.ID == org }) {
					t.Errorf("%s does not list org %s", p.name, org)
				}
			}
		},
		"GET /v1/orgs/{id}": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				want := http.StatusOK
				if !p.checks(org) {
					want = http.StatusNotFound
				}
				wantStatus(t, p.name+" reads org "+org, e.do(req{method: "GET", path: "/v1/orgs/" + org, bearer: bearer}), want, "")
			}
		},
		"PUT /v1/orgs/{id}": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				body := map[string]any{"name": "Org " + org, "sector": "other"}
				switch org {
				case "acme":
					body["agencies"] = []string{"callcenter1"}
				case "callcenter1":
					body["kind"] = "agency"
				}
				want := http.StatusOK
				if !p.own(org) {
					want = http.StatusForbidden
				}
				wantStatus(t, p.name+" sets org "+org, e.do(req{method: "PUT", path: "/v1/orgs/" + org, bearer: bearer, body: body}), want, org)
			}
		},
		"GET /v1/prompts": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				a := e.do(req{method: "GET", path: "/v1/prompts?org=" + org, bearer: bearer})
				want := http.StatusOK
				if !p.own(org) {
					want = http.StatusNotFound
				}
				wantStatus(t, p.name+" lists the prompts of "+org, a, want, org)
			}
			// Left out: every org's for the unscoped, the one org of a
			// one-org token.
			a := e.do(req{method: "GET", path: "/v1/prompts", bearer: bearer}).want(t, http.StatusOK)
			var pg page[PromptEntry]
			a.json(t, &pg)
			if want := strings.Join(p.scope, ","); len(pg.Items) != 1 || pg.Items[0].Text != "for "+want {
				t.Errorf("%s lists %+v, want the prompts of %q", p.name, pg.Items, want)
			}
		},
		"PUT /v1/prompts/{id}/{lang}": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				a := e.do(req{method: "PUT", path: "/v1/prompts/goodbye/nl?org=" + org, bearer: bearer, body: "RIFF", contentType: "audio/wav"})
				want := http.StatusOK
				if !p.own(org) {
					want = http.StatusForbidden
				}
				wantStatus(t, p.name+" records a prompt for "+org, a, want, org)
			}
			a := e.do(req{method: "PUT", path: "/v1/prompts/goodbye/nl", bearer: bearer, body: "RIFF", contentType: "audio/wav"})
			var rec RecordedPrompt
			if a.json(t, &rec); p.scope.All() && (a.status != http.StatusOK || rec.Org != "") || !p.scope.All() && rec.Org != p.scope[0] {
				t.Errorf("%s records for every org: %d %s", p.name, a.status, a.body)
			}
		},
		"GET /v1/tokens": func(t *testing.T, p principal, bearer string) {
			a := e.do(req{method: "GET", path: "/v1/tokens", bearer: bearer}).want(t, http.StatusOK)
			var pg page[tokenView]
			a.json(t, &pg)
			for _, tv := range pg.Items {
				if !access.Scope(tv.Orgs).Within(p.scope) {
					t.Errorf("%s lists token %s scoped to %v", p.name, tv.Name, tv.Orgs)
				}
			}
		},
		"POST /v1/tokens": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				a := e.do(req{method: "POST", path: "/v1/tokens", bearer: bearer,
					body: map[string]any{"name": fmt.Sprintf("new-%d", fresh()), "role": "dialer", "orgs": []string{org}}})
				want := http.StatusCreated
				if !p.own(org) {
					want = http.StatusForbidden
				}
				wantStatus(t, p.name+" creates a token for "+org, a, want, org)
			}
			// Left out, a scoped admin's token takes the admin's scope.
			a := e.do(req{method: "POST", path: "/v1/tokens", bearer: bearer,
				body: map[string]any{"name": fmt.Sprintf("new-%d", fresh()), "role": "dialer"}}).want(t, http.StatusCreated)
			var tv tokenView
			a.json(t, &tv)
			if !slices.Equal(tv.Orgs, []string(p.scope)) && !(p.scope.All() && len(tv.Orgs) == 0) {
				t.Errorf("%s: a token without orgs got %v", p.name, tv.Orgs)
			}
		},
		"POST /v1/tokens/{id}/revoke": func(t *testing.T, p principal, bearer string) {
			for _, org := range matrixOrgs {
				tok, _, err := access.NewToken(fmt.Sprintf("victim-%d", fresh()), access.RoleDialer, access.Scope{org}, "test", time.Now())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.store.CreateToken(context.Background(), tok); err != nil {
					t.Fatal(err)
				}
				want := http.StatusOK
				if !p.own(org) {
					want = http.StatusNotFound
				}
				wantStatus(t, p.name+" revokes a token of "+org, e.do(req{method: "POST", path: "/v1/tokens/" + tok.ID + "/revoke", bearer: bearer}), want, "")
			}
		},
	}
}

// wantDecisionOrgs checks that the decisions in body (a page, or NDJSON)
// are of p's own orgs, and that those of its own orgs are all there.
func (f *scopeFixture) wantDecisionOrgs(t *testing.T, p principal, body []byte, ndjson bool) {
	t.Helper()
	var items []objections.DecisionRecord
	if ndjson {
		for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
			if line == "" {
				continue
			}
			var d objections.DecisionRecord
			if err := json.Unmarshal([]byte(line), &d); err != nil {
				t.Fatalf("%s: %v: %s", p.name, err, line)
			}
			items = append(items, d)
		}
	} else {
		var pg page[objections.DecisionRecord]
		if err := json.Unmarshal(body, &pg); err != nil {
			t.Fatal(err)
		}
		items = pg.Items
	}
	seen := map[string]int{}
	for _, d := range items {
		if !p.own(d.Org) {
			t.Errorf("%s sees a check of %s", p.name, d.Org)
		}
		seen[d.Org]++
	}
	for _, org := range []string{"acme", "beta"} {
		if p.own(org) && seen[org] == 0 {
			t.Errorf("%s does not see the checks of its own org %s", p.name, org)
		}
	}
}
