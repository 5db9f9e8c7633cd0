package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
)

// timeLayout is fixed-width so that stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000Z"

const dateLayout = "2006-01-02"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// timeCol scans a time column (timeLayout text) into *t. With opt, the
// empty string is the zero time (users.locked_until, last_sign_in_at).
type timeCol struct {
	t   *time.Time
	opt bool
}

// at scans a time column into t.
func at(t *time.Time) timeCol { return timeCol{t: t} }

// optAt scans a time column where ” means none into t.
func optAt(t *time.Time) timeCol { return timeCol{t: t, opt: true} }

func (c timeCol) Scan(v any) error {
	s, ok := v.(string)
	if b, isBytes := v.([]byte); isBytes {
		s, ok = string(b), true
	}
	switch {
	case !ok:
		return fmt.Errorf("stored time: %T, not text", v)
	case s == "" && c.opt:
		*c.t = time.Time{}
		return nil
	}
	t, err := parseTime(s)
	*c.t = t
	return err
}

// nullTimeCol scans a nullable time column into *t: nil for NULL.
type nullTimeCol struct{ t **time.Time }

// nullAt scans a nullable time column into t.
func nullAt(t **time.Time) nullTimeCol { return nullTimeCol{t: t} }

func (c nullTimeCol) Scan(v any) error {
	if v == nil {
		*c.t = nil
		return nil
	}
	var t time.Time
	if err := at(&t).Scan(v); err != nil {
		return err
	}
	*c.t = &t
	return nil
}

// formatOptTime writes the zero time as the empty string.
func formatOptTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

// formatNullTime writes a nil time as SQL NULL.
func formatNullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

// nullable returns nil (SQL NULL) for "", for the columns whose unique index
// must not treat an absent value as a value.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// where collects the conditions and arguments of a list query.
type where struct {
	conds []string
	args  []any
}

// add adds a condition with its ? arguments.
func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// eq adds col = v when v is set.
func (w *where) eq(col, v string) {
	if v != "" {
		w.add(col+" = ?", v)
	}
}

// cmp adds "col op" t when t is set.
func (w *where) cmp(colOp string, t time.Time) {
	if !t.IsZero() {
		w.add(colOp+" ?", formatTime(t))
	}
}

// after adds the cursor col > id when id is set.
func (w *where) after(col, id string) {
	if id != "" {
		w.add(col+" > ?", id)
	}
}

// scope adds the org (or, withAgency, the org or the agency) of prefix p
// being one of orgs, when orgs is not empty.
func (w *where) scope(p string, orgs []string, withAgency bool) {
	if len(orgs) == 0 {
		return
	}
	list, _ := jsonList(orgs) // a list of strings always encodes
	const in = ` IN (SELECT value FROM json_each(?))`
	if withAgency {
		w.add("("+p+"org"+in+" OR "+p+"agency"+in+")", list, list)
		return
	}
	w.add(p+"org"+in, list)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// rowScanner is met by *sql.Row and *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// collect scans every row with scan and closes rows; none is an empty
// list (as pgx.CollectRows in objections/postgres).
func collect[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// queryAll runs a query and scans every row with scan; none is an empty
// list.
func queryAll[T any](ctx context.Context, q dbtx, doing string, scan func(rowScanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(doing, err)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, translate(doing, err)
	}
	return out, nil
}

// queryOne runs a query that returns one row and scans it with scan;
// ENOTFOUND naming field and value when it returns none.
func queryOne[T any](ctx context.Context, q dbtx, doing, field, value string, scan func(rowScanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(q.QueryRowContext(ctx, query, args...))
	if err != nil {
		var zero T
		return zero, translate(doing, notFound(err, field, value))
	}
	return v, nil
}

// eachRow scans every row into dest, calls fn after each, and closes rows
// (pgx.ForEachRow in objections/postgres).
func eachRow(rows *sql.Rows, dest []any, fn func()) error {
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn()
	}
	return rows.Err()
}

// jsonList encodes a list of strings as the JSON array json_each reads: one
// parameter, so that the statement cache holds one statement for any length.
func jsonList(v []string) (string, error) {
	if v == nil {
		v = []string{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", objections.Internal("encode list", err)
	}
	return string(b), nil
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
		w.add("v.objection_id IS NULL AND o.status = ?", string(f.Status))
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
// whose time column col (prefixed p) is in f's range.
func statsWhere(f objections.StatsFilter, p, col string) where {
	var w where
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
		list, _ := jsonList(f.Scope) // a list of strings always encodes
		w.add("EXISTS (SELECT 1 FROM json_each(?) s WHERE ',' || orgs || ',' LIKE '%,' || s.value || ',%')", list)
	}
	w.eq("actor", f.Actor)
	w.eq("action", string(f.Action))
	if f.Before != "" {
		w.add("seq < (SELECT seq FROM audit_log WHERE id = ?)", f.Before)
	}
	return w
}
