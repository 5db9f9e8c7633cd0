package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// Facts returns what Decide needs for org and number (and person when not
// empty), read in one round trip: the org (DefaultOrg, not stored, when
// unknown), its objections on the number or the person with their voids,
// and its consents and relations on the number or the person. The five
// statements are pipelined in one batch, one round trip. Each takes its own
// snapshot when it starts, so every write committed before Facts was called
// is seen: an objection recorded before the question is always in the answer.
// The list version is read first, so every event up to it is in the facts.
func (s *Store) Facts(ctx context.Context, org, number, person string) (objections.Facts, error) {
	// Most questions name no person: they get statements without the OR,
	// which plan as plain index scans. (Guarding the OR with $3 <> '' is not
	// enough: a cached generic plan still scans the index for
	// person_id = '', every record without a person.) An empty number is
	// passed as NULL, which matches nothing rather than every objection
	// pending its number.
	match, omatch, args := `number = $2`, `o.number = $2`, []any{org, nullable(number)}
	if person != "" {
		match, omatch = `(number = $2 OR person_id = $3)`, `(o.number = $2 OR o.person_id = $3)`
		args = append(args, person)
	}
	b := &pgx.Batch{}
	b.Queue(listVersionSQL)
	b.Queue(`SELECT `+orgColumns+` FROM orgs WHERE id = $1`, org)
	b.Queue(objectionSelect+` WHERE o.org = $1 AND `+omatch+`
		UNION ALL `+objectionSelect+` WHERE o.agency = $1 AND `+omatch+` ORDER BY 1`, args...)
	b.Queue(`SELECT `+consentColumns+` FROM consents WHERE org = $1 AND `+match+` ORDER BY given_at, id`, args...)
	b.Queue(`SELECT `+relationColumns+` FROM relations WHERE org = $1 AND `+match+` ORDER BY id`, args...)

	f, err := readFacts(s.pool.SendBatch(ctx, b), org)
	if err != nil {
		return objections.Facts{}, translate("read facts", err)
	}
	return f, nil
}

func readFacts(br pgx.BatchResults, org string) (f objections.Facts, err error) {
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	if f.ListVersion, err = readListVersion(br); err != nil {
		return f, err
	}
	if f.Org, err = factsOrg(br, org); err != nil {
		return f, err
	}
	rows, _ := br.Query()
	if f.Objections, err = pgx.CollectRows(rows, scanObjection); err != nil {
		return f, err
	}
	rows, _ = br.Query()
	if f.Consents, err = pgx.CollectRows(rows, scanConsent); err != nil {
		return f, err
	}
	rows, _ = br.Query()
	f.Relations, err = pgx.CollectRows(rows, scanRelation)
	return f, err
}

// listVersionSQL reads the list version of objections.Facts: the seq of
// the event log's head (0 for an empty log).
const listVersionSQL = `SELECT coalesce((SELECT seq FROM event_head), 0)`

// readListVersion reads the result of listVersionSQL queued in a batch.
func readListVersion(br pgx.BatchResults) (int64, error) {
	var v int64
	err := br.QueryRow().Scan(&v)
	return v, err
}

// factsOrg reads the org of Facts queued in a batch: DefaultOrg, not
// stored, when unknown.
func factsOrg(br pgx.BatchResults, id string) (objections.Org, error) {
	rows, _ := br.Query()
	o, err := pgx.CollectExactlyOneRow(rows, scanOrg)
	if errors.Is(err, pgx.ErrNoRows) {
		return objections.DefaultOrg(id, time.Time{}), nil
	}
	return o, err
}
