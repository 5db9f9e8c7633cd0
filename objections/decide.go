package objections

import (
	"sort"
	"time"
)

// Basis is the legal ground a call would rest on.
type Basis string

// Bases.
const (
	BasisConsent          Basis = "consent"
	BasisCustomerRelation Basis = "customer-relation"
	BasisNone             Basis = "none"
)

// Reason codes are stable strings: dialers branch on them and supervisors read
// them. Never rename one; add new ones.
type Reason string

// Reasons.
const (
	// Not callable.
	ReasonObjection                Reason = "objection"                   // an active objection blocks every basis (REQ-6)
	ReasonConsentVoidedByObjection Reason = "consent_voided_by_objection" // a consent older than the objection no longer counts (§5.4)
	ReasonNoBasis                  Reason = "no_basis"                    // neither consent nor customer relation
	ReasonRelationExpired          Reason = "relation_expired"            // peildatum is older than the org's term (REQ-12)
	ReasonSectorNoRelationBasis    Reason = "sector_no_relation_basis"    // sector lost the relation basis on 2026-07-01 (REQ-5)
	ReasonConsentWithdrawn         Reason = "consent_withdrawn"           // the phone consent was withdrawn
	// Callable.
	ReasonConsent            Reason = "consent"              // a valid phone consent (REQ-1)
	ReasonCustomerRelation   Reason = "customer_relation"    // a valid customer relation (REQ-2)
	ReasonMustOfferObjection Reason = "must_offer_objection" // the call must offer the right to object (REQ-3, REQ-4)
)

// RelationBasisEnd is when the customer-relation basis ends for sector
// "other": 2026-07-01 00:00 Europe/Amsterdam (REQ-5).
func RelationBasisEnd() time.Time {
	return time.Date(2026, 7, 1, 0, 0, 0, 0, amsterdam())
}

// Decision is the answer to "may this org call this number now?".
type Decision struct {
	Org      string    `json:"org"`
	Number   string    `json:"number"`
	PersonID string    `json:"person_id,omitempty"`
	At       time.Time `json:"at"`
	Callable bool      `json:"callable"`
	Basis    Basis     `json:"basis"`
	Reasons  []Reason  `json:"reasons"`
	// Objection is the objection that blocks the call, if any.
	Objection *Objection `json:"objection"`
	Consent   *Consent   `json:"consent,omitempty"`
	Relation  *Relation  `json:"relation,omitempty"`
	// ListVersion is Facts.ListVersion: the version of the suppression list
	// the decision was made on (docs/compliance.md §3.3).
	ListVersion int64 `json:"list_version"`
}

// Facts is what the store holds on one number (and person) for one org: the
// input of Decide.
type Facts struct {
	Org Org
	// Objections of the org on the number or the person, voided ones included.
	Objections []Objection
	Consents   []Consent
	Relations  []Relation
	// ListVersion is the position (Event.Seq) of the event log's head when
	// the facts were read, 0 for an empty log: the version of the
	// suppression list. Every objection and void up to it is in the facts
	// (stores read it first, or in the same snapshot).
	ListVersion int64
}

// OrgKnown reports whether the org of the facts is stored: for an unknown
// org the stores answer DefaultOrg, never stored, with a zero CreatedAt.
func (f Facts) OrgKnown() bool { return !f.Org.CreatedAt.IsZero() }

