package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Every route is in openapi.json with its method, and every operation of
// openapi.json is a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	spec(t) // the document loads and is valid OpenAPI 3
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options":
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	var served []string
	s := &Server{}
	for _, rt := range s.apiRoutes() {
		served = append(served, rt.pattern)
	}
	sort.Strings(documented)
	sort.Strings(served)
	if fmt.Sprint(documented) != fmt.Sprint(served) {
		t.Fatalf("openapi.json documents\n%s\nthe server routes\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
}

// The role matrix: no token is 401 on every route but the document; each
// role gets 403 exactly where it lacks the route's permission.
func TestEveryRouteAndRole(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	s := e.srv
	for _, rt := range s.apiRoutes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.NewReplacer("{number}", "0612345678", "{id}", "01KJPWD6M1753ZJ2RH6KSYZ54B").Replace(path)
		if strings.HasPrefix(path, "/v1/orgs/") || strings.HasPrefix(path, "/v1/callability") || strings.HasPrefix(path, "/v1/scrub") ||
			strings.HasPrefix(path, "/v1/people") {
			path += "?org=acme"
			if strings.HasPrefix(path, "/v1/orgs/") {
				path = "/v1/orgs/acme"
			}
		}
		t.Run(rt.pattern, func(t *testing.T) {
			a := e.do(req{method: method, path: path})
			if rt.perm == "" {
				if a.status != http.StatusOK {
					t.Fatalf("public route answered %d", a.status)
				}
				return
			}
			if p := a.want(t, http.StatusUnauthorized).problem(t); p.Code != codeUnauthorized || a.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("no token: %+v %v", p, a.header)
			}
			a = e.do(req{method: method, path: path, bearer: "vzt_01KJPWD6M1753ZJ2RH6KSYZ54B_" + strings.Repeat("A", 43)})
			a.want(t, http.StatusUnauthorized)
			for _, role := range access.Roles() {
				a := e.do(req{method: method, path: path, role: role})
				if role.Can(rt.perm) {
					if a.status == http.StatusForbidden || a.status == http.StatusUnauthorized {
						t.Errorf("%s: %d %s", role, a.status, a.body)
					}
					continue
				}
				if p := a.want(t, http.StatusForbidden).problem(t); p.Code != codeForbidden || !strings.Contains(p.Detail, string(role)) {
					t.Errorf("%s: %+v", role, p)
				}
			}
		})
	}
}

