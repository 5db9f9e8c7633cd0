package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// RunAccess runs the suite of access.Store (users, sessions, the audit
// log, API tokens) against the store open returns.
func RunAccess(t *testing.T, open func(t *testing.T) access.Store) {
	suite[access.Store]{
		{"Users", testUsers},
		{"UserErrors", testUserErrors},
		{"SignInLockout", testSignInLockout},
		{"UserAccessAndDisable", testUserAccessAndDisable},
		{"Sessions", testSessions},
		{"AuditLog", testAuditLog},
		{"Tokens", testTokens},
		{"TokenErrors", testTokenErrors},
		{"Scopes", testScopes},
	}.run(t, open)
}

func newUser(t *testing.T, name string, role access.Role, now time.Time) access.User {
	t.Helper()
	u, err := access.NewUser(name, role, nil, "$2a$04$hash-of-"+name, "test", now)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testUsers(t *testing.T, s access.Store) {
	clk := newClock()
	ctx := context.Background()
	if list := must[[]access.User](t)(s.Users(ctx)); len(list) != 0 {
		t.Fatalf("users of an empty store = %+v", list)
	}
	u := newUser(t, " Marieke ", access.RoleSupervisor, clk.Now())
	u.MustChangePassword, u.Bootstrap = true, true
	got := must[access.User](t)(s.CreateUser(ctx, u))
	if got.ID != u.ID || got.Name != "marieke" || got.Role != access.RoleSupervisor || got.PasswordHash != u.PasswordHash ||
		!got.MustChangePassword || !got.Bootstrap || !got.CreatedAt.Equal(u.CreatedAt) || got.CreatedBy != "test" ||
		got.FailedSignIns != 0 || !got.LockedUntil.IsZero() || !got.LastSignInAt.IsZero() {
		t.Fatalf("stored user = %+v, want %+v", got, u)
	}
	if byName := must[access.User](t)(s.UserByName(ctx, "marieke")); byName.ID != u.ID {
		t.Fatalf("by name = %+v", byName)
	}
	if byID := must[access.User](t)(s.User(ctx, u.ID)); byID.Name != "marieke" || byID.CreatedAt.Location() != time.UTC {
		t.Fatalf("by id = %+v", byID)
	}
	if _, err := s.CreateUser(ctx, newUser(t, "MARIEKE", access.RoleAdmin, clk.Now())); objections.ErrorCode(err) != objections.ECONFLICT {
		t.Fatalf("second user named marieke: %v", err)
	}
	a := must[access.User](t)(s.CreateUser(ctx, newUser(t, "admin", access.RoleAdmin, clk.Now())))
	list := must[[]access.User](t)(s.Users(ctx))
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != u.ID {
		t.Fatalf("users = %+v", list)
	}

	// A new password lifts a lock and sets or clears the must-change flag.
	must[access.User](t)(s.SignInFailed(ctx, u.ID, clk.Now()))
	p := must[access.User](t)(s.SetPassword(ctx, u.ID, "$2a$04$new", false))
	if p.PasswordHash != "$2a$04$new" || p.MustChangePassword || p.FailedSignIns != 0 || !p.LockedUntil.IsZero() {
		t.Fatalf("after SetPassword = %+v", p)
	}
	p = must[access.User](t)(s.SetPassword(ctx, u.ID, "$2a$04$newer", true))
	if !p.MustChangePassword || p.PasswordHash != "$2a$04$newer" {
		t.Fatalf("after SetPassword must change = %+v", p)
	}
	at := clk.Now()
	in := must[access.User](t)(s.SignedIn(ctx, u.ID, at))
	if !in.LastSignInAt.Equal(at.Truncate(time.Microsecond)) || in.FailedSignIns != 0 {
		t.Fatalf("after SignedIn = %+v", in)
	}
}

func testUserErrors(t *testing.T, s access.Store) {
	clk := newClock()
	ctx := context.Background()
	for _, fn := range []func() error{
		func() error { _, err := s.User(ctx, "01NOPE"); return err },
		func() error { _, err := s.UserByName(ctx, "nobody"); return err },
		func() error { _, err := s.SetPassword(ctx, "01NOPE", "h", false); return err },
		func() error { _, err := s.SignInFailed(ctx, "01NOPE", clk.Now()); return err },
		func() error { _, err := s.SignedIn(ctx, "01NOPE", clk.Now()); return err },
	} {
		if err := fn(); objections.ErrorCode(err) != objections.ENOTFOUND {
			t.Errorf("unknown user: %v, want not_found", err)
		}
	}
	good := newUser(t, "x", access.RoleAdmin, clk.Now())
	for name, bad := range map[string]func(u *access.User){
		"no id":       func(u *access.User) { u.ID = "" },
		"bad name":    func(u *access.User) { u.Name = "Bad Name" },
		"no name":     func(u *access.User) { u.Name = "" },
		"dialer role": func(u *access.User) { u.Role = access.RoleDialer },
		"no hash":     func(u *access.User) { u.PasswordHash = "" },
		"no time":     func(u *access.User) { u.CreatedAt = time.Time{} },
	} {
		u := good
		bad(&u)
		if _, err := s.CreateUser(ctx, u); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if list := must[[]access.User](t)(s.Users(ctx)); len(list) != 0 {
		t.Fatalf("an invalid user was stored: %+v", list)
	}
	if _, err := s.SetPassword(ctx, good.ID, "", false); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("empty hash: %v", err)
	}
	for _, tc := range []struct {
		name string
		role access.Role
		hash string
	}{{"", access.RoleAdmin, "h"}, {"-x", access.RoleAdmin, "h"}, {"x", access.RoleIntegrator, "h"}, {"x", access.RoleAdmin, ""}} {
		if _, err := access.NewUser(tc.name, tc.role, nil, tc.hash, "", clk.Now()); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("NewUser(%q, %q, %q): %v", tc.name, tc.role, tc.hash, err)
		}
	}
}

