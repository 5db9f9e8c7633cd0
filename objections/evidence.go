package objections

import (
	"context"
	"time"
)

// The evidence pack: everything an org holds on one number (and person),
// the answer to a consumer's or the regulator's "what do you hold on me
// and why did you call" (docs/compliance.md REQ-10, REQ-14). The API
// (GET /v1/people/{number}/evidence) and the supervisors' UI gather it
// here, and each shows it its own way.

// MaxEvidenceOffers bounds the offers in one evidence pack; a number
// called more often than this is an anomaly the pack says it cut short.
const MaxEvidenceOffers = 10000

// MaxEvidenceChecks bounds the logged dial-time checks in one evidence
// pack: the newest are kept, and the pack says when there are more.
const MaxEvidenceChecks = 100

// EvidenceLog is what a pack reads of the log of dial-time checks.
type EvidenceLog interface {
	// Decisions returns up to limit logged checks of org on number,
	// newest first.
	Decisions(ctx context.Context, org, number string, limit int) ([]DecisionRecord, error)
	// FirstBlocks returns the first blocked check of each objection that
	// has one.
	FirstBlocks(ctx context.Context, objectionIDs []string) (map[string]time.Time, error)
}

// EvidenceSource is where a pack is read from.
type EvidenceSource struct {
	// Facts reads what Decide needs: the org, its objections (with their
	// voids), consents and relations on the number or the person.
	Facts func(ctx context.Context, org, number, person string) (Facts, error)
	// Offers lists the offers of a filter, oldest first.
	Offers interface {
		Offers(ctx context.Context, f OfferFilter) ([]Offer, error)
	}
	// Log is the log of dial-time checks; nil when the store keeps none.
	Log EvidenceLog
}

// Evidence is one org's evidence pack on a number (and person).
type Evidence struct {
	GeneratedAt time.Time
	Number      string
	Person      string
	// Facts are the org (DefaultOrg when unknown), its objections and
	// voids, consents and customer relations.
	Facts Facts
	// Decision is the callability answer at GeneratedAt (DecideNow).
	Decision Decision
	// Offers are the calls in which the right to object was offered on
	// the number, oldest first, at most MaxEvidenceOffers.
	Offers          []Offer
	OffersTruncated bool
	// Checks are the logged dial-time checks on the number, newest first,
	// at most MaxEvidenceChecks: every blocked one (allowed checks are
	// only counted). A check of the last fraction of a second may not be
	// written yet.
	Checks          []DecisionRecord
	ChecksTruncated bool
	// FirstBlocks has, per objection id, its first blocked dial-time
	// check, when the log has one (docs/compliance.md §3.3).
	FirstBlocks map[string]time.Time
	// HasLog is false when there is no log of dial-time checks: Checks
	// and FirstBlocks are then empty, not "none".
	HasLog bool
}

// GatherEvidence reads org's evidence pack on number (E.164) and person
// ("" when none) at time now. The read is the caller's to audit first.
func GatherEvidence(ctx context.Context, src EvidenceSource, org, number, person string, now time.Time) (Evidence, error) {
	f, err := src.Facts(ctx, org, number, person)
	if err != nil {
		return Evidence{}, err
	}
	ev := Evidence{GeneratedAt: now, Number: number, Person: person, Facts: f, Decision: DecideNow(f, number, person, now),
		Offers: []Offer{}, Checks: []DecisionRecord{}, FirstBlocks: map[string]time.Time{}}
	of := OfferFilter{Org: org, Number: number, Limit: 1000}
	for {
		list, err := src.Offers.Offers(ctx, of)
		if err != nil {
			return Evidence{}, err
		}
		ev.Offers = append(ev.Offers, list...)
		if len(ev.Offers) >= MaxEvidenceOffers {
			ev.Offers, ev.OffersTruncated = ev.Offers[:MaxEvidenceOffers], true
			break
		}
		if len(list) < of.PageLimit() {
			break
		}
		of.After = list[len(list)-1].ID
	}
	if src.Log == nil {
		return ev, nil
	}
	ev.HasLog = true
	checks, err := src.Log.Decisions(ctx, f.Org.ID, number, MaxEvidenceChecks+1)
	if err != nil {
		return Evidence{}, err
	}
	if len(checks) > MaxEvidenceChecks {
		checks, ev.ChecksTruncated = checks[:MaxEvidenceChecks], true
	}
	ev.Checks = append(ev.Checks, checks...)
	ids := make([]string, len(f.Objections))
	for i, o := range f.Objections {
		ids[i] = o.ID
	}
	firsts, err := src.Log.FirstBlocks(ctx, ids)
	if err != nil {
		return Evidence{}, err
	}
	for id, at := range firsts {
		ev.FirstBlocks[id] = at
	}
	return ev, nil
}

// DecideNow decides at now, or at the latest objection or void time among
// the facts when that is later. Every objection read from the store is
// committed, so it must count even when the instance that recorded it has
// a clock a few milliseconds ahead of this one's: "now" for a dial-time
// question means "after everything committed so far".
func DecideNow(f Facts, number, person string, now time.Time) Decision {
	at := now
	for _, o := range f.Objections {
		if o.ReceivedAt.After(at) {
			at = o.ReceivedAt
		}
		if o.Void != nil && o.Void.At.After(at) {
			at = o.Void.At
		}
	}
	return Decide(f, number, person, at)
}
