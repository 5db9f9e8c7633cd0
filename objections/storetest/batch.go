package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// FactsBatchStore is the register with the read of many numbers' facts at
// once that objections/httpapi's scrub uses.
type FactsBatchStore interface {
	objections.Store
	FactsBatch(ctx context.Context, org string, numbers []string) ([]objections.Facts, error)
}

// RunFactsBatch runs the suite of FactsBatch against the store open
// returns.
func RunFactsBatch(t *testing.T, open func(t *testing.T) FactsBatchStore) {
	suite[FactsBatchStore]{
		{"FactsBatchMatchesFacts", testFactsBatch},
		{"ListVersion", testFactsBatchListVersion},
	}.run(t, open)
}

// The list version of batched facts is the event log's head, as Facts'.
func testFactsBatchListVersion(t *testing.T, s FactsBatchStore) {
	listVersionSteps(t, s, func(ctx context.Context, org, number string) (objections.Facts, error) {
		fs, err := s.FactsBatch(ctx, org, []string{number})
		if err != nil || len(fs) != 1 {
			return objections.Facts{}, err
		}
		return fs[0], nil
	})
}

// FactsBatch answers for many numbers what Facts answers for each: the
// scrub's decisions equal the callability check's.
func testFactsBatch(t *testing.T, s FactsBatchStore) {
	r, _ := newRegister(s)
	ctx := context.Background()
	setOrg(t, r, "acme", objections.SectorCharity)
	must[objections.Org](t)(r.SetOrg(ctx, objections.Org{ID: "beta", Name: "Beta", Sector: objections.SectorPress, RelationTermMonths: 24,
		IVR: objections.IVRSettings{Profile: "us", KeyObject: "9", TimeoutMS: 4000}}))
	peil := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, n := range []string{"0612345601", "0612345602", "0612345603"} {
		must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "acme", Number: n, Kind: objections.RelationDonation, Peildatum: peil}))
	}
	must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "beta", Number: "0612345604", Kind: objections.RelationDonation, Peildatum: peil}))
	must[objections.Consent](t)(r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345604", GivenAt: peil}))
	must[objections.Consent](t)(r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345602", GivenAt: peil}))
	withdrawn := peil.Add(36*time.Hour + 123456*time.Microsecond)
	must[objections.Consent](t)(r.PutConsent(ctx, objections.Consent{Org: "acme", Number: "0612345605", PersonID: "p2", GivenAt: peil,
		WithdrawnAt: &withdrawn, Source: "crm", EvidenceRef: "form-9"}))
	must[objections.Relation](t)(r.PutRelation(ctx, objections.Relation{Org: "acme", Number: "0612345606", PersonID: "p2", Kind: objections.RelationPurchase, Peildatum: peil, Source: "shop"}))
	o, _ := record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345602", Source: objections.SourceAgent})
	record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345603", Source: objections.SourceAgent, PersonID: "p1"})
	must[objections.Objection](t)(r.Void(ctx, o.ID, "admin", "x"))
	record(t, r, objections.Objection{Org: "acme", RawNumber: "0612345602", Source: objections.SourceEmail})
	record(t, r, objections.Objection{Org: "beta", RawNumber: "0612345601", Source: objections.SourceAgent})

	numbers := []string{"+31612345601", "+31612345602", "+31612345603", "+31612345604", "+31612345605", "+31612345602", "+31612345606"}
	for _, org := range []string{"acme", "beta", "unknown"} {
		batch := must[[]objections.Facts](t)(s.FactsBatch(ctx, org, numbers))
		if len(batch) != len(numbers) {
			t.Fatalf("%s: %d facts for %d numbers", org, len(batch), len(numbers))
		}
		at := r.Now()
		for i, n := range numbers {
			one := must[objections.Facts](t)(s.Facts(ctx, org, n, ""))
			if got, want := canon(t, batch[i]), canon(t, one); got != want {
				t.Errorf("%s %s: batch facts\n%s\nwant\n%s", org, n, got, want)
			}
			if got, want := canon(t, objections.Decide(batch[i], n, "", at)), canon(t, objections.Decide(one, n, "", at)); got != want {
				t.Errorf("%s %s: batch decision %s, want %s", org, n, got, want)
			}
		}
	}
	// A store that reads one number's facts in one statement answers the
	// same as Facts, with and without a person.
	if fo, ok := s.(interface {
		FactsOne(ctx context.Context, org, number, person string) (objections.Facts, error)
	}); ok {
		for _, org := range []string{"acme", "beta", "unknown"} {
			for _, n := range numbers {
				for _, person := range []string{"", "p1", "p2"} {
					one := must[objections.Facts](t)(fo.FactsOne(ctx, org, n, person))
					want := must[objections.Facts](t)(s.Facts(ctx, org, n, person))
					if got, want := canon(t, one), canon(t, want); got != want {
						t.Errorf("%s %s %q: FactsOne\n%s\nwant\n%s", org, n, person, got, want)
					}
				}
			}
			if one, want := must[objections.Facts](t)(fo.FactsOne(ctx, org, "", "p1")), must[objections.Facts](t)(s.Facts(ctx, org, "", "p1")); canon(t, one) != canon(t, want) {
				t.Errorf("%s by person only: FactsOne %s, want %s", org, canon(t, one), canon(t, want))
			}
		}
	}
	if got := must[[]objections.Facts](t)(s.FactsBatch(ctx, "acme", nil)); len(got) != 0 {
		t.Fatalf("no numbers: %+v", got)
	}
}

// canon renders facts or a decision as JSON with empty lists and nil lists
// alike, so that the comparison is about content.
func canon(t *testing.T, v any) string {
	t.Helper()
	if f, ok := v.(objections.Facts); ok {
		if len(f.Objections) == 0 {
			f.Objections = nil
		}
		if len(f.Consents) == 0 {
			f.Consents = nil
		}
		if len(f.Relations) == 0 {
			f.Relations = nil
		}
		v = f
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
