package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// RunRegister runs the suite of the register (objections.Store) against
// the store open returns.
func RunRegister(t *testing.T, open func(t *testing.T) objections.Store) {
	suite[objections.Store]{
		{"Orgs", testOrgs},
		{"RecordThenDecide", testRecordThenDecide},
		{"IdempotentByCallRef", testIdempotentByCallRef},
		{"IdempotentByKey", testIdempotentByKey},
		{"SecondObjectionReturnsActive", testSecondObjectionReturnsActive},
		{"UnknownOrgIsCreatedFlagged", testUnknownOrgCreated},
		{"PendingNumber", testPendingNumber},
		{"Void", testVoid},
		{"VoidErrors", testVoidErrors},
		{"ConsentAfterObjectionRestores", testConsentAfterObjection},
		{"ConsentWithdrawalKept", testConsentWithdrawalKept},
		{"RelationImportDoesNotRevive", testRelationDoesNotRevive},
		{"PersonScope", testPersonScope},
		{"OrgScope", testOrgScope},
		{"OrgKindsAndAgencies", testOrgKindsAndAgencies},
		{"AgencyObjection", testAgencyObjection},
		{"FactsUnknownOrgAndEmptyNumber", testFactsUnknownOrgAndEmptyNumber},
		{"Offers", testOffers},
		{"OfferStartedThenCompleted", testOfferStartedThenCompleted},
		{"OfferStartValidates", testOfferStartValidates},
		{"OfferTakenOver", testOfferTakenOver},
		{"InterruptOffers", testInterruptOffers},
		{"OfferRecordFollows", testOfferRecordFollows},
		{"ListFiltersAndCursor", testListFilters},
		{"EventChain", testEventChain},
		{"ConcurrentSameNumber", testConcurrentSameNumber},
		{"NotFound", testNotFound},
		{"RoundTrip", testRoundTrip},
		{"StoreValidates", testStoreValidates},
		{"ListVersion", testListVersion},
	}.run(t, open)
}

func testOrgs(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	o := must[objections.Org](t)(r.SetOrg(ctx, objections.Org{ID: "Acme", Name: " Acme Goede Doelen ", Sector: objections.SectorCharity}))
	if o.ID != "acme" || o.Name != "Acme Goede Doelen" || o.RelationTermMonths != 36 || o.Language != "nl" {
		t.Fatalf("normalised org = %+v", o)
	}
	got := must[objections.Org](t)(r.Store().Org(ctx, "acme"))
	if got.IVR != (objections.IVRSettings{}) {
		t.Fatalf("default ivr settings = %+v", got.IVR)
	}
	if got.Name != o.Name || got.Sector != objections.SectorCharity || got.AutoCreated || got.CreatedAt.IsZero() {
		t.Fatalf("stored org = %+v", got)
	}
	// Update keeps created_at.
	o2 := must[objections.Org](t)(r.SetOrg(ctx, objections.Org{ID: "acme", Name: "Acme", Sector: objections.SectorOther, RelationTermMonths: 24}))
	got = must[objections.Org](t)(r.Store().Org(ctx, "acme"))
	if !got.CreatedAt.Equal(o.CreatedAt) || got.RelationTermMonths != 24 || got.Sector != objections.SectorOther || !o2.UpdatedAt.After(o.UpdatedAt) {
		t.Fatalf("updated org = %+v (first %+v)", got, o)
	}
	ivr := objections.IVRSettings{Profile: "us", KeyObject: "9", TimeoutMS: 4000, MaxInvalid: 1, AfterDialogue: "continue", OnError: "hangup"}
	must[objections.Org](t)(r.SetOrg(ctx, objections.Org{ID: "beta", Name: "Beta", IVR: ivr}))
	if got := must[objections.Org](t)(r.Store().Org(ctx, "beta")); got.IVR != ivr {
		t.Fatalf("ivr settings = %+v, want %+v", got.IVR, ivr)
	}
	list := must[[]objections.Org](t)(r.Store().Orgs(ctx))
	if len(list) != 2 || list[0].ID != "acme" || list[1].ID != "beta" {
		t.Fatalf("orgs = %+v", list)
	}
	for _, bad := range []objections.Org{
		{ID: "", Name: "x"},
		{ID: "a b", Name: "x"},
		{ID: "ok", Name: ""},
		{ID: "ok", Name: string(make([]byte, 129))},
		{ID: "ok", Name: "x", Sector: "bank"},
		{ID: "ok", Name: "x", RelationTermMonths: 48},
		{ID: "ok", Name: "x", IVR: objections.IVRSettings{Profile: "uk"}},
		{ID: "ok", Name: "x", IVR: objections.IVRSettings{KeyObject: "1", KeyDecline: "1"}},
		{ID: "ok", Name: "x", IVR: objections.IVRSettings{TimeoutMS: 100}},
		{ID: "ok", Name: "x", IVR: objections.IVRSettings{AfterDialogue: "transfer"}},
		{ID: "ok", Name: "x", IVR: objections.IVRSettings{OnError: "retry"}},
	} {
		if _, err := r.SetOrg(ctx, bad); objections.ErrorCode(err) != objections.EINVALID {
			t.Errorf("SetOrg(%+v) err = %v, want invalid", bad, err)
		}
	}
	if _, err := r.Store().Org(ctx, "ok"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("bad org was half-written: %v", err)
	}
}

