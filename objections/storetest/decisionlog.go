package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/verzet/verzet/objections"
)

// DecisionLog is the log of dial-time checks (migration 007) as
// objections/httpapi writes and reads it and objections/review reads it.
type DecisionLog interface {
	AppendDecisions(ctx context.Context, blocked []objections.DecisionRecord, counts []objections.DecisionCount) ([]objections.FirstBlock, error)
	Decisions(ctx context.Context, org, number string, limit int) ([]objections.DecisionRecord, error)
	ListDecisions(ctx context.Context, f objections.DecisionFilter) ([]objections.DecisionRecord, error)
	DecisionCounts(ctx context.Context, org string, from, to time.Time) ([]objections.DecisionCount, error)
	FirstBlocks(ctx context.Context, objectionIDs []string) (map[string]time.Time, error)
	PurgeDecisions(ctx context.Context, before time.Time, limit int) (int64, error)
}

// RunDecisionLog runs the suite of the dial-time decision log (docs/compliance.md
// §3.3 honour evidence) against the store open returns.
func RunDecisionLog(t *testing.T, open func(t *testing.T) DecisionLog) {
	suite[DecisionLog]{
		{"AppendAndRead", testDecisionsAppendRead},
		{"ListFiltersAndCursor", testListDecisions},
		{"Purge", testPurgeDecisions},
		{"RetryIsIdempotent", testDecisionsRetry},
		{"CountsAdd", testDecisionCountsAdd},
		{"ConcurrentCounts", testDecisionCountsConcurrent},
		{"FirstBlocks", testFirstBlocks},
		{"Invalid", testDecisionsInvalid},
	}.run(t, open)
}

var decT0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// blockedRecord is a check of org on number blocked by objection at t0+ms.
func blockedRecord(org, number, objection string, ms int) objections.DecisionRecord {
	at := decT0.Add(time.Duration(ms) * time.Millisecond)
	r := objections.DecisionRecord{ID: objections.NewID(at), DecidedAt: at, Org: org, Number: number, Basis: objections.BasisNone,
		Reasons: []objections.Reason{objections.ReasonObjection}, ObjectionID: objection, ListVersion: int64(ms), TokenName: "dialer-1"}
	if objection == "" {
		r.Reasons = []objections.Reason{objections.ReasonNoBasis}
	}
	return r
}

