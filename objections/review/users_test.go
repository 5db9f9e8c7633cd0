package review_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/verzet/verzet/objections/access"
)

var secretRE = regexp.MustCompile(`<code id="one-time-password">([^<]+)</code>`)

// oneTimePassword reads the password a users page showed once.
func oneTimePassword(t *testing.T, r resp) string {
	t.Helper()
	m := secretRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no one-time password on the page (%d):\n%s", r.status, r.body)
	}
	return html.UnescapeString(m[1])
}

func (e *env) userByName(name string) access.User {
	e.t.Helper()
	u, err := e.store.UserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// An admin creates a user in the UI; the one-time password is shown once
// and must be changed at the first sign-in; supervisors cannot manage
// users.
func TestAdminCreatesUser(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.orgWorld()
		admin := e.signedIn("ada")
		wantBody(t, admin.get("/ui/users"), "sam", "ada", `href="/ui/users/new"`)
		r := admin.submit("/ui/users/new", "/ui/users/new", url.Values{"name": {" Joke.Jansen "}, "role": {"supervisor"}, "org": {"acme", "beta"}})
		wantStatus(t, r, http.StatusCreated)
		wantBody(t, r, "joke.jansen", "shown only now")
		pw := oneTimePassword(t, r)
		if r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("the one-time password page may be cached: %q", r.header.Get("Cache-Control"))
		}
		u := e.userByName("joke.jansen")
		if u.Role != access.RoleSupervisor || u.Orgs.Stored() != "acme,beta" || !u.MustChangePassword || u.CreatedBy != "ada" {
			t.Fatalf("created user = %+v", u)
		}
		// The name is taken now; a bad name, role or org is refused.
		for _, tc := range []struct {
			form   url.Values
			status int
			want   string
		}{
			{url.Values{"name": {"joke.jansen"}, "role": {"admin"}}, http.StatusConflict, "is taken"},
			{url.Values{"name": {"Joke Jansen"}, "role": {"admin"}}, http.StatusUnprocessableEntity, "Choose a user name"},
			{url.Values{"name": {"piet"}, "role": {"dialer"}}, http.StatusUnprocessableEntity, "Choose a role"},
			{url.Values{"name": {"piet"}, "role": {"admin"}, "org": {"nosuchorg"}}, http.StatusUnprocessableEntity, "only organisations that exist"},
		} {
			r := admin.submit("/ui/users/new", "/ui/users/new", tc.form)
			wantStatus(t, r, tc.status)
			wantBody(t, r, tc.want)
		}
		b := e.browser()
		wantRedirect(t, b.signIn("joke.jansen", pw), "/ui/password")
		wantRedirect(t, b.submit("/ui/password", "/ui/password", url.Values{"current": {pw}, "new": {password}, "confirm": {password}}), "/ui/objections")
		wantStatus(t, b.get("/ui/users"), http.StatusForbidden)
		wantStatus(t, b.get("/ui/users/"+u.ID), http.StatusForbidden)
		acts := strings.Join(auditActions(t, e), " ")
		if !strings.Contains(acts, "ada:user_created") {
			t.Fatalf("audit = %s", acts)
		}
	})
}

// A disabled user cannot sign in, with the answer of a wrong password,
// and is signed out at once; enabled again, it can.
func TestDisabledUserCannotSignIn(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		admin, sam := e.signedIn("ada"), e.signedIn("sam")
		id := e.userByName("sam").ID
		wantRedirect(t, admin.submit("/ui/users/"+id, "/ui/users/"+id+"/disable", url.Values{}), "/ui/users/"+id+"?done=disabled")
		wantBody(t, admin.get("/ui/users/"+id+"?done=disabled"), "disabled and signed out", `action="/ui/users/`+id+`/enable"`)
		if u := e.userByName("sam"); !u.Disabled() {
			t.Fatalf("not disabled: %+v", u)
		}
		wantRedirect(t, sam.get("/ui/objections"), "/ui/signin")
		right, wrong := e.browser().signIn("sam", password), e.browser().signIn("ada", "wrong password")
		wantStatus(t, right, http.StatusUnauthorized)
		if errorText(right.body) != errorText(wrong.body) {
			t.Fatalf("a disabled user is told %q, a wrong password %q", errorText(right.body), errorText(wrong.body))
		}
		wantRedirect(t, admin.submit("/ui/users/"+id, "/ui/users/"+id+"/enable", url.Values{}), "/ui/users/"+id+"?done=enabled")
		wantRedirect(t, e.browser().signIn("sam", password), "/ui/objections")
		acts := strings.Join(auditActions(t, e), " ")
		for _, want := range []string{"ada:user_disabled", "sam:sign_in_failed", "ada:user_enabled"} {
			if !strings.Contains(acts, want) {
				t.Errorf("audit lacks %s: %s", want, acts)
			}
		}
		log, _ := e.store.AuditLog(context.Background(), access.AuditFilter{Actor: "sam", Action: access.AuditSignInFailed})
		if len(log) != 1 || log[0].Detail != "user disabled" {
			t.Fatalf("the refused sign-in is audited as %+v", log)
		}
	})
}

