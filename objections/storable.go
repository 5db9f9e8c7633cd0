package objections

import (
	"errors"
	"strings"
	"time"
)

// This file holds the checks both stores make before they write, once, so
// that they refuse the same input with the same error and keep the same
// values: each CheckStorable validates what a store's schema relies on in
// a record that Register (or the spool) prepared, and brings its times to
// what both stores keep (StoredTime: UTC, microseconds). The stores keep
// only their SQL. EINVALID names the field.

// CheckStorable checks an objection. An empty status is inferred from the
// number.
func (o *Objection) CheckStorable() error {
	if err := checkKeys(o.ID, o.Org); err != nil {
		return err
	}
	if o.ReceivedAt.IsZero() {
		return Invalid("received_at", "", "is required")
	}
	if o.Status == "" {
		o.Status = StatusActive
		if o.Number == "" {
			o.Status = StatusPendingNumber
		}
	}
	switch {
	case o.Status == StatusActive && o.Number == "":
		return Invalid("number", "", "is empty for an active objection")
	case o.Status == StatusPendingNumber && o.Number != "":
		return Invalid("status", string(o.Status), "is pending_number but the number is known")
	case o.Status != StatusActive && o.Status != StatusPendingNumber:
		return Invalid("status", string(o.Status), "must be active or pending_number when recorded")
	}
	if o.CallRef != "" && o.Provider == "" {
		return Invalid("provider", "", "is required with call_ref")
	}
	o.Void = nil
	o.ReceivedAt = StoredTime(o.ReceivedAt)
	return nil
}

// CheckStorable checks a void: the objection id and the time are required.
func (v *Void) CheckStorable() error {
	if strings.TrimSpace(v.ObjectionID) == "" {
		return Invalid("id", v.ObjectionID, "is empty")
	}
	if v.At.IsZero() {
		return Invalid("at", "", "is required")
	}
	v.At = StoredTime(v.At)
	return nil
}

// VoidedAlready is the ECONFLICT of voiding o, which was voided already.
func VoidedAlready(o Objection) error {
	return &Error{Code: ECONFLICT, Field: "id", Value: o.ID,
		Message: "was voided already at " + o.Void.At.Format(time.RFC3339)}
}

// CheckStorable checks an offer: id, org, provider, call reference and a
// valid outcome are required. Its keys are copied, so that the caller's
// are not changed.
func (o *Offer) CheckStorable() error {
	if err := checkKeys(o.ID, o.Org); err != nil {
		return err
	}
	if !o.Outcome.Valid() {
		return Invalid("outcome", string(o.Outcome), "is not an offer outcome")
	}
	if o.Provider == "" {
		return Invalid("provider", o.Provider, "is empty")
	}
	if o.CallRef == "" {
		return Invalid("call_ref", o.CallRef, "is empty")
	}
	o.StartedAt, o.EndedAt = StoredTime(o.StartedAt), StoredTime(o.EndedAt)
	keys := make([]Key, len(o.Keys))
	for i, k := range o.Keys {
		k.At = StoredTime(k.At)
		keys[i] = k
	}
	o.Keys = keys
	return nil
}

// CheckStart checks the in_progress record StartOffer stores.
func (o *Offer) CheckStart() error {
	if o.Outcome != OutcomeInProgress {
		return Invalid("outcome", string(o.Outcome), "must be in_progress when an offer starts")
	}
	return o.CheckStorable()
}

// CheckFinal checks the final record RecordOffer stores.
func (o *Offer) CheckFinal() error {
	if o.Outcome == OutcomeInProgress {
		return Invalid("outcome", string(o.Outcome), "is not final: start the offer with StartOffer")
	}
	return o.CheckStorable()
}

// Interrupted returns o, in_progress, closed as interrupted at at with
// reason: what was known when it started (played_ms so far, else 0; the
// keys stored), ended when it was closed.
func (o Offer) Interrupted(reason string, at time.Time) Offer {
	o.Outcome, o.EndedAt = OutcomeInterrupted, StoredTime(at)
	if o.Reason == "" {
		o.Reason = reason
	}
	if len(o.Reason) > MaxReason {
		o.Reason = o.Reason[:MaxReason]
	}
	return o
}

// OfferWrite is what a store does to write an offer, decided by
// PlanStart or PlanRecord from the offers the call has already, so that
// both stores follow the same rules (see Store.StartOffer and
// Store.RecordOffer).
type OfferWrite struct {
	// Repeat, when set, is the stored offer o repeats: nothing is written
	// and it is returned with created=false.
	Repeat *Offer
	// Complete: o completes its own in_progress row (an update), else o is
	// inserted.
	Complete bool
	// Rec is o as it is to be stored.
	Rec Offer
}

