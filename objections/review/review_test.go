package review_test

import (
	"context"
	"crypto/tls"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"golang.org/x/crypto/bcrypt"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
	"github.com/verzet/verzet/objections/postgres"
	"github.com/verzet/verzet/objections/postgres/pgtest"
	"github.com/verzet/verzet/objections/review"
	"github.com/verzet/verzet/objections/sqlite"
	"github.com/verzet/verzet/objections/storetest"
)

// testStore is what the UI uses of a store, and the decision log's
// writer the tests fill it with.
type testStore interface {
	objections.Store
	review.Access
	review.Records
	review.DecisionLog
	AppendDecisions(ctx context.Context, blocked []objections.DecisionRecord, counts []objections.DecisionCount) ([]objections.FirstBlock, error)
}

type backend struct {
	name string
	open func(t *testing.T) testStore
}

// backends are the stores every handler test runs on.
func backends() []backend {
	ctx := context.Background()
	return []backend{
		{"sqlite", func(t *testing.T) testStore {
			s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "verzet.db"))
			return storetest.Migrated(t, s, err)
		}},
		{"postgres", func(t *testing.T) testStore {
			s, err := postgres.Open(ctx, pgtest.DSN(t), postgres.WithConnectTimeout(30*time.Second))
			return storetest.Migrated(t, s, err)
		}},
	}
}

// each runs fn on every backend.
func each(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { fn(t, newEnv(t, b.open(t))) })
	}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	store testStore
	reg   *objections.Register
	clk   *clock
	h     http.Handler
}

const password = "correct horse battery"

// newEnv is the UI over st with all its capabilities.
func newEnv(t *testing.T, st testStore) *env {
	t.Helper()
	return newEnvStores(t, st, review.Stores{Access: st, Records: st, Decisions: st})
}

// newEnvStores is the UI over the register of st and stores.
func newEnvStores(t *testing.T, st testStore, stores review.Stores) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	reg := objections.NewRegister(st, objections.Numbers{Region: "NL"}, clk.Now)
	srv, err := review.New(reg, stores, zaptest.NewLogger(t), review.Config{
		BcryptCost: bcrypt.MinCost, Now: clk.Now, PageSize: 3,
		PromptText: func(_ context.Context, o objections.Offer) (review.PromptText, bool) {
			if o.PromptVersion != "v1" {
				return review.PromptText{}, false
			}
			return review.PromptText{Text: "Wilt u niet meer gebeld worden? Druk 1.", Verified: true}, true
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, reg: reg, clk: clk, h: srv.Handler()}
	e.user("sam", access.RoleSupervisor)
	e.user("ada", access.RoleAdmin)
	return e
}

func (e *env) user(name string, role access.Role) access.User {
	e.t.Helper()
	return e.scopedUser(name, role, nil)
}

// scopedUser creates a user who reaches the orgs of scope (every org when
// empty).
func (e *env) scopedUser(name string, role access.Role, scope access.Scope) access.User {
	e.t.Helper()
	hash, err := review.HashPassword(password, name, bcrypt.MinCost)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := access.NewUser(name, role, scope, hash, "test", e.clk.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if u, err = e.store.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// record records an objection at the clock's time and moves the clock on.
func (e *env) record(o objections.Objection) objections.Objection {
	e.t.Helper()
	if o.Org == "" {
		o.Org = "acme"
	}
	if o.Source == "" {
		o.Source = objections.SourceAgent
	}
	rec, _, err := e.reg.Record(context.Background(), o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.clk.Add(time.Minute)
	return rec
}

// browser keeps cookies across requests, as a browser would.
type browser struct {
	e      *env
	jar    *cookiejar.Jar
	header http.Header // added to every request
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, jar: jar, header: http.Header{}}
}

type resp struct {
	status int
	header http.Header
	body   string
	cookie []*http.Cookie
}

const origin = "http://verzet.test"

func (b *browser) do(method, path string, form url.Values) resp {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, origin+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	u, _ := url.Parse(origin + path)
	for _, c := range b.jar.Cookies(u) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.e.h.ServeHTTP(rec, req)
	res := rec.Result()
	b.jar.SetCookies(u, res.Cookies())
	out, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: string(out), cookie: res.Cookies()}
}

func (b *browser) get(path string) resp { return b.do(http.MethodGet, path, nil) }

// post sends a form as it is, without adding a token.
func (b *browser) post(path string, form url.Values) resp { return b.do(http.MethodPost, path, form) }

var tokenRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token returns the form token of the page at path.
func (b *browser) token(path string) string {
	b.e.t.Helper()
	r := b.get(path)
	m := tokenRE.FindStringSubmatch(r.body)
	if m == nil {
		b.e.t.Fatalf("no form token on %s (%d):\n%s", path, r.status, r.body)
	}
	return html.UnescapeString(m[1])
}

// submit posts a form with the token of the page it is on.
func (b *browser) submit(page, action string, form url.Values) resp {
	b.e.t.Helper()
	form.Set("csrf", b.token(page))
	return b.post(action, form)
}

func (b *browser) signIn(name, pw string) resp {
	b.e.t.Helper()
	return b.submit("/ui/signin", "/ui/signin", url.Values{"name": {name}, "password": {pw}})
}

func (e *env) signedIn(name string) *browser {
	e.t.Helper()
	b := e.browser()
	if r := b.signIn(name, password); r.status != http.StatusSeeOther {
		e.t.Fatalf("sign in %s: %d\n%s", name, r.status, r.body)
	}
	return b
}

func wantStatus(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; location %q\n%s", r.status, status, r.header.Get("Location"), r.body)
	}
}

func wantRedirect(t *testing.T, r resp, prefix string) {
	t.Helper()
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), prefix) {
		t.Fatalf("got %d to %q, want 303 to %s…\n%s", r.status, r.header.Get("Location"), prefix, r.body)
	}
}

// wantBody checks that the page holds each part, as markup or as text
// (html/template writes "+" as "&#43;").
func wantBody(t *testing.T, r resp, parts ...string) {
	t.Helper()
	text := html.UnescapeString(r.body)
	for _, p := range parts {
		if !strings.Contains(r.body, p) && !strings.Contains(text, p) {
			t.Fatalf("page lacks %q:\n%s", p, r.body)
		}
	}
}

