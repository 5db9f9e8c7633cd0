package objections

import (
	"strings"
	"time"
)

// RelationKind is how the customer relation arose (REQ-2).
type RelationKind string

// Relation kinds.
const (
	RelationPurchase      RelationKind = "purchase"
	RelationDonation      RelationKind = "donation"
	RelationVolunteer     RelationKind = "volunteer"
	RelationManifestation RelationKind = "manifestation"
	RelationService       RelationKind = "service"
)

// Valid reports whether k is a known kind.
func (k RelationKind) Valid() bool {
	switch k {
	case RelationPurchase, RelationDonation, RelationVolunteer, RelationManifestation, RelationService:
		return true
	}
	return false
}

// Relation is a customer relation: the basis for calling without consent
// while the org's sector allows it and the peildatum is within the term.
type Relation struct {
	ID       string       `json:"id"`
	Org      string       `json:"org"`
	Number   string       `json:"number"` // E.164
	PersonID string       `json:"person_id,omitempty"`
	Kind     RelationKind `json:"kind"`
	// Peildatum is the end of the contract or donorship, or the last purchase:
	// the date the klanttermijn counts from. Only the calendar date counts
	// (Europe/Amsterdam); it is stored as midnight UTC of that date.
	Peildatum time.Time `json:"peildatum"`
	Source    string    `json:"source,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Prepare validates r and normalises its number; EINVALID names the field.
func (r *Relation) Prepare(nums Numbers) error {
	r.Org = strings.ToLower(strings.TrimSpace(r.Org))
	if err := ValidateOrgID(r.Org); err != nil {
		return err
	}
	if err := validTexts("number", r.Number, "person_id", r.PersonID, "source", r.Source); err != nil {
		return err
	}
	n, err := nums.Normalize(r.Number)
	if err != nil {
		return err
	}
	r.Number = n
	if !r.Kind.Valid() {
		return Invalid("kind", string(r.Kind), "must be one of purchase, donation, volunteer, manifestation, service")
	}
	if r.Peildatum.IsZero() {
		return Invalid("peildatum", "", "is required")
	}
	r.Peildatum = DateOf(r.Peildatum)
	if len(r.PersonID) > MaxRef || len(r.Source) > MaxRef {
		return Invalid("person_id", r.PersonID, "is longer than %d characters", MaxRef)
	}
	return nil
}

// ConsentChannel is the channel a consent covers.
type ConsentChannel string

// Consent channels.
const (
	ChannelPhone ConsentChannel = "phone"
	ChannelEmail ConsentChannel = "email"
	ChannelSMS   ConsentChannel = "sms"
)

// Valid reports whether c is a known channel.
func (c ConsentChannel) Valid() bool {
	return c == ChannelPhone || c == ChannelEmail || c == ChannelSMS
}

// Consent is an opt-in. A phone consent given before an objection is void
// (REQ-6, §5.4); only one given after it restores calling.
type Consent struct {
	ID          string         `json:"id"`
	Org         string         `json:"org"`
	Number      string         `json:"number"`
	PersonID    string         `json:"person_id,omitempty"`
	Channel     ConsentChannel `json:"channel"`
	GivenAt     time.Time      `json:"given_at"`
	WithdrawnAt *time.Time     `json:"withdrawn_at,omitempty"`
	Source      string         `json:"source,omitempty"`
	EvidenceRef string         `json:"evidence_ref,omitempty"`
	CreatedAt   time.Time      `json:"created_at"`
}

// Prepare validates c and normalises its number; EINVALID names the field.
func (c *Consent) Prepare(nums Numbers) error {
	c.Org = strings.ToLower(strings.TrimSpace(c.Org))
	if err := ValidateOrgID(c.Org); err != nil {
		return err
	}
	if err := validTexts("number", c.Number, "person_id", c.PersonID, "source", c.Source, "evidence_ref", c.EvidenceRef); err != nil {
		return err
	}
	n, err := nums.Normalize(c.Number)
	if err != nil {
		return err
	}
	c.Number = n
	if c.Channel == "" {
		c.Channel = ChannelPhone
	}
	if !c.Channel.Valid() {
		return Invalid("channel", string(c.Channel), "must be one of phone, email, sms")
	}
	if c.GivenAt.IsZero() {
		return Invalid("given_at", "", "is required")
	}
	c.GivenAt = c.GivenAt.UTC()
	if c.WithdrawnAt != nil {
		w := c.WithdrawnAt.UTC()
		if w.Before(c.GivenAt) {
			return Invalid("withdrawn_at", w.Format(time.RFC3339), "is before given_at")
		}
		c.WithdrawnAt = &w
	}
	if len(c.PersonID) > MaxRef || len(c.Source) > MaxRef || len(c.EvidenceRef) > MaxRef {
		return Invalid("evidence_ref", c.EvidenceRef, "is longer than %d characters", MaxRef)
	}
	return nil
}

// ClockSkew is how far a time sent to the register may be ahead of the
// server's clock and still count as now: clients' clocks drift.
const ClockSkew = 5 * time.Minute

// checkPast refuses a peildatum after today (in Europe/Amsterdam, allowing
// ClockSkew): a relation that ends in the future would keep the relation
// basis alive until then. EINVALID names the field.
func (r *Relation) checkPast(now time.Time) error {
	today := DateOf(now.Add(ClockSkew).In(amsterdam()))
	if r.Peildatum.After(today) {
		return Invalid("peildatum", r.Peildatum.Format("2006-01-02"), "is after today (%s): it is the date the relation ended or was last used, which cannot be in the future", today.Format("2006-01-02"))
	}
	return nil
}

// checkPast refuses a given_at or a withdrawn_at after now (allowing
// ClockSkew): a consent dated in the future would override every objection
// made before that date. EINVALID names the field.
func (c *Consent) checkPast(now time.Time) error {
	limit := now.Add(ClockSkew)
	if c.GivenAt.After(limit) {
		return Invalid("given_at", c.GivenAt.Format(time.RFC3339), "is in the future: a consent counts from when it was given, which cannot be later than now")
	}
	if c.WithdrawnAt != nil && c.WithdrawnAt.After(limit) {
		return Invalid("withdrawn_at", c.WithdrawnAt.Format(time.RFC3339), "is in the future: record a withdrawal when it is made")
	}
	return nil
}
