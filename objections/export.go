package objections

import (
	"strconv"
	"strings"
	"time"
)

// The CSV shapes of an export, defined once: `verzet objections export`,
// the supervisor UI's export and GET /v1/objections/export,
// /v1/offers/export and /v1/decisions/export write these columns. Times are RFC 3339 as stored
// (UTC); an empty cell is an empty field. Every cell goes through CSVSafe:
// numbers, references and notes come from callers and dialers, and an
// export is opened in a spreadsheet.

// ExportHeader returns the column names of an objection export. agency
// is the agency that made the call (empty when none), agency_unlisted
// true when the org did not list it (see Objection.AgencyUnlisted); they
// come last, so that readers of the older columns by position still work.
func ExportHeader() []string {
	return []string{"id", "org", "number", "raw_number", "person_id", "source", "provider", "call_ref",
		"dialer_call_ref", "campaign_ref", "lead_ref", "agent_ref", "offer_id", "received_at", "status", "voided_at",
		"voided_by", "void_reason", "note", "agency", "agency_unlisted"}
}

// ExportRow returns o as one row under ExportHeader.
func ExportRow(o Objection) []string {
	var voidedAt, voidedBy, reason string
	if o.Void != nil {
		voidedAt, voidedBy, reason = o.Void.At.Format(time.RFC3339Nano), o.Void.Actor, o.Void.Reason
	}
	return safeRow([]string{o.ID, o.Org, o.Number, o.RawNumber, o.PersonID, string(o.Source), o.Provider, o.CallRef,
		o.DialerCallRef, o.CampaignRef, o.LeadRef, o.AgentRef, o.OfferID, o.ReceivedAt.Format(time.RFC3339Nano),
		string(o.Status), voidedAt, voidedBy, reason, o.Note, o.Agency, strconv.FormatBool(o.AgencyUnlisted)})
}

// OfferExportHeader returns the column names of an offer export. keys
// holds the key presses as digit@time, separated by spaces.
func OfferExportHeader() []string {
	return []string{"id", "org", "number", "presented_number", "provider", "call_ref", "dialer_call_ref",
		"campaign_ref", "lead_ref", "agent_ref", "announced", "started_at", "ended_at", "prompt_id", "prompt_version",
		"language", "prompt_hash", "played_ms", "barge_in", "keys", "outcome", "ended_by", "objection_id"}
}

// OfferExportRow returns o as one row under OfferExportHeader.
func OfferExportRow(o Offer) []string {
	keys := make([]string, len(o.Keys))
	for i, k := range o.Keys {
		keys[i] = k.Digit + "@" + k.At.Format(time.RFC3339Nano)
	}
	return safeRow([]string{o.ID, o.Org, o.Number, o.PresentedNumber, o.Provider, o.CallRef, o.DialerCallRef,
		o.CampaignRef, o.LeadRef, o.AgentRef, strconv.FormatBool(o.Announced), exportTime(o.StartedAt),
		exportTime(o.EndedAt), o.PromptID, o.PromptVersion, o.Language, o.PromptHash,
		strconv.FormatInt(o.PlayedMS, 10), strconv.FormatBool(o.BargeIn), strings.Join(keys, " "),
		string(o.Outcome), o.EndedBy, o.ObjectionID})
}

// DecisionExportHeader returns the column names of an export of logged
// dial-time checks; reasons are comma-separated, the main one first.
func DecisionExportHeader() []string {
	return []string{"id", "decided_at", "org", "number", "person_id", "callable", "basis", "reasons",
		"objection_id", "list_version", "token_name"}
}

// DecisionExportRow returns r as one row under DecisionExportHeader.
func DecisionExportRow(r DecisionRecord) []string {
	return safeRow([]string{r.ID, exportTime(r.DecidedAt), r.Org, r.Number, r.PersonID, strconv.FormatBool(r.Callable),
		string(r.Basis), JoinReasons(r.Reasons), r.ObjectionID, strconv.FormatInt(r.ListVersion, 10), r.TokenName})
}

// exportTime is t in RFC 3339, or empty when t is unset.
func exportTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

func safeRow(row []string) []string {
	for i := range row {
		row[i] = CSVSafe(row[i])
	}
	return row
}

// CSVSafe defuses spreadsheet formulas (CSV injection): a cell that starts
// with = @ tab or CR, or with + or - followed by anything but a phone
// number, gets a leading apostrophe. "+31612345678" stays as it is, so
// that numbers remain searchable in the file.
func CSVSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@', '\t', '\r':
		return "'" + s
	case '+', '-':
		if strings.Trim(s, "0123456789 +-()./") != "" {
			return "'" + s
		}
	}
	return s
}