func testRecordThenDecide(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	setOrg(t, r, "acme", objections.SectorCharity)
	must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345678", Kind: objections.RelationDonation, Peildatum: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}))
	wantReasons(t, decide(t, r, "acme", "+31 6 12345678", ""), true, objections.ReasonCustomerRelation, objections.ReasonMustOfferObjection)

	o, created := record(t, r, objections.Objection{Org: "acme", RawNumber: "06 1234 5678", Source: objections.SourceAgent, CampaignRef: "spring"})
	if !created || o.Number != "+31612345678" || o.RawNumber != "06 1234 5678" || o.Status != objections.StatusActive || o.ID == "" {
		t.Fatalf("recorded = %+v created %v", o, created)
	}
	d := decide(t, r, "acme", "0031612345678", "")
	wantReasons(t, d, false, objections.ReasonObjection)
	if d.Objection == nil || d.Objection.ID != o.ID || d.Basis != objections.BasisNone {
		t.Fatalf("decision objection = %+v", d)
	}
}

func testIdempotentByCallRef(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	in := objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceIVRTwilio, Provider: "twilio", CallRef: "CA123"}
	first, created := record(t, r, in)
	if !created {
		t.Fatal("first not created")
	}
	for i := 0; i < 3; i++ {
		again, created := record(t, r, in)
		if created || again.ID != first.ID {
			t.Fatalf("repeat %d = %+v created %v, want %s", i, again, created, first.ID)
		}
	}
	// Same call ref with no number (the provider retried without it) is still the same.
	again, created := record(t, r, objections.Objection{Org: "acme", Source: objections.SourceIVRTwilio, Provider: "twilio", CallRef: "CA123"})
	if created || again.ID != first.ID {
		t.Fatalf("repeat without number = %+v created %v", again, created)
	}
	list := must[[]objections.Objection](t)(r.Store().Objections(context.Background(), objections.ObjectionFilter{Org: "acme"}))
	if len(list) != 1 {
		t.Fatalf("%d objections, want 1", len(list))
	}
}

func testIdempotentByKey(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	in := objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAPI, IdempotencyKey: "k-1"}
	first, _ := record(t, r, in)
	again, created := record(t, r, in)
	if created || again.ID != first.ID {
		t.Fatalf("repeat = %+v created %v", again, created)
	}
	// The key is scoped per org: another org with the same key is a new objection.
	in.Org = "beta"
	other, created := record(t, r, in)
	if !created || other.ID == first.ID {
		t.Fatalf("other org = %+v created %v", other, created)
	}
}

func testSecondObjectionReturnsActive(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	first, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	second, created := record(t, r, objections.Objection{Org: "acme", RawNumber: "+31612345678", Source: objections.SourceEmail, Note: "again"})
	if created || second.ID != first.ID || second.Source != objections.SourceAgent {
		t.Fatalf("second = %+v created %v; want the first", second, created)
	}
}

