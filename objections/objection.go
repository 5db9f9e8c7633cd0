package objections

import (
	"strconv"
	"strings"
	"time"
)

// Source is the channel an objection came in through (REQ-8: any channel counts).
type Source string

// Sources.
const (
	SourceIVRTwilio    Source = "ivr-twilio"
	SourceIVRARI       Source = "ivr-ari"
	SourceAgent        Source = "agent"
	SourceCallbackLine Source = "callback-line"
	SourceEmail        Source = "email"
	SourceLetter       Source = "letter"
	SourceWeb          Source = "web"
	SourceAPI          Source = "api"
	SourceImport       Source = "import"
)

// Sources lists every valid source, in a stable order.
var sources = []Source{SourceIVRTwilio, SourceIVRARI, SourceAgent, SourceCallbackLine,
	SourceEmail, SourceLetter, SourceWeb, SourceAPI, SourceImport}

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	for _, v := range sources {
		if s == v {
			return true
		}
	}
	return false
}

// Status of an objection.
type Status string

// Statuses. An objection is never edited: voiding adds a Void event and the
// status is derived from it.
const (
	StatusActive        Status = "active"
	StatusVoided        Status = "voided"
	StatusPendingNumber Status = "pending_number" // number unknown; kept against dialer references (§5.11)
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	return s == StatusActive || s == StatusVoided || s == StatusPendingNumber
}

// Objection is the suppression event (docs/compliance.md §3.2). Once recorded it takes
// effect at once and blocks every telephone-marketing basis of the org for the
// number and, when known, the person.
type Objection struct {
	ID        string `json:"id"`
	Org       string `json:"org"`
	Number    string `json:"number"`     // E.164; empty when status is pending_number
	RawNumber string `json:"raw_number"` // as received, for audit
	PersonID  string `json:"person_id,omitempty"`
	// ReceivedAt is the server clock (UTC) when the objection was recorded;
	// it is also when it takes effect.
	ReceivedAt time.Time `json:"received_at"`
	Source     Source    `json:"source"`
	Provider   string    `json:"provider,omitempty"` // twilio, ari, …
	CallRef    string    `json:"call_ref,omitempty"` // provider call reference (CallSid, channel id)
	// Dialer references link the objection to the dialer's records, and carry
	// it when the number is unknown.
	DialerCallRef string `json:"dialer_call_ref,omitempty"`
	CampaignRef   string `json:"campaign_ref,omitempty"`
	LeadRef       string `json:"lead_ref,omitempty"`
	AgentRef      string `json:"agent_ref,omitempty"`
	OfferID       string `json:"offer_id,omitempty"`
	// Agency is the agency that made the call for Org, when one did. The
	// objection belongs to Org and is also on the agency's own list: it
	// blocks the agency's calls too (docs/compliance.md §5.1).
	Agency string `json:"agency,omitempty"`
	// AgencyUnlisted flags an objection made on a call by an agency that
	// Org did not list among its agencies when the objection was stored.
	// The objection counts all the same: a caller's objection is never
	// refused.
	AgencyUnlisted bool   `json:"agency_unlisted,omitempty"`
	Note           string `json:"note,omitempty"`
	Actor          string `json:"actor,omitempty"` // who recorded it: system, agent id, user
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	Status         Status `json:"status"`
	// Void is set when the objection was voided.
	Void *Void `json:"void,omitempty"`
}

// Void is the audited event that removes an objection (§5.5).
type Void struct {
	ObjectionID string    `json:"objection_id"`
	Actor       string    `json:"actor"`
	Reason      string    `json:"reason"`
	At          time.Time `json:"at"`
}

// MaxRef bounds the length of references and other short free text
// (call and dialer references, actors, person ids) in bytes.
const MaxRef = 256

