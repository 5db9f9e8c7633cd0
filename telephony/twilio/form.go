package twilio

import (
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/verzet/verzet/objections"
)

// webhook is the part of a Twilio voice request verzet reads. Twilio sends
// many more parameters and adds new ones without notice; they are covered
// by the signature and otherwise ignored.
type webhook struct {
	CallSid    string
	AccountSid string
	From, To   string
	Direction  string // inbound, outbound-api, outbound-dial, trunking-…
	CallStatus string // queued … in-progress, completed, busy, failed, no-answer, canceled
	// Digits are the keys a <Gather> collected; empty when none (Twilio
	// sends the parameter empty or leaves it out: both mean "no key").
	Digits string
	// Status callbacks.
	CallbackSource string
	SequenceNumber int64 // -1 when absent
	Timestamp      time.Time
}

var (
	// A Twilio SID is two letters and 32 hex digits.
	callSidPattern    = regexp.MustCompile(`^CA[0-9a-fA-F]{32}$`)
	accountSidPattern = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
)

// maxParam bounds each value verzet reads; Twilio's are far shorter.
const maxParam = 256

// parseWebhook decodes a form body that has already passed the signature
// check. It returns EINVALID naming the parameter and value when the body
// is not a form, a parameter appears twice (twilio-go's validator signs
// only the first value of each, so a second one could be forged), or a
// value verzet reads is malformed.
func parseWebhook(body []byte) (webhook, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return webhook{}, objections.Invalid("body", clip(string(body)), "is not a form (application/x-www-form-urlencoded): %v", err)
	}
	for k, vs := range form {
		if len(vs) > 1 {
			return webhook{}, objections.Invalid(clip(k), clip(strings.Join(vs, ",")), "appears %d times; Twilio sends each parameter once", len(vs))
		}
	}
	var w webhook
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"CallSid", &w.CallSid}, {"AccountSid", &w.AccountSid}, {"From", &w.From}, {"To", &w.To},
		{"Direction", &w.Direction}, {"CallStatus", &w.CallStatus}, {"Digits", &w.Digits},
		{"CallbackSource", &w.CallbackSource},
	} {
		v := form.Get(f.name)
		if len(v) > maxParam || !utf8.ValidString(v) {
			return webhook{}, objections.Invalid(f.name, clip(v), "is longer than %d bytes or not UTF-8", maxParam)
		}
		*f.dst = v
	}
	if !callSidPattern.MatchString(w.CallSid) {
		return webhook{}, objections.Invalid("CallSid", clip(w.CallSid), "must be CA followed by 32 hex digits")
	}
	if w.AccountSid != "" && !accountSidPattern.MatchString(w.AccountSid) {
		return webhook{}, objections.Invalid("AccountSid", clip(w.AccountSid), "must be AC followed by 32 hex digits")
	}
	if len(w.Digits) > 32 {
		return webhook{}, objections.Invalid("Digits", "…", "is longer than 32 keys")
	}
	for _, r := range w.Digits {
		if !objections.ValidDigit(string(r)) {
			// The value is not repeated: it is what the caller keyed.
			return webhook{}, objections.Invalid("Digits", "…", "holds a character that is not a DTMF key (0-9, *, #, A-D)")
		}
	}
	w.SequenceNumber = -1
	if s := form.Get("SequenceNumber"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return webhook{}, objections.Invalid("SequenceNumber", clip(s), "must be a whole number ≥ 0")
		}
		w.SequenceNumber = n
	}
	if s := form.Get("Timestamp"); s != "" {
		// RFC 2822 with a numeric zone: "Tue, 14 Oct 2025 09:41:27 +0000".
		// An unreadable one is ignored: it only sharpens the hang-up time.
		if t, err := time.Parse(time.RFC1123Z, s); err == nil {
			w.Timestamp = t.UTC()
		}
	}
	return w, nil
}

// terminal reports whether a CallStatus means the call has ended.
func terminal(status string) bool {
	switch status {
	case "completed", "busy", "failed", "no-answer", "canceled":
		return true
	}
	return false
}

// withheld are the values Twilio puts in From (or To) when the caller id is
// withheld or unknown, including its placeholder numbers for anonymous,
// unknown, unavailable, blocked and restricted callers.
var withheld = []string{"", "anonymous", "restricted", "unknown", "private", "unavailable", "blocked",
	"+266696687", "+86282452253", "+8656696", "+2562533", "+7378742833"}