func testUnknownOrgCreated(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	record(t, r, objections.Objection{Org: "newco", RawNumber: "0612345678", Source: objections.SourceIVRARI, Provider: "ari", CallRef: "1700000000.1"})
	o := must[objections.Org](t)(r.Store().Org(ctx, "newco"))
	if !o.AutoCreated || o.Sector != objections.SectorOther || o.RelationTermMonths != 36 {
		t.Fatalf("auto-created org = %+v", o)
	}
	// Setting it up clears the flag.
	o = must[objections.Org](t)(r.SetOrg(ctx, objections.Org{ID: "newco", Name: "NewCo", Sector: objections.SectorPress}))
	got := must[objections.Org](t)(r.Store().Org(ctx, "newco"))
	if got.AutoCreated || got.Name != "NewCo" {
		t.Fatalf("set-up org = %+v", got)
	}
}

func testPendingNumber(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	o, created := record(t, r, objections.Objection{Org: "acme", Source: objections.SourceIVRARI, Provider: "ari", CallRef: "chan-1", DialerCallRef: "d-9", CampaignRef: "c", LeadRef: "lead-7", PersonID: "p-7"})
	if !created || o.Status != objections.StatusPendingNumber || o.Number != "" {
		t.Fatalf("pending = %+v", o)
	}
	// Blocked by person even though the number was unknown.
	wantReasons(t, decide(t, r, "acme", "0612345678", "p-7"), false, objections.ReasonObjection)
	// A second pending objection of another call is kept too (no number to collide on).
	o2, created := record(t, r, objections.Objection{Org: "acme", Source: objections.SourceIVRARI, Provider: "ari", CallRef: "chan-2", LeadRef: "lead-8"})
	if !created || o2.ID == o.ID {
		t.Fatalf("second pending = %+v created %v", o2, created)
	}
	list := must[[]objections.Objection](t)(r.Store().Objections(ctx, objections.ObjectionFilter{Status: objections.StatusPendingNumber}))
	if len(list) != 2 {
		t.Fatalf("pending list = %d", len(list))
	}
	if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", Source: objections.SourceAgent}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("no number and no references: err %v", err)
	}
}

func testVoid(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	setOrg(t, r, "acme", objections.SectorCharity)
	must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345678", Kind: objections.RelationDonation, Peildatum: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}))
	o, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	v := must[objections.Objection](t)(r.Void(ctx, o.ID, "admin@acme", "recorded on the wrong number"))
	if v.Status != objections.StatusVoided || v.Void == nil || v.Void.Actor != "admin@acme" || v.Void.Reason != "recorded on the wrong number" {
		t.Fatalf("voided = %+v", v)
	}
	got := must[objections.Objection](t)(r.Store().Objection(ctx, o.ID))
	if got.Status != objections.StatusVoided || got.Void == nil || !got.ReceivedAt.Equal(o.ReceivedAt) || got.Source != o.Source {
		t.Fatalf("stored after void = %+v", got)
	}
	wantReasons(t, decide(t, r, "acme", "0612345678", ""), true, objections.ReasonCustomerRelation, objections.ReasonMustOfferObjection)
	// A new objection after the void is a new record.
	n, created := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	if !created || n.ID == o.ID {
		t.Fatalf("objection after void = %+v created %v", n, created)
	}
	wantReasons(t, decide(t, r, "acme", "0612345678", ""), false, objections.ReasonObjection)
	// Voided ones still list, with their status.
	list := must[[]objections.Objection](t)(r.Store().Objections(ctx, objections.ObjectionFilter{Org: "acme", Status: objections.StatusVoided}))
	if len(list) != 1 || list[0].ID != o.ID {
		t.Fatalf("voided list = %+v", list)
	}
}

func testVoidErrors(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	o, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	if _, err := r.Void(ctx, o.ID, "admin", ""); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("void without reason: %v", err)
	}
	if _, err := r.Void(ctx, "01NOPE", "admin", "x"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("void unknown: %v", err)
	}
	must[objections.Objection](t)(r.Void(ctx, o.ID, "admin", "wrong"))
	if _, err := r.Void(ctx, o.ID, "admin", "again"); objections.ErrorCode(err) != objections.ECONFLICT {
		t.Fatalf("second void: %v", err)
	}
}

