package objections

import (
	"strings"
	"time"
)

// Outcome of an offer (docs/compliance.md §3.1, docs/evidence.md).
type Outcome string

// Outcomes.
const (
	OutcomeObjected           Outcome = "objected"
	OutcomeDeclined           Outcome = "declined"
	OutcomeNoInput            Outcome = "no_input"
	OutcomeInvalidInput       Outcome = "invalid_input"
	OutcomeHangupDuringPrompt Outcome = "hangup_during_prompt"
	// OutcomeError: the offer could not be made or recorded (a prompt
	// that failed to play, a key press neither the store nor the spool
	// took); Offer.Reason says which.
	OutcomeError Outcome = "error"
	// OutcomeInProgress is the record of an offer that has started and
	// not ended yet: written when the dialogue begins, so that a crash
	// leaves a trace (Store.StartOffer).
	OutcomeInProgress Outcome = "in_progress"
	// OutcomeInterrupted closes an in_progress record whose dialogue was
	// lost (its instance stopped, or another dialogue took the call over)
	// with what was known when it started; Offer.Reason says why.
	OutcomeInterrupted Outcome = "interrupted"
)

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeObjected, OutcomeDeclined, OutcomeNoInput, OutcomeInvalidInput,
		OutcomeHangupDuringPrompt, OutcomeError, OutcomeInProgress, OutcomeInterrupted:
		return true
	}
	return false
}

// Final reports whether o ends an offer: every valid outcome but
// in_progress.
func (o Outcome) Final() bool { return o.Valid() && o != OutcomeInProgress }

// EndedBy says who ended the call.
const (
	EndedByCaller   = "caller"
	EndedBySystem   = "system"
	EndedByProvider = "provider"
)

// Key is one DTMF key press as evidence.
type Key struct {
	Digit string    `json:"digit"`
	At    time.Time `json:"at"`
	// Mode is how the key was detected, when the provider says (rfc4733, sip-info, inband).
	Mode string `json:"mode,omitempty"`
}

// Offer is the proof that the right to object was offered in one call: one
// record per IVR session (docs/compliance.md §3.1).
type Offer struct {
	ID              string `json:"id"`
	Org             string `json:"org"`
	Number          string `json:"number,omitempty"` // E.164 customer number; empty when unknown
	PresentedNumber string `json:"presented_number,omitempty"`
	Provider        string `json:"provider"`
	CallRef         string `json:"call_ref"`
	DialerCallRef   string `json:"dialer_call_ref,omitempty"`
	CampaignRef     string `json:"campaign_ref,omitempty"`
	LeadRef         string `json:"lead_ref,omitempty"`
	AgentRef        string `json:"agent_ref,omitempty"`
	// Agency is the agency that made the call for Org, when one did;
	// AgencyUnlisted flags an agency Org did not list (see Objection).
	Agency         string `json:"agency,omitempty"`
	AgencyUnlisted bool   `json:"agency_unlisted,omitempty"`
	// Announced is true when the agent announced the option during the
	// conversation (REQ-4).
	Announced     bool      `json:"announced"`
	PromptID      string    `json:"prompt_id,omitempty"`
	PromptVersion string    `json:"prompt_version,omitempty"`
	Language      string    `json:"language,omitempty"`
	PromptHash    string    `json:"prompt_hash,omitempty"` // content hash of the text/audio played
	PlayedMS      int64     `json:"played_ms"`
	BargeIn       bool      `json:"barge_in"`
	Keys          []Key     `json:"keys"`
	Outcome       Outcome   `json:"outcome"`
	EndedBy       string    `json:"ended_by,omitempty"`
	StartedAt     time.Time `json:"started_at"`
	EndedAt       time.Time `json:"ended_at"`
	// ObjectionID links the objection this offer produced, if any.
	ObjectionID string `json:"objection_id,omitempty"`
	// Reason says why the outcome is error or interrupted, e.g.
	// "playback_failed: sound:verzet/nl/offer-1 not found".
	Reason string `json:"reason,omitempty"`
	// Instance is the verzet instance that handled the offer (the id of its
	// heartbeat row, see Instance).
	Instance string `json:"instance,omitempty"`
	// PreviousOfferID links an offer made again on the same call (after a
	// restart or a takeover) to the one it follows, which was closed as
	// interrupted: one chain of offers per call.
	PreviousOfferID string `json:"previous_offer_id,omitempty"`
}

