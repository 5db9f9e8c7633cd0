package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
)

// Stats counts objections and offers per calendar day (in f's location,
// by its IANA name) and campaign over f's range, grouped in SQL, in one
// snapshot. Rows are ordered by day, then campaign. EINVALID for a range
// f.Check refuses.
func (s *Store) Stats(ctx context.Context, f objections.StatsFilter) ([]objections.DayStat, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	wo, wf := statsWhere(f, "o.", "received_at"), statsWhere(f, "", "started_at")

	var stats objections.DayStats
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT to_char(o.received_at AT TIME ZONE $1, 'YYYY-MM-DD') AS day, o.campaign_ref,
				count(*), count(v.objection_id)
			FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id`+wo.sql()+`
			GROUP BY 1, 2`, wo.args...)
		var day, campaign string
		var n, m int
		if _, err := pgx.ForEachRow(rows, []any{&day, &campaign, &n, &m}, func() error {
			stats.AddObjections(day, campaign, n, m)
			return nil
		}); err != nil {
			return err
		}
		rows, _ = tx.Query(ctx, `SELECT to_char(started_at AT TIME ZONE $1, 'YYYY-MM-DD') AS day, campaign_ref,
				count(*), count(*) FILTER (WHERE outcome = 'objected')
			FROM offers`+wf.sql()+` GROUP BY 1, 2`, wf.args...)
		_, err := pgx.ForEachRow(rows, []any{&day, &campaign, &n, &m}, func() error {
			stats.AddOffers(day, campaign, n, m)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, translate("count per day", err)
	}
	return stats.List(), nil
}