func auditActions(t *testing.T, e *env) []string {
	t.Helper()
	list, err := e.store.AuditLog(context.Background(), access.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(list) - 1; i >= 0; i-- {
		out = append(out, list[i].Actor+":"+string(list[i].Action))
	}
	return out
}

func TestAnonymousIsSentToSignIn(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		o := e.record(objections.Objection{RawNumber: "0612345678"})
		b := e.browser()
		for _, path := range []string{"/ui/objections?q=0612345678", "/ui/objections/" + o.ID, "/ui/objections/" + o.ID + "/void",
			"/ui/export.csv", "/ui/dashboard", "/ui/audit", "/ui/password"} {
			r := b.get(path)
			wantRedirect(t, r, "/ui/signin?next=")
			if got, _ := url.Parse(r.header.Get("Location")); got.Query().Get("next") != path {
				t.Errorf("%s: next = %q", path, got.Query().Get("next"))
			}
		}
		for _, path := range []string{"/ui/objections/" + o.ID + "/void", "/ui/signout", "/ui/password"} {
			wantRedirect(t, b.post(path, url.Values{"reason": {"x"}}), "/ui/signin")
		}
		wantRedirect(t, b.get("/ui/"), "/ui/objections")
		r := b.get("/ui/signin")
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, `name="password"`, `autocomplete="current-password"`)
		if got, _ := e.store.Objection(context.Background(), o.ID); got.Void != nil {
			t.Fatal("an anonymous post voided the objection")
		}
	})
}

// Every page for every role: what each may see and do.
func TestPagesPerRole(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		o := e.record(objections.Objection{RawNumber: "0612345678", CampaignRef: "spring"})
		pages := []struct {
			path       string
			supervisor int
			admin      int
			want       string
		}{
			{"/ui/objections", 200, 200, "+31612345678"},
			{"/ui/objections?q=06+1234+5678", 200, 200, "+31612345678"},
			{"/ui/objections/" + o.ID, 200, 200, o.ID},
			{"/ui/objections/" + o.ID + "/void", 403, 200, `name="reason"`},
			{"/ui/export.csv", 200, 200, "+31612345678"},
			{"/ui/dashboard", 200, 200, "<svg"},
			{"/ui/audit", 403, 200, "sign_in"},
			{"/ui/password", 200, 200, `name="new"`},
			{"/ui/objections/01NOPE", 404, 404, ""},
			{"/ui/nowhere", 404, 404, ""},
		}
		for _, role := range []string{"sam", "ada"} {
			b := e.signedIn(role)
			for _, p := range pages {
				t.Run(role+p.path, func(t *testing.T) {
					want := p.supervisor
					if role == "ada" {
						want = p.admin
					}
					r := b.get(p.path)
					wantStatus(t, r, want)
					if want == 200 && p.want != "" && p.path != "/ui/audit" {
						wantBody(t, r, p.want)
					}
					if want == 200 && p.path == "/ui/audit" {
						wantBody(t, r, "action-sign_in")
					}
				})
			}
			// Only admins see the audit log and the void button.
			r := b.get("/ui/objections/" + o.ID)
			if strings.Contains(r.body, "/void") != (role == "ada") {
				t.Errorf("%s: void link shown = %v", role, strings.Contains(r.body, "/void"))
			}
			if strings.Contains(r.body, `href="/ui/audit"`) != (role == "ada") {
				t.Errorf("%s: audit link shown = %v", role, !(role == "ada"))
			}
		}
	})
}

func TestSupervisorCannotVoid(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		o := e.record(objections.Objection{RawNumber: "0612345678"})
		b := e.signedIn("sam")
		r := b.submit("/ui/objections", "/ui/objections/"+o.ID+"/void", url.Values{"reason": {"customer asked"}})
		wantStatus(t, r, http.StatusForbidden)
		wantBody(t, r, "Your role may not do this.")
		got, err := e.store.Objection(context.Background(), o.ID)
		if err != nil || got.Void != nil || got.Status != objections.StatusActive {
			t.Fatalf("objection after a supervisor's void = %+v, %v", got, err)
		}
	})
}

func TestAdminVoidsWithReasonAfterConfirmation(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		o := e.record(objections.Objection{RawNumber: "0612345678"})
		b := e.signedIn("ada")
		detail := b.get("/ui/objections/" + o.ID)
		wantBody(t, detail, `href="/ui/objections/`+o.ID+`/void"`)
		// The button leads to a confirmation page, not to the void.
		confirm := b.get("/ui/objections/" + o.ID + "/void")
		wantStatus(t, confirm, http.StatusOK)
		wantBody(t, confirm, "Void this objection?", `name="reason"`, "required", "may be called again")
		if got, _ := e.store.Objection(context.Background(), o.ID); got.Void != nil {
			t.Fatal("opening the confirmation voided the objection")
		}
		r := b.submit("/ui/objections/"+o.ID+"/void", "/ui/objections/"+o.ID+"/void", url.Values{"reason": {"   "}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, "Give a reason")
		if got, _ := e.store.Objection(context.Background(), o.ID); got.Void != nil {
			t.Fatal("a void without reason was accepted")
		}
		r = b.submit("/ui/objections/"+o.ID+"/void", "/ui/objections/"+o.ID+"/void", url.Values{"reason": {"recorded on the wrong number"}})
		wantRedirect(t, r, "/ui/objections/"+o.ID+"?voided=1")
		got, err := e.store.Objection(context.Background(), o.ID)
		if err != nil || got.Void == nil || got.Void.Actor != "ada" || got.Void.Reason != "recorded on the wrong number" {
			t.Fatalf("voided objection = %+v, %v", got, err)
		}
		after := b.get(r.header.Get("Location"))
		wantBody(t, after, "has been voided", "recorded on the wrong number", "Voided by ada", "objection.voided")
		if strings.Contains(after.body, "/void\"") {
			t.Fatal("a voided objection still offers the void button")
		}
		// A second void does nothing and returns to the objection.
		wantRedirect(t, b.get("/ui/objections/"+o.ID+"/void"), "/ui/objections/"+o.ID)
		if acts := strings.Join(auditActions(t, e), " "); !strings.Contains(acts, "ada:void") {
			t.Fatalf("audit = %s", acts)
		}
	})
}

