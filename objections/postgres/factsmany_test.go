package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/storetest"
)

// viaFactsOne answers Facts with FactsOne, so that the whole conformance
// suite checks that the one statement reads what the four statements read.
type viaFactsOne struct{ *Store }

func (s viaFactsOne) Facts(ctx context.Context, org, number, person string) (objections.Facts, error) {
	return s.FactsOne(ctx, org, number, person)
}

// viaFactsMany answers Facts with FactsMany, the question among others
// (the same number without the person, another org, the same person
// elsewhere), so that the suite also checks that answers are not crossed.
type viaFactsMany struct{ *Store }

func (s viaFactsMany) Facts(ctx context.Context, org, number, person string) (objections.Facts, error) {
	qs := []objections.FactsQuery{
		{Org: "zz-other", Number: number, Person: person},
		{Org: org, Number: number},
		{Org: org, Number: number, Person: person},
		{Org: org, Number: "+31600000000", Person: "nobody"},
	}
	fs, err := s.FactsMany(ctx, qs)
	if err != nil {
		return objections.Facts{}, err
	}
	if len(fs) != len(qs) {
		return objections.Facts{}, fmt.Errorf("%d answers for %d questions", len(fs), len(qs))
	}
	return fs[2], nil
}

func TestConformanceFactsOne(t *testing.T) {
	storetest.RunRegister(t, func(t *testing.T) objections.Store { return viaFactsOne{openStore(t)} })
}

func TestConformanceFactsMany(t *testing.T) {
	storetest.RunRegister(t, func(t *testing.T) objections.Store { return viaFactsMany{openStore(t)} })
}

func TestFactsManyEmpty(t *testing.T) {
	s := openStore(t)
	fs, err := s.FactsMany(context.Background(), nil)
	if err != nil || len(fs) != 0 {
		t.Fatalf("FactsMany(nil) = %v, %v", fs, err)
	}
}
