package storetest

import (
	"context"
	"testing"

	"github.com/verzet/verzet/objections"
)

// factsReaders are the store's ways of reading facts for org and number
// without a person: Facts, and FactsOne, FactsBatch and FactsMany when it
// has them.
func factsReaders(s objections.Store) map[string]func(ctx context.Context, org, number string) (objections.Facts, error) {
	out := map[string]func(ctx context.Context, org, number string) (objections.Facts, error){
		"Facts": func(ctx context.Context, org, number string) (objections.Facts, error) {
			return s.Facts(ctx, org, number, "")
		},
	}
	if fo, ok := s.(interface {
		FactsOne(ctx context.Context, org, number, person string) (objections.Facts, error)
	}); ok {
		out["FactsOne"] = func(ctx context.Context, org, number string) (objections.Facts, error) {
			return fo.FactsOne(ctx, org, number, "")
		}
	}
	if fb, ok := s.(interface {
		FactsBatch(ctx context.Context, org string, numbers []string) ([]objections.Facts, error)
	}); ok {
		out["FactsBatch"] = func(ctx context.Context, org, number string) (objections.Facts, error) {
			fs, err := fb.FactsBatch(ctx, org, []string{number})
			if err != nil || len(fs) != 1 {
				return objections.Facts{}, err
			}
			return fs[0], nil
		}
	}
	if fm, ok := s.(interface {
		FactsMany(ctx context.Context, qs []objections.FactsQuery) ([]objections.Facts, error)
	}); ok {
		out["FactsMany"] = func(ctx context.Context, org, number string) (objections.Facts, error) {
			fs, err := fm.FactsMany(ctx, []objections.FactsQuery{{Org: org, Number: number}})
			if err != nil || len(fs) != 1 {
				return objections.Facts{}, err
			}
			return fs[0], nil
		}
	}
	return out
}

// The list version of the facts is the event log's head: 0 when the log is
// empty, and it grows with every objection, void and offer, whichever
// number they are on; a relation (not in the log) leaves it.
func testListVersion(t *testing.T, open Open) {
	r, clk := newRegister(t, open)
	ctx := context.Background()
	s := r.Store()
	want := func(step string, version int64) {
		t.Helper()
		for name, read := range factsReaders(s) {
			for _, n := range []string{"+31612345678", "+31687654321"} {
				f, err := read(ctx, "acme", n)
				if err != nil {
					t.Fatalf("%s: %s: %v", step, name, err)
				}
				if f.ListVersion != version {
					t.Errorf("%s: %s %s: list version %d, want %d", step, name, n, f.ListVersion, version)
				}
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
