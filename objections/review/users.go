package review

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Users in the UI (admins). An admin manages the users within its own
// scope, by the rule the API applies to tokens: an unscoped admin every
// user; an admin scoped to some orgs the users scoped within those orgs
// (another user, or an unscoped one, is not found), and it hands out only
// scopes within its own: left empty, the new scope is the admin's own.
// Nobody changes their own role, scope or state here (another admin does,
// or the CLI), so that an admin cannot lock itself out by mistake. A new
// user, and a reset, get a generated one-time password shown once, which
// must be changed at the first sign-in. Every change is audited with the
// orgs of the user's scope, so that scoped admins see it.

// orgChoice is one org of a scope form.
type orgChoice struct {
	ID, Name string
	Checked  bool
}

type usersData struct {
	Users []userRow
}

type userRow struct {
	U      access.User
	Locked bool
	Self   bool
}

type userFormData struct {
	L        lexicon // the partial template accessFields has only this
	Name     string
	Role     access.Role
	Roles    []access.Role
	Orgs     []orgChoice
	Scoped   bool // the admin is scoped: an empty choice means its own orgs
	Error    string
	OrgNames map[string]string
}

type userData struct {
	U        access.User
	Locked   bool
	Self     bool
	Form     userFormData
	Notice   string
	OrgNames map[string]string
}

// secretData is the page that shows a one-time password, once.
type secretData struct {
	U        access.User
	Password string
	Created  bool
}

var userRoles = []access.Role{access.RoleSupervisor, access.RoleAdmin}

// manages reports whether an admin of scope may manage u.
func manages(scope access.Scope, u access.User) bool { return u.Orgs.Within(scope) }

func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	users, err := s.access.Users(r.Context())
	if err != nil {
		s.fail(w, r, "list users", err)
		return
	}
	now := s.now()
	d := usersData{}
	for _, u := range users {
		if manages(v.User.Orgs, u) {
			d.Users = append(d.Users, userRow{U: u, Locked: u.Locked(now), Self: u.ID == v.User.ID})
		}
	}
	s.render(w, r, http.StatusOK, "users", s.newPage(r, "users.title", "users", d))
}

// orgChoices lists the orgs an admin of scope may hand out, checked as
// in chosen.
func (s *Server) orgChoices(r *http.Request, scope, chosen access.Scope) ([]orgChoice, map[string]string, error) {
	orgs, err := s.reg.Store().Orgs(r.Context())
	if err != nil {
		return nil, nil, err
	}
	var out []orgChoice
	for _, o := range orgs {
		if scope.Has(o.ID) {
			out = append(out, orgChoice{ID: o.ID, Name: o.Name, Checked: slices.Contains(chosen, o.ID)})
		}
	}
	return out, orgNames(orgs), nil
}

func (s *Server) userForm(r *http.Request, name string, role access.Role, chosen access.Scope) (userFormData, error) {
	scope := viewerFrom(r.Context()).User.Orgs
	orgs, names, err := s.orgChoices(r, scope, chosen)
	return userFormData{L: s.lexicon(r), Name: name, Role: role, Roles: userRoles, Orgs: orgs, Scoped: !scope.All(), OrgNames: names}, err
}

func (s *Server) newUserPage(w http.ResponseWriter, r *http.Request) {
	f, err := s.userForm(r, "", access.RoleSupervisor, nil)
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	s.render(w, r, http.StatusOK, "usernew", s.newPage(r, "users.new", "users", f))
}

