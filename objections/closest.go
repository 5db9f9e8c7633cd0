package objections

import (
	"context"
	"slices"
	"sort"
	"strings"
)

// Closest returns up to three of names that are near name — within a few
// edits, or starting with it — nearest first: the "did you mean" of a
// mistyped org id or command.
func Closest(name string, names []string) []string {
	maxDist := max(2, len(name)/3)
	type cand struct {
		name string
		d    int
	}
	var near []cand
	lower := strings.ToLower(name)
	for _, n := range names {
		d := editDistance(lower, strings.ToLower(n))
		if d <= maxDist || (len(name) >= 3 && strings.HasPrefix(strings.ToLower(n), lower)) {
			near = append(near, cand{n, d})
		}
	}
	sort.SliceStable(near, func(i, j int) bool { return near[i].d < near[j].d })
	var out []string
	for _, c := range near {
		if len(out) == 3 {
			break
		}
		out = append(out, c.name)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// UnknownOrg is the ENOTFOUND of an org id a person typed that no org has,
// naming the closest known ids (Error.Closest) so that a typo is caught
// where it was made: it must neither start a new org nor answer for one
// that holds no objections. field says where the id came from ("org", or
// the setting that gave it).
func UnknownOrg(field, id string, known []Org) *Error {
	ids := make([]string, len(known))
	for i, o := range known {
		ids[i] = o.ID
	}
	e := &Error{Code: ENOTFOUND, Field: field, Value: id}
	switch near := Closest(id, ids); {
	case len(ids) == 0:
		e.Message = "is not known: no org is set up yet"
	case len(near) > 0:
		e.Message = "is not known (did you mean " + strings.Join(near, " or ") + "?)"
		e.Closest = near
	default:
		shown := ids
		if len(shown) > 8 {
			shown = append(shown[:8:8], "…")
		}
		e.Message = "is not known (the orgs are " + strings.Join(shown, ", ") + ")"
	}
	return e
}

// KnownOrg returns the org with id, or UnknownOrg naming the closest ids
// when there is none. For what a person typed (CLI, API); calls create the
// org they name instead, so that no key press is ever refused.
func (r *Register) KnownOrg(ctx context.Context, field, id string) (Org, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if err := ValidateOrgID(id); err != nil {
		return Org{}, err
	}
	o, err := r.store.Org(ctx, id)
	if ErrorCode(err) != ENOTFOUND {
		return o, err
	}
	return Org{}, r.unknownOrg(ctx, field, id)
}

// KnownOrgAmong is KnownOrg for a caller who may see only some orgs: the
// closest ids it names are only those seen reports true for.
func (r *Register) KnownOrgAmong(ctx context.Context, field, id string, seen func(Org) bool) (Org, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if err := ValidateOrgID(id); err != nil {
		return Org{}, err
	}
	o, err := r.store.Org(ctx, id)
	if ErrorCode(err) != ENOTFOUND {
		return o, err
	}
	orgs, err := r.store.Orgs(ctx)
	if err != nil {
		return Org{}, err
	}
	return Org{}, UnknownOrg(field, id, slices.DeleteFunc(orgs, func(o Org) bool { return !seen(o) }))
}

// unknownOrg builds UnknownOrg from the orgs the store knows.
func (r *Register) unknownOrg(ctx context.Context, field, id string) error {
	orgs, err := r.store.Orgs(ctx)
	if err != nil {
		return err
	}
	return UnknownOrg(field, id, orgs)
}
