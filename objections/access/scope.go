package access

import (
	"slices"
	"strings"

	"github.com/verzet/verzet/objections"
)

// Scope is the orgs a token or a user reaches. Empty means every org: the
// meaning tokens and users had before scopes existed, and the one an
// operator of a single organisation wants.
//
// A principal scoped to an agency also reaches, for checks, scrubs and the
// objections of its own calls, the advertisers that list that agency (see
// objections.Org.Agencies); Reach works that out.
type Scope []string

// All reports whether s reaches every org.
func (s Scope) All() bool { return len(s) == 0 }

// Has reports whether s reaches org directly.
func (s Scope) Has(org string) bool { return s.All() || slices.Contains(s, org) }

// String lists the orgs, or says "every org".
func (s Scope) String() string {
	if s.All() {
		return "every org"
	}
	return strings.Join(s, ",")
}

// Normalize returns s with each id case-folded and checked, sorted and
// without repeats. EINVALID names field "org".
func (s Scope) Normalize() (Scope, error) {
	if len(s) == 0 {
		return nil, nil
	}
	if len(s) > 100 {
		return nil, objections.Invalid("org", strings.Join(s[:3], ",")+"…", "more than 100 orgs: leave the scope out to reach every org")
	}
	out := make(Scope, 0, len(s))
	for _, o := range s {
		o = strings.ToLower(strings.TrimSpace(o))
		if err := objections.ValidateOrgID(o); err != nil {
			return nil, err
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ParseScope reads a stored scope: org ids separated by commas, "" for
// every org.
func ParseScope(stored string) Scope { return objections.SplitIDs(stored) }

// Stored is the form ParseScope reads.
func (s Scope) Stored() string { return objections.JoinIDs(s) }

// Within reports whether every org of t is in s: a principal scoped to s
// may hand out a token or a user scoped to t. Every scope is within the
// empty one; the empty one is within no other.
func (t Scope) Within(s Scope) bool {
	if s.All() {
		return true
	}
	if t.All() {
		return false
	}
	for _, o := range t {
		if !slices.Contains(s, o) {
			return false
		}
	}
	return true
}

// Reads reports whether s may read a record of org made on a call by
// agency ("" when none): its own orgs' records, and those of its agencies'
// own calls.
func (s Scope) Reads(org, agency string) bool {
	return s.Has(org) || agency != "" && s.Has(agency)
}

// AgencyFor returns the org of s through which s acts for o as its agency
// ("" when none): o lists it among its agencies. An unscoped s needs none.
func (s Scope) AgencyFor(o objections.Org) string {
	for _, a := range s {
		if o.Allows(a) {
			return a
		}
	}
	return ""
}

// Sees reports whether s may see org o (in lists of orgs, selectors and
// unknown-org hints): its own orgs, and the advertisers that list one of
// them among their agencies.
func (s Scope) Sees(o objections.Org) bool { return s.Has(o.ID) || s.AgencyFor(o) != "" }

// AuditOrgs are the orgs an audited read by a principal of s concerns: the
// org it named, else s (empty: every org).
func (s Scope) AuditOrgs(org string) Scope {
	if org != "" {
		return Scope{org}
	}
	return s
}