// §5.4: an objection voids every earlier consent; only a later one restores.
func testConsentAfterObjection(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	setOrg(t, r, "acme", objections.SectorOther)
	early := clk.Now().Add(-48 * time.Hour)
	must[objections.Consent](t)(r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", Channel: objections.ChannelPhone, GivenAt: early, Source: "web", EvidenceRef: "form-1"}))
	wantReasons(t, decide(t, r, "acme", "0612345678", ""), true, objections.ReasonConsent)
	record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceIVRTwilio, Provider: "twilio", CallRef: "CA1"})
	wantReasons(t, decide(t, r, "acme", "0612345678", ""), false, objections.ReasonObjection, objections.ReasonConsentVoidedByObjection)
	// Re-importing the old consent changes nothing.
	must[objections.Consent](t)(r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", Channel: objections.ChannelPhone, GivenAt: early, Source: "crm-sync"}))
	wantReasons(t, decide(t, r, "acme", "0612345678", ""), false, objections.ReasonObjection, objections.ReasonConsentVoidedByObjection)
	// An e-mail consent after the objection does not restore phone calls.
	must[objections.Consent](t)(r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", Channel: objections.ChannelEmail, GivenAt: clk.Now()}))
	wantReasons(t, decide(t, r, "acme", "0612345678", ""), false, objections.ReasonObjection, objections.ReasonConsentVoidedByObjection)
	// A new phone consent after the objection restores calling.
	c := must[objections.Consent](t)(r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", Channel: objections.ChannelPhone, GivenAt: clk.Now(), EvidenceRef: "form-2"}))
	d := decide(t, r, "acme", "0612345678", "")
	wantReasons(t, d, true, objections.ReasonConsent)
	if d.Consent == nil || d.Consent.EvidenceRef != "form-2" || d.Basis != objections.BasisConsent {
		t.Fatalf("decision consent = %+v", d.Consent)
	}
	// Withdrawing it blocks again.
	w := clk.Now()
	c.WithdrawnAt = &w
	c.ID = ""
	must[objections.Consent](t)(r.PutConsent(ctx, c))
	d = decide(t, r, "acme", "0612345678", "")
	if d.Callable {
		t.Fatalf("withdrawn consent still callable: %+v", d)
	}
}

// §5.5: objections are sticky; later relation imports never revive a number.
func testRelationDoesNotRevive(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	setOrg(t, r, "acme", objections.SectorCharity)
	record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345678", Kind: objections.RelationDonation, Peildatum: clk.Now()}))
	wantReasons(t, decide(t, r, "acme", "0612345678", ""), false, objections.ReasonObjection)
}

// §5.10: by number blocks anyone at it; by person blocks all their numbers.
func testPersonScope(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	setOrg(t, r, "acme", objections.SectorCharity)
	for _, n := range []string{"0612345678", "0687654321"} {
		must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "acme", Number: n, PersonID: "p1", Kind: objections.RelationDonation, Peildatum: clk.Now()}))
	}
	record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", PersonID: "p1", Source: objections.SourceAgent})
	wantReasons(t, decide(t, r, "acme", "0687654321", "p1"), false, objections.ReasonObjection)
	// Another person at the objected number is blocked too (household: the safe side).
	wantReasons(t, decide(t, r, "acme", "0612345678", "p2"), false, objections.ReasonObjection)
	// Without the person id the other number of p1 is not known to be theirs.
	wantReasons(t, decide(t, r, "acme", "0687654321", ""), true, objections.ReasonCustomerRelation, objections.ReasonMustOfferObjection)
}

// §5.1: an objection applies to the org that was named, not to others.
func testOrgScope(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	setOrg(t, r, "acme", objections.SectorCharity)
	setOrg(t, r, "beta", objections.SectorCharity)
	for _, org := range []string{"acme", "beta"} {
		must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: org, Number: "0612345678", Kind: objections.RelationDonation, Peildatum: clk.Now()}))
	}
	record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	wantReasons(t, decide(t, r, "acme", "0612345678", ""), false, objections.ReasonObjection)
	wantReasons(t, decide(t, r, "beta", "0612345678", ""), true, objections.ReasonCustomerRelation, objections.ReasonMustOfferObjection)
}

