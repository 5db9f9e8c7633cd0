package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/verzet/verzet/objections"
)

// Copying a whole store to another one (verzet copy), table by table.
//
// Nothing here knows the schema: tables, columns, their types, the foreign
// keys that order them and the sequences behind identity columns are read
// from the catalog of the current schema, so that a migration that adds a
// table or a column is copied without a change here.
//
// Rows travel between stores as []any in a neutral form that both stores
// read and write: nil, string, int64, float64, bool, time.Time and []byte;
// a date is "2006-01-02" text, JSON is text, and a list (a PostgreSQL
// array) is a JSON array as text. The Snapshot gives
// timestamptz as time.Time (UTC), boolean as bool, bytea as []byte, dates
// and JSON as text; the Loader converts what it is given by the type of the
// column it goes into: ISO 8601 text to timestamptz ('' is NULL there: the
// embedded store's "none"), 0/1 to boolean, text to bytea, and so on.

// copyExcluded are the tables that are not data to copy: the migration
// versions, and event_head, the chain's tip, which Commit sets from the
// events loaded.
var copyExcluded = map[string]bool{"schema_version": true, "event_head": true}

// Snapshot is a consistent, read-only view of every table of the store,
// for copying it to another store: a REPEATABLE READ transaction on a
// connection of its own, from Snapshot to Close. Writers go on meanwhile,
// unseen. Close it.
type Snapshot struct {
	schema
	conn *pgxpool.Conn
	tx   pgx.Tx
}

// Snapshot begins the read-only snapshot transaction.
func (s *Store) Snapshot(ctx context.Context) (*Snapshot, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, translate("begin snapshot", err)
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		conn.Release()
		return nil, translate("begin snapshot", err)
	}
	// The snapshot is taken at the first statement: take it now.
	if _, err := tx.Exec(ctx, `SELECT 1`); err != nil {
		_ = tx.Rollback(ctx)
		conn.Release()
		return nil, translate("begin snapshot", err)
	}
	return &Snapshot{schema: schema{tx}, conn: conn, tx: tx}, nil
}

// Rows streams the rows of table, in primary-key order, as the neutral
// values of columns.
func (sn *Snapshot) Rows(ctx context.Context, table string, columns []string) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		all, err := copyColumns(ctx, sn.tx, table)
		if err != nil {
			yield(nil, err)
			return
		}
		byName := make(map[string]column, len(all))
		for _, c := range all {
			byName[c.name] = c
		}
		sel := make([]string, len(columns))
		for i, name := range columns {
			c, ok := byName[name]
			if !ok {
				yield(nil, objections.NotFound("column", table+"."+name))
				return
			}
			sel[i] = c.selectExpr()
		}
		var pk []string
		if err := sn.tx.QueryRow(ctx, `SELECT coalesce(array_agg(a.attname ORDER BY k.i), '{}')
			FROM pg_index x
			CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, i)
			JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
			WHERE x.indrelid = `+tableOID+` AND x.indisprimary`, table).Scan(&pk); err != nil {
			yield(nil, translate("read primary key of "+table, err))
			return
		}
		q := `SELECT ` + strings.Join(sel, ", ") + ` FROM ` + quoteIdent(table)
		if len(pk) > 0 {
			q += ` ORDER BY ` + quoteList(pk)
		}
		rows, err := sn.tx.Query(ctx, q)
		if err != nil {
			yield(nil, translate("read "+table, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			row, err := rows.Values()
			if err != nil {
				yield(nil, translate("read "+table, err))
				return
			}
			for i, v := range row {
				row[i] = neutral(v)
			}
			if !yield(row, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, translate("read "+table, err))
		}
	}
}

// neutral widens the integer and float types pgx returns.
func neutral(v any) any {
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	}
	return v
}

// Close ends the snapshot and returns its connection.
func (sn *Snapshot) Close() error {
	err := sn.tx.Rollback(context.Background())
	sn.conn.Release()
	if err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return translate("end snapshot", err)
	}
	return nil
}

