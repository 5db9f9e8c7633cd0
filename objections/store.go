package objections

import (
	"context"
	"time"
)

// Store is the register's storage. Implementations: objections/postgres and
// objections/sqlite; both pass the suite in objections/storetest.
//
// Values handed to the write methods have been prepared by Register (ids,
// times, normalised numbers); the store enforces uniqueness and idempotency
// in its schema and transactions, and appends every objection, void and offer
// to the hash-chained event log in the same transaction.
type Store interface {
	// SetOrg creates or replaces an org. EINVALID for a bad org.
	SetOrg(ctx context.Context, o Org) (Org, error)
	// Org returns one org; ENOTFOUND when it does not exist.
	Org(ctx context.Context, id string) (Org, error)
	// Orgs lists all orgs by id.
	Orgs(ctx context.Context) ([]Org, error)

	// RecordObjection stores o durably and returns it with created=true, or
	// returns the objection already stored with created=false when o repeats
	// one: the same (org, idempotency key), the same (provider, call ref), or
	// an org+number that already has an active objection. An unknown org is
	// created with DefaultOrg in the same transaction.
	RecordObjection(ctx context.Context, o Objection) (rec Objection, created bool, err error)
	// VoidObjection adds the void event; ENOTFOUND for an unknown id,
	// ECONFLICT when the objection was voided already.
	VoidObjection(ctx context.Context, v Void) (Objection, error)
	// Objection returns one objection with its void; ENOTFOUND.
	Objection(ctx context.Context, id string) (Objection, error)
	// Objections returns one page ordered by id (= time of receipt).
	Objections(ctx context.Context, f ObjectionFilter) ([]Objection, error)

	// StartOffer stores the in_progress record of an offer whose dialogue
	// begins, and appends EventOfferStarted. o follows the call's latest
	// offer (PreviousOfferID) unless it names one: a call offered again
	// after a restart or a takeover keeps one chain of offers. A repeat
	// (the same id, or the same call and previous offer) returns the
	// stored record with created=false. EINVALID unless o.Outcome is
	// in_progress.
	StartOffer(ctx context.Context, o Offer) (rec Offer, created bool, err error)
	// RecordOffer stores an offer's final record and appends
	// EventOfferRecorded. An offer started with StartOffer is completed in
	// place (same id; its instance and previous offer kept when o has
	// none); one that was completed or interrupted already is returned
	// with created=false. A new offer (one that was not started) from an
	// instance no earlier offer of the call came from follows the call's
	// latest offer; one that repeats a call's offer (same provider,
	// call ref and previous offer) returns the stored one with
	// created=false. An unknown org is created with DefaultOrg. EINVALID
	// for in_progress.
	RecordOffer(ctx context.Context, o Offer) (rec Offer, created bool, err error)
	// InterruptOffers closes every offer in_progress of the given
	// instances as interrupted, at at, with reason, and appends each
	// one's EventOfferRecorded; it returns the offers it closed.
	InterruptOffers(ctx context.Context, instances []string, reason string, at time.Time) ([]Offer, error)
	// Offer returns one offer; ENOTFOUND.
	Offer(ctx context.Context, id string) (Offer, error)
	// Offers returns one page ordered by id.
	Offers(ctx context.Context, f OfferFilter) ([]Offer, error)

	// PutRelation stores a customer relation; the same (org, number, person,
	// kind) replaces the peildatum when the new one is later.
	PutRelation(ctx context.Context, r Relation) (Relation, error)
	// PutConsent stores a consent; the same (org, number, person, channel,
	// given_at) is one consent whose withdrawal may be added.
	PutConsent(ctx context.Context, c Consent) (Consent, error)

	// Facts returns what Decide needs for org and number (and person when not
	// empty): the org (DefaultOrg, not stored, when unknown), its objections
	// on the number or person (voided ones with their void), and its
	// consents and relations on the number or person.
	Facts(ctx context.Context, org, number, person string) (Facts, error)

	EventReader
	// Ping checks that the store is reachable; EUNAVAILABLE when not.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Clock returns the current time; injected so tests control it.
type Clock func() time.Time

// FactsQuery is one Facts question: org and number (E.164), and the person
// when known. Stores that answer many at once take a slice of them.
type FactsQuery struct {
	Org, Number, Person string
}

// GroupFacts returns, for each of numbers, the facts of org on that
// number: what Facts(org.ID, number, "") returns, picked from objs,
// consents and relations read for all of numbers at once (in the order
// Facts gives them), at list version version. Repeated numbers get the
// same facts. The stores' FactsBatch read with one query per kind and
// group here.
func GroupFacts(org Org, version int64, numbers []string, objs []Objection, consents []Consent, relations []Relation) []Facts {
	by := make(map[string]*Facts, len(numbers))
	for _, n := range numbers {
		by[n] = &Facts{Org: org, ListVersion: version}
	}
	for _, x := range objs {
		if f := by[x.Number]; f != nil {
			f.Objections = append(f.Objections, x)
		}
	}
	for _, c := range consents {
		if f := by[c.Number]; f != nil {
			f.Consents = append(f.Consents, c)
		}
	}
	for _, r := range relations {
		if f := by[r.Number]; f != nil {
			f.Relations = append(f.Relations, r)
		}
	}
	out := make([]Facts, len(numbers))
	for i, n := range numbers {
		out[i] = *by[n]
	}
	return out
}