func testOffers(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	start := clk.Now()
	in := objections.Offer{
		Org: "acme", Number: "0612345678", PresentedNumber: "020 123 4567", Provider: "twilio", CallRef: "CA9",
		DialerCallRef: "d1", CampaignRef: "spring", LeadRef: "l1", AgentRef: "a1", Announced: true,
		PromptID: "offer", PromptVersion: "abc123", Language: "nl", PromptHash: "deadbeef", PlayedMS: 4200, BargeIn: true,
		Keys:    []objections.Key{{Digit: "1", At: start.Add(4200 * time.Millisecond), Mode: "rfc4733"}},
		Outcome: objections.OutcomeObjected, EndedBy: objections.EndedBySystem, StartedAt: start, EndedAt: start.Add(6 * time.Second),
	}
	o, created, err := r.RecordOffer(ctx, in)
	if err != nil || !created {
		t.Fatalf("record offer: %v created %v", err, created)
	}
	got := must[objections.Offer](t)(r.Store().Offer(ctx, o.ID))
	if got.Number != "+31612345678" || got.PresentedNumber != "+31201234567" || !got.Announced || got.PlayedMS != 4200 ||
		len(got.Keys) != 1 || got.Keys[0].Digit != "1" || !got.Keys[0].At.Equal(in.Keys[0].At) || got.Outcome != objections.OutcomeObjected ||
		!got.StartedAt.Equal(start) || got.PromptVersion != "abc123" || !got.BargeIn || got.EndedBy != "system" {
		t.Fatalf("stored offer = %+v", got)
	}
	again, created, err := r.RecordOffer(ctx, in)
	if err != nil || created || again.ID != o.ID {
		t.Fatalf("repeat offer = %+v created %v err %v", again, created, err)
	}
	list := must[[]objections.Offer](t)(r.Store().Offers(ctx, objections.OfferFilter{Org: "acme", Campaign: "spring"}))
	if len(list) != 1 {
		t.Fatalf("offers = %d", len(list))
	}
	bad := in
	bad.CallRef, bad.Outcome = "CA10", "maybe"
	if _, _, err := r.RecordOffer(ctx, bad); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("bad outcome: %v", err)
	}
	bad.Outcome, bad.Keys = objections.OutcomeInvalidInput, []objections.Key{{Digit: "12"}}
	if _, _, err := r.RecordOffer(ctx, bad); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("bad digit: %v", err)
	}
	if _, err := r.Store().Offer(ctx, "nope"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("unknown offer: %v", err)
	}
}

func testListFilters(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	t0 := clk.Now()
	var ids []string
	for i := 0; i < 25; i++ {
		src := objections.SourceAgent
		camp := "a"
		if i%5 == 0 {
			src, camp = objections.SourceEmail, "b"
		}
		o, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: fmt.Sprintf("06123456%02d", i), Source: src, CampaignRef: camp})
		ids = append(ids, o.ID)
	}
	record(t, r, objections.Objection{Org: "beta", RawNumber: "0612345600", Source: objections.SourceAgent})
	// Cursor paging visits every acme objection once, in order.
	var seen []string
	f := objections.ObjectionFilter{Org: "acme", Limit: 10}
	for {
		page := must[[]objections.Objection](t)(r.Store().Objections(ctx, f))
		for _, o := range page {
			seen = append(seen, o.ID)
		}
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].ID
	}
	if fmt.Sprint(seen) != fmt.Sprint(ids) {
		t.Fatalf("paged ids = %v\nwant %v", seen, ids)
	}
	count := func(f objections.ObjectionFilter) int {
		return len(must[[]objections.Objection](t)(r.Store().Objections(ctx, f)))
	}
	for name, tc := range map[string]struct {
		f    objections.ObjectionFilter
		want int
	}{
		"source":   {objections.ObjectionFilter{Org: "acme", Source: objections.SourceEmail}, 5},
		"campaign": {objections.ObjectionFilter{Campaign: "b"}, 5},
		"number":   {objections.ObjectionFilter{Number: "+31612345600"}, 2},
		"org+num":  {objections.ObjectionFilter{Org: "beta", Number: "+31612345600"}, 1},
		"since":    {objections.ObjectionFilter{Org: "acme", Since: t0.Add(11 * time.Millisecond)}, 15},
		"until":    {objections.ObjectionFilter{Org: "acme", Until: t0.Add(11 * time.Millisecond)}, 10},
		"status":   {objections.ObjectionFilter{Status: objections.StatusActive}, 26},
		"all":      {objections.ObjectionFilter{}, 26},
	} {
		if got := count(tc.f); got != tc.want {
			t.Errorf("%s: %d objections, want %d", name, got, tc.want)
		}
	}
}

