package review

import (
	"context"
	"slices"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// DecisionLog is what the UI reads of the log of dial-time checks (both
// objections/sqlite and objections/postgres keep one): on an objection's
// page the checks it blocked and the first of them ("Dial attempts
// stopped"), on the dashboard one org's daily counts ("Dial-time checks"),
// in the evidence pack the checks on a number.
type DecisionLog interface {
	ListDecisions(ctx context.Context, f objections.DecisionFilter) ([]objections.DecisionRecord, error)
	Decisions(ctx context.Context, org, number string, limit int) ([]objections.DecisionRecord, error)
	FirstBlocks(ctx context.Context, objectionIDs []string) (map[string]time.Time, error)
	DecisionCounts(ctx context.Context, org string, from, to time.Time) ([]objections.DecisionCount, error)
}

const (
	// recentStops is how many of an objection's blocked checks the detail
	// page lists, newest first.
	recentStops = 20
	// maxCountedStops bounds the blocked checks one detail page reads to
	// count them: an objection a broken dialer hit day and night must not
	// make its page slow. Beyond it the page says "at least".
	maxCountedStops = 10000
	// stopsPage is one read of the count: the stores' largest page.
	stopsPage = 1000
)

// stoppedDials is the honour evidence of one objection (docs/compliance.md §3.3):
// the logged dial-time checks it blocked.
type stoppedDials struct {
	// Count is how many blocked checks are logged; a lower bound when
	// AtLeast is set (counting stopped at maxCountedStops).
	Count   int
	AtLeast bool
	// First is the first blocked check (zero when none), Latency how long
	// after the objection was received (committed) it came: the "commit
	// to first blocked dial attempt" latency of §3.3.
	First   time.Time
	Latency time.Duration
	// Recent are the newest blocked checks read, newest first, at most
	// recentStops. When AtLeast is set they are the newest of those
	// counted, not of all.
	Recent []objections.DecisionRecord
}

// Any reports whether the objection has blocked a dial attempt.
func (d *stoppedDials) Any() bool { return d.Count > 0 || !d.First.IsZero() }

// Shown reports whether Recent holds fewer than Count.
func (d *stoppedDials) Shown() bool { return len(d.Recent) < d.Count }

// stoppedDialsOf reads the checks o blocked that were made for an org of
// scope (an objection made on an agency's call also blocks the agency's
// own checks); nil when the store keeps no decision log.
func (s *Server) stoppedDialsOf(ctx context.Context, scope access.Scope, o objections.Objection) (*stoppedDials, error) {
	if s.decisions == nil {
		return nil, nil
	}
	d := &stoppedDials{}
	if scope.All() {
		// The first block of every org: a scoped user's is the first
		// logged one read below.
		firsts, err := s.decisions.FirstBlocks(ctx, []string{o.ID})
		if err != nil {
			return nil, err
		}
		if at, ok := firsts[o.ID]; ok {
			d.First = at
		}
	}
	// The log lists oldest first; the newest are the last ones read.
	var recent []objections.DecisionRecord
	f := objections.DecisionFilter{ObjectionID: o.ID, Scope: scope, Limit: stopsPage}
	for {
		list, err := s.decisions.ListDecisions(ctx, f)
		if err != nil {
			return nil, err
		}
		if d.Count == 0 && len(list) > 0 && d.First.IsZero() {
			d.First = list[0].DecidedAt // first_blocks has it, unless written by an older release
		}
		d.Count += len(list)
		recent = append(recent, list[max(0, len(list)-recentStops):]...)
		recent = recent[max(0, len(recent)-recentStops):]
		if len(list) < f.PageLimit() {
			break
		}
		if d.Count >= maxCountedStops {
			d.AtLeast = true
			break
		}
		f.After = list[len(list)-1].ID
	}
	slices.Reverse(recent)
	d.Recent = recent
	if !d.First.IsZero() {
		d.Latency = d.First.Sub(o.ReceivedAt)
	}
	return d, nil
}
