package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// Copying a store (verzet copy) and backing it up (verzet backup) are
// checked with data of every kind, written through the stores' own
// methods (Fill), and compared through their own reads (Contents): a copy
// is right when the copy reads as the original does, whatever the
// dialects keep underneath.

// FillTarget is the webhook target Fill registers; its deliveries are part
// of Contents.
const FillTarget = "https://crm.example/hooks/verzet"

// Fill writes n rounds of data of every kind a complete store keeps:
// orgs (set and auto-created), objections (active, voided, pending a
// number, with idempotency keys and call refs, on two orgs), offers with
// keys, relations, consents (one withdrawn), the webhook deliveries of
// each objection and void (one retried), API tokens (one revoked), users
// (one locked out, one signed in) with a session, audit entries, blocked
// and counted dial-time checks with their first blocks, and the state of a
// live call. Each round uses numbers of its own.
func Fill(t testing.TB, s Store, n int) {
	t.Helper()
	ctx := context.Background()
	clk := newClock()
	r := objections.NewRegister(s, objections.Numbers{Region: "NL"}, clk.Now)
	fail := func(doing string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("fill: %s: %v", doing, err)
		}
	}
	_, err := r.SetOrg(ctx, objections.Org{ID: "callcenter1", Name: "Callcenter Eén", Kind: objections.OrgAgency})
	fail("set agency", err)
	_, err = r.SetOrg(ctx, objections.Org{ID: "acme", Name: "Acme Goede Doelen", Sector: objections.SectorCharity, RelationTermMonths: 48,
		TermJustification: "DPIA 2026-02", Language: "nl", IVR: objections.IVRSettings{Profile: "nl", KeyObject: "9", TimeoutMS: 7000},
		Agencies: []string{"callcenter1"}})
	fail("set org", err)
	fail("set webhook targets", s.SetWebhookTargets(ctx, []string{FillTarget}, clk.Now()))

	var blocked []objections.DecisionRecord
	for i := range n {
		number := fmt.Sprintf("06 1%07d", i)
		at := clk.Now()
		offer, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Number: number, PresentedNumber: "020 123 4567", Provider: "twilio",
			CallRef: fmt.Sprintf("CA%d", i), DialerCallRef: "d1", CampaignRef: "spring", Announced: true, PromptID: "offer", PromptVersion: "v3",
			Language: "nl", PromptHash: "deadbeef", PlayedMS: 4200, BargeIn: i%2 == 0,
			Keys:    []objections.Key{{Digit: "1", At: at.Add(4200 * time.Millisecond), Mode: "rfc4733"}, {Digit: "1", At: at.Add(5 * time.Second)}},
			Outcome: objections.OutcomeObjected, EndedBy: objections.EndedBySystem, StartedAt: at, EndedAt: at.Add(6 * time.Second)})
		fail("record offer", err)
		o, _, err := r.Record(ctx, objections.Objection{Org: "acme", Number: number, Source: objections.SourceIVRTwilio, Provider: "twilio",
			CallRef: offer.CallRef, OfferID: offer.ID, CampaignRef: "spring", LeadRef: "lead", AgentRef: "agent", Note: "née Ünïcode ✓"})
		fail("record objection", err)
		blocked = append(blocked, objections.DecisionRecord{ID: objections.NewID(clk.Now()), DecidedAt: clk.Now(), Org: "acme", Number: o.Number,
			Basis: objections.BasisNone, Reasons: []objections.Reason{objections.ReasonObjection}, ObjectionID: o.ID, ListVersion: int64(i + 1), TokenName: "dialer-1"})

		// An objection by API key on an org that does not exist yet (auto-created), then voided.
		v, _, err := r.Record(ctx, objections.Objection{Org: "beta", Number: fmt.Sprintf("+3120%07d", i), Source: objections.SourceAPI,
			IdempotencyKey: fmt.Sprintf("key-%d", i), PersonID: fmt.Sprintf("p-%d", i), Actor: "crm"})
		fail("record objection by key", err)
		_, err = r.Void(ctx, v.ID, "supervisor", "recorded on the wrong number")
		fail("void", err)

		// A call made by an agency acme lists, and one by an agency it
		// does not (flagged, the agency auto-created).
		for j, agency := range []string{"callcenter1", "rogue"} {
			ref := fmt.Sprintf("CA%d-%s", i, agency)
			off, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Agency: agency, Number: fmt.Sprintf("06 4%06d%d", i, j),
				Provider: "twilio", CallRef: ref, Outcome: objections.OutcomeObjected, StartedAt: at, EndedAt: at.Add(time.Second)})
			fail("record agency offer", err)
			_, _, err = r.Record(ctx, objections.Objection{Org: "acme", Agency: agency, Number: off.Number, Source: objections.SourceIVRTwilio,
				Provider: "twilio", CallRef: ref, OfferID: off.ID})
			fail("record agency objection", err)
		}

		// A key press whose number is not known yet.
		_, _, err = r.Record(ctx, objections.Objection{Org: "acme", Source: objections.SourceIVRARI, Provider: "ari", CallRef: fmt.Sprintf("ch-%d", i),
			DialerCallRef: fmt.Sprintf("dial-%d", i)})
		fail("record pending objection", err)

		_, err = r.PutRelation(ctx, objections.Relation{Org: "acme", Number: fmt.Sprintf("06 2%07d", i), PersonID: "p-r", Kind: objections.RelationDonation,
			Peildatum: time.Date(2025, 11, 30, 0, 0, 0, 0, time.UTC), Source: "crm"})
		fail("put relation", err)
		given := clk.Now().Add(-48 * time.Hour)
		_, err = r.PutConsent(ctx, objections.Consent{Org: "acme", Number: fmt.Sprintf("06 3%07d", i), Channel: objections.ChannelPhone, GivenAt: given,
			Source: "web", EvidenceRef: "form-17"})
		fail("put consent", err)
		withdrawn := given.Add(time.Hour)
		_, err = r.PutConsent(ctx, objections.Consent{Org: "beta", Number: fmt.Sprintf("06 3%07d", i), Channel: objections.ChannelEmail, GivenAt: given,
			WithdrawnAt: &withdrawn})
		fail("put withdrawn consent", err)
	}

	// One delivery retried, with its error and lease.
	ds, err := s.ClaimDeliveries(ctx, []string{FillTarget}, clk.Now(), time.Minute, 1)
	fail("claim delivery", err)
	if len(ds) > 0 {
		fail("retry delivery", s.RetryDelivery(ctx, ds[0], clk.Now().Add(time.Minute), "503 from the CRM"))
	}

	tok, _, err := access.NewToken("dialer-1", access.RoleDialer, access.Scope{"acme", "callcenter1"}, "admin", clk.Now())
	fail("new token", err)
	_, err = s.CreateToken(ctx, tok)
	fail("create token", err)
	old, _, err := access.NewToken("old-crm", access.RoleIntegrator, nil, "admin", clk.Now())
	fail("new token", err)
	_, err = s.CreateToken(ctx, old)
	fail("create token", err)
	_, err = s.RevokeToken(ctx, old.ID, clk.Now())
	fail("revoke token", err)

	locked, err := access.NewUser("marieke", access.RoleSupervisor, access.Scope{"acme"}, "$2a$04$hash-of-marieke", "admin", clk.Now())
	fail("new user", err)
	locked.MustChangePassword = true
	_, err = s.CreateUser(ctx, locked)
	fail("create user", err)
	for range 6 {
		_, err = s.SignInFailed(ctx, locked.ID, clk.Now())
		fail("sign-in failed", err)
	}
	admin, err := access.NewUser("admin", access.RoleAdmin, nil, "$2a$04$hash-of-admin", "", clk.Now())
	fail("new user", err)
	admin.Bootstrap = true
	_, err = s.CreateUser(ctx, admin)
	fail("create user", err)
	_, err = s.SignedIn(ctx, admin.ID, clk.Now())
	fail("signed in", err)
	sess, _ := access.NewSession(admin.ID, clk.Now(), time.Hour)
	fail("create session", s.CreateSession(ctx, sess))
	for _, a := range []access.AuditAction{access.AuditSignIn, access.AuditView, access.AuditExport, access.AuditVoid} {
		e, err := access.NewAuditEntry(clk.Now(), "admin", a, "subject", "detail <b>", "127.0.0.1")
		fail("new audit entry", err)
		if a == access.AuditExport {
			e.Orgs = access.Scope{"acme", "beta"}
		}
		fail("append audit", s.AppendAudit(ctx, e))
	}

	counts := []objections.DecisionCount{
		{Org: "acme", Day: objections.DecisionDay(t0), Callable: false, Reason: objections.ReasonObjection, Count: int64(len(blocked))},
		{Org: "acme", Day: objections.DecisionDay(t0), Callable: true, Reason: "", Count: 7},
	}
	_, err = s.AppendDecisions(ctx, blocked, counts)
	fail("append decisions", err)

	fail("save call", s.SaveCall(ctx, objections.CallState{Provider: "twilio", Ref: "CA-live", Version: 1, Data: []byte{0, 1, 2, 0xff, 'x'}, UpdatedAt: clk.Now()}))
}

