package objections

import "time"

// ObjectionView is the stable JSON shape of an objection, flat, with its void:
// what `verzet objections list --json` prints and the /v1 API answers.
type ObjectionView struct {
	ID             string     `json:"id"`
	Org            string     `json:"org"`
	Number         string     `json:"number"`
	RawNumber      string     `json:"raw_number"`
	PersonID       string     `json:"person_id,omitempty"`
	Source         string     `json:"source"`
	Provider       string     `json:"provider,omitempty"`
	CallRef        string     `json:"call_ref"`
	DialerCallRef  string     `json:"dialer_call_ref,omitempty"`
	CampaignRef    string     `json:"campaign_ref"`
	LeadRef        string     `json:"lead_ref,omitempty"`
	AgentRef       string     `json:"agent_ref,omitempty"`
	OfferID        string     `json:"offer_id,omitempty"`
	Agency         string     `json:"agency,omitempty"`
	AgencyUnlisted bool       `json:"agency_unlisted,omitempty"`
	Note           string     `json:"note,omitempty"`
	Actor          string     `json:"actor,omitempty"`
	IdempotencyKey string     `json:"idempotency_key,omitempty"`
	ReceivedAt     time.Time  `json:"received_at"`
	Status         string     `json:"status"`
	VoidedAt       *time.Time `json:"voided_at,omitempty"`
	VoidedBy       string     `json:"voided_by,omitempty"`
	VoidReason     string     `json:"void_reason,omitempty"`
}

// View returns o in its stable JSON shape.
func (o Objection) View() ObjectionView {
	v := ObjectionView{ID: o.ID, Org: o.Org, Number: o.Number, RawNumber: o.RawNumber, PersonID: o.PersonID,
		Source: string(o.Source), Provider: o.Provider, CallRef: o.CallRef, DialerCallRef: o.DialerCallRef,
		CampaignRef: o.CampaignRef, LeadRef: o.LeadRef, AgentRef: o.AgentRef, OfferID: o.OfferID, Agency: o.Agency, AgencyUnlisted: o.AgencyUnlisted, Note: o.Note,
		Actor: o.Actor, IdempotencyKey: o.IdempotencyKey, ReceivedAt: o.ReceivedAt, Status: string(o.Status)}
	if o.Void != nil {
		at := o.Void.At
		v.VoidedAt, v.VoidedBy, v.VoidReason = &at, o.Void.Actor, o.Void.Reason
	}
	return v
}