// Loader writes whole tables into the store in one transaction, for
// copying another store into this one. It refuses a store whose event log
// has begun. The user triggers of every table are disabled for the load
// and enabled again by Commit: the rows copied already carry what the
// triggers made (the outbox rows of each objection), which must not be made
// twice; foreign keys stay checked, so tables load in the order of their
// references. Commit also moves each identity column's sequence past the
// largest value loaded and sets the chain's head to the last event.
// Nothing is visible until Commit; Close without Commit rolls back.
type Loader struct {
	schema
	conn   *pgxpool.Conn
	tx     pgx.Tx
	tables []string // whose triggers are disabled
	head   int64    // the event head's seq when the load began
	done   bool
}

// Loader begins the load; disabling triggers needs the tables' owner, the
// role that migrated them. Commit refuses a store whose event log had
// begun (EINVALID).
func (s *Store) Loader(ctx context.Context) (*Loader, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, translate("begin load", err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		conn.Release()
		return nil, translate("begin load", err)
	}
	l := &Loader{schema: schema{tx}, conn: conn, tx: tx}
	if err := l.begin(ctx); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Loader) begin(ctx context.Context) error {
	// The head's lock keeps the store's own writers out until Commit.
	if err := l.tx.QueryRow(ctx, lockHeadSQL).Scan(&l.head, new(string)); err != nil {
		return translate("begin load: lock event head", err)
	}
	tables, err := copyTables(ctx, l.tx)
	if err != nil {
		return err
	}
	for t := range tables {
		if _, err := l.tx.Exec(ctx, `ALTER TABLE `+quoteIdent(t)+` DISABLE TRIGGER USER`); err != nil {
			return translate("begin load: disable triggers of "+t, err)
		}
		l.tables = append(l.tables, t)
	}
	return nil
}

// Load copies rows into table's columns (COPY, streamed) and returns how
// many it copied. Values are converted to the columns' types as the type
// comment says. EINVALID for a value a column cannot hold; the message
// names the table, the column and the types, never the value.
func (l *Loader) Load(ctx context.Context, table string, columns []string, rows iter.Seq2[[]any, error]) (int64, error) {
	all, err := copyColumns(ctx, l.tx, table)
	if err != nil {
		return 0, err
	}
	byName := make(map[string]column, len(all))
	for _, c := range all {
		byName[c.name] = c
	}
	src := &copySource{table: table, cols: make([]column, len(columns))}
	for i, name := range columns {
		c, ok := byName[name]
		if !ok {
			return 0, objections.Invalid("column", table+"."+name, "is not a column of the target")
		}
		src.cols[i] = c
	}
	next, stop := iter.Pull2(rows)
	defer stop()
	src.next = next
	n, err := l.tx.CopyFrom(ctx, pgx.Identifier{table}, columns, src)
	if src.err != nil {
		return n, src.err
	}
	if err != nil {
		return n, translate("load "+table, err)
	}
	return n, nil
}

// copySource feeds CopyFrom from a row iterator, converting each value.
type copySource struct {
	table string
	cols  []column
	next  func() ([]any, error, bool)
	row   []any
	err   error
}

func (c *copySource) Next() bool {
	row, err, ok := c.next()
	switch {
	case !ok:
		return false
	case err != nil:
		c.err = err
		return false
	case len(row) != len(c.cols):
		c.err = objections.Errorf(objections.EINTERNAL, "load %s: a row of %d values for %d columns", c.table, len(row), len(c.cols))
		return false
	}
	for i, v := range row {
		if row[i], err = c.cols[i].store(v); err != nil {
			c.err = objections.Invalid("column", c.table+"."+c.cols[i].name, "%v", err)
			return false
		}
	}
	c.row = row
	return true
}

func (c *copySource) Values() ([]any, error) { return c.row, nil }
func (c *copySource) Err() error             { return c.err }

