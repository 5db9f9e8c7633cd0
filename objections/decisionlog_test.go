package objections

import (
	"fmt"
	"testing"
	"time"
)

// Decide carries the facts' list version into the decision, and the
// record of a blocked decision carries it and the blocking objection.
func TestDecisionRecordOfDecide(t *testing.T) {
	const num = "+31612345678"
	at := ams(2026, 3, 2, 10, 0)
	o := Objection{ID: "o1", Org: "acme", Number: num, ReceivedAt: at.Add(-time.Minute), Status: StatusActive}
	f := Facts{Org: Org{ID: "acme", Sector: SectorCharity, RelationTermMonths: 36}, Objections: []Objection{o}, ListVersion: 42}
	d := Decide(f, num, "p1", at)
	if d.ListVersion != 42 || d.Callable {
		t.Fatalf("decision = %+v; want blocked at list version 42", d)
	}
	r := NewDecisionRecord(d, "dialer-1")
	want := DecisionRecord{DecidedAt: at.UTC(), Org: "acme", Number: num, PersonID: "p1", Basis: BasisNone,
		Reasons: []Reason{ReasonObjection}, ObjectionID: "o1", ListVersion: 42, TokenName: "dialer-1"}
	if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", want) {
		t.Fatalf("record =\n%+v\nwant\n%+v", r, want)
	}
	if r.MainReason() != ReasonObjection || (DecisionRecord{}).MainReason() != "" {
		t.Fatalf("main reasons: %q, %q", r.MainReason(), (DecisionRecord{}).MainReason())
	}
}

func TestJoinSplitReasons(t *testing.T) {
	tests := []struct {
		name    string
		reasons []Reason
		stored  string
	}{
		{"none", []Reason{}, ""},
		{"one", []Reason{ReasonNoBasis}, "no_basis"},
		{"two", []Reason{ReasonCustomerRelation, ReasonMustOfferObjection}, "customer_relation,must_offer_objection"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := JoinReasons(tc.reasons); got != tc.stored {
				t.Fatalf("join = %q, want %q", got, tc.stored)
			}
			if got := SplitReasons(tc.stored); fmt.Sprint(got) != fmt.Sprint(tc.reasons) || got == nil {
				t.Fatalf("split = %#v, want %#v", got, tc.reasons)
			}
		})
	}
}

// The day of a check is its Europe/Amsterdam date.
func TestDecisionDay(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"winter, before midnight UTC", time.Date(2026, 3, 2, 22, 59, 0, 0, time.UTC), "2026-03-02"},
		{"winter, after midnight in Amsterdam", time.Date(2026, 3, 2, 23, 0, 0, 0, time.UTC), "2026-03-03"},
		{"summer, after midnight in Amsterdam", time.Date(2026, 7, 1, 22, 30, 0, 0, time.UTC), "2026-07-02"},
		{"summer, before", time.Date(2026, 7, 1, 21, 59, 0, 0, time.UTC), "2026-07-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := DecisionDay(tc.at)
			if d.Format("2006-01-02") != tc.want || d.Location() != time.UTC || d.Hour() != 0 {
				t.Fatalf("day of %v = %v, want %s (midnight UTC)", tc.at, d, tc.want)
			}
		})
	}
}

// Equal keys add up; the result is sorted by org, day, callable (false
// first) and reason, the order stores lock rows in.
func TestMergeDecisionCounts(t *testing.T) {
	d1, d2 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
	in := []DecisionCount{
		{Org: "beta", Day: d1, Callable: true, Reason: ReasonConsent, Count: 1},
		{Org: "acme", Day: d2, Callable: false, Reason: ReasonObjection, Count: 2},
		{Org: "acme", Day: d1, Callable: true, Reason: ReasonConsent, Count: 3},
		{Org: "acme", Day: d1, Callable: false, Reason: ReasonObjection, Count: 4},
		{Org: "acme", Day: d1.Add(5 * time.Hour), Callable: true, Reason: ReasonConsent, Count: 5}, // same day
		{Org: "acme", Day: d1, Callable: false, Reason: ReasonNoBasis, Count: 6},
	}
	want := []DecisionCount{
		{Org: "acme", Day: d1, Callable: false, Reason: ReasonNoBasis, Count: 6},
		{Org: "acme", Day: d1, Callable: false, Reason: ReasonObjection, Count: 4},
		{Org: "acme", Day: d1, Callable: true, Reason: ReasonConsent, Count: 8},
		{Org: "acme", Day: d2, Callable: false, Reason: ReasonObjection, Count: 2},
		{Org: "beta", Day: d1, Callable: true, Reason: ReasonConsent, Count: 1},
	}
	if got := MergeDecisionCounts(in); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("merged =\n%v\nwant\n%v", got, want)
	}
}

// Each objection's first block in a batch is its earliest record;
// records without an objection have none.
func TestFirstBlocksOf(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	recs := []DecisionRecord{
		{ObjectionID: "b", DecidedAt: t0.Add(3 * time.Second)},
		{ObjectionID: "a", DecidedAt: t0.Add(2 * time.Second)},
		{DecidedAt: t0},
		{ObjectionID: "a", DecidedAt: t0.Add(time.Second)},
		{ObjectionID: "b", DecidedAt: t0.Add(4 * time.Second)},
	}
	got := FirstBlocksOf(recs)
	want := []FirstBlock{{ObjectionID: "a", At: t0.Add(time.Second)}, {ObjectionID: "b", At: t0.Add(3 * time.Second)}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("first blocks = %v, want %v", got, want)
	}
	if got := FirstBlocksOf(nil); len(got) != 0 {
		t.Fatalf("first blocks of nothing = %v", got)
	}
}