// MaxReason bounds Offer.Reason.
const MaxReason = 1000

// Prepare validates o and normalises its numbers. It returns EINVALID naming
// the field and value.
func (o *Offer) Prepare(nums Numbers) error {
	o.Org = strings.ToLower(strings.TrimSpace(o.Org))
	if err := ValidateOrgID(o.Org); err != nil {
		return err
	}
	if o.Provider == "" {
		return Invalid("provider", o.Provider, "is empty")
	}
	if o.CallRef == "" {
		return Invalid("call_ref", o.CallRef, "is empty")
	}
	for _, f := range []struct{ name, v string }{
		{"provider", o.Provider}, {"call_ref", o.CallRef}, {"dialer_call_ref", o.DialerCallRef},
		{"campaign_ref", o.CampaignRef}, {"lead_ref", o.LeadRef}, {"agent_ref", o.AgentRef},
		{"prompt_id", o.PromptID}, {"prompt_version", o.PromptVersion}, {"prompt_hash", o.PromptHash},
		{"ended_by", o.EndedBy}, {"objection_id", o.ObjectionID}, {"instance", o.Instance},
		{"previous_offer_id", o.PreviousOfferID},
	} {
		if len(f.v) > MaxRef {
			return Invalid(f.name, f.v[:32]+"…", "is longer than %d characters", MaxRef)
		}
		if err := ValidText(f.name, f.v); err != nil {
			return err
		}
	}
	if err := validTexts("number", o.Number, "presented_number", o.PresentedNumber, "language", o.Language, "reason", o.Reason); err != nil {
		return err
	}
	if err := prepareAgency(&o.Agency, o.Org); err != nil {
		return err
	}
	if len(o.Reason) > MaxReason {
		return Invalid("reason", o.Reason[:32]+"…", "is longer than %d characters", MaxReason)
	}
	if !o.Outcome.Valid() {
		return Invalid("outcome", string(o.Outcome), "must be one of objected, declined, no_input, invalid_input, hangup_during_prompt, error, in_progress, interrupted")
	}
	if o.Number != "" {
		n, err := nums.Normalize(o.Number)
		if err != nil {
			return err
		}
		o.Number = n
	}
	if o.PresentedNumber != "" {
		n, err := nums.Normalize(o.PresentedNumber)
		if err != nil {
			return &Error{Code: EINVALID, Field: "presented_number", Value: o.PresentedNumber, Message: "is not a valid phone number"}
		}
		o.PresentedNumber = n
	}
	if o.PlayedMS < 0 {
		return Invalid("played_ms", itoa(int(o.PlayedMS)), "is negative")
	}
	if len(o.Keys) > 64 {
		return Invalid("keys", itoa(len(o.Keys)), "more than 64 key presses")
	}
	for _, k := range o.Keys {
		if !ValidDigit(k.Digit) {
			return Invalid("keys.digit", k.Digit, "must be one of 0-9, *, #, A-D")
		}
		if err := ValidText("keys.mode", k.Mode); err != nil {
			return err
		}
	}
	if o.Keys == nil {
		o.Keys = []Key{}
	}
	return nil
}

// ValidDigit reports whether d is a single DTMF digit.
func ValidDigit(d string) bool {
	return len(d) == 1 && strings.Contains("0123456789*#ABCD", d)
}

// OfferFilter selects offers. Zero fields match everything.
type OfferFilter struct {
	Org string
	// Scope, when not empty, keeps the offers whose org or agency is one
	// of these (a principal's orgs).
	Scope    []string
	Number   string
	Campaign string
	Outcome  Outcome
	// Agent is the dialer's agent reference (Offer.AgentRef).
	Agent string
	Since time.Time
	Until time.Time
	After string
	Limit int
}

// PageLimit returns the effective page size of f.
func (f OfferFilter) PageLimit() int { return PageLimit(f.Limit) }
