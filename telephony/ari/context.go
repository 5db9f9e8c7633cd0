package ari

import (
	"strings"

	"github.com/verzet/verzet/ivr"
)

// Channel variables the dialplan sets before Stasis(). Each may also come
// as a Stasis argument name=value (without the VERZET_ prefix, any case):
// Stasis(verzet,org=acme,number=${LEAD_PHONE}). Arguments win over
// variables; a first argument without "=" is the org.
const (
	VarOrg = "VERZET_ORG"
	// VarAgency names the agency (call centre) that made the call for the
	// org, when one did.
	VarAgency     = "VERZET_AGENCY"
	VarCampaign   = "VERZET_CAMPAIGN"
	VarLead       = "VERZET_LEAD"
	VarAgent      = "VERZET_AGENT"
	VarDialerCall = "VERZET_DIALER_CALL"
	VarAnnounced  = "VERZET_ANNOUNCED"
	VarNumber     = "VERZET_NUMBER"
	VarLang       = "VERZET_LANG"
	// VarDirection is "inbound" or "outbound" (default): which party of the
	// channel is the customer when VERZET_NUMBER is not set.
	VarDirection = "VERZET_DIRECTION"

	// VarResult is set by the adapter before it hands a channel back to the
	// dialplan: the dialogue's outcome (objected, declined, no_input,
	// invalid_input, error), or "refused" when verzet did not take the call
	// (shutting down, no org); VarRefused then says why.
	VarResult  = "VERZET_RESULT"
	VarRefused = "VERZET_REFUSED"
)

// contextVars are read for every channel, in this order.
var contextVars = []string{VarOrg, VarAgency, VarCampaign, VarLead, VarAgent, VarDialerCall, VarAnnounced, VarNumber, VarLang, VarDirection}

// parseArgs reads Stasis arguments: name=value pairs, and a bare first
// argument as the org.
func parseArgs(args []string) map[string]string {
	out := map[string]string{}
	for i, a := range args {
		a = strings.TrimSpace(a)
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			if i == 0 && a != "" {
				out[VarOrg] = a
			}
			continue
		}
		k = strings.ToUpper(strings.TrimSpace(k))
		if !strings.HasPrefix(k, "VERZET_") {
			k = "VERZET_" + k
		}
		out[k] = strings.TrimSpace(v)
	}
	return out
}

// callInfo is what the adapter knows of a channel when its dialogue starts.
type callInfo struct {
	id        string
	vars      map[string]string // args and variables merged (args win)
	caller    string            // caller id number
	connected string            // connected line number
}

// ivrContext builds the dialogue's context. The customer's number is, in
// order:
//
//  1. VERZET_NUMBER — the dialer's own record of the number dialled. Set it
//     on every outbound call: docs/compliance.md §5.11 wants the number from the
//     dialer, not from caller id.
//  2. inbound (VERZET_DIRECTION=inbound: the customer called in): the
//     channel's caller id.
//  3. outbound (the default: the dialer called the customer and this is
//     the customer's channel): the channel's caller id too, because
//     Asterisk's Dial() gives an outgoing channel the dialled number as its
//     caller id and the calling side as its connected line — but only when
//     caller id and connected line differ. When they are equal (an
//     Originate with a CallerID sets both to the number presented to the
//     customer) the number is unknown, and the objection is kept against
//     the dialer references as pending_number (docs/compliance.md §5.11) rather
//     than against our own presented number.
//
// The connected line is never taken as the customer: on the customer's own
// channel it is the other party.
func ivrContext(c callInfo, defaultOrg string) ivr.Context {
	v := c.vars
	ctx := ivr.Context{
		Org: strings.ToLower(strings.TrimSpace(v[VarOrg])), CampaignRef: v[VarCampaign], LeadRef: v[VarLead], AgentRef: v[VarAgent],
		DialerCallRef: v[VarDialerCall], Announced: truthy(v[VarAnnounced]), Language: strings.ToLower(strings.TrimSpace(v[VarLang])),
		Provider: "ari", CallRef: c.id, Agency: strings.ToLower(strings.TrimSpace(v[VarAgency])),
	}
	if ctx.Org == "" {
		ctx.Org = defaultOrg
	}
	ctx.Number = customerNumber(v[VarNumber], v[VarDirection], c.caller, c.connected)
	return ctx
}

func customerNumber(explicit, direction, caller, connected string) string {
	if n := strings.TrimSpace(explicit); n != "" {
		return n
	}
	caller, connected = strings.TrimSpace(caller), strings.TrimSpace(connected)
	if inbound(direction) {
		return caller
	}
	if caller != "" && caller != connected {
		return caller
	}
	return ""
}

func inbound(direction string) bool {
	switch strings.ToLower(strings.TrimSpace(direction)) {
	case "in", "inbound", "incoming":
		return true
	}
	return false
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "y", "ja", "j", "on":
		return true
	}
	return false
}
