package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

// Facts returns what Decide needs for org and number (and person when not
// empty), read in one snapshot: the org (DefaultOrg, not stored, when
// unknown), the org's objections on the number or the person with their
// voids, and the org's consents and relations on the number or the person,
// with the list version (the event log's last seq) of that snapshot.
func (s *Store) Facts(ctx context.Context, org, number, person string) (objections.Facts, error) {
	var f objections.Facts
	err := s.read(ctx, "read facts", func(tx dbtx) error {
		var err error
		if f.ListVersion, err = listVersion(ctx, tx); err != nil {
			return err
		}
		if f.Org, err = factsOrg(ctx, tx, org); err != nil {
			return err
		}

		q, args := scopedObjections(org, number, person)
		if f.Objections, err = queryAll(ctx, tx, "read facts: read objections", scanObjection, q, args...); err != nil {
			return err
		}
		q, args = scoped(`SELECT `+consentColumns+` FROM consents`, "", org, number, person, "given_at, id")
		if f.Consents, err = queryAll(ctx, tx, "read facts: read consents", scanConsent, q, args...); err != nil {
			return err
		}
		q, args = scoped(`SELECT `+relationColumns+` FROM relations`, "", org, number, person, "peildatum, id")
		f.Relations, err = queryAll(ctx, tx, "read facts: read relations", scanRelation, q, args...)
		return err
	})
	if err != nil {
		return objections.Facts{}, err
	}
	return f, nil
}

// scoped returns the query "sel of org, on number or on person", ordered by
// the result columns in order; p prefixes the columns of sel's main table. It
// is a UNION of one lookup by number and one by person, so that each uses its
// index whatever the planner knows of the data (an OR would let it scan the
// whole org). An empty number or person matches nothing: pending objections
// keep an empty number and must not match a lookup without one.
func scoped(sel, p, org, number, person, order string) (string, []any) {
	var (
		parts []string
		args  []any
	)
	if number != "" {
		parts = append(parts, sel+" WHERE "+p+"org = ? AND "+p+"number = ?")
		args = append(args, org, number)
	}
	if person != "" {
		parts = append(parts, sel+" WHERE "+p+"org = ? AND "+p+"person_id = ?")
		args = append(args, org, person)
	}
	if len(parts) == 0 {
		return sel + " WHERE 0", nil
	}
	return strings.Join(parts, " UNION ") + " ORDER BY " + order, args
}

// scopedObjections is the query of the objections in the facts of org:
// those of org, and those of calls org made as an agency for others.
func scopedObjections(org, number, person string) (string, []any) {
	q, args := scoped(objectionSelect, "o.", org, number, person, "id")
	qa, argsa := scoped(objectionSelect, "o.", org, number, person, "id")
	if len(args) == 0 {
		return q, args
	}
	q, _, _ = strings.Cut(q, " ORDER BY ")
	qa, _, _ = strings.Cut(qa, " ORDER BY ")
	qa = strings.ReplaceAll(qa, "o.org = ?", "o.agency = ?")
	return q + " UNION " + qa + " ORDER BY id", append(args, argsa...)
}

// listVersion reads the list version of objections.Facts in tx's snapshot:
// the seq of the event log's last event, 0 for an empty log (seq is the
// rowid: max is one step down the table's b-tree).
func listVersion(ctx context.Context, tx dbtx) (int64, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM events`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read list version: %w", err)
	}
	return v, nil
}

// factsOrg reads the org of Facts: DefaultOrg, not stored, when unknown.
func factsOrg(ctx context.Context, tx dbtx, id string) (objections.Org, error) {
	o, err := scanOrg(tx.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM orgs WHERE id = ?`, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return objections.DefaultOrg(id, time.Time{}), nil
	case err != nil:
		return objections.Org{}, fmt.Errorf("read org: %w", err)
	}
	return o, nil
}
