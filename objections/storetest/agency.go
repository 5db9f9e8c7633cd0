package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// setAgencies sets up agency callcenter1 and, optionally, acme listing it.
func setAgencies(t *testing.T, r *objections.Register, acmeAgencies ...string) {
	t.Helper()
	ctx := context.Background()
	must[objections.Org](t)(r.SetOrg(ctx, objections.Org{ID: "callcenter1", Name: "Callcenter 1", Kind: objections.OrgAgency}))
	must[objections.Org](t)(r.SetOrg(ctx, objections.Org{ID: "acme", Name: "Acme", Sector: objections.SectorCharity, Agencies: acmeAgencies}))
}

// §5.1: orgs have a kind and list the agencies that may call for them; an
// agency must exist, be of kind agency, and cannot list agencies itself.
func testOrgKindsAndAgencies(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	if _, err := r.SetOrg(ctx, objections.Org{ID: "acme", Name: "Acme", Agencies: []string{"callcenter1"}}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("listing an agency nobody set up: %v", err)
	}
	setAgencies(t, r, "callcenter1", "Callcenter1")
	acme := must[objections.Org](t)(s.Org(ctx, "acme"))
	if acme.Kind != objections.OrgAdvertiser || !slices.Equal(acme.Agencies, []string{"callcenter1"}) || !acme.Allows("callcenter1") {
		t.Fatalf("acme = %+v", acme)
	}
	cc := must[objections.Org](t)(s.Org(ctx, "callcenter1"))
	if cc.Kind != objections.OrgAgency || len(cc.Agencies) != 0 {
		t.Fatalf("callcenter1 = %+v", cc)
	}
	if _, err := r.SetOrg(ctx, objections.Org{ID: "beta", Name: "Beta", Agencies: []string{"acme"}}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("listing an advertiser as an agency: %v", err)
	}
	if _, err := r.SetOrg(ctx, objections.Org{ID: "callcenter1", Name: "C", Kind: objections.OrgAgency, Agencies: []string{"x"}}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("an agency with agencies: %v", err)
	}
	if _, err := r.SetOrg(ctx, objections.Org{ID: "beta", Name: "Beta", Kind: "reseller"}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("unknown kind: %v", err)
	}
	// The facts carry the kind and the agencies.
	f := must[objections.Facts](t)(s.Facts(ctx, "acme", "+31612345678", ""))
	if !f.Org.Allows("callcenter1") || f.Org.Kind != objections.OrgAdvertiser {
		t.Fatalf("facts org = %+v", f.Org)
	}
}