func TestProblems(t *testing.T) {
	e := newEnv(t, backends()[0], Config{BodyLimit: 200})
	tests := []struct {
		name   string
		r      req
		status int
		code   string
		field  string
		value  string
	}{
		{"bad number", req{method: "GET", path: "/v1/callability/06-12?org=acme", role: access.RoleDialer}, 400, "invalid", "number", "06-12"},
		{"no org", req{method: "GET", path: "/v1/callability/0612345678", role: access.RoleDialer}, 400, "invalid", "org", ""},
		{"bad org", req{method: "GET", path: "/v1/callability/0612345678?org=Acme%20Inc", role: access.RoleDialer}, 400, "invalid", "org", "acme inc"},
		{"unknown parameter", req{method: "GET", path: "/v1/callability/0612345678?org=acme&orgg=x", role: access.RoleDialer}, 400, "invalid", "orgg", "x"},
		{"unknown field", req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: map[string]string{"org": "acme", "numbr": "0612345678"}}, 400, "invalid", "numbr", ""},
		{"wrong type", req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: `{"org": "acme", "number": 612345678}`, contentType: "application/json"}, 400, "invalid", "number", "number"},
		{"not json", req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: `{"org": `, contentType: "application/json"}, 400, "invalid", "body", ""},
		{"bad source", req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: map[string]string{"org": "acme", "number": "0612345678", "source": "pigeon"}}, 400, "invalid", "source", "pigeon"},
		{"media type", req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: "org=acme", contentType: "application/x-www-form-urlencoded"}, 415, codeUnsupportedMedia, "Content-Type", "application/x-www-form-urlencoded"},
		{"too large", req{method: "POST", path: "/v1/objections", role: access.RoleIntegrator, body: map[string]string{"org": "acme", "note": strings.Repeat("x", 300)}}, 413, codeTooLarge, "", ""},
		{"not found", req{method: "GET", path: "/v1/objections/01KJPWD6M1753ZJ2RH6KSYZ54B", role: access.RoleSupervisor}, 404, "not_found", "id", "01KJPWD6M1753ZJ2RH6KSYZ54B"},
		{"bad cursor", req{method: "GET", path: "/v1/objections?cursor=xyz", role: access.RoleSupervisor}, 400, "invalid", "cursor", "xyz"},
		{"bad limit", req{method: "GET", path: "/v1/offers?limit=5000", role: access.RoleSupervisor}, 400, "invalid", "limit", "5000"},
		{"bad since", req{method: "GET", path: "/v1/objections?since=yesterday", role: access.RoleSupervisor}, 400, "invalid", "since", "yesterday"},
		{"void without reason", req{method: "POST", path: "/v1/objections/01KJPWD6M1753ZJ2RH6KSYZ54B/void", role: access.RoleAdmin, body: map[string]string{"reason": " "}}, 400, "invalid", "reason", " "},
		{"bad sector", req{method: "PUT", path: "/v1/orgs/acme", role: access.RoleAdmin, body: map[string]string{"name": "Acme", "sector": "bank"}}, 400, "invalid", "sector", "bank"},
		{"bad role", req{method: "POST", path: "/v1/tokens", role: access.RoleAdmin, body: map[string]string{"name": "x", "role": "root"}}, 400, "invalid", "role", "root"},
		{"unknown route", req{method: "GET", path: "/v1/nothing", role: access.RoleAdmin}, 404, "not_found", "", ""},
		{"wrong method", req{method: "DELETE", path: "/v1/objections", role: access.RoleAdmin}, 405, codeMethodNotAllowed, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := e.do(tc.r).want(t, tc.status).problem(t)
			if p.Code != tc.code || p.Field != tc.field || (tc.field != "" && (p.Value == nil || *p.Value != tc.value)) || p.Detail == "" {
				t.Fatalf("problem = %+v (value %v), want code %s field %s value %q", p, p.Value, tc.code, tc.field, tc.value)
			}
		})
	}
	a := e.do(req{method: "DELETE", path: "/v1/objections", role: access.RoleAdmin})
	if a.header.Get("Allow") != "GET, POST" {
		t.Fatalf("Allow = %q", a.header.Get("Allow"))
	}
	// A declared length over the limit is refused before the body is read.
	a = e.do(req{method: "PUT", path: "/v1/relations", role: access.RoleIntegrator, body: strings.Repeat("x", 1<<20), contentType: "text/csv"})
	if a.status == http.StatusRequestEntityTooLarge {
		t.Fatal("a streamed route took the JSON body limit")
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, backends()[0], Config{RateLimit: 1, RateBurst: 3})
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	e.srv.now = func() time.Time { return now }
	path := "/v1/callability/0612345678?org=acme"
	for i := range 3 {
		e.do(req{method: "GET", path: path, role: access.RoleDialer}).want(t, http.StatusOK)
		_ = i
	}
	a := e.do(req{method: "GET", path: path, role: access.RoleDialer})
	if p := a.want(t, http.StatusTooManyRequests).problem(t); p.Code != codeRateLimited || a.header.Get("Retry-After") != "1" {
		t.Fatalf("429 = %+v, Retry-After %q", p, a.header.Get("Retry-After"))
	}
	// Per token: another token is not held back.
	e.do(req{method: "GET", path: path, role: access.RoleIntegrator}).want(t, http.StatusOK)
	now = now.Add(time.Second)
	e.do(req{method: "GET", path: path, role: access.RoleDialer}).want(t, http.StatusOK)
	e.do(req{method: "GET", path: path, role: access.RoleDialer}).want(t, http.StatusTooManyRequests)
}