func testEventChain(t *testing.T, s objections.Store) {
	r, clk := newRegister(s)
	ctx := context.Background()
	o, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent}) // repeat: no event
	must[objections.Objection](t)(r.Void(ctx, o.ID, "admin", "test"))
	if _, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Provider: "ari", CallRef: "c1", Outcome: objections.OutcomeNoInput, StartedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	n, err := objections.VerifyChain(ctx, r.Store())
	if err != nil || n != 3 {
		t.Fatalf("verify = %d, %v; want 3 events", n, err)
	}
	ev := must[[]objections.Event](t)(r.Store().Events(ctx, 0, 10))
	kinds := []objections.EventKind{ev[0].Kind, ev[1].Kind, ev[2].Kind}
	if fmt.Sprint(kinds) != fmt.Sprint([]objections.EventKind{objections.EventObjectionRecorded, objections.EventObjectionVoided, objections.EventOfferRecorded}) {
		t.Fatalf("event kinds = %v", kinds)
	}
	if ev[0].SubjectID != o.ID || ev[1].SubjectID != o.ID || ev[0].PrevHash != objections.GenesisHash || ev[1].PrevHash != ev[0].Hash {
		t.Fatalf("events = %+v", ev)
	}
	tail := must[[]objections.Event](t)(r.Store().Events(ctx, 2, 10))
	if len(tail) != 1 || tail[0].Seq != 3 {
		t.Fatalf("events after 2 = %+v", tail)
	}
}

func testConcurrentSameNumber(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	var wg sync.WaitGroup
	ids := make([]string, 16)
	errs := make([]error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, _, err := r.Record(ctx, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceIVRARI, Provider: "ari", CallRef: fmt.Sprintf("c%d", i%4)})
			ids[i], errs[i] = o.ID, err
		}()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("writer %d got %s, writer 0 got %s", i, ids[i], ids[0])
		}
	}
	list := must[[]objections.Objection](t)(r.Store().Objections(ctx, objections.ObjectionFilter{}))
	if len(list) != 1 {
		t.Fatalf("%d objections, want 1", len(list))
	}
	if n, err := objections.VerifyChain(ctx, r.Store()); err != nil || n != 1 {
		t.Fatalf("verify = %d, %v", n, err)
	}
}

func testNotFound(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	if _, err := r.Store().Objection(ctx, "01NOPE"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("objection: %v", err)
	}
	if _, err := r.Store().Org(ctx, "nope"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("org: %v", err)
	}
	// Decide on an unknown org answers (no basis), it does not fail.
	wantReasons(t, decide(t, r, "nope", "0612345678", ""), false, objections.ReasonNoBasis)
	if _, err := r.Decide(ctx, "acme", "12", "", time.Time{}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("bad number: %v", err)
	}
	if err := r.Store().Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

// Every field written comes back as written.
func testRoundTrip(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	in := objections.Objection{
		Org: "acme", RawNumber: "+31 (0)6-1234 5678", PersonID: "p1", Source: objections.SourceIVRTwilio, Provider: "twilio",
		CallRef: "CA1", DialerCallRef: "dc", CampaignRef: "camp", LeadRef: "lead", AgentRef: "agent", OfferID: "offer-1",
		Note: "said <stop> 'please' \"now\"", Actor: "ivr", IdempotencyKey: "idem",
	}
	o, _ := record(t, r, in)
	got := must[objections.Objection](t)(r.Store().Objection(ctx, o.ID))
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", o) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, o)
	}
	if got.ReceivedAt.Location() != time.UTC {
		t.Fatalf("received_at not UTC: %v", got.ReceivedAt.Location())
	}
	rel := must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345678", PersonID: "p1", Kind: objections.RelationPurchase, Peildatum: time.Date(2024, 2, 29, 15, 0, 0, 0, time.UTC), Source: "crm"}))
	f := must[objections.Facts](t)(r.Store().Facts(ctx, "acme", "+31612345678", "p1"))
	if len(f.Relations) != 1 || !f.Relations[0].Peildatum.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) || f.Relations[0].Kind != rel.Kind {
		t.Fatalf("facts relations = %+v", f.Relations)
	}
	// A later peildatum for the same relation replaces the earlier one; an earlier one does not.
	must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345678", PersonID: "p1", Kind: objections.RelationPurchase, Peildatum: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}))
	must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345678", PersonID: "p1", Kind: objections.RelationPurchase, Peildatum: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)}))
	f = must[objections.Facts](t)(r.Store().Facts(ctx, "acme", "+31612345678", "p1"))
	if len(f.Relations) != 1 || !f.Relations[0].Peildatum.Equal(time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("facts relations after upserts = %+v", f.Relations)
	}
	if len(f.Objections) != 1 || f.Objections[0].ID != o.ID {
		t.Fatalf("facts objections = %+v", f.Objections)
	}
}

