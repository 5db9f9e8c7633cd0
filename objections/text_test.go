package objections

import (
	"context"
	"testing"
	"time"
)

// Text that PostgreSQL would refuse is refused by the domain, naming the
// field, so that both stores answer alike.
func TestInvalidTextRefused(t *testing.T) {
	nums := DefaultNumbers()
	reg := NewRegister(&putStore{}, nums, func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) })
	for _, tc := range []struct {
		name  string
		check func() error
		field string
	}{
		{"objection note", func() error {
			o := Objection{Org: "acme", RawNumber: "0612345678", Source: SourceAPI, Note: "bad \xff"}
			return o.Prepare(nums)
		}, "note"},
		{"objection campaign", func() error {
			o := Objection{Org: "acme", RawNumber: "0612345678", Source: SourceAPI, CampaignRef: "a\x00b"}
			return o.Prepare(nums)
		}, "campaign_ref"},
		{"offer key mode", func() error {
			o := Offer{Org: "acme", Provider: "ari", CallRef: "c1", Outcome: OutcomeDeclined, Keys: []Key{{Digit: "2", Mode: "\xc3"}}}
			return o.Prepare(nums)
		}, "keys.mode"},
		{"relation source", func() error {
			_, err := reg.PutRelation(context.Background(), Relation{Org: "acme", Number: "0612345678", Kind: RelationDonation,
				Peildatum: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Source: "\xfe"})
			return err
		}, "source"},
		{"consent evidence", func() error {
			_, err := reg.PutConsent(context.Background(), Consent{Org: "acme", Number: "0612345678",
				GivenAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), EvidenceRef: "\x00"})
			return err
		}, "evidence_ref"},
		{"org name", func() error { o := Org{ID: "acme", Name: "Acme \xff"}; return o.Normalize() }, "name"},
		{"void reason", func() error { _, err := reg.Void(context.Background(), "01X", "ada", "typo\x00"); return err }, "reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *Error
			if err := tc.check(); !asError(err, &e) || e.Code != EINVALID || e.Field != tc.field {
				t.Fatalf("err = %v, want invalid naming %s", err, tc.field)
			}
		})
	}
	if err := ValidText("note", "héhé ☎"); err != nil {
		t.Fatalf("valid text refused: %v", err)
	}
}
