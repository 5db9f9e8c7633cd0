package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/verzet/verzet/objections"
)

// AppendDecisions writes blocked records, adds counts and notes first
// blocks in one write transaction (migration 007). A record written before
// (a retry after an uncertain commit) is skipped. EINVALID for a record
// without ID (objections.CheckDecisionRecords). The statements are
// prepared once and run per row: inside one transaction SQLite inserts
// rows faster than it would parse one statement per flush.
func (s *Store) AppendDecisions(ctx context.Context, blocked []objections.DecisionRecord, counts []objections.DecisionCount) ([]objections.FirstBlock, error) {
	blocked, counts, firsts, err := objections.PrepareDecisions(blocked, counts)
	if err != nil {
		return nil, err
	}
	if len(blocked) == 0 && len(counts) == 0 {
		return nil, nil
	}
	var out []objections.FirstBlock
	err = s.write(ctx, "append decisions", func(tx dbtx) error {
		for _, r := range blocked {
			if _, err := tx.ExecContext(ctx, `INSERT INTO decisions (id, decided_at, org, number, person_id, callable, basis,
					reasons, objection_id, list_version, token_name)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
				r.ID, formatTime(r.DecidedAt), r.Org, r.Number, r.PersonID, boolInt(r.Callable), string(r.Basis),
				objections.JoinReasons(r.Reasons), nullable(r.ObjectionID), r.ListVersion, r.TokenName); err != nil {
				return fmt.Errorf("insert decision: %w", err)
			}
		}
		for _, c := range counts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO decision_counts (org, day, callable, reason, count)
				VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (org, day, callable, reason) DO UPDATE SET count = count + excluded.count`,
				c.Org, c.Day.Format(dateLayout), boolInt(c.Callable), string(c.Reason), c.Count); err != nil {
				return fmt.Errorf("add decision count: %w", err)
			}
		}
		for _, f := range firsts {
			res, err := tx.ExecContext(ctx, `INSERT INTO first_blocks (objection_id, at) VALUES (?, ?)
				ON CONFLICT (objection_id) DO NOTHING`, f.ObjectionID, formatTime(f.At))
			if err != nil {
				return fmt.Errorf("insert first block: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return fmt.Errorf("insert first block: %w", err)
			} else if n == 1 {
				out = append(out, f)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func scanFirstBlock(row rowScanner) (objections.FirstBlock, error) {
	var f objections.FirstBlock
	err := row.Scan(&f.ObjectionID, at(&f.At))
	return f, err
}

// decisionColumns are the columns scanDecision reads.
const decisionColumns = `id, decided_at, org, number, person_id, callable, basis, reasons,
	coalesce(objection_id, ''), list_version, token_name`

func scanDecision(row rowScanner) (objections.DecisionRecord, error) {
	var (
		r              objections.DecisionRecord
		basis, reasons string
	)
	err := row.Scan(&r.ID, at(&r.DecidedAt), &r.Org, &r.Number, &r.PersonID, &r.Callable, &basis, &reasons,
		&r.ObjectionID, &r.ListVersion, &r.TokenName)
	r.Basis, r.Reasons = objections.Basis(basis), objections.SplitReasons(reasons)
	return r, err
}

// Decisions returns up to limit (1–1000, otherwise 100) logged checks of
// org on number, newest first.
func (s *Store) Decisions(ctx context.Context, org, number string, limit int) ([]objections.DecisionRecord, error) {
	return queryAll(ctx, s.q(), "read decisions", scanDecision, `SELECT `+decisionColumns+`
		FROM decisions WHERE org = ? AND number = ?
		ORDER BY decided_at DESC, id DESC LIMIT ?`, org, number, objections.DecisionsLimit(limit))
}

// ListDecisions returns one page of logged checks matching f, by id.
func (s *Store) ListDecisions(ctx context.Context, f objections.DecisionFilter) ([]objections.DecisionRecord, error) {
	w := decisionWhere(f)
	return queryAll(ctx, s.q(), "list decisions", scanDecision, `SELECT `+decisionColumns+` FROM decisions`+w.sql()+` ORDER BY id LIMIT ?`,
		append(w.args, f.PageLimit())...)
}

// DecisionCounts returns org's daily counts for the days from..to
// (inclusive), by day, callable (false first) and reason.
func (s *Store) DecisionCounts(ctx context.Context, org string, from, to time.Time) ([]objections.DecisionCount, error) {
	return queryAll(ctx, s.q(), "read decision counts", scanDecisionCount, `SELECT org, day, callable, reason, count
		FROM decision_counts WHERE org = ? AND day BETWEEN ? AND ?
		ORDER BY day, callable, reason`, org, objections.DateOf(from).Format(dateLayout), objections.DateOf(to).Format(dateLayout))
}

func scanDecisionCount(row rowScanner) (objections.DecisionCount, error) {
	var (
		c           objections.DecisionCount
		day, reason string
	)
	if err := row.Scan(&c.Org, &day, &c.Callable, &reason, &c.Count); err != nil {
		return c, err
	}
	var err error
	c.Day, err = time.Parse(dateLayout, day)
	c.Reason = objections.Reason(reason)
	return c, err
}

// FirstBlocks returns the first blocked check of those of objectionIDs
// that have one.
func (s *Store) FirstBlocks(ctx context.Context, objectionIDs []string) (map[string]time.Time, error) {
	if len(objectionIDs) == 0 {
		return map[string]time.Time{}, nil
	}
	list, err := jsonList(objectionIDs)
	if err != nil {
		return nil, err
	}
	firsts, err := queryAll(ctx, s.q(), "read first blocks", scanFirstBlock, `SELECT objection_id, at FROM first_blocks
		WHERE objection_id IN (SELECT value FROM json_each(?))`, list)
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
		SELECT id FROM decisions WHERE decided_at < ? ORDER BY decided_at LIMIT ?)`, formatTime(before), limit)
}