// An administrator changes a user's role and scope, disables and enables
// it; enabling lifts a lock.
func testUserAccessAndDisable(t *testing.T, s access.Store) {
	clk := newClock()
	ctx := context.Background()
	u := must[access.User](t)(s.CreateUser(ctx, newUser(t, "piet", access.RoleSupervisor, clk.Now())))
	if u.Disabled() || !u.DisabledAt.IsZero() {
		t.Fatalf("a new user is disabled: %+v", u)
	}
	got := must[access.User](t)(s.SetUserAccess(ctx, u.ID, access.RoleAdmin, access.Scope{"Beta", "acme", "beta"}))
	if got.Role != access.RoleAdmin || len(got.Orgs) != 2 || got.Orgs[0] != "acme" || got.Orgs[1] != "beta" {
		t.Fatalf("after SetUserAccess = %+v", got)
	}
	if got = must[access.User](t)(s.User(ctx, u.ID)); got.Role != access.RoleAdmin || got.Orgs.Stored() != "acme,beta" {
		t.Fatalf("read back = %+v", got)
	}
	got = must[access.User](t)(s.SetUserAccess(ctx, u.ID, access.RoleSupervisor, nil))
	if got.Role != access.RoleSupervisor || !got.Orgs.All() {
		t.Fatalf("back to every org = %+v", got)
	}
	for name, fn := range map[string]func() error{
		"dialer role": func() error { _, err := s.SetUserAccess(ctx, u.ID, access.RoleDialer, nil); return err },
		"bad org": func() error {
			_, err := s.SetUserAccess(ctx, u.ID, access.RoleAdmin, access.Scope{"no such org!"})
			return err
		},
	} {
		if err := fn(); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	for _, fn := range []func() error{
		func() error { _, err := s.SetUserAccess(ctx, "01NOPE", access.RoleAdmin, nil); return err },
		func() error { _, err := s.SetUserDisabled(ctx, "01NOPE", clk.Now()); return err },
	} {
		if err := fn(); objections.ErrorCode(err) != objections.ENOTFOUND {
			t.Errorf("unknown user: %v, want not_found", err)
		}
	}
	at := clk.Now()
	for range access.FreeSignInFailures + 1 {
		must[access.User](t)(s.SignInFailed(ctx, u.ID, at))
	}
	got = must[access.User](t)(s.SetUserDisabled(ctx, u.ID, at))
	if !got.Disabled() || !got.DisabledAt.Equal(at.Truncate(time.Microsecond)) || got.DisabledAt.Location() != time.UTC {
		t.Fatalf("after disabling = %+v", got)
	}
	if got = must[access.User](t)(s.UserByName(ctx, "piet")); !got.Disabled() || !got.Locked(at) {
		t.Fatalf("read back disabled = %+v", got)
	}
	got = must[access.User](t)(s.SetUserDisabled(ctx, u.ID, time.Time{}))
	if got.Disabled() || got.Locked(at) || got.FailedSignIns != 0 {
		t.Fatalf("after enabling = %+v", got)
	}
}

func testSignInLockout(t *testing.T, s access.Store) {
	clk := newClock()
	ctx := context.Background()
	u := must[access.User](t)(s.CreateUser(ctx, newUser(t, "piet", access.RoleSupervisor, clk.Now())))
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i := 1; i < access.FreeSignInFailures; i++ {
		got := must[access.User](t)(s.SignInFailed(ctx, u.ID, at))
		if got.FailedSignIns != i || got.Locked(at) {
			t.Fatalf("after %d failures: %+v", i, got)
		}
	}
	got := must[access.User](t)(s.SignInFailed(ctx, u.ID, at))
	if got.FailedSignIns != access.FreeSignInFailures || !got.LockedUntil.Equal(at.Add(access.FirstLock)) ||
		!got.Locked(at) || got.Locked(at.Add(access.FirstLock)) {
		t.Fatalf("after %d failures: %+v", access.FreeSignInFailures, got)
	}
	got = must[access.User](t)(s.SignInFailed(ctx, u.ID, at))
	if !got.LockedUntil.Equal(at.Add(2 * access.FirstLock)) {
		t.Fatalf("the lock does not double: %+v", got)
	}
	for range 20 {
		got = must[access.User](t)(s.SignInFailed(ctx, u.ID, at))
	}
	if !got.LockedUntil.Equal(at.Add(access.MaxLock)) {
		t.Fatalf("the lock is not capped: %v", got.LockedUntil.Sub(at))
	}
	got = must[access.User](t)(s.SignedIn(ctx, u.ID, at.Add(time.Hour)))
	if got.FailedSignIns != 0 || !got.LockedUntil.IsZero() || got.Locked(at) {
		t.Fatalf("a good sign-in does not reset: %+v", got)
	}
}

func testSessions(t *testing.T, s access.Store) {
	clk := newClock()
	ctx := context.Background()
	u := must[access.User](t)(s.CreateUser(ctx, newUser(t, "piet", access.RoleSupervisor, clk.Now())))
	now := clk.Now()
	ss, secret := access.NewSession(u.ID, now, time.Hour)
	if ss.ID != access.HashSessionSecret(secret) || ss.ID == secret || len(secret) < 40 {
		t.Fatalf("session %+v, secret %q", ss, secret)
	}
	if err := s.CreateSession(ctx, ss); err != nil {
		t.Fatal(err)
	}
	got := must[access.Session](t)(s.Session(ctx, ss.ID))
	if got.UserID != u.ID || !got.CreatedAt.Equal(ss.CreatedAt) || !got.ExpiresAt.Equal(ss.ExpiresAt) || !got.SeenAt.Equal(ss.SeenAt) {
		t.Fatalf("stored session = %+v, want %+v", got, ss)
	}
	if err := s.CreateSession(ctx, ss); err == nil {
		t.Fatal("a session id was stored twice")
	}
	orphan, _ := access.NewSession("01NOBODY", now, time.Hour)
	if err := s.CreateSession(ctx, orphan); err == nil {
		t.Fatal("a session of an unknown user was stored")
	}
	if err := s.CreateSession(ctx, access.Session{}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("empty session: %v", err)
	}
	seen := now.Add(10 * time.Minute)
	if err := s.TouchSession(ctx, ss.ID, seen); err != nil {
		t.Fatal(err)
	}
	if got := must[access.Session](t)(s.Session(ctx, ss.ID)); !got.SeenAt.Equal(seen.Truncate(time.Microsecond)) {
		t.Fatalf("seen_at = %v, want %v", got.SeenAt, seen)
	}
	if err := s.DeleteSession(ctx, ss.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, ss.ID); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("deleted session: %v", err)
	}
	if err := s.DeleteSession(ctx, ss.ID); err != nil {
		t.Fatalf("deleting a deleted session: %v", err)
	}

	s1, _ := access.NewSession(u.ID, now, time.Hour)
	s2, _ := access.NewSession(u.ID, now, 2*time.Hour)
	for _, x := range []access.Session{s1, s2} {
		if err := s.CreateSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if n := must[int64](t)(s.PruneSessions(ctx, now.Add(90*time.Minute))); n != 1 {
		t.Fatalf("pruned %d sessions, want 1", n)
	}
	if _, err := s.Session(ctx, s2.ID); err != nil {
		t.Fatalf("the unexpired session was pruned: %v", err)
	}
	s3, _ := access.NewSession(u.ID, now, time.Hour)
	if err := s.CreateSession(ctx, s3); err != nil {
		t.Fatal(err)
	}
	if n := must[int64](t)(s.DeleteUserSessions(ctx, u.ID)); n != 2 {
		t.Fatalf("deleted %d sessions of the user, want 2", n)
	}
}

func testAuditLog(t *testing.T, s access.Store) {
	clk := newClock()
	ctx := context.Background()
	var ids []string
	for i, a := range []access.AuditAction{access.AuditSignIn, access.AuditView, access.AuditExport, access.AuditVoid, access.AuditSignIn} {
		actor := "piet"
		if i%2 == 1 {
			actor = "admin"
		}
		e, err := access.NewAuditEntry(clk.Now(), actor, a, fmt.Sprintf("subject-%d", i), "detail <b>", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	all := must[[]access.AuditEntry](t)(s.AuditLog(ctx, access.AuditFilter{}))
	if len(all) != 5 || all[0].ID != ids[4] || all[4].ID != ids[0] {
		t.Fatalf("audit log = %+v", all)
	}
	if e := all[4]; e.Actor != "piet" || e.Action != access.AuditSignIn || e.Subject != "subject-0" ||
		e.Detail != "detail <b>" || e.Remote != "127.0.0.1" || e.At.IsZero() || e.At.Location() != time.UTC {
		t.Fatalf("entry = %+v", e)
	}
	page := must[[]access.AuditEntry](t)(s.AuditLog(ctx, access.AuditFilter{Limit: 2}))
	next := must[[]access.AuditEntry](t)(s.AuditLog(ctx, access.AuditFilter{Limit: 2, Before: page[1].ID}))
	if len(page) != 2 || len(next) != 2 || next[0].ID != ids[2] {
		t.Fatalf("pages = %+v, %+v", page, next)
	}
	if got := must[[]access.AuditEntry](t)(s.AuditLog(ctx, access.AuditFilter{Actor: "admin"})); len(got) != 2 {
		t.Fatalf("by actor = %+v", got)
	}
	if got := must[[]access.AuditEntry](t)(s.AuditLog(ctx, access.AuditFilter{Action: access.AuditSignIn})); len(got) != 2 {
		t.Fatalf("by action = %+v", got)
	}
	if err := s.AppendAudit(ctx, access.AuditEntry{ID: "x", Actor: "piet", Action: "dance", At: clk.Now()}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("unknown action: %v", err)
	}
	if _, err := access.NewAuditEntry(clk.Now(), " ", access.AuditView, "", "", ""); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("no actor: %v", err)
	}
}