func testDecisionsAppendRead(t *testing.T, s DecisionLog) {
	ctx := context.Background()
	if got, err := s.AppendDecisions(ctx, nil, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty append = %v, %v", got, err)
	}
	full := blockedRecord("acme", "+31612345678", "01OBJECTIONA", 3)
	full.PersonID = "p-1"
	full.DecidedAt = full.DecidedAt.Add(123456 * time.Nanosecond) // stored to the microsecond
	full.Reasons = []objections.Reason{objections.ReasonObjection, objections.ReasonConsentVoidedByObjection}
	recs := []objections.DecisionRecord{
		blockedRecord("acme", "+31612345678", "", 1),
		full,
		blockedRecord("acme", "+31612345678", "01OBJECTIONA", 2),
		blockedRecord("acme", "+31687654321", "", 4),
		blockedRecord("beta", "+31612345678", "", 5),
	}
	if _, err := s.AppendDecisions(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	got := must[[]objections.DecisionRecord](t)(s.Decisions(ctx, "acme", "+31612345678", 10))
	if len(got) != 3 || got[0].ID != full.ID || got[1].ID != recs[2].ID || got[2].ID != recs[0].ID {
		t.Fatalf("decisions = %+v; want the three of acme on the number, newest first", got)
	}
	want := full
	want.DecidedAt = full.DecidedAt.Truncate(time.Microsecond)
	if a, b := fmt.Sprintf("%+v", got[0]), fmt.Sprintf("%+v", want); a != b {
		t.Fatalf("round trip:\n got %s\nwant %s", a, b)
	}
	if got[0].DecidedAt.Location() != time.UTC {
		t.Fatalf("decided_at in %v, want UTC", got[0].DecidedAt.Location())
	}
	if got[2].ObjectionID != "" || got[2].MainReason() != objections.ReasonNoBasis || got[2].Callable {
		t.Fatalf("record without objection = %+v", got[2])
	}
	if two := must[[]objections.DecisionRecord](t)(s.Decisions(ctx, "acme", "+31612345678", 2)); len(two) != 2 || two[0].ID != full.ID {
		t.Fatalf("limit 2 = %+v", two)
	}
	if other := must[[]objections.DecisionRecord](t)(s.Decisions(ctx, "beta", "+31612345678", 10)); len(other) != 1 || other[0].Org != "beta" {
		t.Fatalf("beta's decisions = %+v", other)
	}
	if none := must[[]objections.DecisionRecord](t)(s.Decisions(ctx, "acme", "+31600000000", 10)); len(none) != 0 {
		t.Fatalf("decisions on an unchecked number = %+v", none)
	}
}

// A flush retried after an uncertain commit does not log a check twice.
func testDecisionsRetry(t *testing.T, s DecisionLog) {
	ctx := context.Background()
	recs := []objections.DecisionRecord{blockedRecord("acme", "+31612345678", "", 1), blockedRecord("acme", "+31612345678", "", 2)}
	for range 2 {
		if _, err := s.AppendDecisions(ctx, recs, nil); err != nil {
			t.Fatal(err)
		}
	}
	if got := must[[]objections.DecisionRecord](t)(s.Decisions(ctx, "acme", "+31612345678", 10)); len(got) != 2 {
		t.Fatalf("%d decisions after a repeated append, want 2", len(got))
	}
}

func testDecisionCountsAdd(t *testing.T, s DecisionLog) {
	ctx := context.Background()
	day1, day2 := objections.DateOf(decT0), objections.DateOf(decT0.AddDate(0, 0, 1))
	counts := []objections.DecisionCount{
		{Org: "acme", Day: day1, Callable: true, Reason: objections.ReasonConsent, Count: 5},
		{Org: "acme", Day: day1, Callable: false, Reason: objections.ReasonObjection, Count: 2},
		{Org: "acme", Day: day1, Callable: true, Reason: objections.ReasonConsent, Count: 1}, // same key: merged
		{Org: "acme", Day: day2, Callable: false, Reason: "", Count: 1},
		{Org: "beta", Day: day1, Callable: true, Reason: objections.ReasonCustomerRelation, Count: 7},
	}
	if _, err := s.AppendDecisions(ctx, nil, counts); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendDecisions(ctx, []objections.DecisionRecord{blockedRecord("acme", "+31612345678", "", 1)},
		[]objections.DecisionCount{{Org: "acme", Day: day1, Callable: false, Reason: objections.ReasonObjection, Count: 3}}); err != nil {
		t.Fatal(err)
	}
	got := must[[]objections.DecisionCount](t)(s.DecisionCounts(ctx, "acme", day1, day2))
	want := []objections.DecisionCount{
		{Org: "acme", Day: day1, Callable: false, Reason: objections.ReasonObjection, Count: 5},
		{Org: "acme", Day: day1, Callable: true, Reason: objections.ReasonConsent, Count: 6},
		{Org: "acme", Day: day2, Callable: false, Reason: "", Count: 1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("counts =\n%v\nwant\n%v", got, want)
	}
	if one := must[[]objections.DecisionCount](t)(s.DecisionCounts(ctx, "acme", day2, day2)); len(one) != 1 || one[0].Count != 1 {
		t.Fatalf("counts of day 2 = %v", one)
	}
	if b := must[[]objections.DecisionCount](t)(s.DecisionCounts(ctx, "beta", day1, day1)); len(b) != 1 || b[0].Count != 7 {
		t.Fatalf("beta's counts = %v", b)
	}
}

// Writers of several instances add to the same rows at once: no count is
// lost and none deadlocks (the keys are written in one order).
func testDecisionCountsConcurrent(t *testing.T, s DecisionLog) {
	ctx := context.Background()
	day := objections.DateOf(decT0)
	const writers, rounds = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	for w := range writers {
		wg.Go(func() {
			for range rounds {
				// Each writer lists the keys in another order.
				counts := []objections.DecisionCount{
					{Org: "acme", Day: day, Callable: true, Reason: objections.ReasonConsent, Count: 1},
					{Org: "acme", Day: day, Callable: false, Reason: objections.ReasonObjection, Count: 2},
					{Org: "acme", Day: day, Callable: false, Reason: objections.ReasonNoBasis, Count: 3},
				}
				if w%2 == 1 {
					counts[0], counts[2] = counts[2], counts[0]
				}
				if _, err := s.AppendDecisions(ctx, nil, counts); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := must[[]objections.DecisionCount](t)(s.DecisionCounts(ctx, "acme", day, day))
	sums := map[objections.Reason]int64{}
	for _, c := range got {
		sums[c.Reason] = c.Count
	}
	n := int64(writers * rounds)
	if len(got) != 3 || sums[objections.ReasonConsent] != n || sums[objections.ReasonObjection] != 2*n || sums[objections.ReasonNoBasis] != 3*n {
		t.Fatalf("counts = %v; want %d, %d, %d", got, n, 2*n, 3*n)
	}
}

func testFirstBlocks(t *testing.T, s DecisionLog) {
	ctx := context.Background()
	a1, a2 := blockedRecord("acme", "+31612345678", "01OBJECTIONA", 20), blockedRecord("acme", "+31612345678", "01OBJECTIONA", 10)
	noObj := blockedRecord("acme", "+31687654321", "", 5)
	firsts := must[[]objections.FirstBlock](t)(s.AppendDecisions(ctx, []objections.DecisionRecord{a1, a2, noObj}, nil))
	if len(firsts) != 1 || firsts[0].ObjectionID != "01OBJECTIONA" || !firsts[0].At.Equal(a2.DecidedAt) {
		t.Fatalf("first blocks = %+v; want A at the earlier check %v", firsts, a2.DecidedAt)
	}
	// A later flush, even with an older check of A (another instance's),
	// keeps A's first block; B's is new.
	b1 := blockedRecord("acme", "+31611111111", "01OBJECTIONB", 30)
	a0 := blockedRecord("acme", "+31612345678", "01OBJECTIONA", 1)
	firsts = must[[]objections.FirstBlock](t)(s.AppendDecisions(ctx, []objections.DecisionRecord{b1, a0}, nil))
	if len(firsts) != 1 || firsts[0].ObjectionID != "01OBJECTIONB" || !firsts[0].At.Equal(b1.DecidedAt) {
		t.Fatalf("second first blocks = %+v; want only B", firsts)
	}
	if again := must[[]objections.FirstBlock](t)(s.AppendDecisions(ctx, []objections.DecisionRecord{b1}, nil)); len(again) != 0 {
		t.Fatalf("first blocks of a repeated append = %+v", again)
	}
	got := must[map[string]time.Time](t)(s.FirstBlocks(ctx, []string{"01OBJECTIONA", "01OBJECTIONB", "01OBJECTIONC"}))
	if len(got) != 2 || !got["01OBJECTIONA"].Equal(a2.DecidedAt) || !got["01OBJECTIONB"].Equal(b1.DecidedAt) {
		t.Fatalf("first blocks = %v", got)
	}
	if none := must[map[string]time.Time](t)(s.FirstBlocks(ctx, nil)); len(none) != 0 {
		t.Fatalf("first blocks of no ids = %v", none)
	}
}

func testDecisionsInvalid(t *testing.T, s DecisionLog) {
	ctx := context.Background()
	good := blockedRecord("acme", "+31612345678", "", 1)
	noID := good
	noID.ID = ""
	comma := good
	comma.Reasons = []objections.Reason{"a,b"}
	tests := []struct {
		name    string
		blocked []objections.DecisionRecord
		counts  []objections.DecisionCount
	}{
		{"no id", []objections.DecisionRecord{good, noID}, nil},
		{"reason with a comma", []objections.DecisionRecord{comma}, nil},
		{"count without org", nil, []objections.DecisionCount{{Day: decT0, Count: 1}}},
		{"negative count", nil, []objections.DecisionCount{{Org: "acme", Day: decT0, Count: -1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.AppendDecisions(ctx, tc.blocked, tc.counts); objections.ErrorCode(err) != objections.EINVALID {
				t.Fatalf("append: %v; want invalid", err)
			}
		})
	}
	// Nothing of a refused append was written.
	if got := must[[]objections.DecisionRecord](t)(s.Decisions(ctx, "acme", "+31612345678", 10)); len(got) != 0 {
		t.Fatalf("decisions after refused appends = %+v", got)
	}
}

// ListDecisions filters by org, number, objection and time, pages by id
// with the cursor, and lists every org when none is given.
func testListDecisions(t *testing.T, s DecisionLog) {
	ctx := context.Background()
	var recs []objections.DecisionRecord
	for i := range 25 {
		org, number, objection := "acme", "+31612345678", "01OBJECTIONA"
		switch i % 5 {
		case 1:
			number, objection = "+31687654321", ""
		case 2:
			org = "beta"
		case 3:
			objection = "01OBJECTIONB"
		}
		recs = append(recs, blockedRecord(org, number, objection, 10*i))
	}
	if _, err := s.AppendDecisions(ctx, recs, nil); err != nil {
		t.Fatal(err)
	}
	ids := func(list []objections.DecisionRecord) []string {
		out := make([]string, len(list))
		for i, r := range list {
			out[i] = r.ID
		}
		return out
	}
	want := func(keep func(i int, r objections.DecisionRecord) bool) []string {
		var out []string
		for i, r := range recs {
			if keep(i, r) {
				out = append(out, r.ID)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    objections.DecisionFilter
		keep func(i int, r objections.DecisionRecord) bool
	}{
		{"all orgs", objections.DecisionFilter{}, func(int, objections.DecisionRecord) bool { return true }},
		{"org", objections.DecisionFilter{Org: "acme"}, func(_ int, r objections.DecisionRecord) bool { return r.Org == "acme" }},
		{"org and number", objections.DecisionFilter{Org: "acme", Number: "+31687654321"},
			func(_ int, r objections.DecisionRecord) bool { return r.Org == "acme" && r.Number == "+31687654321" }},
		{"objection", objections.DecisionFilter{ObjectionID: "01OBJECTIONB"},
			func(_ int, r objections.DecisionRecord) bool { return r.ObjectionID == "01OBJECTIONB" }},
		{"since until", objections.DecisionFilter{Since: decT0.Add(50 * time.Millisecond), Until: decT0.Add(150 * time.Millisecond)},
			func(i int, _ objections.DecisionRecord) bool { return i >= 5 && i < 15 }},
	} {
		got := must[[]objections.DecisionRecord](t)(s.ListDecisions(ctx, tc.f))
		if w := want(tc.keep); fmt.Sprint(ids(got)) != fmt.Sprint(w) {
			t.Errorf("%s: %v, want %v", tc.name, ids(got), w)
		}
	}
	// Pages of 7 by cursor give every record once, in order.
	var paged []string
	f := objections.DecisionFilter{Limit: 7}
	for range 10 {
		page := must[[]objections.DecisionRecord](t)(s.ListDecisions(ctx, f))
		if len(page) > 7 {
			t.Fatalf("page of %d, limit 7", len(page))
		}
		paged = append(paged, ids(page)...)
		if len(page) < 7 {
			break
		}
		f.After = page[len(page)-1].ID
	}
	if fmt.Sprint(paged) != fmt.Sprint(ids(recs)) {
		t.Fatalf("paged = %v\nwant %v", paged, ids(recs))
	}
	if got := must[[]objections.DecisionRecord](t)(s.ListDecisions(ctx, objections.DecisionFilter{Org: "nobody"})); len(got) != 0 {
		t.Fatalf("unknown org: %v", got)
	}
}

// PurgeDecisions deletes the oldest records before the cutoff, at most
// limit at a time, and leaves the rest, the counts and the first blocks.
func testPurgeDecisions(t *testing.T, s DecisionLog) {
	ctx := context.Background()
	var recs []objections.DecisionRecord
	for i := range 10 {
		recs = append(recs, blockedRecord("acme", "+31612345678", "01OBJECTIONA", 1000*i))
	}
	count := objections.DecisionCount{Org: "acme", Day: decT0, Callable: false, Reason: objections.ReasonObjection, Count: 10}
	if _, err := s.AppendDecisions(ctx, recs, []objections.DecisionCount{count}); err != nil {
		t.Fatal(err)
	}
	cutoff := decT0.Add(6500 * time.Millisecond) // records 0–6 are older
	if n := must[int64](t)(s.PurgeDecisions(ctx, cutoff, 4)); n != 4 {
		t.Fatalf("first purge deleted %d, want the limit 4", n)
	}
	if n := must[int64](t)(s.PurgeDecisions(ctx, cutoff, 4)); n != 3 {
		t.Fatalf("second purge deleted %d, want the 3 older ones left", n)
	}
	if n := must[int64](t)(s.PurgeDecisions(ctx, cutoff, 4)); n != 0 {
		t.Fatalf("third purge deleted %d, want 0", n)
	}
	left := must[[]objections.DecisionRecord](t)(s.ListDecisions(ctx, objections.DecisionFilter{Org: "acme"}))
	if len(left) != 3 || left[0].ID != recs[7].ID {
		t.Fatalf("left after the purge: %d records, first %+v; want records 7–9", len(left), left)
	}
	counts := must[[]objections.DecisionCount](t)(s.DecisionCounts(ctx, "acme", decT0, decT0))
	if len(counts) != 1 || counts[0].Count != 10 {
		t.Fatalf("counts after the purge = %+v, want them kept", counts)
	}
	firsts := must[map[string]time.Time](t)(s.FirstBlocks(ctx, []string{"01OBJECTIONA"}))
	if !firsts["01OBJECTIONA"].Equal(recs[0].DecidedAt) {
		t.Fatalf("first block after the purge = %v, want it kept (%v)", firsts, recs[0].DecidedAt)
	}
	if _, err := s.PurgeDecisions(ctx, cutoff, 0); objections.ErrorCode(err) != objections.EINVALID {
		t.Fatalf("limit 0: %v, want EINVALID", err)
	}
}