// Contents renders everything a store holds, read through its own
// methods, as indented JSON: two stores that hold the same render alike.
// Sessions are left out (a copy may skip them), and so are delivery
// leases, which are random per claim.
func Contents(t testing.TB, s Store) string {
	t.Helper()
	ctx := context.Background()
	c := map[string]any{}
	put := func(name string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("contents: %s: %v", name, err)
		}
		c[name] = v
	}
	orgs, err := s.Orgs(ctx)
	put("orgs", orgs, err)

	var objs []objections.Objection
	for f := (objections.ObjectionFilter{Limit: 1000}); ; {
		page, err := s.Objections(ctx, f)
		put("objections", nil, err)
		objs = append(objs, page...)
		if len(page) < f.PageLimit() {
			break
		}
		f.After = page[len(page)-1].ID
	}
	c["objections"] = objs
	var offers []objections.Offer
	for f := (objections.OfferFilter{Limit: 1000}); ; {
		page, err := s.Offers(ctx, f)
		put("offers", nil, err)
		offers = append(offers, page...)
		if len(page) < f.PageLimit() {
			break
		}
		f.After = page[len(page)-1].ID
	}
	c["offers"] = offers
	var events []objections.Event
	for after := int64(0); ; {
		page, err := s.Events(ctx, after, 1000)
		put("events", nil, err)
		events = append(events, page...)
		if len(page) < 1000 {
			break
		}
		after = page[len(page)-1].Seq
	}
	c["events"] = events

	// The facts of every number and person an objection, relation or
	// consent names: what a dial-time check reads.
	numbers := map[[2]string]bool{}
	for _, o := range objs {
		numbers[[2]string{o.Org, o.Number}] = true
	}
	for i := range len(objs) { // Fill's relations and consents: more than enough rounds
		rel, con := fmt.Sprintf("+3162%07d", i), fmt.Sprintf("+3163%07d", i)
		numbers[[2]string{"acme", rel}], numbers[[2]string{"acme", con}], numbers[[2]string{"beta", con}] = true, true, true
	}
	keys := make([][2]string, 0, len(numbers))
	for k := range numbers {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	var facts []objections.Facts
	for _, k := range keys {
		if k[1] == "" {
			continue
		}
		f, err := s.Facts(ctx, k[0], k[1], "")
		put("facts", nil, err)
		facts = append(facts, f)
	}
	c["facts"] = facts

	tokens, err := s.Tokens(ctx)
	put("tokens", tokens, err)
	users, err := s.Users(ctx)
	put("users", users, err)
	audit, err := s.AuditLog(ctx, access.AuditFilter{Limit: 1000})
	put("audit", audit, err)
	decisions, err := s.ListDecisions(ctx, objections.DecisionFilter{Limit: 1000})
	put("decisions", decisions, err)
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.ID)
	}
	firsts, err := s.FirstBlocks(ctx, ids)
	put("first_blocks", firsts, err)
	var counts []objections.DecisionCount
	for _, o := range orgs {
		cs, err := s.DecisionCounts(ctx, o.ID, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0))
		put("decision_counts", nil, err)
		counts = append(counts, cs...)
	}
	c["decision_counts"] = counts
	stats, err := s.OutboxStats(ctx, []string{FillTarget})
	put("outbox_stats", stats, err)
	ds, err := s.ClaimDeliveries(ctx, []string{FillTarget}, t0.AddDate(1, 0, 0), time.Minute, 1000)
	for i := range ds {
		ds[i].Lease = ""
	}
	put("deliveries", ds, err)
	call, err := s.LoadCall(ctx, "twilio", "CA-live")
	if objections.ErrorCode(err) == objections.ENOTFOUND {
		err = nil
	}
	put("call_state", call, err)

	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatalf("contents: %v", err)
	}
	return string(b)
}
