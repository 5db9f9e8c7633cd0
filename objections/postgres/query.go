package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// dateLayout is how dates are passed to and read from SQL.
const dateLayout = "2006-01-02"

// utc returns t as the stores keep it (objections.StoredTime): PostgreSQL
// would round a timestamptz parameter to the microsecond, not truncate it.
func utc(t time.Time) time.Time { return objections.StoredTime(t) }

// querier runs a query: the pool, or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// queryAll runs a query and scans every row with scan; none is an empty
// list.
func queryAll[T any](ctx context.Context, q querier, doing string, scan pgx.RowToFunc[T], sql string, args ...any) ([]T, error) {
	rows, _ := q.Query(ctx, sql, args...)
	out, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, translate(doing, err)
	}
	return out, nil
}

// queryOne runs a query that returns one row and scans it with scan;
// ENOTFOUND naming field and value when it returns none.
func queryOne[T any](ctx context.Context, q querier, doing, field, value string, scan pgx.RowToFunc[T], sql string, args ...any) (T, error) {
	rows, _ := q.Query(ctx, sql, args...)
	v, err := pgx.CollectExactlyOneRow(rows, scan)
	if err != nil {
		var zero T
		return zero, translate(doing, notFound(err, field, value))
	}
	return v, nil
}

// where builds a WHERE clause from optional filters.
type where struct {
	conds []string
	args  []any
}

func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// eq adds col = v when v is set.
func (w *where) eq(col, v string) {
	if v != "" {
		w.add(col + " = " + w.arg(v))
	}
}

// cmp adds "col op" t when t is set.
func (w *where) cmp(colOp string, t time.Time) {
	if !t.IsZero() {
		w.add(colOp + " " + w.arg(t.UTC()))
	}
}

// scope adds the org (or, withAgency, the org or the agency) of prefix p
// being one of orgs, when orgs is not empty.
func (w *where) scope(p string, orgs []string, withAgency bool) {
	if len(orgs) == 0 {
		return
	}
	a := w.arg(orgs)
	if withAgency {
		w.add("(" + p + "org = ANY(" + a + ") OR " + p + "agency = ANY(" + a + "))")
		return
	}
	w.add(p + "org = ANY(" + a + ")")
}

// after adds the cursor col > id when id is set.
func (w *where) after(col, id string) {
	if id != "" {
		w.add(col + " > " + w.arg(id))
	}
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// nullable returns nil (SQL NULL) for "", for the columns whose unique index
// must not treat an absent value as a value.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// The WHERE clauses of the list queries, one per filter.

// objectionWhere is the WHERE of Objections and SearchObjections without a
// cursor, for a filter f.Check accepts.
func objectionWhere(f objections.ObjectionFilter) where {
	var w where
	w.eq("o.org", f.Org)
	w.scope("o.", f.Scope, true)
	w.eq("o.number", f.Number)
	w.eq("o.campaign_ref", f.Campaign)
	w.eq("o.source", string(f.Source))
	switch f.Status {
	case objections.StatusActive, objections.StatusPendingNumber:
		w.add("v.objection_id IS NULL")
		w.eq("o.status", string(f.Status))
	case objections.StatusVoided:
		w.add("v.objection_id IS NOT NULL")
	}
	w.cmp("o.received_at >=", f.Since)
	w.cmp("o.received_at <", f.Until)
	return w
}

// offerWhere is the WHERE of Offers, with its cursor. Since and Until
// bound started_at.
func offerWhere(f objections.OfferFilter) where {
	var w where
	w.eq("org", f.Org)
	w.scope("", f.Scope, true)
	w.eq("number", f.Number)
	w.eq("campaign_ref", f.Campaign)
	w.eq("outcome", string(f.Outcome))
	w.eq("agent_ref", f.Agent)
	w.cmp("started_at >=", f.Since)
	w.cmp("started_at <", f.Until)
	w.after("id", f.After)
	return w
}

// decisionWhere is the WHERE of ListDecisions, with its cursor.
func decisionWhere(f objections.DecisionFilter) where {
	var w where
	w.eq("org", f.Org)
	w.scope("", f.Scope, false)
	w.eq("number", f.Number)
	w.eq("objection_id", f.ObjectionID)
	w.cmp("decided_at >=", f.Since)
	w.cmp("decided_at <", f.Until)
	w.after("id", f.After)
	return w
}

// statsWhere is the WHERE of Stats over the rows of f's org and campaign
// whose time column col (prefixed p) is in f's range. Its first argument,
// $1, is the name of f's time zone.
func statsWhere(f objections.StatsFilter, p, col string) where {
	var w where
	w.arg(f.Loc().String())
	w.cmp(p+col+" >=", f.Since)
	w.cmp(p+col+" <", f.Until)
	w.eq(p+"org", f.Org)
	w.scope(p, f.Scope, true)
	w.eq(p+"campaign_ref", f.Campaign)
	return w
}

// auditWhere is the WHERE of AuditLog, with its cursor: f.Before is the id
// of the last entry of the previous page (newest first).
func auditWhere(f access.AuditFilter) where {
	var w where
	if !f.Scope.All() {
		// orgs holds sorted ids separated by commas: an entry concerns
		// one of the scope's orgs when one of them is a whole item of it.
		w.add("string_to_array(orgs, ',') && " + w.arg([]string(f.Scope)) + "::text[]")
	}
	w.eq("actor", f.Actor)
	w.eq("action", string(f.Action))
	if f.Before != "" {
		w.add("seq < (SELECT seq FROM audit_log WHERE id = " + w.arg(f.Before) + ")")
	}
	return w
}