// Decide applies the rules of docs/compliance.md REQ-1, 2, 5, 6, 12 and §5 to facts at
// time at. It is pure: the same facts and time give the same decision.
//
// In order: an objection active at `at` (by number, or by person when known)
// blocks every basis, and voids every consent given at or before it; only a
// phone consent given after the latest objection makes the number callable
// again. Without an objection, a valid phone consent is the basis. Otherwise a
// customer relation is, while the sector allows it and its peildatum is within
// the org's term, and the call must offer the right to object.
func Decide(f Facts, number, person string, at time.Time) Decision {
	d := Decision{Org: f.Org.ID, Number: number, PersonID: person, At: at.UTC(), Basis: BasisNone, ListVersion: f.ListVersion}

	var latest *Objection
	for i := range f.Objections {
		o := &f.Objections[i]
		if !objectionApplies(o, number, person, at) {
			continue
		}
		if latest == nil || o.ReceivedAt.After(latest.ReceivedAt) {
			latest = o
		}
	}

	var consents []Consent
	for _, c := range f.Consents {
		if c.Channel == ChannelPhone && matches(c.Number, c.PersonID, number, person) && !c.GivenAt.After(at) {
			consents = append(consents, c)
		}
	}
	sort.Slice(consents, func(i, j int) bool { return consents[i].GivenAt.After(consents[j].GivenAt) })

	withdrawn := false
	for i := range consents {
		c := &consents[i]
		if latest != nil && !c.GivenAt.After(latest.ReceivedAt) {
			d.addReason(ReasonConsentVoidedByObjection)
			continue
		}
		if c.WithdrawnAt != nil && !c.WithdrawnAt.After(at) {
			withdrawn = true
			continue
		}
		// A valid consent: the newest one wins.
		cc := *c
		d.Callable, d.Basis, d.Consent = true, BasisConsent, &cc
		d.Reasons = []Reason{ReasonConsent}
		return d
	}
	if latest != nil {
		o := *latest
		d.Objection = &o
		d.Reasons = append([]Reason{ReasonObjection}, d.Reasons...)
		return d
	}
	if withdrawn {
		d.addReason(ReasonConsentWithdrawn)
	}

	var rel *Relation
	for i := range f.Relations {
		r := &f.Relations[i]
		if !matches(r.Number, r.PersonID, number, person) {
			continue
		}
		if rel == nil || r.Peildatum.After(rel.Peildatum) {
			rel = r
		}
	}
	switch {
	case rel == nil:
		if len(d.Reasons) == 0 {
			d.addReason(ReasonNoBasis)
		}
	case !SectorAllowsRelation(f.Org.Sector, at):
		d.addReason(ReasonSectorNoRelationBasis)
	case !RelationWithinTerm(rel.Peildatum, f.Org.RelationTermMonths, at):
		d.addReason(ReasonRelationExpired)
	default:
		r := *rel
		d.Callable, d.Basis, d.Relation = true, BasisCustomerRelation, &r
		d.Reasons = []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}
	}
	return d
}

func (d *Decision) addReason(r Reason) {
	for _, x := range d.Reasons {
		if x == r {
			return
		}
	}
	d.Reasons = append(d.Reasons, r)
}

// objectionApplies reports whether o blocks number/person at time at: it was
// received by then and not voided by then. An objection on the number blocks
// anyone at that number; one on the person blocks all of the person's numbers
// (§5.10).
func objectionApplies(o *Objection, number, person string, at time.Time) bool {
	if o.ReceivedAt.After(at) {
		return false
	}
	if o.Void != nil && !o.Void.At.After(at) {
		return false
	}
	if number != "" && o.Number == number {
		return true
	}
	return person != "" && o.PersonID == person
}

// matches reports whether a consent or relation held for (recNumber,
// recPerson) speaks for the person being called. A record for the same number
// counts unless it names another person; a record for the same person counts
// on any number.
func matches(recNumber, recPerson, number, person string) bool {
	if person != "" && recPerson == person {
		return true
	}
	if recNumber != number {
		return false
	}
	return person == "" || recPerson == "" || recPerson == person
}

// SectorAllowsRelation reports whether an org of sector s may still call on
// the customer-relation basis at time at (REQ-5).
func SectorAllowsRelation(s Sector, at time.Time) bool {
	if s == SectorCharity || s == SectorLottery || s == SectorPress {
		return true
	}
	return at.Before(RelationBasisEnd())
}

// RelationWithinTerm reports whether a relation with the given peildatum may
// still be used at time at, with a term of months. Dates are compared in
// Europe/Amsterdam; the last day of the term still counts. A peildatum in the
// future (a running contract) is within the term.
func RelationWithinTerm(peildatum time.Time, months int, at time.Time) bool {
	if months <= 0 {
		months = DefaultRelationTermMonths
	}
	p := DateOf(peildatum)
	last := addMonths(p, months)
	today := DateOf(at.In(amsterdam()))
	return !today.After(last)
}

// DateOf returns the calendar date of t (in t's own location) as midnight UTC.
func DateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// addMonths adds months to a date, clamping to the last day of the month
// (31 Jan + 1 month = 28/29 Feb, not 2/3 March).
func addMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	lastDay := first.AddDate(0, 1, -1).Day()
	if d > lastDay {
		d = lastDay
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}
