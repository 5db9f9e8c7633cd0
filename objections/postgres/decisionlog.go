package postgres

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// insertDecisionsSQL writes a flush's blocked checks with one statement:
// one array per column, unnested in step. A record written before (a retry
// after an uncertain commit) is skipped.
const insertDecisionsSQL = `INSERT INTO decisions (id, decided_at, org, number, person_id, callable, basis, reasons,
		objection_id, list_version, token_name)
	SELECT id, decided_at, org, number, person_id, callable, basis, reasons, nullif(objection_id, ''), list_version, token_name
	FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[],
		$9::text[], $10::bigint[], $11::text[])
		AS t(id, decided_at, org, number, person_id, callable, basis, reasons, objection_id, list_version, token_name)
	ON CONFLICT (id) DO NOTHING`

// upsertCountsSQL adds a flush's counts; the keys are unique and sorted
// (objections.MergeDecisionCounts), so that concurrent writers lock rows
// in the same order.
const upsertCountsSQL = `INSERT INTO decision_counts AS c (org, day, callable, reason, count)
	SELECT org, day::date, callable, reason, count
	FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[], $5::bigint[]) AS t(org, day, callable, reason, count)
	ON CONFLICT (org, day, callable, reason) DO UPDATE SET count = c.count + excluded.count`

// insertFirstBlocksSQL notes first blocks; RETURNING gives only the rows
// inserted, not those that met an earlier first block.
const insertFirstBlocksSQL = `INSERT INTO first_blocks (objection_id, at)
	SELECT * FROM unnest($1::text[], $2::timestamptz[])
	ON CONFLICT (objection_id) DO NOTHING
	RETURNING objection_id, at`

// AppendDecisions writes blocked records, adds counts and notes first
// blocks in one transaction of three statements, sent as one batch.
// EINVALID for a record without ID (objections.CheckDecisionRecords).
//
// The transaction commits with synchronous_commit off: it does not wait
// for its WAL to reach the disk. The log is written asynchronously anyway
// (objections/httpapi buffers checks in memory), so a crash may lose the
// last fraction of a second of it either way; the objections themselves
// are committed synchronously as ever.
func (s *Store) AppendDecisions(ctx context.Context, blocked []objections.DecisionRecord, counts []objections.DecisionCount) ([]objections.FirstBlock, error) {
	blocked, counts, firsts, err := objections.PrepareDecisions(blocked, counts)
	if err != nil {
		return nil, err
	}
	if len(blocked) == 0 && len(counts) == 0 {
		return nil, nil
	}
	var out []objections.FirstBlock
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`SET LOCAL synchronous_commit = off`)
		if len(blocked) > 0 {
			n := len(blocked)
			var (
				ids, orgs, numbers, persons = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
				bases, reasons, objIDs      = make([]string, n), make([]string, n), make([]string, n)
				tokens                      = make([]string, n)
				ats                         = make([]time.Time, n)
				callable                    = make([]bool, n)
				versions                    = make([]int64, n)
			)
			for i, r := range blocked {
				ids[i], ats[i], orgs[i], numbers[i], persons[i] = r.ID, r.DecidedAt, r.Org, r.Number, r.PersonID
				callable[i], bases[i], reasons[i] = r.Callable, string(r.Basis), objections.JoinReasons(r.Reasons)
				objIDs[i], versions[i], tokens[i] = r.ObjectionID, r.ListVersion, r.TokenName
			}
			b.Queue(insertDecisionsSQL, ids, ats, orgs, numbers, persons, callable, bases, reasons, objIDs, versions, tokens)
		}
		if len(counts) > 0 {
			n := len(counts)
			orgs, days, reasons := make([]string, n), make([]string, n), make([]string, n)
			callable, ns := make([]bool, n), make([]int64, n)
			for i, c := range counts {
				orgs[i], days[i], callable[i], reasons[i], ns[i] = c.Org, c.Day.Format(dateLayout), c.Callable, string(c.Reason), c.Count
			}
			b.Queue(upsertCountsSQL, orgs, days, callable, reasons, ns)
		}
		if len(firsts) > 0 {
			ids, ats := make([]string, len(firsts)), make([]time.Time, len(firsts))
			for i, f := range firsts {
				ids[i], ats[i] = f.ObjectionID, f.At
			}
			b.Queue(insertFirstBlocksSQL, ids, ats).Query(func(rows pgx.Rows) error {
				var err error
				out, err = pgx.CollectRows(rows, scanFirstBlock)
				return err
			})
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, translate("append decisions", err)
	}
	return out, nil
}