func TestPostsWithoutTokenAreRefused(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		o := e.record(objections.Objection{RawNumber: "0612345678"})
		// Sign-in without the pre-session token.
		anon := e.browser()
		anon.get("/ui/signin")
		wantStatus(t, anon.post("/ui/signin", url.Values{"name": {"ada"}, "password": {password}}), http.StatusForbidden)
		wantStatus(t, e.browser().post("/ui/signin", url.Values{"name": {"ada"}, "password": {password}, "csrf": {"made-up"}}), http.StatusForbidden)

		b := e.signedIn("ada")
		for _, tc := range []struct {
			name string
			form url.Values
		}{
			{"no token", url.Values{}},
			{"wrong token", url.Values{"csrf": {"AAAA"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				f := url.Values{"reason": {"x"}, "current": {password}, "new": {"another long password"}, "confirm": {"another long password"}}
				for k, v := range tc.form {
					f[k] = v
				}
				for _, path := range []string{"/ui/objections/" + o.ID + "/void", "/ui/password", "/ui/signout"} {
					r := b.post(path, f)
					wantStatus(t, r, http.StatusForbidden)
					wantBody(t, r, "did not come from verzet")
				}
			})
		}
		// Another user's token does not do either.
		other := e.signedIn("sam")
		r := b.post("/ui/objections/"+o.ID+"/void", url.Values{"reason": {"x"}, "csrf": {other.token("/ui/objections")}})
		wantStatus(t, r, http.StatusForbidden)
		// A cross-site post is refused even with the right token.
		b.header.Set("Sec-Fetch-Site", "cross-site")
		tok := b.token("/ui/objections")
		wantStatus(t, b.post("/ui/objections/"+o.ID+"/void", url.Values{"reason": {"x"}, "csrf": {tok}}), http.StatusForbidden)
		b.header.Del("Sec-Fetch-Site")
		if got, _ := e.store.Objection(context.Background(), o.ID); got.Void != nil {
			t.Fatal("a post without a valid token voided the objection")
		}
		wantStatus(t, b.get("/ui/objections"), http.StatusOK) // still signed in
		if u, _ := e.store.UserByName(context.Background(), "ada"); bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
			t.Fatal("a post without a valid token changed the password")
		}
	})
}

func TestOutputIsEscaped(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		evil := `<script>alert("x")</script>`
		o := e.record(objections.Objection{RawNumber: "0612345678", Note: "note " + evil, CampaignRef: "<b>camp</b>",
			AgentRef: `"><img src=x onerror=alert(1)>`})
		b := e.signedIn("ada")
		for _, path := range []string{"/ui/objections/" + o.ID, "/ui/objections", "/ui/dashboard"} {
			r := b.get(path)
			wantStatus(t, r, http.StatusOK)
			for _, raw := range []string{"<script>", "<b>camp</b>", "<img src=x"} {
				if strings.Contains(r.body, raw) {
					t.Fatalf("%s shows %q unescaped", path, raw)
				}
			}
		}
		r := b.get("/ui/objections/" + o.ID)
		wantBody(t, r, "note &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "&lt;b&gt;camp&lt;/b&gt;")
		// A reason and a search are shown back escaped too.
		r = b.submit("/ui/objections/"+o.ID+"/void", "/ui/objections/"+o.ID+"/void", url.Values{"reason": {evil}})
		wantRedirect(t, r, "/ui/objections/")
		r = b.get("/ui/objections/" + o.ID)
		wantBody(t, r, "&lt;script&gt;")
		if strings.Contains(r.body, "<script>") {
			t.Fatal("the void reason is shown unescaped")
		}
		r = b.get("/ui/objections?q=" + url.QueryEscape(evil))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if strings.Contains(r.body, "<script>") {
			t.Fatal("the search is shown back unescaped")
		}
		r = b.get("/ui/audit")
		if strings.Contains(r.body, "<script>") {
			t.Fatal("the audit log shows a reason unescaped")
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Fatalf("CSP = %q", csp)
		}
	})
}

func TestSearchByNumberInAnyFormat(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		want := e.record(objections.Objection{RawNumber: "+31 6 12345678"})
		e.record(objections.Objection{RawNumber: "0612345679"})
		b := e.signedIn("sam")
		for _, q := range []string{"06 1234 5678", "0612345678", "+31612345678", "0031 6 1234 5678", "+31 (0)6-12345678"} {
			r := b.get("/ui/objections?q=" + url.QueryEscape(q))
			wantStatus(t, r, http.StatusOK)
			wantBody(t, r, "/ui/objections/"+want.ID, "Searching for 06 1234 5678 (+31612345678)", "1–1 of 1")
			if strings.Contains(r.body, "+31612345679") {
				t.Fatalf("%q also found another number", q)
			}
		}
		r := b.get("/ui/objections?q=06-1")
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, "“06-1” is not a phone number")
		r = b.get("/ui/objections?q=0612345670")
		wantBody(t, r, "No objections match this filter.")
	})
}

func TestFiltersAndPaging(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var recs []objections.Objection
		for i := range 7 {
			o := objections.Objection{RawNumber: fmt.Sprintf("06123456%02d", i), CampaignRef: "spring"}
			if i%2 == 1 {
				o.Org, o.CampaignRef, o.Source = "beta", "winter", objections.SourceEmail
			}
			recs = append(recs, e.record(o))
		}
		ctx := context.Background()
		if _, err := e.reg.Void(ctx, recs[0].ID, "ada", "test"); err != nil {
			t.Fatal(err)
		}
		b := e.signedIn("sam")
		has := func(r resp, idx ...int) {
			t.Helper()
			want := map[int]bool{}
			for _, i := range idx {
				want[i] = true
			}
			for i, o := range recs {
				if strings.Contains(r.body, "/ui/objections/"+o.ID+`"`) != want[i] {
					t.Fatalf("objection %d shown = %v, want %v", i, !want[i], want[i])
				}
			}
		}
		// Newest first, three a page.
		r := b.get("/ui/objections")
		has(r, 6, 5, 4)
		wantBody(t, r, "1–3 of 7", `href="/ui/objections?page=2"`)
		r = b.get("/ui/objections?page=3")
		has(r, 0)
		wantBody(t, r, "7–7 of 7", `href="/ui/objections?page=2"`)
		has(b.get("/ui/objections?org=beta"), 5, 3, 1)
		has(b.get("/ui/objections?campaign=spring&page=2"), 0)
		has(b.get("/ui/objections?source=email"), 5, 3, 1)
		has(b.get("/ui/objections?status=voided"), 0)
		has(b.get("/ui/objections?status=active&org=acme"), 6, 4, 2)
		day := recs[0].ReceivedAt.In(objections.Amsterdam()).Format("2006-01-02")
		has(b.get("/ui/objections?from="+day+"&to="+day+"&org=beta"), 5, 3, 1)
		has(b.get("/ui/objections?from=2026-03-03"))
		has(b.get("/ui/objections?to=2026-03-01"))
		// The page link keeps the filter.
		wantBody(t, b.get("/ui/objections?campaign=spring"), `href="/ui/objections?campaign=spring&amp;page=2"`,
			`href="/ui/export.csv?campaign=spring&amp;format=csv"`)
		for _, bad := range []string{"source=pigeon", "status=gone", "from=yesterday", "from=2026-03-05&to=2026-03-01"} {
			wantStatus(t, b.get("/ui/objections?"+bad), http.StatusUnprocessableEntity)
		}
	})
}

