package sqlite

import (
	"context"

	"github.com/verzet/verzet/objections"
)

// NumberCandidates returns the numbers of the objections and offers m
// selects that match its suffix or prefix, in order, at most
// m.PageLimit(): a range on the indexed number_rev (the number reversed,
// migration 011) or on number, each side bounded before they are merged.
// None when m has neither.
func (s *Store) NumberCandidates(ctx context.Context, m objections.NumberMatch) ([]string, error) {
	lo, hi, reversed := m.Range()
	if lo == "" {
		return []string{}, nil
	}
	col := "number"
	if reversed {
		col = "number_rev"
	}
	var w where
	w.add(col+" >= ? AND "+col+" < ? AND number <> ''", lo, hi)
	w.eq("org", m.Org)
	w.scope("", m.Scope, true)
	limit := m.PageLimit()
	args := append(append(append([]any{}, w.args...), limit), w.args...)
	args = append(args, limit, limit)
	return queryAll(ctx, s.q(), "find numbers", func(r rowScanner) (string, error) {
		var n string
		return n, r.Scan(&n)
	}, `SELECT number FROM (SELECT DISTINCT number FROM objections`+w.sql()+` LIMIT ?)
		UNION SELECT number FROM (SELECT DISTINCT number FROM offers`+w.sql()+` LIMIT ?)
		ORDER BY number LIMIT ?`, args...)
}