func scanFirstBlock(row pgx.CollectableRow) (objections.FirstBlock, error) {
	var f objections.FirstBlock
	err := row.Scan(&f.ObjectionID, &f.At)
	f.At = f.At.UTC()
	return f, err
}

// decisionColumns are the columns scanDecision reads.
const decisionColumns = `id, decided_at, org, number, person_id, callable, basis, reasons,
	coalesce(objection_id, ''), list_version, token_name`

func scanDecision(row pgx.CollectableRow) (objections.DecisionRecord, error) {
	var (
		r              objections.DecisionRecord
		basis, reasons string
	)
	err := row.Scan(&r.ID, &r.DecidedAt, &r.Org, &r.Number, &r.PersonID, &r.Callable, &basis, &reasons,
		&r.ObjectionID, &r.ListVersion, &r.TokenName)
	r.DecidedAt, r.Basis, r.Reasons = r.DecidedAt.UTC(), objections.Basis(basis), objections.SplitReasons(reasons)
	return r, err
}

// Decisions returns up to limit (1–1000, otherwise 100) logged checks of
// org on number, newest first.
func (s *Store) Decisions(ctx context.Context, org, number string, limit int) ([]objections.DecisionRecord, error) {
	return queryAll(ctx, s.pool, "read decisions", scanDecision, `SELECT `+decisionColumns+`
		FROM decisions WHERE org = $1 AND number = $2
		ORDER BY decided_at DESC, id DESC LIMIT $3`, org, number, objections.DecisionsLimit(limit))
}

// ListDecisions returns one page of logged checks matching f, by id.
func (s *Store) ListDecisions(ctx context.Context, f objections.DecisionFilter) ([]objections.DecisionRecord, error) {
	w := decisionWhere(f)
	return queryAll(ctx, s.pool, "list decisions", scanDecision, `SELECT `+decisionColumns+` FROM decisions`+w.sql()+
		` ORDER BY id LIMIT `+strconv.Itoa(f.PageLimit()), w.args...)
}

// DecisionCounts returns org's daily counts for the days from..to
// (inclusive), by day, callable (false first) and reason.
func (s *Store) DecisionCounts(ctx context.Context, org string, from, to time.Time) ([]objections.DecisionCount, error) {
	return queryAll(ctx, s.pool, "read decision counts", scanDecisionCount, `SELECT org, to_char(day, 'YYYY-MM-DD'), callable, reason, count
		FROM decision_counts WHERE org = $1 AND day BETWEEN $2::date AND $3::date
		ORDER BY day, callable, reason`, org, objections.DateOf(from).Format(dateLayout), objections.DateOf(to).Format(dateLayout))
}

// scanDecisionCount is the pgx.RowToFunc of DecisionCounts.
func scanDecisionCount(row pgx.CollectableRow) (objections.DecisionCount, error) {
	var (
		c           objections.DecisionCount
		day, reason string
	)
	if err := row.Scan(&c.Org, &day, &c.Callable, &reason, &c.Count); err != nil {
		return c, err
	}
	c.Reason = objections.Reason(reason)
	var err error
	c.Day, err = time.Parse(dateLayout, day)
	return c, err
}

// FirstBlocks returns the first blocked check of those of objectionIDs
// that have one.
func (s *Store) FirstBlocks(ctx context.Context, objectionIDs []string) (map[string]time.Time, error) {
	if len(objectionIDs) == 0 {
		return map[string]time.Time{}, nil
	}
	firsts, err := queryAll(ctx, s.pool, "read first blocks", scanFirstBlock,
		`SELECT objection_id, at FROM first_blocks WHERE objection_id = ANY($1)`, objectionIDs)
	if err != nil {
		return nil, err
	}
	return objections.FirstBlockTimes(firsts), nil
}

// PurgeDecisions deletes up to limit of the oldest logged checks decided
// before before, oldest first.
func (s *Store) PurgeDecisions(ctx context.Context, before time.Time, limit int) (int64, error) {
	if err := objections.CheckPurgeLimit(limit); err != nil {
		return 0, err
	}
	return s.execCount(ctx, "purge decisions", `DELETE FROM decisions WHERE id IN (
		SELECT id FROM decisions WHERE decided_at < $1 ORDER BY decided_at LIMIT $2)`, before.UTC(), limit)
}
