package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

func TestFactsUnknownOrgAndEmptyNumber(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	r := newRegister(s)
	// A pending objection (no number, no person) must not match an empty
	// number or person.
	if _, _, err := r.Record(ctx, objections.Objection{Org: "acme", Source: objections.SourceAgent, LeadRef: "l1"}); err != nil {
		t.Fatal(err)
	}
	f, err := s.Facts(ctx, "acme", "", "p1")
	if err != nil || len(f.Objections) != 0 {
		t.Fatalf("facts by person = %+v, %v", f, err)
	}
	f, err = s.Facts(ctx, "nobody", "+31612345678", "")
	if err != nil {
		t.Fatal(err)
	}
	if f.Org != objections.DefaultOrg("nobody", time.Time{}) {
		t.Fatalf("unknown org = %+v", f.Org)
	}
	if _, err := s.Org(ctx, "nobody"); objections.ErrorCode(err) != objections.ENOTFOUND {
		t.Fatalf("facts stored the unknown org: %v", err)
	}
}

// A consent's withdrawal can be added later; the earliest one stands.
func TestConsentWithdrawalKept(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	r := newRegister(s)
	given := time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC)
	if _, err := r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", GivenAt: given}); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("consent of an org not set up: %v", err)
	}
	if _, err := r.SetOrg(ctx, objections.Org{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	c, err := r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", GivenAt: given, EvidenceRef: "form-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.GivenAt.Equal(given.Truncate(time.Microsecond)) || c.WithdrawnAt != nil {
		t.Fatalf("consent = %+v", c)
	}
	w := given.Add(time.Hour)
	wMicro := w.Truncate(time.Microsecond)
	c2, err := r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345678", GivenAt: given, WithdrawnAt: &w})
	if err != nil || c2.ID != c.ID || c2.WithdrawnAt == nil || !c2.WithdrawnAt.Equal(wMicro) || c2.EvidenceRef != "form-1" {
		t.Fatalf("withdrawn consent = %+v, %v (first %+v)", c2, err, c)
	}
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