// Prepare validates o and normalises its number with nums. A missing number
// is allowed when dialer references identify the call; the objection is then
// kept as pending_number. It returns EINVALID naming the field and value.
func (o *Objection) Prepare(nums Numbers) error {
	o.Org = strings.ToLower(strings.TrimSpace(o.Org))
	if err := ValidateOrgID(o.Org); err != nil {
		return err
	}
	if !o.Source.Valid() {
		return Invalid("source", string(o.Source), "must be one of %s", joinSources())
	}
	for _, f := range []struct{ name, v string }{
		{"person_id", o.PersonID}, {"provider", o.Provider}, {"call_ref", o.CallRef},
		{"dialer_call_ref", o.DialerCallRef}, {"campaign_ref", o.CampaignRef},
		{"lead_ref", o.LeadRef}, {"agent_ref", o.AgentRef}, {"offer_id", o.OfferID},
		{"actor", o.Actor}, {"idempotency_key", o.IdempotencyKey},
	} {
		if len(f.v) > MaxRef {
			return Invalid(f.name, f.v[:32]+"…", "is longer than %d characters", MaxRef)
		}
		if err := ValidText(f.name, f.v); err != nil {
			return err
		}
	}
	if err := validTexts("note", o.Note, "number", o.RawNumber); err != nil {
		return err
	}
	if err := prepareAgency(&o.Agency, o.Org); err != nil {
		return err
	}
	if len(o.Note) > 4000 {
		return Invalid("note", o.Note[:32]+"…", "is longer than 4000 characters")
	}
	if o.CallRef != "" && o.Provider == "" {
		return Invalid("provider", "", "is required with call_ref")
	}
	if strings.TrimSpace(o.RawNumber) == "" && o.Number != "" {
		o.RawNumber = o.Number
	}
	if strings.TrimSpace(o.RawNumber) == "" {
		if o.DialerCallRef == "" && o.LeadRef == "" && o.CallRef == "" && o.PersonID == "" {
			return Invalid("number", o.RawNumber, "is empty, and no person_id, dialer_call_ref, lead_ref or call_ref identifies the person")
		}
		o.Number = ""
		o.Status = StatusPendingNumber
		return nil
	}
	n, err := nums.Normalize(o.RawNumber)
	if err != nil {
		return err
	}
	o.Number = n
	o.Status = StatusActive
	return nil
}

func joinSources() string {
	s := make([]string, len(sources))
	for i, v := range sources {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

func itoa(i int) string { return strconv.Itoa(i) }

// ObjectionFilter selects objections. Zero fields match everything.
type ObjectionFilter struct {
	Org string
	// Scope, when not empty, keeps the objections whose org or agency is
	// one of these (a principal's orgs).
	Scope    []string
	Number   string // E.164
	Campaign string
	Source   Source
	Status   Status
	Since    time.Time // received_at >= Since
	Until    time.Time // received_at < Until
	// After is the cursor: the id of the last item of the previous page.
	After string
	Limit int // default 100, at most 1000
}

// PageLimit returns the effective page size of f.
func (f ObjectionFilter) PageLimit() int { return PageLimit(f.Limit) }

// Check refuses a status the stores cannot select by: EINVALID naming
// "status".
func (f ObjectionFilter) Check() error {
	switch f.Status {
	case "", StatusActive, StatusPendingNumber, StatusVoided:
		return nil
	}
	return Invalid("status", string(f.Status), "must be one of active, voided, pending_number")
}

// PageLimit returns the page size a list query uses for a requested limit
// n: 100 when n is 0 or less, at most 1000.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// prepareAgency normalises the agency of a record of org: empty, or an org
// id other than org.
func prepareAgency(agency *string, org string) error {
	*agency = strings.ToLower(strings.TrimSpace(*agency))
	if *agency == "" {
		return nil
	}
	if err := ValidateOrgID(*agency); err != nil {
		return Invalid("agency", *agency, "is not an org id: 1–64 lower-case letters, digits, '.', '-' and '_'")
	}
	if *agency == org {
		return Invalid("agency", *agency, "is the org itself: name the advertiser in org and the agency that called for it in agency")
	}
	return nil
}
