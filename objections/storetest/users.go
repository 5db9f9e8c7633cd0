package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// UserStore is what objections/review needs of a store besides
// objections.Store: users, sessions, the audit log, the newest-first
// search, an offer by its call, the events of one record, and the
// dashboard's aggregates.
type UserStore interface {
	objections.Store

	CreateUser(ctx context.Context, u access.User) (access.User, error)
	User(ctx context.Context, id string) (access.User, error)
	UserByName(ctx context.Context, name string) (access.User, error)
	Users(ctx context.Context) ([]access.User, error)
	SetPassword(ctx context.Context, id, hash string, mustChange bool) (access.User, error)
	SignInFailed(ctx context.Context, id string, at time.Time) (access.User, error)
	SignedIn(ctx context.Context, id string, at time.Time) (access.User, error)

	CreateSession(ctx context.Context, s access.Session) error
	Session(ctx context.Context, id string) (access.Session, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, userID string) (int64, error)
	PruneSessions(ctx context.Context, before time.Time) (int64, error)

	AppendAudit(ctx context.Context, e access.AuditEntry) error
	AuditLog(ctx context.Context, f access.AuditFilter) ([]access.AuditEntry, error)

	SearchObjections(ctx context.Context, f objections.ObjectionFilter, offset int) (objections.ObjectionPage, error)
	OfferByCallRef(ctx context.Context, provider, callRef string) (objections.Offer, error)
	EventsFor(ctx context.Context, subjectID string) ([]objections.Event, error)
	Stats(ctx context.Context, f objections.StatsFilter) ([]objections.DayStat, error)
}

// OpenUsers returns a fresh, migrated, empty UserStore for one test.
type OpenUsers func(t *testing.T) UserStore