// An admin changes a user's role and organisations, and resets its
// password; nobody changes their own account here.
func TestAdminChangesRoleScopeAndPassword(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.orgWorld()
		admin, sam := e.signedIn("ada"), e.signedIn("sam")
		id := e.userByName("sam").ID
		wantStatus(t, sam.get("/ui/audit"), http.StatusForbidden)
		r := admin.submit("/ui/users/"+id, "/ui/users/"+id+"/access", url.Values{"role": {"admin"}, "org": {"beta"}})
		wantRedirect(t, r, "/ui/users/"+id+"?done=access")
		if u := e.userByName("sam"); u.Role != access.RoleAdmin || u.Orgs.Stored() != "beta" {
			t.Fatalf("after the change: %+v", u)
		}
		// The change applies to the signed-in user's next page.
		wantStatus(t, sam.get("/ui/audit"), http.StatusOK)
		wantStatus(t, admin.submit("/ui/users/"+id, "/ui/users/"+id+"/access", url.Values{"role": {"dialer"}}), http.StatusUnprocessableEntity)

		r = admin.submit("/ui/users/"+id, "/ui/users/"+id+"/password", url.Values{})
		wantStatus(t, r, http.StatusOK)
		pw := oneTimePassword(t, r)
		wantRedirect(t, sam.get("/ui/objections"), "/ui/signin")
		wantStatus(t, e.browser().signIn("sam", password), http.StatusUnauthorized)
		wantRedirect(t, e.browser().signIn("sam", pw), "/ui/password")

		self := e.userByName("ada").ID
		for _, action := range []string{"access", "disable", "password"} {
			r := admin.submit("/ui/users/"+self, "/ui/users/"+self+"/"+action, url.Values{"role": {"supervisor"}})
			wantStatus(t, r, http.StatusForbidden)
			wantBody(t, r, "your own account")
		}
		if u := e.userByName("ada"); u.Role != access.RoleAdmin || u.Disabled() {
			t.Fatalf("the admin changed itself: %+v", u)
		}
		acts := strings.Join(auditActions(t, e), " ")
		for _, want := range []string{"ada:user_changed", "ada:password_reset"} {
			if !strings.Contains(acts, want) {
				t.Errorf("audit lacks %s: %s", want, acts)
			}
		}
	})
}

// An admin scoped to some orgs manages only the users within them and
// hands out only its own orgs; the changes are audited for those orgs.
func TestScopedAdminManagesUsersWithinItsScope(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.orgWorld()
		e.scopedUser("acme-admin", access.RoleAdmin, access.Scope{"acme"})
		inAcme := e.scopedUser("acme-sup", access.RoleSupervisor, access.Scope{"acme"})
		inBeta := e.scopedUser("beta-sup", access.RoleSupervisor, access.Scope{"beta"})
		admin := e.signedIn("acme-admin")
		r := admin.get("/ui/users")
		wantBody(t, r, "acme-sup")
		for _, absent := range []string{"beta-sup", ">sam<", ">ada<"} {
			if strings.Contains(r.body, absent) {
				t.Errorf("a scoped admin sees %s:\n%s", absent, r.body)
			}
		}
		wantStatus(t, admin.get("/ui/users/"+inBeta.ID), http.StatusNotFound)
		wantStatus(t, admin.get("/ui/users/"+e.userByName("sam").ID), http.StatusNotFound)
		wantStatus(t, admin.submit("/ui/users/"+inAcme.ID, "/ui/users/"+inBeta.ID+"/disable", url.Values{}), http.StatusNotFound)
		// Only its own orgs are offered, and only they are accepted.
		if got := checkedOrgs(admin.get("/ui/users/new").body); !slices.Equal(got, []string{"acme"}) {
			t.Fatalf("a scoped admin is offered %v", got)
		}
		r = admin.submit("/ui/users/new", "/ui/users/new", url.Values{"name": {"sneaky"}, "role": {"admin"}, "org": {"beta"}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantStatus(t, admin.submit("/ui/users/"+inAcme.ID, "/ui/users/"+inAcme.ID+"/access", url.Values{"role": {"admin"}, "org": {"acme", "beta"}}),
			http.StatusUnprocessableEntity)
		// None chosen: the admin's own orgs, never every org.
		wantStatus(t, admin.submit("/ui/users/new", "/ui/users/new", url.Values{"name": {"newbie"}, "role": {"supervisor"}}), http.StatusCreated)
		if u := e.userByName("newbie"); u.Orgs.Stored() != "acme" {
			t.Fatalf("a scoped admin made %+v", u)
		}
		wantRedirect(t, admin.submit("/ui/users/"+inAcme.ID, "/ui/users/"+inAcme.ID+"/access", url.Values{"role": {"admin"}}), "/ui/users/")
		all, err := e.store.AuditLog(context.Background(), access.AuditFilter{Scope: access.Scope{"acme"}, Actor: "acme-admin"})
		// Its sign-in is in acme's log too (the user's scope); only the changes count here.
		log := slices.DeleteFunc(all, func(e access.AuditEntry) bool { return e.Action == access.AuditSignIn })
		if err != nil || len(log) != 2 || log[0].Action != access.AuditUserChanged || log[1].Action != access.AuditUserCreated {
			t.Fatalf("the scoped admin's changes in acme's audit log: %+v %v", log, err)
		}
	})
}

var orgCheckboxRE = regexp.MustCompile(`name="org" value="([^"]+)"`)

// checkedOrgs lists the orgs a user form offers.
func checkedOrgs(body string) []string {
	var out []string
	for _, m := range orgCheckboxRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}
