package objections

import (
	"context"
	"testing"
	"time"
)

// putStore keeps what PutRelation and PutConsent are given; the rest of
// Store is not used.
type putStore struct {
	Store
	relations []Relation
	consents  []Consent
}

func (s *putStore) PutRelation(_ context.Context, r Relation) (Relation, error) {
	s.relations = append(s.relations, r)
	return r, nil
}

func (s *putStore) PutConsent(_ context.Context, c Consent) (Consent, error) {
	s.consents = append(s.consents, c)
	return c, nil
}

// A consent, a withdrawal or a relation dated after now is refused, naming
// the field: a consent dated 2030 would override every objection until
// then. A few minutes of clock skew are allowed.
func TestDatesCannotBeInTheFuture(t *testing.T) {
	// 23:58 UTC on 1 March is 00:58 on 2 March in Amsterdam.
	now := time.Date(2026, 3, 1, 23, 58, 0, 0, time.UTC)
	st := &putStore{}
	reg := NewRegister(st, DefaultNumbers(), func() time.Time { return now })
	ctx := context.Background()
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

	for _, tc := range []struct {
		name  string
		put   func() error
		field string // "" when accepted
	}{
		{"consent given in 2030", func() error {
			_, err := reg.PutConsent(ctx, Consent{Org: "acme", Number: "0612345678", GivenAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
			return err
		}, "given_at"},
		{"consent given in an hour", func() error {
			_, err := reg.PutConsent(ctx, Consent{Org: "acme", Number: "0612345678", GivenAt: *at(time.Hour)})
			return err
		}, "given_at"},
		{"consent given within the clock skew", func() error {
			_, err := reg.PutConsent(ctx, Consent{Org: "acme", Number: "0612345678", GivenAt: *at(4 * time.Minute)})
			return err
		}, ""},
		{"consent withdrawn tomorrow", func() error {
			_, err := reg.PutConsent(ctx, Consent{Org: "acme", Number: "0612345678", GivenAt: *at(-time.Hour), WithdrawnAt: at(24 * time.Hour)})
			return err
		}, "withdrawn_at"},
		{"consent withdrawn just now", func() error {
			_, err := reg.PutConsent(ctx, Consent{Org: "acme", Number: "0612345678", GivenAt: *at(-time.Hour), WithdrawnAt: at(time.Minute)})
			return err
		}, ""},
		{"relation ending in 2030", func() error {
			_, err := reg.PutRelation(ctx, Relation{Org: "acme", Number: "0612345678", Kind: RelationDonation, Peildatum: day(2030, 1, 1)})
			return err
		}, "peildatum"},
		{"relation ending the day after today in Amsterdam", func() error {
			_, err := reg.PutRelation(ctx, Relation{Org: "acme", Number: "0612345678", Kind: RelationDonation, Peildatum: day(2026, 3, 3)})
			return err
		}, "peildatum"},
		{"relation ending today in Amsterdam", func() error {
			_, err := reg.PutRelation(ctx, Relation{Org: "acme", Number: "0612345678", Kind: RelationDonation, Peildatum: day(2026, 3, 2)})
			return err
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.put()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *Error
			if !asError(err, &e) || e.Code != EINVALID || e.Field != tc.field {
				t.Fatalf("err = %v, want invalid naming %s", err, tc.field)
			}
		})
	}
	if len(st.relations) != 1 || len(st.consents) != 2 {
		t.Fatalf("stored %d relations and %d consents, want 1 and 2", len(st.relations), len(st.consents))
	}
}