// grantedScope reads the orgs of a user form for an admin of scope: each
// must be an org the admin has (and exist); none chosen means the admin's
// own scope (every org for an unscoped admin). The message key says what
// is wrong.
func (s *Server) grantedScope(r *http.Request, scope access.Scope) (access.Scope, string, error) {
	orgs, err := access.Scope(r.PostForm["org"]).Normalize()
	if err != nil {
		return nil, "users.badOrg", nil
	}
	if orgs.All() {
		return scope, "", nil
	}
	known, err := s.reg.Store().Orgs(r.Context())
	if err != nil {
		return nil, "", err
	}
	for _, o := range orgs {
		if !scope.Has(o) || !slices.ContainsFunc(known, func(k objections.Org) bool { return k.ID == o }) {
			return nil, "users.badOrg", nil
		}
	}
	return orgs, "", nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	l := s.lexicon(r)
	name := strings.ToLower(strings.TrimSpace(r.PostFormValue("name")))
	role := access.Role(r.PostFormValue("role"))
	orgs, key, err := s.grantedScope(r, v.User.Orgs)
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	var chosen access.Scope
	if key == "" && !orgs.All() && len(r.PostForm["org"]) > 0 {
		chosen = orgs
	}
	f, err := s.userForm(r, name, role, chosen)
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	switch {
	case key != "":
		f.Error = l.T(key)
	case access.ValidateUserName(name) != nil:
		f.Error = l.T("users.badName")
	case !access.ValidUserRole(role):
		f.Error = l.T("users.badRole")
	}
	if f.Error != "" {
		s.render(w, r, http.StatusUnprocessableEntity, "usernew", s.newPage(r, "users.new", "users", f))
		return
	}
	password := GeneratePassword()
	hash, err := hashPassword(password, s.cfg.BcryptCost)
	if err != nil {
		s.fail(w, r, "hash password", err)
		return
	}
	u, err := access.NewUser(name, role, orgs, hash, v.User.Name, s.now())
	if err != nil {
		s.fail(w, r, "make user", err)
		return
	}
	u.MustChangePassword = true
	// Audited first: the UI fails closed.
	if err := s.audit(r, v.User.Name, access.AuditUserCreated, u.Name, auditKV("role", string(u.Role), "orgs", scopeText(u.Orgs)), u.Orgs); err != nil {
		s.fail(w, r, "audit user", err)
		return
	}
	if u, err = s.access.CreateUser(r.Context(), u); err != nil {
		if objections.ErrorCode(err) == objections.ECONFLICT {
			f.Error = l.T("users.taken", name)
			s.render(w, r, http.StatusConflict, "usernew", s.newPage(r, "users.new", "users", f))
			return
		}
		s.fail(w, r, "create user", err)
		return
	}
	s.render(w, r, http.StatusCreated, "secret", s.newPage(r, "users.secretTitle", "users", secretData{U: u, Password: password, Created: true}))
}

// managedUser reads the user the path names for the signed-in admin:
// ENOTFOUND, as for an id that does not exist, when the admin may not
// manage it.
func (s *Server) managedUser(r *http.Request) (access.User, error) {
	scope := viewerFrom(r.Context()).User.Orgs
	u, err := s.access.User(r.Context(), r.PathValue("id"))
	if err == nil && !manages(scope, u) {
		return access.User{}, objections.NotFound("user", r.PathValue("id"))
	}
	return u, err
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request) {
	u, err := s.managedUser(r)
	if err != nil {
		s.fail(w, r, "read user", err)
		return
	}
	s.renderUser(w, r, http.StatusOK, u, r.URL.Query().Get("done"), "")
}

func (s *Server) renderUser(w http.ResponseWriter, r *http.Request, status int, u access.User, done, errKey string) {
	v := viewerFrom(r.Context())
	l := s.lexicon(r)
	f, err := s.userForm(r, u.Name, u.Role, u.Orgs)
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	if errKey != "" {
		f.Error = l.T(errKey)
	}
	d := userData{U: u, Locked: u.Locked(s.now()), Self: u.ID == v.User.ID, Form: f, OrgNames: f.OrgNames}
	switch done {
	case "access", "disabled", "enabled":
		d.Notice = l.T("users.done." + done)
	}
	s.render(w, r, status, "user", s.newPage(r, "users.userTitle", "users", d))
}

// changedUser reads the user of a change and refuses a change of one's
// own account; ok is false when it answered.
func (s *Server) changedUser(w http.ResponseWriter, r *http.Request) (access.User, bool) {
	u, err := s.managedUser(r)
	if err != nil {
		s.fail(w, r, "read user", err)
		return u, false
	}
	if u.ID == viewerFrom(r.Context()).User.ID {
		s.renderUser(w, r, http.StatusForbidden, u, "", "users.self")
		return u, false
	}
	return u, true
}

