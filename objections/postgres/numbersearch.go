package postgres

import (
	"context"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// NumberCandidates returns the numbers of the objections and offers m
// selects that match its suffix or prefix, in order, at most
// m.PageLimit(): a range, in byte order, on the reversed number or on the
// number, each indexed (migration 011), and each side bounded before they
// are merged. None when m has neither.
func (s *Store) NumberCandidates(ctx context.Context, m objections.NumberMatch) ([]string, error) {
	lo, hi, reversed := m.Range()
	if lo == "" {
		return []string{}, nil
	}
	// The expressions of the indexes objections_number_rev and
	// objections_number_c (and offers_…), written as they are.
	col := `(number COLLATE "C")`
	if reversed {
		col = `(reverse(number) COLLATE "C")`
	}
	var w where
	w.add(col + " >= " + w.arg(lo) + " AND " + col + " < " + w.arg(hi) + " AND number <> ''")
	w.eq("org", m.Org)
	w.scope("", m.Scope, true)
	limit := strconv.Itoa(m.PageLimit())
	return queryAll(ctx, s.pool, "find numbers", pgx.RowTo[string],
		`(SELECT DISTINCT number FROM objections`+w.sql()+` LIMIT `+limit+`)
		UNION (SELECT DISTINCT number FROM offers`+w.sql()+` LIMIT `+limit+`)
		ORDER BY number LIMIT `+limit, w.args...)
}
