package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

// Stats counts objections and offers per calendar day (in f's location)
// and campaign over f's range, grouped in SQL. Rows are ordered by day,
// then campaign. EINVALID for a range f.Check refuses.
//
// SQLite knows no time zones, so the local day is computed with the UTC
// offsets in force over the range: a CASE over the zone's transitions,
// which Go's time package knows.
func (s *Store) Stats(ctx context.Context, f objections.StatsFilter) ([]objections.DayStat, error) {
	if err := f.Check(); err != nil {
		return nil, err
	}
	dayObj, dayArgsObj := localDay("o.received_at", f)
	dayOff, dayArgsOff := localDay("started_at", f)
	wo, wf := statsWhere(f, "o.", "received_at"), statsWhere(f, "", "started_at")

	var stats objections.DayStats
	err := s.read(ctx, "count per day", func(tx dbtx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+dayObj+` AS day, o.campaign_ref, count(*), count(v.objection_id)
			FROM objections o LEFT JOIN objection_voids v ON v.objection_id = o.id`+wo.sql()+`
			GROUP BY day, o.campaign_ref`, append(dayArgsObj, wo.args...)...)
		if err != nil {
			return err
		}
		var day, campaign string
		var n, m int
		if err := eachRow(rows, []any{&day, &campaign, &n, &m}, func() {
			stats.AddObjections(day, campaign, n, m)
		}); err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+dayOff+` AS day, campaign_ref, count(*),
				coalesce(sum(outcome = 'objected'), 0)
			FROM offers`+wf.sql()+` GROUP BY day, campaign_ref`, append(dayArgsOff, wf.args...)...)
		if err != nil {
			return err
		}
		return eachRow(rows, []any{&day, &campaign, &n, &m}, func() {
			stats.AddOffers(day, campaign, n, m)
		})
	})
	if err != nil {
		return nil, err
	}
	return stats.List(), nil
}

// localDay returns the SQL of the local calendar day of the UTC time in
// col, and its arguments: date(col, '+N seconds') with N the zone's offset
// at that instant, chosen by a CASE over the zone's transitions in f's
// range.
func localDay(col string, f objections.StatsFilter) (string, []any) {
	loc := f.Loc()
	type span struct {
		end    time.Time // exclusive; zero for the last
		offset int
	}
	var spans []span
	t := f.Since
	for range 1000 { // a zone changes offset a few times a year
		_, off := t.In(loc).Zone()
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(f.Until) {
			spans = append(spans, span{offset: off})
			break
		}
		spans = append(spans, span{end: end, offset: off})
		t = end
	}
	mod := func(off int) string { return fmt.Sprintf("%+d seconds", off) }
	if len(spans) == 1 {
		return "date(" + col + ", ?)", []any{mod(spans[0].offset)}
	}
	var b strings.Builder
	var args []any
	b.WriteString("date(" + col + ", CASE")
	for _, sp := range spans[:len(spans)-1] {
		b.WriteString(" WHEN " + col + " < ? THEN ?")
		args = append(args, formatTime(sp.end), mod(sp.offset))
	}
	b.WriteString(" ELSE ? END)")
	args = append(args, mod(spans[len(spans)-1].offset))
	return b.String(), args
}