func TestExportCSV(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.record(objections.Objection{RawNumber: "0612345678", CampaignRef: "spring", Note: "=HYPERLINK(\"x\")"})
		e.record(objections.Objection{RawNumber: "0612345679", CampaignRef: "winter"})
		b := e.signedIn("sam")
		r := b.get("/ui/export.csv?campaign=spring")
		wantStatus(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Fatalf("content type %q", ct)
		}
		if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="verzet-objections-`) {
			t.Fatalf("content disposition %q", cd)
		}
		rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0][0] != "Received (Europe/Amsterdam)" || rows[0][1] != "Number" || rows[1][0] != "2026-03-02 10:00:00 +01:00" ||
			rows[1][1] != "06 1234 5678" || rows[1][2] != "+31612345678" || rows[1][7] != "spring" || rows[1][8] != "agent" || rows[1][9] != "active" {
			t.Fatalf("rows = %q", rows)
		}
		if note := rows[1][slices.Index(rows[0], "Note")]; note != "'=HYPERLINK(\"x\")" {
			t.Fatalf("a formula in a note is not defused: %q", note)
		}
		list, _ := e.store.AuditLog(context.Background(), access.AuditFilter{Action: access.AuditExport})
		if len(list) != 1 || list[0].Actor != "sam" || list[0].Detail != "campaign=spring" {
			t.Fatalf("export audit = %+v", list)
		}
		r = b.get("/ui/export.csv")
		if rows, _ := csv.NewReader(strings.NewReader(r.body)).ReadAll(); len(rows) != 3 {
			t.Fatalf("export of all = %d rows", len(rows))
		}
		wantStatus(t, b.get("/ui/export.csv?q=nonsense"), http.StatusUnprocessableEntity)
	})
}

func TestSignInLockout(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.browser()
		for i := 1; i < access.FreeSignInFailures; i++ {
			r := b.signIn("sam", "wrong password")
			wantStatus(t, r, http.StatusUnauthorized)
			wantBody(t, r, "do not match")
		}
		r := b.signIn("sam", "wrong password")
		wantStatus(t, r, http.StatusUnauthorized)
		wantBody(t, r, "do not match")
		// Even the right password is refused while locked, with the same
		// answer: the lock does not tell that the name exists.
		r = b.signIn("sam", password)
		wantStatus(t, r, http.StatusUnauthorized)
		wantBody(t, r, "do not match")
		e.clk.Add(access.FirstLock + time.Second)
		wantRedirect(t, b.signIn("sam", password), "/ui/objections")
		u, _ := e.store.UserByName(context.Background(), "sam")
		if u.FailedSignIns != 0 || !u.LockedUntil.IsZero() {
			t.Fatalf("after a good sign-in: %+v", u)
		}
		// Unknown names fail the same way, and other users are not locked.
		wantStatus(t, e.browser().signIn("nobody", password), http.StatusUnauthorized)
		acts := strings.Join(auditActions(t, e), " ")
		for _, want := range []string{"sam:sign_in_failed", "sam:sign_in_locked", "sam:sign_in", "unknown:sign_in_failed"} {
			if !strings.Contains(acts, want) {
				t.Errorf("audit lacks %s: %s", want, acts)
			}
		}
	})
}

func TestBootstrapAndForcedPasswordChange(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)
			ctx := context.Background()
			now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			name, pw1, err := review.Bootstrap(ctx, st, bcrypt.MinCost, now)
			if err != nil || name != "admin" || len(pw1) != 23 {
				t.Fatalf("bootstrap = %q %q %v", name, pw1, err)
			}
			// Not used yet: a restart prints a new one; the old one is void.
			_, pw2, err := review.Bootstrap(ctx, st, bcrypt.MinCost, now)
			if err != nil || pw2 == "" || pw2 == pw1 {
				t.Fatalf("second bootstrap = %q %v", pw2, err)
			}
			e := &env{t: t, store: st, clk: &clock{t: now}}
			e.reg = objections.NewRegister(st, objections.Numbers{}, e.clk.Now)
			srv, err := review.New(e.reg, review.Stores{Access: st, Records: st, Decisions: st}, zaptest.NewLogger(t), review.Config{BcryptCost: bcrypt.MinCost, Now: e.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			e.h = srv.Handler()
			br := e.browser()
			wantStatus(t, br.signIn("admin", pw1), http.StatusUnauthorized)
			wantRedirect(t, br.signIn("admin", pw2), "/ui/password")
			// Nothing else until a password of one's own is chosen.
			wantRedirect(t, br.get("/ui/objections"), "/ui/password")
			wantBody(t, br.get("/ui/password"), "Choose your own password")
			r := br.submit("/ui/password", "/ui/password", url.Values{"current": {pw2}, "new": {"short"}, "confirm": {"short"}})
			wantStatus(t, r, http.StatusUnprocessableEntity)
			r = br.submit("/ui/password", "/ui/password", url.Values{"current": {pw2}, "new": {password}, "confirm": {password + "x"}})
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantBody(t, r, "differ")
			r = br.submit("/ui/password", "/ui/password", url.Values{"current": {pw2}, "new": {password}, "confirm": {password}})
			wantRedirect(t, r, "/ui/objections")
			wantStatus(t, br.get("/ui/objections"), http.StatusOK)
			// Used: no more bootstrap passwords.
			if _, pw3, err := review.Bootstrap(ctx, st, bcrypt.MinCost, now); err != nil || pw3 != "" {
				t.Fatalf("bootstrap after use = %q %v", pw3, err)
			}
			wantRedirect(t, e.browser().signIn("admin", password), "/ui/objections")
			acts := strings.Join(auditActions(t, e), " ")
			if !strings.Contains(acts, "serve:bootstrap") || !strings.Contains(acts, "admin:password_changed") {
				t.Fatalf("audit = %s", acts)
			}
		})
	}
}

