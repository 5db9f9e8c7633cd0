package review

import (
	"context"
	"sort"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// checksData is the dashboard's "Dial-time checks" section: the honour
// evidence of docs/compliance.md §3.3 in aggregate. The counts are kept per org
// and day only, so the campaign filter does not apply to them.
type checksData struct {
	// NeedOrg is set when no org is chosen, NotOwn when the chosen one is
	// not one of the user's own orgs: the rest is empty.
	NeedOrg bool
	NotOwn  bool
	Allowed int
	Blocked int
	// ByObjection are the blocked checks whose main reason is an
	// objection: objections being honoured.
	ByObjection int
	Reasons     []reasonCount // blocked, most first
	Chart       chart
}

// Checks is how many checks there were.
func (c *checksData) Checks() int { return c.Allowed + c.Blocked }

type reasonCount struct {
	Reason objections.Reason
	Count  int
}

// checksOf reads the counts of org for the days from..to (Amsterdam
// midnights) for a user of scope; nil when the store keeps no decision
// log. An org's checks are its own: a user who sees it only as its agency,
// or not at all, is told they are not shown, whether the org exists or not.
func (s *Server) checksOf(ctx context.Context, l lexicon, scope access.Scope, org string, from, to time.Time) (*checksData, error) {
	if s.decisions == nil {
		return nil, nil
	}
	if org == "" {
		return &checksData{NeedOrg: true}, nil
	}
	if !scope.Has(org) {
		return &checksData{NotOwn: true}, nil
	}
	counts, err := s.decisions.DecisionCounts(ctx, org, from, to)
	if err != nil {
		return nil, err
	}
	d := &checksData{}
	type day struct{ allowed, blocked int }
	byDay := map[string]*day{}
	byReason := map[objections.Reason]int{}
	for _, c := range counts {
		k := c.Day.Format(dateLayout)
		if byDay[k] == nil {
			byDay[k] = &day{}
		}
		n := int(c.Count)
		if c.Callable {
			d.Allowed += n
			byDay[k].allowed += n
			continue
		}
		d.Blocked += n
		byDay[k].blocked += n
		byReason[c.Reason] += n
		if c.Reason == objections.ReasonObjection {
			d.ByObjection += n
		}
	}
	for r, n := range byReason {
		d.Reasons = append(d.Reasons, reasonCount{Reason: r, Count: n})
	}
	sort.Slice(d.Reasons, func(i, j int) bool {
		a, b := d.Reasons[i], d.Reasons[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Reason < b.Reason
	})
	var days []time.Time
	allowed := series{Class: "bar-allowed", Key: "checks.allowedOn"}
	blocked := series{Class: "bar-blocked", Key: "checks.blockedOn"}
	for t := from; !t.After(to); t = t.AddDate(0, 0, 1) {
		days = append(days, t)
		var n day
		if c := byDay[t.Format(dateLayout)]; c != nil {
			n = *c
		}
		allowed.N = append(allowed.N, n.allowed)
		blocked.N = append(blocked.N, n.blocked)
	}
	d.Chart = barChart(l, l.T("checks.perDay"), "checks.nothing", days, allowed, blocked)
	return d, nil
}