// Commit enables the triggers again, moves the identity sequences past the
// values loaded, sets the event chain's head to the last event, and
// commits.
func (l *Loader) Commit(ctx context.Context) error {
	if l.done {
		return objections.Errorf(objections.EINTERNAL, "commit load: already ended")
	}
	if err := l.finish(ctx); err != nil {
		_ = l.Close()
		return err
	}
	err := l.tx.Commit(ctx)
	l.end()
	if err != nil {
		return translate("commit load", err)
	}
	return nil
}

func (l *Loader) finish(ctx context.Context) error {
	for _, t := range l.tables {
		if _, err := l.tx.Exec(ctx, `ALTER TABLE `+quoteIdent(t)+` ENABLE TRIGGER USER`); err != nil {
			return translate("commit load: enable triggers of "+t, err)
		}
	}
	rows, _ := l.tx.Query(ctx, `SELECT c.relname, a.attname
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
		  AND pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) IS NOT NULL
		ORDER BY 1, 2`)
	seqs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var tc [2]string
		err := r.Scan(&tc[0], &tc[1])
		return tc, err
	})
	if err != nil {
		return translate("commit load: read sequences", err)
	}
	for _, tc := range seqs {
		// The next value is one past the largest loaded (1 for an empty table).
		if _, err := l.tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(`+quoteIdent(tc[1])+`), 0) + 1, false) FROM `+quoteIdent(tc[0]),
			quoteIdent(tc[0]), tc[1]); err != nil {
			return translate("commit load: set sequence of "+tc[0]+"."+tc[1], err)
		}
	}
	if l.head != 0 {
		return objections.Errorf(objections.EINVALID, "commit load: the target's event log head is at event %d: the store was not empty", l.head)
	}
	if _, err := l.tx.Exec(ctx, `UPDATE event_head h SET seq = e.seq, hash = e.hash
		FROM (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1) e WHERE h.id`); err != nil {
		return translate("commit load: set event head", err)
	}
	return nil
}

// Close rolls back a load that was not committed; after Commit it does
// nothing.
func (l *Loader) Close() error {
	if l.done {
		return nil
	}
	err := l.tx.Rollback(context.Background())
	l.end()
	if err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return translate("roll back load", err)
	}
	return nil
}

func (l *Loader) end() {
	if !l.done {
		l.done = true
		l.conn.Release()
	}
}

// schema reads the tables, columns and row counts of a snapshot or a load,
// in its transaction.
type schema struct{ q querier }

// Tables returns the store's tables, each with the tables its foreign keys
// reference (for a load: the tables to load before it).
func (sc schema) Tables(ctx context.Context) (map[string][]string, error) {
	return copyTables(ctx, sc.q)
}

// Columns returns the table's columns in their order.
func (sc schema) Columns(ctx context.Context, table string) ([]string, error) {
	cols, err := copyColumns(ctx, sc.q, table)
	return columnNames(cols), err
}

// Count returns the number of rows of table, as the transaction sees it.
func (sc schema) Count(ctx context.Context, table string) (int64, error) {
	return copyCount(ctx, sc.q, table)
}

// column is one column as the catalog describes it.
type column struct {
	name    string
	typ     string // the type's name (pg_type.typname; a domain's base type): text, int8, timestamptz, …
	notNull bool
}

func columnNames(cols []column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return names
}

// selectExpr reads the column in its neutral form: the types pgx decodes
// to plain Go values as they are, dates and everything else as text.
func (c column) selectExpr() string {
	id := quoteIdent(c.name)
	switch c.typ {
	case "text", "varchar", "bpchar", "int2", "int4", "int8", "bool", "timestamptz", "timestamp", "bytea", "float4", "float8":
		return id
	case "date":
		return `to_char(` + id + `, 'YYYY-MM-DD')`
	}
	if c.array() {
		return `array_to_json(` + id + `)::text` // ["a","b"]: what the embedded store keeps for a list
	}
	return id + `::text` // json and jsonb as written; anything else as PostgreSQL prints it
}

// array reports whether the column is an array (pg_type names an array
// type after its element: _text).
func (c column) array() bool { return strings.HasPrefix(c.typ, "_") }

// store converts a neutral value to what the column takes.
func (c column) store(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if x, ok := v.(string); ok && c.array() {
		// A list is a JSON array in the neutral form.
		var list []any
		if err := json.Unmarshal([]byte(x), &list); err != nil {
			return nil, fmt.Errorf("text that is not a JSON array cannot go into %s", c.typ)
		}
		return list, nil
	}
	switch c.typ {
	case "timestamptz", "timestamp":
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			if x == "" && !c.notNull {
				return nil, nil // the embedded store's "none"
			}
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return nil, fmt.Errorf("text that is not an RFC 3339 time cannot go into %s", c.typ)
			}
			return t, nil
		}
	case "date":
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			if x == "" && !c.notNull {
				return nil, nil
			}
			t, err := time.Parse(dateLayout, x)
			if err != nil {
				return nil, fmt.Errorf("text that is not a date (2006-01-02) cannot go into date")
			}
			return t, nil
		}
	case "bool":
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
			return nil, fmt.Errorf("an integer other than 0 or 1 cannot go into boolean")
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case "text", "varchar", "bpchar", "json", "jsonb":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case "int2", "int4", "int8":
		switch x := v.(type) {
		case int64:
			return x, nil
		case bool:
			return nil, fmt.Errorf("a boolean cannot go into %s", c.typ)
		}
	default:
		return v, nil // pgx encodes it, or says why not
	}
	return nil, fmt.Errorf("a %T cannot go into %s", v, c.typ)
}

// tableOID is the SQL for the oid of the table named by $1 in the current
// schema.
const tableOID = `(quote_ident(current_schema()) || '.' || quote_ident($1))::regclass`

// copyTables reads the tables of the current schema and the tables their
// foreign keys reference.
func copyTables(ctx context.Context, q querier) (map[string][]string, error) {
	rows, _ := q.Query(ctx, `SELECT c.relname,
			coalesce(array_agg(DISTINCT f.relname) FILTER (WHERE f.relname IS NOT NULL AND f.oid <> c.oid), '{}')
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype = 'f'
		LEFT JOIN pg_class f ON f.oid = k.confrelid
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		GROUP BY c.relname
		ORDER BY c.relname`)
	out := map[string][]string{}
	var (
		name string
		refs []string
	)
	_, err := pgx.ForEachRow(rows, []any{&name, &refs}, func() error {
		if !copyExcluded[name] {
			out[name] = append([]string{}, refs...)
		}
		return nil
	})
	if err != nil {
		return nil, translate("read tables", err)
	}
	return out, nil
}

// copyColumns reads table's columns; ENOTFOUND for a table that does not
// exist in the current schema.
func copyColumns(ctx context.Context, q querier, table string) ([]column, error) {
	rows, _ := q.Query(ctx, `SELECT a.attname, coalesce(b.typname, t.typname), a.attnotnull
		FROM pg_attribute a
		JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype
		WHERE a.attrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1))
		  AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		ORDER BY a.attnum`, table)
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		err := r.Scan(&c.name, &c.typ, &c.notNull)
		return c, err
	})
	if err != nil {
		return nil, translate("read columns of "+table, err)
	}
	if len(cols) == 0 {
		return nil, objections.NotFound("table", table)
	}
	return cols, nil
}

func copyCount(ctx context.Context, q querier, table string) (int64, error) {
	rows, _ := q.Query(ctx, `SELECT count(*) FROM `+quoteIdent(table))
	n, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, translate("count "+table, err)
	}
	return n, nil
}

// quoteIdent quotes a table or column name read from the catalog.
func quoteIdent(s string) string { return pgx.Identifier{s}.Sanitize() }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}
