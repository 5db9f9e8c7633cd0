package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// FactsBatch returns, for each of numbers (E.164), what Facts(org, number,
// "") returns, read in one round trip of five statements: the list scrub of
// objections/httpapi asks for a thousand numbers at a time instead of a
// thousand times. facts[i] belongs to numbers[i]; repeated numbers get the
// same facts. Each statement takes its own snapshot when it starts, so
// every write committed before the call is seen; the list version is read
// first, so every event up to it is in the facts.
func (s *Store) FactsBatch(ctx context.Context, org string, numbers []string) ([]objections.Facts, error) {
	if len(numbers) == 0 {
		return nil, nil
	}
	b := &pgx.Batch{}
	b.Queue(listVersionSQL)
	b.Queue(`SELECT `+orgColumns+` FROM orgs WHERE id = $1`, org)
	b.Queue(objectionSelect+` WHERE o.org = $1 AND o.number = ANY($2)
		UNION ALL `+objectionSelect+` WHERE o.agency = $1 AND o.number = ANY($2) ORDER BY 1`, org, numbers)
	b.Queue(`SELECT `+consentColumns+` FROM consents WHERE org = $1 AND number = ANY($2) ORDER BY given_at, id`, org, numbers)
	b.Queue(`SELECT `+relationColumns+` FROM relations WHERE org = $1 AND number = ANY($2) ORDER BY id`, org, numbers)
	out, err := readFactsBatch(s.pool.SendBatch(ctx, b), org, numbers)
	if err != nil {
		return nil, translate("read facts", err)
	}
	return out, nil
}

func readFactsBatch(br pgx.BatchResults, org string, numbers []string) (out []objections.Facts, err error) {
	defer func() {
		if cerr := br.Close(); err == nil {
			err = cerr
		}
	}()
	version, err := readListVersion(br)
	if err != nil {
		return nil, err
	}
	o, err := factsOrg(br, org)
	if err != nil {
		return nil, err
	}
	rows, _ := br.Query()
	objs, err := pgx.CollectRows(rows, scanObjection)
	if err != nil {
		return nil, err
	}
	rows, _ = br.Query()
	consents, err := pgx.CollectRows(rows, scanConsent)
	if err != nil {
		return nil, err
	}
	rows, _ = br.Query()
	relations, err := pgx.CollectRows(rows, scanRelation)
	if err != nil {
		return nil, err
	}
	return objections.GroupFacts(o, version, numbers, objs, consents, relations), nil
}
