package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/verzet/verzet/objections"
)

// factsManySQL is FactsOne's statement for many questions at once: the
// questions come as three arrays (org, number, person), unnested with their
// position, and each row of the answer is what FactsOne reads for one of
// them. The subqueries are correlated, so each question is still a handful
// of index lookups; what the batch saves is the round trip, the statement's
// start-up in PostgreSQL and the driver's work per statement.
func factsManySQL(withPerson bool) string {
	match, omatch := `number = k.number`, `o.number = k.number`
	if withPerson {
		// k.person is NULL for a question without a person: person_id = NULL
		// matches nothing and costs no index scan.
		match, omatch = `(number = k.number OR person_id = k.person)`, `(o.number = k.number OR o.person_id = k.person)`
	}
	one := factsOneSQL(match, omatch)
	one = strings.Replace(one, "SELECT", "SELECT k.i,", 1)
	one = strings.ReplaceAll(one, "$1", "k.org")
	return one + `
	FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS k(org, number, person, i)`
}

var (
	factsManyByNumber = factsManySQL(false)
	factsManyByPerson = factsManySQL(true)
)

// FactsMany answers many Facts questions with one statement: facts[i] is
// what Facts(qs[i].Org, qs[i].Number, qs[i].Person) returns. The dial-time
// check of objections/httpapi gathers the questions that arrive while
// earlier ones are being read and asks them together. One statement is one
// snapshot, taken when it starts, after every question in it was asked:
// every write committed before any of them is seen.
func (s *Store) FactsMany(ctx context.Context, qs []objections.FactsQuery) ([]objections.Facts, error) {
	if len(qs) == 0 {
		return nil, nil
	}
	orgs, numbers, persons := make([]string, len(qs)), make([]*string, len(qs)), make([]*string, len(qs))
	sql := factsManyByNumber
	for i, q := range qs {
		orgs[i] = q.Org
		if q.Number != "" {
			numbers[i] = &qs[i].Number
		}
		if q.Person != "" {
			persons[i] = &qs[i].Person
			sql = factsManyByPerson
		}
	}
	pool := s.checks
	if pool == nil {
		pool = s.pool
	}
	rows, err := pool.Query(ctx, sql, orgs, numbers, persons)
	if err != nil {
		return nil, translate("read facts", err)
	}
	defer rows.Close()
	out := make([]objections.Facts, len(qs))
	seen := 0
	for rows.Next() {
		var i, version int64
		var orgRow, objRows, conRows, relRows []byte
		if err := rows.Scan(&i, &orgRow, &objRows, &conRows, &relRows, &version); err != nil {
			return nil, translate("read facts", err)
		}
		if i < 1 || int(i) > len(qs) {
			return nil, objections.Internal("read facts", fmt.Errorf("row for question %d of %d", i, len(qs)))
		}
		f, err := decodeFactsOne(qs[i-1].Org, orgRow, objRows, conRows, relRows)
		if err != nil {
			return nil, objections.Internal("read facts", err)
		}
		f.ListVersion = version
		out[i-1] = f
		seen++
	}
	if err := rows.Err(); err != nil {
		return nil, translate("read facts", err)
	}
	if seen != len(qs) {
		return nil, objections.Internal("read facts", fmt.Errorf("%d answers for %d questions", seen, len(qs)))
	}
	return out, nil
}
