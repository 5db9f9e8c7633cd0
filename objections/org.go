package objections

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Sector says which exemption an organisation relies on for the
// customer-relation basis after 1 July 2026 (docs/compliance.md REQ-5).
type Sector string

// Sectors.
const (
	SectorCharity Sector = "charity" // charitable or idealistic: donors, volunteers, manifestations
	SectorLottery Sector = "lottery" // charity lotteries
	SectorPress   Sector = "press"   // publishers of newspapers and magazines
	SectorOther   Sector = "other"   // everyone else: no customer-relation basis from 2026-07-01
)

// Valid reports whether s is a known sector.
func (s Sector) Valid() bool {
	switch s {
	case SectorCharity, SectorLottery, SectorPress, SectorOther:
		return true
	}
	return false
}

// DefaultRelationTermMonths is the Code Telemarketing klanttermijn (REQ-12).
const DefaultRelationTermMonths = 36

// DefaultLanguage is the language of prompts when an org sets none.
const DefaultLanguage = "nl"

// Org is the legal entity whose calls are objected to. An objection applies to
// the whole entity (docs/compliance.md §5.1).
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name"` // spoken in prompts
	// Sector decides whether the customer-relation basis survives 2026-07-01.
	Sector Sector `json:"sector"`
	// RelationTermMonths is how long after the peildatum a relation may be used.
	RelationTermMonths int `json:"relation_term_months"`
	// TermJustification references the written justification that a term over
	// 36 months needs (REQ-12); required when the term is longer.
	TermJustification string `json:"term_justification,omitempty"`
	Language          string `json:"language"`
	// IVR holds the org's dialogue settings; zero values mean the defaults.
	IVR IVRSettings `json:"ivr"`
	// Kind says whether the org is an advertiser (the party the calls are
	// made for; the default) or an agency (a call centre calling for
	// advertisers).
	Kind OrgKind `json:"kind"`
	// Agencies lists the agencies allowed to call for this advertiser
	// (sorted ids of orgs of kind agency); empty for an agency.
	Agencies []string `json:"agencies,omitempty"`
	// AutoCreated marks an org that was met during a call before anyone set it
	// up; a supervisor must review it.
	AutoCreated bool      `json:"auto_created"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// DefaultOrg returns the org created when an unknown id is met during a call,
// so that no key press is ever refused for it.
func DefaultOrg(id string, now time.Time) Org {
	return Org{
		ID: id, Name: id, Sector: SectorOther, Kind: OrgAdvertiser,
		RelationTermMonths: DefaultRelationTermMonths, Language: DefaultLanguage,
		AutoCreated: true, CreatedAt: now, UpdatedAt: now,
	}
}

// DefaultAgency returns the org created when an unknown agency id is met
// during a call: DefaultOrg of kind agency.
func DefaultAgency(id string, now time.Time) Org {
	o := DefaultOrg(id, now)
	o.Kind = OrgAgency
	return o
}

// OrgKind says what part an org plays in a call.
type OrgKind string

// Org kinds.
const (
	// OrgAdvertiser is the party calls are made for, and the one an
	// objection is made to (docs/compliance.md §5.1).
	OrgAdvertiser OrgKind = "advertiser"
	// OrgAgency is a call centre that calls for advertisers that allow it.
	OrgAgency OrgKind = "agency"
)

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool { return k == OrgAdvertiser || k == OrgAgency }

// Allows reports whether agency may call for o.
func (o Org) Allows(agency string) bool {
	for _, a := range o.Agencies {
		if a == agency {
			return true
		}
	}
	return false
}

// ValidateOrgID checks an org id: 1–64 characters of [a-z0-9._-], case-folded.
func ValidateOrgID(id string) error {
	if id == "" {
		return Invalid("org", id, "is empty")
	}
	if len(id) > 64 {
		return Invalid("org", id, "is longer than 64 characters")
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return Invalid("org", id, "may hold only lower-case letters, digits, '.', '-' and '_'")
		}
	}
	return nil
}

// Normalize fills defaults and validates o. It returns EINVALID naming the
// field and value of the first problem.
func (o *Org) Normalize() error {
	o.ID = strings.ToLower(strings.TrimSpace(o.ID))
	if err := ValidateOrgID(o.ID); err != nil {
		return err
	}
	o.Name = strings.TrimSpace(o.Name)
	if err := validTexts("name", o.Name, "term_justification", o.TermJustification, "language", o.Language); err != nil {
		return err
	}
	if o.Name == "" {
		return Invalid("name", o.Name, "is empty")
	}
	if utf8.RuneCountInString(o.Name) > 128 {
		return Invalid("name", o.Name, "is longer than 128 characters")
	}
	if o.Sector == "" {
		o.Sector = SectorOther
	}
	if !o.Sector.Valid() {
		return Invalid("sector", string(o.Sector), "must be one of charity, lottery, press, other")
	}
	if o.RelationTermMonths == 0 {
		o.RelationTermMonths = DefaultRelationTermMonths
	}
	if o.RelationTermMonths < 0 || o.RelationTermMonths > 240 {
		return Invalid("relation_term_months", itoa(o.RelationTermMonths), "must be between 1 and 240")
	}
	if o.RelationTermMonths > DefaultRelationTermMonths && strings.TrimSpace(o.TermJustification) == "" {
		return Invalid("relation_term_months", itoa(o.RelationTermMonths),
			"a term over 36 months needs a recorded justification reference (term_justification)")
	}
	if o.Language == "" {
		o.Language = DefaultLanguage
	}
	if err := ValidateLanguage(o.Language); err != nil {
		return err
	}
	if err := o.normalizeAgencies(); err != nil {
		return err
	}
	return o.IVR.Validate()
}

// IVRSettings configure the post-call dialogue for one org. The IVR applies
// its defaults to zero values.
type IVRSettings struct {
	// Profile is "nl" (offer, key, confirmation) or "us" (opt-out key from
	// the first second, record and end the call, no confirmation step).
	Profile    string `json:"profile,omitempty"`
	KeyObject  string `json:"key_object,omitempty"`  // default 1
	KeyDecline string `json:"key_decline,omitempty"` // default 2
	TimeoutMS  int    `json:"timeout_ms,omitempty"`  // wait for a key after the offer; default 6000
	MaxInvalid int    `json:"max_invalid,omitempty"` // re-offers after an invalid key; default 2
	MaxNoInput int    `json:"max_no_input,omitempty"`
	// AfterDialogue is "hangup" (default) or "continue": hand the call back
	// to the Asterisk dialplan so integrators can chain.
	AfterDialogue string `json:"after_dialogue,omitempty"`
	// OnError is what happens to a call whose offer could not be made (a
	// prompt that failed to play, outcome error): "handback" (default)
	// hands it back to the Asterisk dialplan with VERZET_RESULT=error, so
	// that the dialplan can take it elsewhere; "hangup" ends it. Either way
	// the caller is not left in silence.
	OnError string `json:"on_error,omitempty"`
	// TwilioVoices are the Twilio text-to-speech voices that speak the
	// org's prompts, per language ("nl=Polly.Lotte,en=Polly.Amy"; a bare
	// voice is for every language; see ParseVoices): on Twilio calls in
	// such a language the texts, the org's name included, are spoken with
	// <Say> instead of playing the audio.
	TwilioVoices string `json:"twilio_voices,omitempty"`
}

// Validate checks the settings; EINVALID names the field.
func (s IVRSettings) Validate() error {
	switch s.Profile {
	case "", "nl", "us":
	default:
		return Invalid("ivr.profile", s.Profile, "must be nl or us")
	}
	for _, k := range []struct{ name, v string }{{"ivr.key_object", s.KeyObject}, {"ivr.key_decline", s.KeyDecline}} {
		if k.v != "" && (len(k.v) != 1 || !strings.Contains("0123456789*#", k.v)) {
			return Invalid(k.name, k.v, "must be one key: 0-9, * or #")
		}
	}
	if s.KeyObject != "" && s.KeyObject == s.KeyDecline {
		return Invalid("ivr.key_decline", s.KeyDecline, "must differ from the objection key")
	}
	if s.TimeoutMS != 0 && (s.TimeoutMS < 1000 || s.TimeoutMS > 60000) {
		return Invalid("ivr.timeout_ms", itoa(s.TimeoutMS), "must be between 1000 and 60000")
	}
	if s.MaxInvalid < 0 || s.MaxInvalid > 5 {
		return Invalid("ivr.max_invalid", itoa(s.MaxInvalid), "must be between 0 and 5")
	}
	if s.MaxNoInput < 0 || s.MaxNoInput > 5 {
		return Invalid("ivr.max_no_input", itoa(s.MaxNoInput), "must be between 0 and 5")
	}
	switch s.AfterDialogue {
	case "", "hangup", "continue":
	default:
		return Invalid("ivr.after_dialogue", s.AfterDialogue, "must be hangup or continue")
	}
	switch s.OnError {
	case "", "handback", "hangup":
	default:
		return Invalid("ivr.on_error", s.OnError, "must be handback or hangup")
	}
	if _, err := ParseVoices("ivr.twilio_voices", s.TwilioVoices); err != nil {
		return err
	}
	return nil
}

// ParseVoices reads text-to-speech voices per language: a bare voice for
// every language ("Polly.Lotte", key "") or lang=voice pairs
// ("nl=Polly.Lotte,en=Polly.Amy"). "" is none. EINVALID names field and
// the malformed entry.
func ParseVoices(field, s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	voices := map[string]string{}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		lang, name, per := strings.Cut(entry, "=")
		if !per {
			lang, name = "", entry
		}
		lang, name = strings.ToLower(strings.TrimSpace(lang)), strings.TrimSpace(name)
		if name == "" || len(name) > 64 || strings.ContainsAny(name, " <>&\"'=") || (per && ValidateLanguage(lang) != nil) {
			return nil, Invalid(field, entry, "must be a voice (Polly.Lotte) or lang=voice pairs (nl=Polly.Lotte,en=Polly.Amy)")
		}
		if _, dup := voices[lang]; dup {
			return nil, Invalid(field, entry, "names a language twice")
		}
		voices[lang] = name
	}
	return voices, nil
}

// ValidateLanguage accepts a two- or three-letter lower-case language code.
func ValidateLanguage(lang string) error {
	if len(lang) < 2 || len(lang) > 3 {
		return Invalid("language", lang, "must be a two- or three-letter code such as nl or en")
	}
	for _, r := range lang {
		if r < 'a' || r > 'z' {
			return Invalid("language", lang, "must be a two- or three-letter code such as nl or en")
		}
	}
	return nil
}

// normalizeAgencies checks Kind and Agencies: ids sorted and unique, never
// the org itself, and none on an agency.
func (o *Org) normalizeAgencies() error {
	if o.Kind == "" {
		o.Kind = OrgAdvertiser
	}
	if !o.Kind.Valid() {
		return Invalid("kind", string(o.Kind), "must be advertiser or agency")
	}
	if len(o.Agencies) == 0 {
		o.Agencies = nil
		return nil
	}
	if o.Kind == OrgAgency {
		return Invalid("agencies", strings.Join(o.Agencies, ","), "an agency has no agencies: only an advertiser lists the agencies that may call for it")
	}
	if len(o.Agencies) > 100 {
		return Invalid("agencies", itoa(len(o.Agencies)), "more than 100 agencies")
	}
	seen := make(map[string]bool, len(o.Agencies))
	out := make([]string, 0, len(o.Agencies))
	for _, a := range o.Agencies {
		a = strings.ToLower(strings.TrimSpace(a))
		if ValidateOrgID(a) != nil {
			return Invalid("agencies", a, "is not an org id: 1–64 lower-case letters, digits, '.', '-' and '_'")
		}
		if a == o.ID {
			return Invalid("agencies", a, "is the org itself")
		}
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	slices.Sort(out)
	o.Agencies = out
	return nil
}

// JoinIDs is how the stores keep a list of org ids: comma-separated ("" for
// none). SplitIDs reads it back.
func JoinIDs(ids []string) string { return strings.Join(ids, ",") }

// SplitIDs reads a list written by JoinIDs; nil for "".
func SplitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