func TestPasswordChangeSignsOutOtherBrowsers(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		first, second := e.signedIn("sam"), e.signedIn("sam")
		r := first.submit("/ui/password", "/ui/password", url.Values{"current": {password}, "new": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
		wantRedirect(t, r, "/ui/password?done=1")
		wantBody(t, first.get("/ui/password?done=1"), "has been changed")
		wantRedirect(t, second.get("/ui/objections"), "/ui/signin")
		wantStatus(t, e.browser().signIn("sam", password), http.StatusUnauthorized)
		wantRedirect(t, e.browser().signIn("sam", "a brand new passphrase"), "/ui/objections")
		r = first.submit("/ui/password", "/ui/password", url.Values{"current": {"wrong"}, "new": {"x"}, "confirm": {"x"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantBody(t, r, "current password is not right")
	})
}

func TestSessionCookieAndSignOut(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for _, tc := range []struct {
			name   string
			tls    bool
			header string
			secure bool
		}{{"http", false, "", false}, {"tls", true, "", true}, {"proxy", false, "https", true}} {
			t.Run(tc.name, func(t *testing.T) {
				get := httptest.NewRequest(http.MethodGet, origin+"/ui/signin", nil)
				if tc.tls {
					get.TLS = &tls.ConnectionState{}
				}
				if tc.header != "" {
					get.Header.Set("X-Forwarded-Proto", tc.header)
				}
				rec := httptest.NewRecorder()
				e.h.ServeHTTP(rec, get)
				pre := rec.Result().Cookies()
				tok := html.UnescapeString(tokenRE.FindStringSubmatch(rec.Body.String())[1])
				post := httptest.NewRequest(http.MethodPost, origin+"/ui/signin",
					strings.NewReader(url.Values{"name": {"sam"}, "password": {password}, "csrf": {tok}}.Encode()))
				post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				post.TLS, post.Header["X-Forwarded-Proto"] = get.TLS, get.Header["X-Forwarded-Proto"]
				for _, c := range pre {
					post.AddCookie(c)
				}
				rec = httptest.NewRecorder()
				e.h.ServeHTTP(rec, post)
				var session *http.Cookie
				for _, c := range rec.Result().Cookies() {
					if c.Name == "verzet_session" {
						session = c
					}
				}
				if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != tc.secure ||
					session.Path != "/ui/" || len(session.Value) < 40 {
					t.Fatalf("session cookie = %+v", session)
				}
			})
		}
		b := e.signedIn("sam")
		wantStatus(t, b.get("/ui/objections"), http.StatusOK)
		r := b.submit("/ui/objections", "/ui/signout", url.Values{})
		wantRedirect(t, r, "/ui/signin?out=1")
		wantBody(t, b.get("/ui/signin?out=1"), "You have signed out.")
		wantRedirect(t, b.get("/ui/objections"), "/ui/signin")
	})
}

func TestSessionsEnd(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn("sam")
		e.clk.Add(50 * time.Minute)
		wantStatus(t, b.get("/ui/objections"), http.StatusOK) // touches the session
		e.clk.Add(50 * time.Minute)
		wantStatus(t, b.get("/ui/objections"), http.StatusOK)
		e.clk.Add(61 * time.Minute) // idle for longer than an hour
		wantRedirect(t, b.get("/ui/objections"), "/ui/signin")

		b = e.signedIn("sam")
		for range 14 { // active, but past the 12-hour limit
			e.clk.Add(55 * time.Minute)
			b.get("/ui/objections")
		}
		wantRedirect(t, b.get("/ui/objections"), "/ui/signin")
	})
}

func TestSignInRedirectsOnlyInsideTheUI(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		for next, want := range map[string]string{
			"/ui/dashboard?from=2026-03-01": "/ui/dashboard?from=2026-03-01",
			"//evil.example/ui/":            "/ui/objections",
			"https://evil.example/":         "/ui/objections",
			"/ui\\..\\evil":                 "/ui/objections",
		} {
			b := e.browser()
			page := "/ui/signin?next=" + url.QueryEscape(next)
			r := b.submit(page, "/ui/signin", url.Values{"name": {"sam"}, "password": {password}, "next": {next}})
			if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
				t.Errorf("next %q: %d to %q, want %q", next, r.status, r.header.Get("Location"), want)
			}
		}
		wantRedirect(t, e.browser().get("/ui/lang/nl?next=//evil.example"), "/ui/objections")
	})
}

func TestLanguage(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.signedIn("sam")
		b.header.Set("Accept-Language", "nl-NL,nl;q=0.9,en;q=0.8")
		r := b.get("/ui/objections")
		wantBody(t, r, `<html lang="nl">`, "Bezwaren", "Telefoonnummer", "Uitloggen", `href="/ui/lang/en?next=%2fui%2fobjections"`)
		b.header.Set("Accept-Language", "de-DE,en;q=0.5")
		wantBody(t, b.get("/ui/objections"), `<html lang="en">`, "Phone number")
		// The switch wins over the browser and goes back where it was.
		r = b.get("/ui/lang/nl?next=" + url.QueryEscape("/ui/dashboard?org=acme"))
		wantRedirect(t, r, "/ui/dashboard?org=acme")
		wantBody(t, b.get("/ui/dashboard"), `<html lang="nl">`, "Bezwaarpercentage")
		wantStatus(t, b.get("/ui/lang/fr"), http.StatusNotFound)
		wantBody(t, e.browser().get("/ui/signin"), "Sign in to verzet")
	})
}

