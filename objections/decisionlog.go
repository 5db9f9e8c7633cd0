package objections

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// DecisionRecord is one logged dial-time check: the honour evidence of
// docs/compliance.md §3.3 ("every pre-dial check result: allowed/blocked + reason +
// list version"). The API logs every blocked check one by one and counts
// the allowed ones (DecisionCount).
type DecisionRecord struct {
	ID        string    `json:"id"` // ULID (NewID of DecidedAt)
	DecidedAt time.Time `json:"decided_at"`
	Org       string    `json:"org"`
	Number    string    `json:"number"`
	PersonID  string    `json:"person_id,omitempty"`
	Callable  bool      `json:"callable"`
	Basis     Basis     `json:"basis"`
	Reasons   []Reason  `json:"reasons"`
	// ObjectionID is the objection that blocked the call, if any.
	ObjectionID string `json:"objection_id,omitempty"`
	// ListVersion is the Decision's: the event log position the facts were
	// read at.
	ListVersion int64 `json:"list_version"`
	// TokenName names the API token that asked (the dialer).
	TokenName string `json:"token_name,omitempty"`
}

// NewDecisionRecord returns the record of d, asked by the token named
// token. Its ID is left empty: the writer assigns it (NewID) once, so that a
// retried write repeats the same record.
func NewDecisionRecord(d Decision, token string) DecisionRecord {
	r := DecisionRecord{DecidedAt: d.At, Org: d.Org, Number: d.Number, PersonID: d.PersonID, Callable: d.Callable,
		Basis: d.Basis, Reasons: d.Reasons, ListVersion: d.ListVersion, TokenName: token}
	if d.Objection != nil {
		r.ObjectionID = d.Objection.ID
	}
	return r
}

// MainReason is the first reason, "" when there is none.
func (r DecisionRecord) MainReason() Reason {
	if len(r.Reasons) == 0 {
		return ""
	}
	return r.Reasons[0]
}

// JoinReasons renders reasons as stored: comma-separated, main first.
// Reason codes never hold a comma.
func JoinReasons(rs []Reason) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(r))
	}
	return b.String()
}

// SplitReasons reads what JoinReasons wrote.
func SplitReasons(s string) []Reason {
	out := []Reason{}
	if s == "" {
		return out
	}
	for _, r := range strings.Split(s, ",") {
		out = append(out, Reason(r))
	}
	return out
}

// DecisionCount is how many checks of one org on one day had one result
// and main reason: the aggregate evidence of §3.3, allowed and blocked
// alike.
type DecisionCount struct {
	Org string `json:"org"`
	// Day is the Europe/Amsterdam calendar day of the checks (DecisionDay),
	// as midnight UTC: the day the law's dates and the evidence pack use.
	Day      time.Time `json:"day"`
	Callable bool      `json:"callable"`
	Reason   Reason    `json:"reason"`
	Count    int64     `json:"count"`
}

// DecisionDay is the day a check at t counts for: its date in
// Europe/Amsterdam, as midnight UTC.
func DecisionDay(t time.Time) time.Time { return DateOf(t.In(amsterdam())) }

// MergeDecisionCounts adds up the counts of equal (org, day, callable,
// reason) and returns them sorted by that key. Stores upsert them in this
// order, so that two writers lock the same rows in the same order (no
// deadlock) and one statement never meets a key twice.
func MergeDecisionCounts(counts []DecisionCount) []DecisionCount {
	type key struct {
		org      string
		day      time.Time
		callable bool
		reason   Reason
	}
	idx := make(map[key]int, len(counts))
	var out []DecisionCount
	for _, c := range counts {
		c.Day = DateOf(c.Day)
		k := key{c.Org, c.Day, c.Callable, c.Reason}
		if i, ok := idx[k]; ok {
			out[i].Count += c.Count
			continue
		}
		idx[k] = len(out)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Org != b.Org:
			return a.Org < b.Org
		case !a.Day.Equal(b.Day):
			return a.Day.Before(b.Day)
		case a.Callable != b.Callable:
			return !a.Callable
		}
		return a.Reason < b.Reason
	})
	return out
}

