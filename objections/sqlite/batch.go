package sqlite

import (
	"context"

	"github.com/verzet/verzet/objections"
)

// FactsBatch returns, for each of numbers (E.164), what Facts(org, number,
// "") returns, read in one snapshot with three lookups for all of them: the
// list scrub of objections/httpapi asks for a thousand numbers at a time
// instead of a thousand times. facts[i] belongs to numbers[i]; repeated
// numbers get the same facts, and all the list version of the snapshot.
func (s *Store) FactsBatch(ctx context.Context, org string, numbers []string) ([]objections.Facts, error) {
	if len(numbers) == 0 {
		return nil, nil
	}
	list, err := jsonList(numbers)
	if err != nil {
		return nil, err
	}
	var out []objections.Facts
	err = s.read(ctx, "read facts", func(tx dbtx) error {
		version, err := listVersion(ctx, tx)
		if err != nil {
			return err
		}
		o, err := factsOrg(ctx, tx, org)
		if err != nil {
			return err
		}
		const in = ` IN (SELECT value FROM json_each(?))`
		objs, err := queryAll(ctx, tx, "read facts: read objections", scanObjection,
			objectionSelect+` WHERE o.org = ? AND o.number`+in+`
			UNION ALL `+objectionSelect+` WHERE o.agency = ? AND o.number`+in+` ORDER BY 1`, org, list, org, list)
		if err != nil {
			return err
		}
		consents, err := queryAll(ctx, tx, "read facts: read consents", scanConsent,
			`SELECT `+consentColumns+` FROM consents WHERE org = ? AND number`+in+` ORDER BY given_at, id`, org, list)
		if err != nil {
			return err
		}
		relations, err := queryAll(ctx, tx, "read facts: read relations", scanRelation,
			`SELECT `+relationColumns+` FROM relations WHERE org = ? AND number`+in+` ORDER BY peildatum, id`, org, list)
		if err != nil {
			return err
		}
		out = objections.GroupFacts(o, version, numbers, objs, consents, relations)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