func TestDetailShowsTheEvidence(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		start := e.clk.Now()
		off, _, err := e.reg.RecordOffer(ctx, objections.Offer{Org: "acme", Number: "0612345678", Provider: "twilio", CallRef: "CA123",
			CampaignRef: "spring", PromptID: "offer", PromptVersion: "v1", Language: "nl", PromptHash: "feedc0ffee", PlayedMS: 5300,
			Keys:    []objections.Key{{Digit: "1", At: start.Add(4200 * time.Millisecond), Mode: "rfc4733"}},
			Outcome: objections.OutcomeObjected, EndedBy: objections.EndedByCaller, StartedAt: start, EndedAt: start.Add(9 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		e.clk.Add(5 * time.Second)
		o := e.record(objections.Objection{RawNumber: "0612345678", Source: objections.SourceIVRTwilio, Provider: "twilio",
			CallRef: "CA123", CampaignRef: "spring", OfferID: off.ID})
		if _, err := e.reg.Void(ctx, o.ID, "ada", "test call from QA"); err != nil {
			t.Fatal(err)
		}
		b := e.signedIn("sam")
		r := b.get("/ui/objections/" + o.ID)
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "Right to object offered", "language nl · 5.3 s of the spoken text played",
			"Wilt u niet meer gebeld worden? Druk 1.", "they match what was recorded", "Key 1 pressed", "detected as rfc4733",
			"2 Mar 2026 10:00:04.200", "Call ended", "objected · ended by the caller", "Objection recorded",
			"Voided by ada", "test call from QA", "twilio", "CA123", "spring", "feedc0ffee", "objection.recorded", "offer.recorded")
		// The timeline is in time order.
		order := []string{"Right to object offered", "Key 1 pressed", "Objection recorded", "Call ended", "Voided by ada"}
		last := -1
		for _, s := range order {
			i := strings.Index(r.body, s)
			if i < last {
				t.Fatalf("%q is out of order", s)
			}
			last = i
		}
		// The view is audited.
		if acts := strings.Join(auditActions(t, e), " "); !strings.Contains(acts, "sam:view") {
			t.Fatalf("audit = %s", acts)
		}
		// Without an offer the page says why.
		plain := e.record(objections.Objection{RawNumber: "0612345679"})
		wantBody(t, b.get("/ui/objections/"+plain.ID), "No call belongs to this objection")
	})
}

func TestDashboard(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		for i, outcome := range []objections.Outcome{objections.OutcomeObjected, objections.OutcomeDeclined, objections.OutcomeDeclined, objections.OutcomeNoInput} {
			at := day.Add(time.Duration(i) * time.Hour)
			if _, _, err := e.reg.RecordOffer(ctx, objections.Offer{Org: "acme", Provider: "twilio", CallRef: fmt.Sprintf("CA%d", i),
				CampaignRef: "spring", Outcome: outcome, StartedAt: at, EndedAt: at}); err != nil {
				t.Fatal(err)
			}
		}
		e.record(objections.Objection{RawNumber: "0612345678", CampaignRef: "spring"})
		e.record(objections.Objection{RawNumber: "0612345679", CampaignRef: "<i>winter</i>"})
		e.clk.Add(24 * time.Hour)
		b := e.signedIn("sam")
		r := b.get("/ui/dashboard?from=2026-02-20&to=2026-03-05")
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "<svg", `role="img"`, "Offers to object and objections per day", "Objection rate per day", "Per campaign",
			"25.0%", "spring", "&lt;i&gt;winter&lt;/i&gt;", "4 offers to object on Mon 2 Mar 2026", `class="bar-objections"`, `class="dot"`)
		// Default range: the last 30 days.
		wantBody(t, b.get("/ui/dashboard"), `value="2026-02-02"`, `value="2026-03-03"`)
		wantBody(t, b.get("/ui/dashboard?org=nobody"), "Nothing recorded in this range.")
		for _, bad := range []string{"from=2026-03-05&to=2026-03-01", "from=soon", "from=2020-01-01&to=2026-01-01"} {
			wantStatus(t, b.get("/ui/dashboard?"+bad), http.StatusUnprocessableEntity)
		}
	})
}

func TestAuditLogShowsWhoDidWhat(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		o := e.record(objections.Objection{RawNumber: "0612345678"})
		sam := e.signedIn("sam")
		sam.get("/ui/objections/" + o.ID)
		sam.get("/ui/export.csv")
		ada := e.signedIn("ada")
		ada.submit("/ui/objections/"+o.ID+"/void", "/ui/objections/"+o.ID+"/void", url.Values{"reason": {"duplicate"}})
		r := ada.get("/ui/audit")
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "signed in", "viewed", "exported", "voided objection", "duplicate", `href="/ui/objections/`+o.ID+`"`, "192.0.2.1")
		r = ada.get("/ui/audit?actor=sam&action=export")
		wantBody(t, r, "exported")
		if strings.Contains(r.body, "voided objection</span>") {
			t.Fatal("the filter does not filter")
		}
		wantStatus(t, ada.get("/ui/audit?action=dance"), http.StatusUnprocessableEntity)
		got := strings.Join(auditActions(t, e), " ")
		want := "sam:sign_in sam:view sam:export ada:sign_in ada:void"
		if got != want {
			t.Fatalf("audit = %s\nwant    %s", got, want)
		}
	})
}

func TestStaticAssetsAndHeaders(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		b := e.browser()
		r := b.get("/ui/static/style.css")
		wantStatus(t, r, http.StatusOK)
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/css") || !strings.Contains(r.body, ":focus-visible") {
			t.Fatalf("style.css: %q", r.header.Get("Content-Type"))
		}
		wantStatus(t, b.get("/ui/static/favicon.svg"), http.StatusOK)
		r = b.get("/ui/signin")
		for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
			if r.header.Get(h) != want {
				t.Errorf("%s = %q", h, r.header.Get(h))
			}
		}
	})
}

// block logs n blocked dial-time checks caused by o, the first at
// o.ReceivedAt+first and then one a minute, as the API's decision log
// writes them.
func (e *env) block(o objections.Objection, n int, first time.Duration) {
	e.t.Helper()
	e.blockFor(o.Org, o, n, first)
}

// blockFor is block with the checks made for org: an objection made on
// an agency's call also blocks the agency's own checks.
func (e *env) blockFor(org string, o objections.Objection, n int, first time.Duration) {
	e.t.Helper()
	recs := make([]objections.DecisionRecord, n)
	for i := range recs {
		at := o.ReceivedAt.Add(first + time.Duration(i)*time.Minute)
		recs[i] = objections.DecisionRecord{ID: objections.NewID(at), DecidedAt: at, Org: org, Number: o.Number,
			Basis: objections.BasisNone, Reasons: []objections.Reason{objections.ReasonObjection, objections.ReasonNoBasis},
			ObjectionID: o.ID, ListVersion: int64(100 + i), TokenName: fmt.Sprintf("dialer-%d", i)}
	}
	if _, err := e.store.AppendDecisions(context.Background(), recs, nil); err != nil {
		e.t.Fatal(err)
	}
}

// stopsSection returns the "Dial attempts stopped" card of a detail page.
func stopsSection(t *testing.T, r resp) string {
	t.Helper()
	_, after, ok := strings.Cut(r.body, `aria-labelledby="stops-h"`)
	if !ok {
		t.Fatalf("the page has no section of stopped dial attempts:\n%s", r.body)
	}
	section, _, _ := strings.Cut(after, "</section>")
	return section
}