// customerNumber picks the customer's number from a webhook: To on an
// outbound leg, From otherwise. presented is the other one: the number
// the customer saw (outbound) or dialled (inbound). Withheld numbers and
// client:/sip: addresses are "": the objection is then kept against the
// call and dialer references as pending_number.
func customerNumber(w webhook) (customer, presented string) {
	customer, presented = w.From, w.To
	if strings.HasPrefix(w.Direction, "outbound") {
		customer, presented = w.To, w.From
	}
	return phoneOnly(customer), phoneOnly(presented)
}

func phoneOnly(s string) string {
	s = strings.TrimSpace(s)
	if slices.Contains(withheld, strings.ToLower(s)) || strings.Contains(s, ":") {
		return ""
	}
	return s
}

// clip shortens a value for an error message.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// callParams is the context an integrator puts on the voice URL's query
// string; verzet copies it onto its own action URLs, so that every
// webhook of the call carries it.
type callParams struct {
	Org        string
	Agency     string // the agency that made the call for Org, if one did
	Campaign   string
	Lead       string
	Agent      string
	DialerCall string
	Announced  bool
	Lang       string
	Number     string // E.164 after normalisation; "" when not given
	rawNumber  string
}

// The query parameters of the voice URL; /twilio/gather also has step.
var paramNames = []string{"org", "agency", "campaign", "lead", "agent", "dialer_call", "announced", "lang", "number"}

// parseParams reads the context from a query string. extra names further
// parameters the endpoint accepts. EINVALID names the parameter and the
// value: an unknown parameter (a typo would silently drop context), an
// invalid org, a language the catalogue lacks, a number that is not a
// phone number.
func parseParams(q url.Values, langs []string, nums objections.Numbers, extra ...string) (callParams, error) {
	var p callParams
	for _, k := range slices.Sorted(maps.Keys(q)) {
		vs := q[k]
		if !slices.Contains(paramNames, k) && !slices.Contains(extra, k) {
			return p, objections.Invalid(clip(k), clip(q.Get(k)), "is not a parameter of verzet's Twilio URLs (%s)", strings.Join(append(slices.Clone(paramNames), extra...), ", "))
		}
		if len(vs) > 1 {
			return p, objections.Invalid(k, clip(strings.Join(vs, ",")), "is given %d times", len(vs))
		}
		if v := vs[0]; len(v) > maxParam || !utf8.ValidString(v) || strings.ContainsFunc(v, isControl) {
			return p, objections.Invalid(k, clip(v), "must be at most %d characters of printable UTF-8", maxParam)
		}
	}
	p.Org = strings.ToLower(strings.TrimSpace(q.Get("org")))
	if p.Org != "" {
		if err := objections.ValidateOrgID(p.Org); err != nil {
			return p, err
		}
	}
	p.Agency = strings.ToLower(strings.TrimSpace(q.Get("agency")))
	if p.Agency != "" {
		if objections.ValidateOrgID(p.Agency) != nil {
			return p, objections.Invalid("agency", clip(q.Get("agency")), "is not an org id: 1–64 lower-case letters, digits, '.', '-' and '_'")
		}
		if p.Agency == p.Org {
			return p, objections.Invalid("agency", p.Agency, "is the org itself: org names the advertiser, agency the call centre calling for it")
		}
	}
	p.Campaign, p.Lead, p.Agent, p.DialerCall = q.Get("campaign"), q.Get("lead"), q.Get("agent"), q.Get("dialer_call")
	switch a := q.Get("announced"); a {
	case "", "0", "false":
	case "1", "true":
		p.Announced = true
	default:
		return p, objections.Invalid("announced", clip(a), "must be 1 (the agent announced the option) or 0")
	}
	if p.Lang = strings.ToLower(q.Get("lang")); p.Lang != "" && !slices.Contains(langs, p.Lang) {
		return p, objections.Invalid("lang", clip(q.Get("lang")), "is not a language of the prompt catalogue (%s)", strings.Join(langs, ", "))
	}
	if p.rawNumber = q.Get("number"); p.rawNumber != "" {
		n, err := nums.Normalize(p.rawNumber)
		if err != nil {
			return p, err
		}
		p.Number = n
	}
	return p, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// query returns the parameters as verzet puts them on its action URLs:
// only those given, in a fixed order (url.Values.Encode sorts), with the
// number as given.
func (p callParams) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"org": p.Org, "agency": p.Agency, "campaign": p.Campaign, "lead": p.Lead, "agent": p.Agent,
		"dialer_call": p.DialerCall, "lang": p.Lang, "number": p.rawNumber} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if p.Announced {
		q.Set("announced", "1")
	}
	return q
}