// §5.1: an objection made on a call by an agency for an advertiser belongs
// to the advertiser and is also on the agency's own list; other orgs are
// not blocked. An agency the advertiser does not list is flagged, never
// refused; an agency nobody set up is created.
func testAgencyObjection(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	setAgencies(t, r, "callcenter1")
	setOrg(t, r, "beta", objections.SectorCharity)
	o, _ := record(t, r, objections.Objection{Org: "acme", Agency: "callcenter1", RawNumber: "0612345678",
		Source: objections.SourceIVRARI, Provider: "ari", CallRef: "ch-1"})
	if o.Agency != "callcenter1" || o.AgencyUnlisted {
		t.Fatalf("recorded = %+v", o)
	}
	got := must[objections.Objection](t)(s.Objection(ctx, o.ID))
	if got.Agency != "callcenter1" || got.AgencyUnlisted {
		t.Fatalf("read = %+v", got)
	}
	wantReasons(t, decide(t, r, "acme", "0612345678", ""), false, objections.ReasonObjection)
	wantReasons(t, decide(t, r, "callcenter1", "0612345678", ""), false, objections.ReasonObjection)
	if d := decide(t, r, "beta", "0612345678", ""); !d.Callable && slices.Contains(d.Reasons, objections.ReasonObjection) {
		t.Fatalf("beta blocked by acme's objection: %+v", d)
	}
	// The single-question read agrees.
	f := must[objections.Facts](t)(s.Facts(ctx, "callcenter1", "+31612345678", ""))
	if len(f.Objections) != 1 || f.Objections[0].ID != o.ID {
		t.Fatalf("agency facts = %+v", f.Objections)
	}

	// An agency acme does not list: recorded, flagged, and created.
	u, _ := record(t, r, objections.Objection{Org: "acme", Agency: "rogue", RawNumber: "0687654321",
		Source: objections.SourceIVRARI, Provider: "ari", CallRef: "ch-2"})
	if !u.AgencyUnlisted || !must[objections.Objection](t)(s.Objection(ctx, u.ID)).AgencyUnlisted {
		t.Fatalf("unlisted agency not flagged: %+v", u)
	}
	rogue := must[objections.Org](t)(s.Org(ctx, "rogue"))
	if rogue.Kind != objections.OrgAgency || !rogue.AutoCreated {
		t.Fatalf("rogue = %+v", rogue)
	}
	wantReasons(t, decide(t, r, "rogue", "0687654321", ""), false, objections.ReasonObjection)

	// Offers carry the agency and the flag too.
	off := must[objections.Offer](t)(func() (objections.Offer, error) {
		o, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Agency: "rogue", Number: "0687654321", Provider: "ari",
			CallRef: "ch-2", Outcome: objections.OutcomeObjected})
		return o, err
	}())
	if off.Agency != "rogue" || !off.AgencyUnlisted {
		t.Fatalf("offer = %+v", off)
	}
	if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", Agency: "acme", RawNumber: "0612345678", Source: objections.SourceIVRARI}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("agency = org: %v", err)
	}

	// Lists in a scope: the agency's scope sees the objections of its
	// calls, acme's scope sees all of acme's, beta's none.
	for _, tc := range []struct {
		scope []string
		want  int
	}{{[]string{"callcenter1"}, 1}, {[]string{"acme"}, 2}, {[]string{"beta"}, 0}, {[]string{"beta", "rogue"}, 1}, {nil, 2}} {
		list := must[[]objections.Objection](t)(s.Objections(ctx, objections.ObjectionFilter{Scope: tc.scope}))
		if len(list) != tc.want {
			t.Fatalf("objections in scope %v = %d, want %d", tc.scope, len(list), tc.want)
		}
		offers := must[[]objections.Offer](t)(s.Offers(ctx, objections.OfferFilter{Scope: tc.scope}))
		wantOffers := 0
		if len(tc.scope) == 0 || slices.Contains(tc.scope, "acme") || slices.Contains(tc.scope, "rogue") {
			wantOffers = 1
		}
		if len(offers) != wantOffers {
			t.Fatalf("offers in scope %v = %d, want %d", tc.scope, len(offers), wantOffers)
		}
	}
	if list := must[[]objections.Objection](t)(s.Objections(ctx, objections.ObjectionFilter{Org: "acme", Scope: []string{"callcenter1"}})); len(list) != 1 || list[0].ID != o.ID {
		t.Fatalf("acme's objections in callcenter1's scope = %+v", list)
	}
}

// Scopes of tokens, users and audit entries are kept; an audit filter in a
// scope keeps the entries that concern one of its orgs.
func testScopes(t *testing.T, s access.Store) {
	clk := newClock()
	ctx := context.Background()
	tok, _, err := access.NewToken("acme-dialer", access.RoleDialer, access.Scope{"beta", "Acme", "acme"}, "cli", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := must[access.Token](t)(s.CreateToken(ctx, tok)); !slices.Equal(got.Orgs, []string{"acme", "beta"}) {
		t.Fatalf("stored token scope = %v", got.Orgs)
	}
	if got := must[access.Token](t)(s.Token(ctx, tok.ID)); !slices.Equal(got.Orgs, []string{"acme", "beta"}) {
		t.Fatalf("read token scope = %v", got.Orgs)
	}
	if _, _, err := access.NewToken("x", access.RoleDialer, access.Scope{"no good"}, "cli", clk.Now()); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("bad org in scope: %v", err)
	}
	u, err := access.NewUser("piet", access.RoleSupervisor, access.Scope{"acme"}, "$2a$04$hash", "cli", clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	must[access.User](t)(s.CreateUser(ctx, u))
	if got := must[access.User](t)(s.UserByName(ctx, "piet")); !slices.Equal(got.Orgs, []string{"acme"}) {
		t.Fatalf("user scope = %v", got.Orgs)
	}
	for _, orgs := range []access.Scope{nil, {"acme"}, {"beta", "acme2"}, {"acme", "beta"}} {
		e, err := access.NewAuditEntry(clk.Now(), "piet", access.AuditExport, "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		e.Orgs = orgs
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		scope access.Scope
		want  int
	}{{nil, 4}, {access.Scope{"acme"}, 2}, {access.Scope{"acme2"}, 1}, {access.Scope{"beta"}, 2}, {access.Scope{"gamma"}, 0}} {
		if got := must[[]access.AuditEntry](t)(s.AuditLog(ctx, access.AuditFilter{Scope: tc.scope})); len(got) != tc.want {
			t.Fatalf("audit entries in scope %v = %d, want %d", tc.scope, len(got), tc.want)
		}
	}
}