var stopRowRE = regexp.MustCompile(`<tr><td class="nowrap">([^<]+)</td><td>([^<]+)</td><td class="mono">(\d+)</td><td>([^<]+)</td></tr>`)

func TestDetailShowsStoppedDialAttempts(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		honoured := e.record(objections.Objection{RawNumber: "0612345678"})
		quiet := e.record(objections.Objection{RawNumber: "0612345679"})
		e.block(honoured, 25, 2040*time.Millisecond)
		b := e.signedIn("sam")

		r := b.get("/ui/objections/" + honoured.ID)
		wantStatus(t, r, http.StatusOK)
		sec := html.UnescapeString(stopsSection(t, r))
		for _, want := range []string{"Dial attempts stopped", "25 dial attempts", "2 Mar 2026 10:00:02.040", "2.04 s after receipt", "The newest 20:"} {
			if !strings.Contains(sec, want) {
				t.Fatalf("the section lacks %q:\n%s", want, sec)
			}
		}
		rows := stopRowRE.FindAllStringSubmatch(sec, -1)
		if len(rows) != 20 {
			t.Fatalf("%d rows, want the newest 20:\n%s", len(rows), sec)
		}
		// Newest first: the 25th check (24 minutes after the first), down to the 6th.
		newest, oldest := rows[0], rows[19]
		if newest[1] != "2 Mar 2026 10:24:02.040" || newest[2] != "objection, no basis (neither consent nor customer relation)" || newest[3] != "124" || newest[4] != "dialer-24" {
			t.Fatalf("newest row = %q", newest[1:])
		}
		if oldest[1] != "2 Mar 2026 10:05:02.040" || oldest[3] != "105" || oldest[4] != "dialer-5" {
			t.Fatalf("oldest row shown = %q", oldest[1:])
		}
		if strings.Contains(sec, "No dial attempt stopped yet") {
			t.Fatal("a honoured objection says none was stopped")
		}

		// In Dutch.
		b.header.Set("Accept-Language", "nl")
		sec = html.UnescapeString(stopsSection(t, b.get("/ui/objections/"+honoured.ID)))
		for _, want := range []string{"Tegengehouden belpogingen", "25 belpogingen", "2 mrt 2026 10:00:02,040", "2,04 s na ontvangst", "De nieuwste 20:"} {
			if !strings.Contains(sec, want) {
				t.Fatalf("the Dutch section lacks %q:\n%s", want, sec)
			}
		}
		b.header.Del("Accept-Language")

		// An objection no check has met yet says so.
		sec = stopsSection(t, b.get("/ui/objections/"+quiet.ID))
		if !strings.Contains(sec, "No dial attempt stopped yet.") || strings.Contains(sec, "<table") {
			t.Fatalf("the section of an objection without stops:\n%s", sec)
		}
		b.header.Set("Accept-Language", "nl")
		wantBody(t, b.get("/ui/objections/"+quiet.ID), "Nog geen belpoging tegengehouden.")
		b.header.Del("Accept-Language")

		// One blocked check, a while later: singular, minutes.
		once := e.record(objections.Objection{RawNumber: "0612345670"})
		e.block(once, 1, 3*time.Minute+12*time.Second)
		sec = stopsSection(t, b.get("/ui/objections/"+once.ID))
		if !strings.Contains(sec, "1 dial attempt<") || !strings.Contains(sec, "3 min 12 s after receipt") ||
			strings.Contains(sec, "The newest") || len(stopRowRE.FindAllString(sec, -1)) != 1 {
			t.Fatalf("the section of one stop:\n%s", sec)
		}
	})
}

// The count reads the log page by page, and stops counting at 10,000: the
// page then says "at least", and lists the newest of those it read.
func TestDetailCountsStoppedDialAttemptsInPages(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		some := e.record(objections.Objection{RawNumber: "0612345678"})
		many := e.record(objections.Objection{RawNumber: "0612345679"})
		e.block(some, 1005, time.Second)
		e.block(many, 10001, time.Second)
		b := e.signedIn("sam")
		sec := html.UnescapeString(stopsSection(t, b.get("/ui/objections/"+some.ID)))
		rows := stopRowRE.FindAllStringSubmatch(sec, -1)
		if !strings.Contains(sec, "1,005 dial attempts") || len(rows) != 20 || rows[0][4] != "dialer-1004" || rows[19][4] != "dialer-985" {
			t.Fatalf("the section of 1,005 stops (rows %q):\n%s", rows, sec)
		}
		sec = html.UnescapeString(stopsSection(t, b.get("/ui/objections/"+many.ID)))
		rows = stopRowRE.FindAllStringSubmatch(sec, -1)
		if !strings.Contains(sec, "at least 10,000 dial attempts") || !strings.Contains(sec, "1.00 s after receipt") ||
			len(rows) != 20 || rows[0][4] != "dialer-9999" {
			t.Fatalf("the section of 10,001 stops:\n%s", sec)
		}
	})
}

// newEnvNoDecisionLog is the UI over st wired without a decision log, as
// over a store that keeps none.
func newEnvNoDecisionLog(t *testing.T, st testStore) *env {
	t.Helper()
	return newEnvStores(t, st, review.Stores{Access: st, Records: st})
}

// A store that keeps no decision log still shows the page, without the
// section: it cannot tell whether a dial attempt was stopped.
func TestDetailWithoutDecisionLog(t *testing.T) {
	e := newEnvNoDecisionLog(t, backends()[0].open(t))
	o := e.record(objections.Objection{RawNumber: "0612345678"})
	r := e.signedIn("sam").get("/ui/objections/" + o.ID)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Evidence timeline", "Objection recorded")
	if strings.Contains(r.body, "stops-h") || strings.Contains(r.body, "Dial attempts stopped") || strings.Contains(r.body, "No dial attempt") {
		t.Fatalf("a store without a decision log shows the section:\n%s", r.body)
	}
}

// An API token's audit entries are found by its actor as written, upper-case
// id included (user names are matched in lower case).
func TestAuditFilterByToken(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		entry, err := access.NewAuditEntry(e.clk.Now(), "token:01ABCDEFGH (dialer eu-1)", access.AuditExport, "objections", "format=csv org=acme", "192.0.2.9")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.store.AppendAudit(context.Background(), entry); err != nil {
			t.Fatal(err)
		}
		ada := e.signedIn("ada")
		r := ada.get("/ui/audit?actor=" + url.QueryEscape("token:01ABCDEFGH (dialer eu-1)"))
		wantStatus(t, r, http.StatusOK)
		wantBody(t, r, "token:01ABCDEFGH (dialer eu-1)", "format=csv org=acme")
		if strings.Contains(r.body, "<td>ada</td>") {
			t.Fatal("the token filter shows other actors' entries")
		}
		if r := ada.get("/ui/audit?actor=ADA"); !strings.Contains(r.body, "<td>ada</td>") {
			t.Fatal("a user name in capitals no longer finds the user")
		}
	})
}