// RunUsers runs the suite of the review UI's storage against the store
// open returns.
func RunUsers(t *testing.T, open OpenUsers) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open OpenUsers)
	}{
		{"Users", testUsers},
		{"UserErrors", testUserErrors},
		{"SignInLockout", testSignInLockout},
		{"Sessions", testSessions},
		{"AuditLog", testAuditLog},
		{"SearchObjections", testSearchObjections},
		{"OfferByCallRefAndEvents", testOfferByCallRef},
		{"StatsPerDayAndCampaign", testStats},
		{"StatsAcrossDST", testStatsDST},
		{"StatsErrors", testStatsErrors},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func userRegister(t *testing.T, open OpenUsers) (*objections.Register, UserStore, *fixedClock) {
	t.Helper()
	s := open(t)
	clk := &fixedClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	return objections.NewRegister(s, objections.Numbers{Region: "NL"}, clk.Now), s, clk
}

func newUser(t *testing.T, name string, role access.Role, now time.Time) access.User {
	t.Helper()
	u, err := access.NewUser(name, role, "$2a$04$hash-of-"+name, "test", now)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testUsers(t *testing.T, open OpenUsers) {
	_, s, clk := userRegister(t, open)
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

func testUserErrors(t *testing.T, open OpenUsers) {
	_, s, clk := userRegister(t, open)
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
		if _, err := access.NewUser(tc.name, tc.role, tc.hash, "", clk.Now()); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("NewUser(%q, %q, %q): %v", tc.name, tc.role, tc.hash, err)
		}
	}
}

func testSignInLockout(t *testing.T, open OpenUsers) {
	_, s, clk := userRegister(t, open)
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

func testSessions(t *testing.T, open OpenUsers) {
	_, s, clk := userRegister(t, open)
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

func testAuditLog(t *testing.T, open OpenUsers) {
	_, s, clk := userRegister(t, open)
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

func testSearchObjections(t *testing.T, open OpenUsers) {
	r, s, clk := userRegister(t, open)
	ctx := context.Background()
	var recs []objections.Objection
	for i := range 7 {
		o := objections.Objection{Org: "acme", RawNumber: fmt.Sprintf("06123456%02d", i), Source: objections.SourceAgent, CampaignRef: "spring"}
		if i%2 == 1 {
			o.Org, o.CampaignRef, o.Source = "beta", "winter", objections.SourceEmail
		}
		rec, _ := record(t, r, o)
		recs = append(recs, rec)
	}
	if _, err := r.Void(ctx, recs[2].ID, "admin", "wrong number"); err != nil {
		t.Fatal(err)
	}
	page := must[objections.ObjectionPage](t)(s.SearchObjections(ctx, objections.ObjectionFilter{Limit: 3}, 0))
	if page.Total != 7 || len(page.Objections) != 3 || page.Objections[0].ID != recs[6].ID || page.Objections[2].ID != recs[4].ID {
		t.Fatalf("first page = %d %+v", page.Total, page.Objections)
	}
	page = must[objections.ObjectionPage](t)(s.SearchObjections(ctx, objections.ObjectionFilter{Limit: 3, After: recs[6].ID}, 6))
	if page.Total != 7 || len(page.Objections) != 1 || page.Objections[0].ID != recs[0].ID {
		t.Fatalf("last page = %d %+v", page.Total, page.Objections)
	}
	for _, tc := range []struct {
		name string
		f    objections.ObjectionFilter
		want []int
	}{
		{"org", objections.ObjectionFilter{Org: "beta"}, []int{5, 3, 1}},
		{"number", objections.ObjectionFilter{Number: "+31612345604"}, []int{4}},
		{"campaign", objections.ObjectionFilter{Campaign: "spring"}, []int{6, 4, 2, 0}},
		{"source", objections.ObjectionFilter{Source: objections.SourceEmail}, []int{5, 3, 1}},
		{"voided", objections.ObjectionFilter{Status: objections.StatusVoided}, []int{2}},
		{"active", objections.ObjectionFilter{Status: objections.StatusActive, Org: "acme"}, []int{6, 4, 0}},
		{"since", objections.ObjectionFilter{Since: recs[5].ReceivedAt}, []int{6, 5}},
		{"until", objections.ObjectionFilter{Until: recs[1].ReceivedAt}, []int{0}},
		{"none", objections.ObjectionFilter{Org: "nobody"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page := must[objections.ObjectionPage](t)(s.SearchObjections(ctx, tc.f, 0))
			var got []int
			for _, o := range page.Objections {
				for i, r := range recs {
					if r.ID == o.ID {
						got = append(got, i)
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) || page.Total != len(tc.want) || page.Objections == nil {
				t.Fatalf("got %v (total %d), want %v", got, page.Total, tc.want)
			}
		})
	}
	voided := must[objections.ObjectionPage](t)(s.SearchObjections(ctx, objections.ObjectionFilter{Status: objections.StatusVoided}, 0))
	if v := voided.Objections[0].Void; v == nil || v.Reason != "wrong number" || voided.Objections[0].Status != objections.StatusVoided {
		t.Fatalf("voided objection = %+v", voided.Objections[0])
	}
	for _, off := range []int{-1, objections.MaxSearchOffset + 1} {
		if _, err := s.SearchObjections(ctx, objections.ObjectionFilter{}, off); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("offset %d: %v", off, err)
		}
	}
	if _, err := s.SearchObjections(ctx, objections.ObjectionFilter{Status: "gone"}, 0); objections.ErrorCode(err) != objections.EINVALID {
		t.Errorf("bad status: %v", err)
	}
	_ = clk
}

func testOfferByCallRef(t *testing.T, open OpenUsers) {
	r, s, clk := userRegister(t, open)
	ctx := context.Background()
	start := clk.Now()
	off, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Number: "0612345678", Provider: "twilio", CallRef: "CA1",
		PromptID: "offer", PromptVersion: "abc123", Language: "nl", PromptHash: "ff00", PlayedMS: 4200,
		Keys: []objections.Key{{Digit: "1", At: start.Add(3 * time.Second)}}, Outcome: objections.OutcomeObjected,
		StartedAt: start, EndedAt: start.Add(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	got := must[objections.Offer](t)(s.OfferByCallRef(ctx, "twilio", "CA1"))
	if got.ID != off.ID || got.PromptVersion != "abc123" || len(got.Keys) != 1 || got.Keys[0].Digit != "1" {
		t.Fatalf("offer by call = %+v", got)
	}
	if _, err := s.OfferByCallRef(ctx, "ari", "CA1"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("other provider: %v", err)
	}
	o, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceIVRTwilio,
		Provider: "twilio", CallRef: "CA1", OfferID: off.ID})
	if _, err := r.Void(ctx, o.ID, "admin", "test call"); err != nil {
		t.Fatal(err)
	}
	evs := must[[]objections.Event](t)(s.EventsFor(ctx, o.ID))
	if len(evs) != 2 || evs[0].Kind != objections.EventObjectionRecorded || evs[1].Kind != objections.EventObjectionVoided ||
		evs[0].Seq >= evs[1].Seq || evs[1].PrevHash == "" || evs[0].Hash != evs[0].ComputeHash() {
		t.Fatalf("events of the objection = %+v", evs)
	}
	if evs := must[[]objections.Event](t)(s.EventsFor(ctx, off.ID)); len(evs) != 1 || evs[0].Kind != objections.EventOfferRecorded {
		t.Fatalf("events of the offer = %+v", evs)
	}
	if evs := must[[]objections.Event](t)(s.EventsFor(ctx, "nothing")); len(evs) != 0 {
		t.Fatalf("events of nothing = %+v", evs)
	}
}

// statsFixture records objections and offers at given times.
type statsFixture struct {
	t   *testing.T
	r   *objections.Register
	clk *fixedClock
	n   int
}

func (f *statsFixture) objection(at time.Time, org, campaign string) objections.Objection {
	f.t.Helper()
	f.n++
	f.clk.Set(at.Add(-time.Millisecond)) // the clock ticks once per reading
	o, _ := record(f.t, f.r, objections.Objection{Org: org, RawNumber: fmt.Sprintf("06100000%02d", f.n),
		Source: objections.SourceAgent, CampaignRef: campaign})
	return o
}

func (f *statsFixture) offer(at time.Time, org, campaign string, outcome objections.Outcome) {
	f.t.Helper()
	f.n++
	if _, _, err := f.r.RecordOffer(context.Background(), objections.Offer{Org: org, Provider: "twilio",
		CallRef: fmt.Sprintf("CA%d", f.n), CampaignRef: campaign, Outcome: outcome, StartedAt: at, EndedAt: at.Add(time.Minute)}); err != nil {
		f.t.Fatal(err)
	}
}

func statsString(list []objections.DayStat) string {
	s := ""
	for _, d := range list {
		s += fmt.Sprintf("%s/%s:%d,%d,%d,%d ", d.Day, d.Campaign, d.Objections, d.Voided, d.Offers, d.Objected)
	}
	return s
}

func testStats(t *testing.T, open OpenUsers) {
	r, s, clk := userRegister(t, open)
	ctx := context.Background()
	f := &statsFixture{t: t, r: r, clk: clk}
	utc := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, time.UTC) }
	// 2026-03-02 22:59 UTC is 23:59 in Amsterdam (CET); 23:01 UTC is the 3rd.
	f.objection(utc(2, 22, 59), "acme", "spring")
	o := f.objection(utc(2, 23, 1), "acme", "spring")
	f.objection(utc(3, 10, 0), "acme", "")
	f.objection(utc(3, 11, 0), "beta", "spring")
	f.objection(utc(9, 11, 0), "acme", "spring") // outside the range
	if _, err := r.Void(ctx, o.ID, "admin", "test"); err != nil {
		t.Fatal(err)
	}
	f.offer(utc(2, 12, 0), "acme", "spring", objections.OutcomeDeclined)
	f.offer(utc(2, 22, 58), "acme", "spring", objections.OutcomeObjected)
	f.offer(utc(2, 23, 0), "acme", "spring", objections.OutcomeObjected)
	f.offer(utc(3, 9, 0), "acme", "", objections.OutcomeNoInput)
	f.offer(utc(3, 9, 30), "beta", "spring", objections.OutcomeObjected)

	rng := objections.StatsFilter{Since: utc(1, 23, 0), Until: utc(4, 23, 0)}
	got := must[[]objections.DayStat](t)(s.Stats(ctx, rng))
	want := "2026-03-02/spring:1,0,2,1 2026-03-03/:1,0,1,0 2026-03-03/spring:2,1,2,2 "
	if statsString(got) != want {
		t.Fatalf("stats = %s\nwant    %s", statsString(got), want)
	}
	byOrg := rng
	byOrg.Org = "acme"
	if got := statsString(must[[]objections.DayStat](t)(s.Stats(ctx, byOrg))); got != "2026-03-02/spring:1,0,2,1 2026-03-03/:1,0,1,0 2026-03-03/spring:1,1,1,1 " {
		t.Fatalf("stats of acme = %s", got)
	}
	byCampaign := rng
	byCampaign.Campaign = "spring"
	if got := statsString(must[[]objections.DayStat](t)(s.Stats(ctx, byCampaign))); got != "2026-03-02/spring:1,0,2,1 2026-03-03/spring:2,1,2,2 " {
		t.Fatalf("stats of spring = %s", got)
	}
	inUTC := rng
	inUTC.Location = time.UTC
	if got := statsString(must[[]objections.DayStat](t)(s.Stats(ctx, inUTC))); got != "2026-03-02/spring:2,1,3,2 2026-03-03/:1,0,1,0 2026-03-03/spring:1,0,1,1 " {
		t.Fatalf("stats in UTC = %s", got)
	}
	if got := must[[]objections.DayStat](t)(s.Stats(ctx, objections.StatsFilter{Since: utc(20, 0, 0), Until: utc(21, 0, 0)})); len(got) != 0 {
		t.Fatalf("stats of an empty range = %+v", got)
	}
}

// Summer time starts in Amsterdam on 2026-03-29 at 01:00 UTC (02:00 CET
// becomes 03:00 CEST) and ends on 2026-10-25 at 01:00 UTC.
func testStatsDST(t *testing.T, open OpenUsers) {
	r, s, clk := userRegister(t, open)
	ctx := context.Background()
	f := &statsFixture{t: t, r: r, clk: clk}
	at := func(mo time.Month, d, h, m int) time.Time { return time.Date(2026, mo, d, h, m, 0, 0, time.UTC) }
	f.objection(at(3, 28, 22, 30), "acme", "c")  // 23:30 CET on the 28th
	f.objection(at(3, 28, 23, 30), "acme", "c")  // 00:30 CET on the 29th
	f.objection(at(3, 29, 21, 30), "acme", "c")  // 23:30 CEST on the 29th
	f.objection(at(3, 29, 22, 30), "acme", "c")  // 00:30 CEST on the 30th
	f.objection(at(10, 24, 21, 30), "acme", "c") // 23:30 CEST on the 24th
	f.objection(at(10, 25, 22, 30), "acme", "c") // 23:30 CET on the 25th
	f.objection(at(10, 25, 23, 30), "acme", "c") // 00:30 CET on the 26th
	got := must[[]objections.DayStat](t)(s.Stats(ctx, objections.StatsFilter{Since: at(3, 1, 0, 0), Until: at(12, 1, 0, 0)}))
	want := "2026-03-28/c:1,0,0,0 2026-03-29/c:2,0,0,0 2026-03-30/c:1,0,0,0 2026-10-24/c:1,0,0,0 2026-10-25/c:1,0,0,0 2026-10-26/c:1,0,0,0 "
	if statsString(got) != want {
		t.Fatalf("stats = %s\nwant    %s", statsString(got), want)
	}
}

func testStatsErrors(t *testing.T, open OpenUsers) {
	_, s, _ := userRegister(t, open)
	ctx := context.Background()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for name, f := range map[string]objections.StatsFilter{
		"no range": {},
		"no end":   {Since: day},
		"reversed": {Since: day, Until: day.Add(-time.Hour)},
		"too long": {Since: day, Until: day.AddDate(11, 0, 0)},
	} {
		if _, err := s.Stats(ctx, f); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}