// userAuditOrgs are the orgs a change of a user from before to after
// concerns: both scopes; every org (none named) when either is unscoped.
func userAuditOrgs(before, after access.Scope) access.Scope {
	if before.All() || after.All() {
		return nil
	}
	out, _ := append(slices.Clone(before), after...).Normalize() // both were stored
	return out
}

func (s *Server) setUserAccess(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	u, ok := s.changedUser(w, r)
	if !ok {
		return
	}
	role := access.Role(r.PostFormValue("role"))
	orgs, key, err := s.grantedScope(r, v.User.Orgs)
	if err != nil {
		s.fail(w, r, "list orgs", err)
		return
	}
	if key == "" && !access.ValidUserRole(role) {
		key = "users.badRole"
	}
	if key != "" {
		s.renderUser(w, r, http.StatusUnprocessableEntity, u, "", key)
		return
	}
	if err := s.audit(r, v.User.Name, access.AuditUserChanged, u.Name, auditKV("role", string(role), "orgs", scopeText(orgs),
		"was_role", string(u.Role), "was_orgs", scopeText(u.Orgs)), userAuditOrgs(u.Orgs, orgs)); err != nil {
		s.fail(w, r, "audit user", err)
		return
	}
	if _, err := s.access.SetUserAccess(r.Context(), u.ID, role, orgs); err != nil {
		s.fail(w, r, "set user access", err)
		return
	}
	http.Redirect(w, r, userURL(u.ID)+"?done=access", http.StatusSeeOther)
}

// setUserDisabled disables the user and ends its sessions, or enables
// it again.
func (s *Server) setUserDisabled(disable bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v := viewerFrom(r.Context())
		u, ok := s.changedUser(w, r)
		if !ok {
			return
		}
		action, at, done := access.AuditUserEnabled, time.Time{}, "enabled" // the zero time enables
		if disable {
			action, at, done = access.AuditUserDisabled, s.now(), "disabled"
		}
		if err := s.audit(r, v.User.Name, action, u.Name, "", u.Orgs); err != nil {
			s.fail(w, r, "audit user", err)
			return
		}
		if _, err := s.access.SetUserDisabled(r.Context(), u.ID, at); err != nil {
			s.fail(w, r, "set user disabled", err)
			return
		}
		if disable {
			if _, err := s.access.DeleteUserSessions(r.Context(), u.ID); err != nil {
				s.fail(w, r, "end sessions", err)
				return
			}
		}
		http.Redirect(w, r, userURL(u.ID)+"?done="+done, http.StatusSeeOther)
	}
}

// resetPassword gives the user a new one-time password, shown once, to be
// changed at the next sign-in; it lifts a lock and ends the user's
// sessions.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	u, ok := s.changedUser(w, r)
	if !ok {
		return
	}
	password := GeneratePassword()
	hash, err := hashPassword(password, s.cfg.BcryptCost)
	if err != nil {
		s.fail(w, r, "hash password", err)
		return
	}
	if err := s.audit(r, v.User.Name, access.AuditPasswordReset, u.Name, "", u.Orgs); err != nil {
		s.fail(w, r, "audit user", err)
		return
	}
	if u, err = s.access.SetPassword(r.Context(), u.ID, hash, true); err != nil {
		s.fail(w, r, "set password", err)
		return
	}
	if _, err := s.access.DeleteUserSessions(r.Context(), u.ID); err != nil {
		s.fail(w, r, "end sessions", err)
		return
	}
	s.render(w, r, http.StatusOK, "secret", s.newPage(r, "users.secretTitle", "users", secretData{U: u, Password: password}))
}

func userURL(id string) string { return "/ui/users/" + url.PathEscape(id) }

// scopeText is a scope as the audit log keeps it: org ids, or "all".
func scopeText(s access.Scope) string {
	if s.All() {
		return "all"
	}
	return s.Stored()
}

// userState is how a user's state shows: a badge class and its text.
type userState struct{ Class, Text string }

func stateOf(l lexicon, u access.User, locked bool) userState {
	switch {
	case u.Disabled():
		return userState{"voided", l.T("users.stateDisabled")}
	case locked:
		return userState{"pending_number", l.T("users.stateLocked")}
	case u.MustChangePassword:
		return userState{"pending_number", l.T("users.stateMustChange")}
	}
	return userState{"active", l.T("users.stateActive")}
}