// FirstBlock is the first logged blocked check that an objection caused:
// with the objection's ReceivedAt, the "commit to first blocked dial
// attempt" latency of §3.3.
type FirstBlock struct {
	ObjectionID string    `json:"objection_id"`
	At          time.Time `json:"at"`
}

// FirstBlocksOf returns, per objection named by a record of blocked, the
// earliest of its records, sorted by objection id: what a store offers to
// the first_blocks table of one AppendDecisions.
func FirstBlocksOf(blocked []DecisionRecord) []FirstBlock {
	first := map[string]time.Time{}
	for _, r := range blocked {
		if r.ObjectionID == "" {
			continue
		}
		if at, ok := first[r.ObjectionID]; !ok || r.DecidedAt.Before(at) {
			first[r.ObjectionID] = r.DecidedAt
		}
	}
	out := make([]FirstBlock, 0, len(first))
	for id, at := range first {
		out = append(out, FirstBlock{ObjectionID: id, At: at})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ObjectionID < out[j].ObjectionID })
	return out
}

// CheckDecisionRecords validates what AppendDecisions is given. EINVALID
// names the first bad field.
func CheckDecisionRecords(blocked []DecisionRecord, counts []DecisionCount) error {
	for _, r := range blocked {
		switch {
		case r.ID == "":
			return Invalid("id", "", "is empty: the writer assigns NewID(decided_at)")
		case r.Org == "":
			return Invalid("org", "", "is empty")
		case r.DecidedAt.IsZero():
			return Invalid("decided_at", "", "is zero")
		}
		for _, x := range r.Reasons {
			if strings.Contains(string(x), ",") {
				return Invalid("reasons", string(x), "holds a comma")
			}
		}
	}
	for _, c := range counts {
		switch {
		case c.Org == "":
			return Invalid("org", "", "is empty")
		case c.Count < 0:
			return Invalid("count", "", "is negative")
		}
	}
	return nil
}

// PrepareDecisions is what a store does before AppendDecisions writes:
// it checks blocked and counts (CheckDecisionRecords), brings the records'
// times to StoredTime, merges the counts (MergeDecisionCounts, the order
// the rows are upserted in) and finds the first blocks to note
// (FirstBlocksOf). blocked is copied, not changed.
func PrepareDecisions(blocked []DecisionRecord, counts []DecisionCount) ([]DecisionRecord, []DecisionCount, []FirstBlock, error) {
	if err := CheckDecisionRecords(blocked, counts); err != nil {
		return nil, nil, nil, err
	}
	recs := make([]DecisionRecord, len(blocked))
	for i, r := range blocked {
		r.DecidedAt = StoredTime(r.DecidedAt)
		recs[i] = r
	}
	return recs, MergeDecisionCounts(counts), FirstBlocksOf(recs), nil
}

// FirstBlockTimes returns the times of firsts by objection id, what a
// store's FirstBlocks answers.
func FirstBlockTimes(firsts []FirstBlock) map[string]time.Time {
	out := make(map[string]time.Time, len(firsts))
	for _, f := range firsts {
		out[f.ObjectionID] = f.At
	}
	return out
}

// DecisionsLimit is the number of records Decisions returns for a
// requested limit: limit when it is 1–1000, otherwise 100.
func DecisionsLimit(limit int) int {
	if limit <= 0 || limit > 1000 {
		return 100
	}
	return limit
}

// CheckPurgeLimit refuses a purge of no rows: EINVALID unless limit is
// positive.
func CheckPurgeLimit(limit int) error {
	if limit <= 0 {
		return Invalid("limit", strconv.Itoa(limit), "must be positive")
	}
	return nil
}

// DecisionFilter selects logged checks for a supervisor or an export:
// all orgs when Org is empty.
type DecisionFilter struct {
	Org string
	// Scope, when not empty, keeps the checks made for one of these orgs.
	Scope       []string
	Number      string    // E.164
	ObjectionID string    // the checks one objection blocked
	Since       time.Time // decided_at >= Since
	Until       time.Time // decided_at < Until
	// After is the cursor: the id of the last item of the previous page.
	After string
	Limit int // default 100, at most 1000
}

// PageLimit returns the effective page size of f.
func (f DecisionFilter) PageLimit() int { return PageLimit(f.Limit) }