// count logs n checks of org on day (Europe/Amsterdam) with one result and
// main reason, as the API's decision log adds them up.
func count(org string, day string, callable bool, reason objections.Reason, n int64) objections.DecisionCount {
	d, _ := time.Parse("2006-01-02", day)
	return objections.DecisionCount{Org: org, Day: d, Callable: callable, Reason: reason, Count: n}
}

// checksSection returns the "Dial-time checks" card of the dashboard.
func checksSection(t *testing.T, r resp) string {
	t.Helper()
	_, after, ok := strings.Cut(r.body, `aria-labelledby="checks-h"`)
	if !ok {
		t.Fatalf("the dashboard has no section of dial-time checks:\n%s", r.body)
	}
	section, _, _ := strings.Cut(after, "</section>")
	return section
}

var (
	checkStatRE  = regexp.MustCompile(`id="checks-(total|allowed|blocked|objection)">([^<]+)<`)
	reasonRowRE  = regexp.MustCompile(`<tr><th scope="row">([^<]+)</th><td>([^<]+)</td></tr>`)
	allowedBarRE = regexp.MustCompile(`<rect class="bar-allowed"`)
	blockedBarRE = regexp.MustCompile(`<rect class="bar-blocked"`)
)

func TestDashboardShowsDialTimeChecks(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		if _, err := e.store.AppendDecisions(context.Background(), nil, []objections.DecisionCount{
			count("acme", "2026-03-01", true, objections.ReasonConsent, 5),
			count("acme", "2026-03-01", false, objections.ReasonObjection, 2),
			count("acme", "2026-03-01", false, objections.ReasonNoBasis, 1),
			count("acme", "2026-03-02", true, objections.ReasonCustomerRelation, 7),
			count("acme", "2026-03-02", false, objections.ReasonObjection, 3),
			count("acme", "2026-03-02", false, objections.ReasonRelationExpired, 1),
			count("acme", "2026-03-02", false, objections.ReasonNoBasis, 1),
			count("other", "2026-03-02", false, objections.ReasonObjection, 100),
			count("acme", "2026-03-04", false, objections.ReasonObjection, 50), // after the range
		}); err != nil {
			t.Fatal(err)
		}
		b := e.signedIn("sam")

		r := b.get("/ui/dashboard?org=acme&from=2026-03-01&to=2026-03-03")
		wantStatus(t, r, http.StatusOK)
		sec := checksSection(t, r)
		stats := map[string]string{}
		for _, m := range checkStatRE.FindAllStringSubmatch(sec, -1) {
			stats[m[1]] = m[2]
		}
		if want := map[string]string{"total": "20", "allowed": "12", "blocked": "8", "objection": "5"}; fmt.Sprint(stats) != fmt.Sprint(want) {
			t.Fatalf("totals %v, want %v:\n%s", stats, want, sec)
		}
		var reasons []string
		for _, m := range reasonRowRE.FindAllStringSubmatch(sec, -1) {
			reasons = append(reasons, m[1]+"="+m[2])
		}
		if got, want := strings.Join(reasons, " "), "objection=5 no basis (neither consent nor customer relation)=2 customer relation expired=1"; got != want {
			t.Fatalf("blocked by reason %q, want %q", got, want)
		}
		// A pair of bars for each of the 3 days, the empty one included.
		if a, bl := len(allowedBarRE.FindAllString(sec, -1)), len(blockedBarRE.FindAllString(sec, -1)); a != 3 || bl != 3 {
			t.Fatalf("%d allowed and %d blocked bars, want 3 and 3:\n%s", a, bl, sec)
		}
		for _, want := range []string{"Dial-time checks", "Blocked by an objection", "7 allowed on Mon 2 Mar 2026", "5 blocked on Mon 2 Mar 2026"} {
			if !strings.Contains(html.UnescapeString(sec), want) {
				t.Fatalf("the section lacks %q:\n%s", want, sec)
			}
		}

		// In Dutch.
		b.header.Set("Accept-Language", "nl")
		sec = html.UnescapeString(checksSection(t, b.get("/ui/dashboard?org=acme&from=2026-03-01&to=2026-03-03")))
		for _, want := range []string{"Belcontroles", "Controles", "Toegestaan", "Geblokkeerd door bezwaar", "Geblokkeerd per reden", "Reden"} {
			if !strings.Contains(sec, want) {
				t.Fatalf("the Dutch section lacks %q:\n%s", want, sec)
			}
		}
		wantBody(t, b.get("/ui/dashboard?from=2026-03-01&to=2026-03-03"), "Belcontroles worden per organisatie geteld")
		b.header.Del("Accept-Language")

		// Without an org: the hint, not the section.
		r = b.get("/ui/dashboard?from=2026-03-01&to=2026-03-03")
		wantBody(t, r, `id="checks-hint"`, "Dial-time checks are counted per organisation")
		if strings.Contains(r.body, `aria-labelledby="checks-h"`) {
			t.Fatalf("the section shows without an org:\n%s", r.body)
		}
		// An org without checks: zeros and an empty chart.
		sec = checksSection(t, b.get("/ui/dashboard?org=nobody&from=2026-03-01&to=2026-03-03"))
		if !strings.Contains(sec, `id="checks-total">0<`) || !strings.Contains(sec, "No checks in this range.") || strings.Contains(sec, "<table") {
			t.Fatalf("the section of an org without checks:\n%s", sec)
		}
	})
}

// A store that keeps no decision log shows the dashboard without the
// section or its hint.
func TestDashboardWithoutDecisionLog(t *testing.T) {
	e := newEnvNoDecisionLog(t, backends()[0].open(t))
	b := e.signedIn("sam")
	for _, path := range []string{"/ui/dashboard?org=acme", "/ui/dashboard"} {
		r := b.get(path)
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(r.body, `aria-labelledby="checks-h"`) || strings.Contains(r.body, "checks-hint") {
			t.Fatalf("%s: a store without a decision log shows dial-time checks:\n%s", path, r.body)
		}
	}
}