// The store checks what its schema relies on even when called without the
// Register.
func testStoreValidates(t *testing.T, s objections.Store) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ok := objections.Objection{ID: "01A", Org: "acme", Number: "+31612345678", ReceivedAt: at, Source: objections.SourceAgent, Status: objections.StatusActive}
	with := func(f func(o *objections.Objection)) objections.Objection {
		o := ok
		f(&o)
		return o
	}
	tests := []struct {
		name  string
		o     objections.Objection
		field string
	}{
		{"no id", with(func(o *objections.Objection) { o.ID = " " }), "id"},
		{"bad org", with(func(o *objections.Objection) { o.Org = "Bad Org" }), "org"},
		{"no time", with(func(o *objections.Objection) { o.ReceivedAt = time.Time{} }), "received_at"},
		{"active without number", with(func(o *objections.Objection) { o.Number = "" }), "number"},
		{"pending with number", with(func(o *objections.Objection) { o.Status = objections.StatusPendingNumber }), "status"},
		{"voided", with(func(o *objections.Objection) { o.Status = objections.StatusVoided }), "status"},
		{"call ref without provider", with(func(o *objections.Objection) { o.CallRef = "c1" }), "provider"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.RecordObjection(ctx, tc.o)
			var e *objections.Error
			if !errors.As(err, &e) || e.Code != objections.EINVALID || e.Field != tc.field {
				t.Fatalf("err = %v, want invalid %s", err, tc.field)
			}
		})
	}
	if _, err := s.VoidObjection(ctx, objections.Void{ObjectionID: "x"}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("void without time: %v", err)
	}
	if _, err := s.Objections(ctx, objections.ObjectionFilter{Status: "gone"}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("list with a bad status: %v", err)
	}
	if list, err := s.Objections(ctx, objections.ObjectionFilter{}); err != nil || len(list) != 0 {
		t.Fatalf("an invalid objection was stored: %+v, %v", list, err)
	}
}

// readFacts reads the facts of org on number (without a person), one of
// a store's ways to answer Facts.
type readFacts func(ctx context.Context, org, number string) (objections.Facts, error)

// The list version of the facts is the event log's head: 0 when the log is
// empty, and it grows with every objection, void and offer, whichever
// number they are on; a relation (not in the log) leaves it.
func testListVersion(t *testing.T, s objections.Store) {
	listVersionSteps(t, s, func(ctx context.Context, org, number string) (objections.Facts, error) {
		return s.Facts(ctx, org, number, "")
	})
}

