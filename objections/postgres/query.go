package postgres

import (
	"strconv"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

// utc returns t as the stores keep it (objections.StoredTime): PostgreSQL
// would round a timestamptz parameter to the microsecond, not truncate it.
func utc(t time.Time) time.Time { return objections.StoredTime(t) }

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