func TestTokensAPI(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	a := e.do(req{method: "POST", path: "/v1/tokens", role: access.RoleAdmin, body: map[string]string{"name": "crm", "role": "integrator"}}).want(t, http.StatusCreated)
	var created tokenView
	a.json(t, &created)
	if !strings.HasPrefix(created.Token, access.TokenPrefix) || created.Role != "integrator" || created.Name != "crm" || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("created = %+v", created)
	}
	e.do(req{method: "POST", path: "/v1/tokens", role: access.RoleAdmin, body: map[string]string{"name": "crm", "role": "dialer"}}).want(t, http.StatusConflict)
	path := "/v1/callability/0612345678?org=acme"
	e.do(req{method: "GET", path: path, bearer: created.Token}).want(t, http.StatusOK)

	var list page[tokenView]
	e.do(req{method: "GET", path: "/v1/tokens", role: access.RoleAdmin}).want(t, http.StatusOK).json(t, &list)
	if len(list.Items) != 5 || strings.Contains(string(e.do(req{method: "GET", path: "/v1/tokens", role: access.RoleAdmin}).body), "vzt_") {
		t.Fatalf("tokens = %+v", list)
	}
	e.do(req{method: "POST", path: "/v1/tokens/" + created.ID + "/revoke", role: access.RoleAdmin}).want(t, http.StatusOK)
	// Revoked here: refused at once, though the token was cached.
	e.do(req{method: "GET", path: path, bearer: created.Token}).want(t, http.StatusUnauthorized)
	e.do(req{method: "POST", path: "/v1/tokens/" + created.ID + "/revoke", role: access.RoleAdmin}).want(t, http.StatusConflict)
	// A secret that does not match its id is refused.
	forged := created.Token[:len(created.Token)-2] + "AA"
	e.do(req{method: "GET", path: path, bearer: forged}).want(t, http.StatusUnauthorized)
}

// A token revoked by another process stops working here within the cache
// TTL, and at once without a cache.
func TestRevokedElsewhere(t *testing.T) {
	e := newEnv(t, backends()[0], Config{TokenCacheTTL: -1})
	bearer := e.newToken(access.RoleDialer, "soon-gone")
	path := "/v1/callability/0612345678?org=acme"
	e.do(req{method: "GET", path: path, bearer: bearer}).want(t, http.StatusOK)
	id, _, _ := access.ParseToken(bearer)
	other := e.reopen(t)
	if _, err := other.RevokeToken(t.Context(), id, time.Now()); err != nil {
		t.Fatal(err)
	}
	e.do(req{method: "GET", path: path, bearer: bearer}).want(t, http.StatusUnauthorized)
}

func TestOrgs(t *testing.T) {
	e := newEnv(t, backends()[0], Config{})
	var o objections.Org
	e.do(req{method: "PUT", path: "/v1/orgs/acme", role: access.RoleAdmin,
		body: map[string]any{"name": "Acme Goede Doelen", "sector": "charity", "relation_term_months": 24}}).want(t, http.StatusOK).json(t, &o)
	if o.ID != "acme" || o.Sector != objections.SectorCharity || o.RelationTermMonths != 24 || o.Language != "nl" {
		t.Fatalf("org = %+v", o)
	}
	e.do(req{method: "PUT", path: "/v1/orgs/acme", role: access.RoleAdmin, body: map[string]any{"id": "beta", "name": "x"}}).want(t, http.StatusBadRequest)
	e.do(req{method: "GET", path: "/v1/orgs/acme", role: access.RoleSupervisor}).want(t, http.StatusOK)
	var list page[objections.Org]
	e.do(req{method: "GET", path: "/v1/orgs", role: access.RoleSupervisor}).want(t, http.StatusOK).json(t, &list)
	// beta is the test env's own second org.
	if len(list.Items) != 2 || list.Items[0].Name != "Acme Goede Doelen" || list.Items[1].ID != "beta" {
		t.Fatalf("orgs = %+v", list)
	}
}