// listVersionSteps writes to s step by step and checks after each the list
// version read reports, and the decision's.
func listVersionSteps(t *testing.T, s objections.Store, read readFacts) {
	r, clk := newRegister(s)
	ctx := context.Background()
	want := func(step string, version int64) {
		t.Helper()
		for _, n := range []string{"+31612345678", "+31687654321"} {
			f, err := read(ctx, "acme", n)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			if f.ListVersion != version {
				t.Errorf("%s: %s: list version %d, want %d", step, n, f.ListVersion, version)
			}
		}
		if d := decide(t, r, "acme", "0612345678", ""); d.ListVersion != version {
			t.Errorf("%s: decision list version %d, want %d", step, d.ListVersion, version)
		}
	}
	want("empty log", 0)

	o, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent})
	want("after an objection", 1)
	d := decide(t, r, "acme", "0612345678", "")
	wantReasons(t, d, false, objections.ReasonObjection)

	record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345678", Source: objections.SourceAgent}) // a repeat: no event
	must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0687654321",
		Kind: objections.RelationDonation, Peildatum: clk.Now()}))
	want("after a repeat and a relation", 1)

	record(t, r, objections.Objection{Org: "beta", RawNumber: "0611111111", Source: objections.SourceAgent})
	want("after another org's objection", 2)

	must[objections.Objection](t)(r.Void(ctx, o.ID, "admin", "test"))
	if _, _, err := r.RecordOffer(ctx, objections.Offer{Org: "acme", Provider: "ari", CallRef: "c1",
		Outcome: objections.OutcomeNoInput, StartedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	want("after a void and an offer", 4)
}

// A pending objection (no number) matches neither a lookup by person alone
// nor an empty number; the facts of an unknown org have DefaultOrg, which
// is not stored.
func testFactsUnknownOrgAndEmptyNumber(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	record(t, r, objections.Objection{Org: "acme", Source: objections.SourceAgent, LeadRef: "l1"})
	f, err := s.Facts(ctx, "acme", "", "p1")
	if err != nil || len(f.Objections) != 0 {
		t.Fatalf("facts by person = %+v, %v", f, err)
	}
	f, err = s.Facts(ctx, "nobody", "+31612345678", "")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Org, objections.DefaultOrg("nobody", time.Time{})) {
		t.Fatalf("unknown org = %+v", f.Org)
	}
	if _, err := s.Org(ctx, "nobody"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("facts stored the unknown org: %v", err)
	}
}

// Consents and relations need an org that was set up. A consent's
// withdrawal can be added later; the earliest one stands, and nothing else
// of the consent changes.
func testConsentWithdrawalKept(t *testing.T, s objections.Store) {
	r, _ := newRegister(s)
	ctx := context.Background()
	given := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	if _, err := r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", GivenAt: given}); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("consent of an org not set up: %v", err)
	}
	if _, err := r.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345678", Kind: objections.RelationPurchase, Peildatum: given}); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("relation of an org not set up: %v", err)
	}
	must[objections.Org](t)(r.SetOrg(ctx, objections.Org{ID: "acme", Name: "Acme"}))
	c := must[objections.Consent](t)(r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", GivenAt: given, EvidenceRef: "form-1"}))
	if !c.GivenAt.Equal(given.Truncate(time.Microsecond)) || c.WithdrawnAt != nil {
		t.Fatalf("consent = %+v", c)
	}
	w := given.Add(time.Hour)
	wMicro := w.Truncate(time.Microsecond)
	c2, err := r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", GivenAt: given, WithdrawnAt: &w})
	if err != nil || c2.ID != c.ID || c2.WithdrawnAt == nil || !c2.WithdrawnAt.Equal(wMicro) || c2.EvidenceRef != "form-1" {
		t.Fatalf("withdrawn consent = %+v, %v (first %+v)", c2, err, c)
	}
	// Putting it again without the withdrawal, or with a later one, does not
	// change it; an earlier withdrawal stands.
	c3, err := r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", GivenAt: given})
	if err != nil || c3.WithdrawnAt == nil || !c3.WithdrawnAt.Equal(wMicro) {
		t.Fatalf("re-put consent = %+v, %v", c3, err)
	}
	later, earlier := w.Add(time.Hour), w.Add(-time.Minute)
	if c3, err = r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", GivenAt: given, WithdrawnAt: &later}); err != nil || !c3.WithdrawnAt.Equal(wMicro) {
		t.Fatalf("later withdrawal = %+v, %v", c3, err)
	}
	if c3, err = r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", GivenAt: given, WithdrawnAt: &earlier}); err != nil || !c3.WithdrawnAt.Equal(earlier.Truncate(time.Microsecond)) {
		t.Fatalf("earlier withdrawal = %+v, %v", c3, err)
	}
	f, err := s.Facts(ctx, "acme", "+31612345678", "")
	if err != nil || len(f.Consents) != 1 || f.Consents[0].WithdrawnAt.Location() != time.UTC {
		t.Fatalf("facts consents = %+v, %v", f.Consents, err)
	}
}