// PlanStart decides how StartOffer writes o. call holds the call's stored
// offers (same provider and call ref) in id order, which is time order.
func PlanStart(o Offer, call []Offer) OfferWrite {
	if c, ok := byID(o.ID, call); ok {
		return OfferWrite{Repeat: &c}
	}
	return follow(o, call, true)
}

// PlanRecord decides how RecordOffer writes the final record o. call holds
// the call's stored offers in id order.
func PlanRecord(o Offer, call []Offer) OfferWrite {
	if c, ok := byID(o.ID, call); ok {
		if c.Outcome != OutcomeInProgress {
			return OfferWrite{Repeat: &c}
		}
		if o.Instance == "" {
			o.Instance = c.Instance
		}
		if o.PreviousOfferID == "" {
			o.PreviousOfferID = c.PreviousOfferID
		}
		return OfferWrite{Complete: true, Rec: o}
	}
	return follow(o, call, false)
}

// follow links a new offer o to the call's offers. A dialogue that starts
// (start), or one that ends without having started (the store was away)
// on an instance no earlier offer of the call came from, follows the
// call's latest offer, unless it names its previous offer. A new offer whose
// previous offer another one follows already is a repeat of that one:
// with no previous offer, of the call's first (a record sent twice, or the
// same instance meeting the call again).
//
// An offer in_progress that o follows is left as it is: it may be a live
// dialogue (two Asterisk nodes can give two channels the same id), and the
// instance that stopped is the one whose offers are closed as interrupted
// (Store.InterruptOffers).
func follow(o Offer, call []Offer, start bool) OfferWrite {
	mine := false
	for _, c := range call {
		mine = mine || (o.Instance != "" && c.Instance == o.Instance)
	}
	successor := start || (o.Instance != "" && !mine)
	if o.PreviousOfferID == "" && successor && len(call) > 0 {
		o.PreviousOfferID = call[len(call)-1].ID
	}
	for _, c := range call {
		if c.PreviousOfferID == o.PreviousOfferID {
			return OfferWrite{Repeat: &c}
		}
	}
	return OfferWrite{Rec: o}
}

func byID(id string, call []Offer) (Offer, bool) {
	for _, c := range call {
		if c.ID == id {
			return c, true
		}
	}
	return Offer{}, false
}

// CheckStorable checks a relation: id, org, number and peildatum are
// required; the peildatum is kept as its calendar date (midnight UTC).
func (r *Relation) CheckStorable() error {
	if err := checkRecord(r.ID, r.Org, r.Number); err != nil {
		return err
	}
	if r.Peildatum.IsZero() {
		return Invalid("peildatum", "", "is required")
	}
	r.Peildatum, r.CreatedAt = DateOf(r.Peildatum), StoredTime(r.CreatedAt)
	return nil
}

// CheckStorable checks a consent: id, org, number and given_at are
// required, and a withdrawal must not come before given_at. An empty
// channel is the phone.
func (c *Consent) CheckStorable() error {
	if err := checkRecord(c.ID, c.Org, c.Number); err != nil {
		return err
	}
	if c.GivenAt.IsZero() {
		return Invalid("given_at", "", "is required")
	}
	if c.Channel == "" {
		c.Channel = ChannelPhone
	}
	c.GivenAt, c.CreatedAt = StoredTime(c.GivenAt), StoredTime(c.CreatedAt)
	if c.WithdrawnAt != nil {
		w := StoredTime(*c.WithdrawnAt)
		if w.Before(c.GivenAt) {
			return Invalid("withdrawn_at", w.Format(time.RFC3339), "is before given_at")
		}
		c.WithdrawnAt = &w
	}
	return nil
}

// OrgNotSetUp is the ENOTFOUND of a relation or consent for an org that
// was not set up: relations and consents are imported for known orgs, and
// an unknown one is a mistake to report, not one to create. The register
// adds the closest known ids (UnknownOrg).
func OrgNotSetUp(org string) error {
	return &Error{Code: ENOTFOUND, Field: "org", Value: org, Message: "is not set up: create the org first"}
}

// orgNotSetUp reports whether err is OrgNotSetUp.
func orgNotSetUp(err error) (string, bool) {
	var e *Error
	if errors.As(err, &e) && e.Code == ENOTFOUND && e.Field == "org" {
		return e.Value, true
	}
	return "", false
}

// checkRecord checks the keys of a relation or a consent: id, org and
// number.
func checkRecord(id, org, number string) error {
	if err := checkKeys(id, org); err != nil {
		return err
	}
	if number == "" {
		return Invalid("number", number, "is empty")
	}
	return nil
}

func checkKeys(id, org string) error {
	if strings.TrimSpace(id) == "" {
		return Invalid("id", id, "is empty")
	}
	return ValidateOrgID(org)
}
