package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/verzet/verzet/objections"
)

// Copying a whole store to another one (verzet copy), table by table, and
// backing the file up (verzet backup).
//
// Nothing here knows the schema: tables, columns, their types and the
// foreign keys that order them are read from the database itself
// (sqlite_schema, pragma_table_info, pragma_foreign_key_list), so that a
// migration that adds a table or a column is copied without a change here.
//
// Rows travel between stores as []any in a neutral form that both stores
// read and write: nil, string, int64, float64, bool, time.Time and []byte;
// a date is "2006-01-02" text, JSON is text, and a list (a PostgreSQL
// array) is a JSON array as text. The Snapshot gives the values
// as this store keeps them (times as fixed-width text, booleans as 0/1);
// the Loader converts what it is given to this store's form by the type of
// the column it goes into. PostgreSQL's side does the same for its types.

// copyExcluded are the tables that belong to a store's own bookkeeping, not
// to its data: the migration versions.
var copyExcluded = map[string]bool{"schema_version": true}

// Snapshot is a consistent, read-only view of every table of the store, for
// copying it to another store. It holds a read transaction (a WAL snapshot)
// from Snapshot to Close: writers go on meanwhile, and what they commit is
// not seen. Close it.
type Snapshot struct {
	schema
	tx *sql.Tx
}

// Snapshot begins a read transaction and pins its snapshot. EUNAVAILABLE
// when the database cannot be read.
func (s *Store) Snapshot(ctx context.Context) (*Snapshot, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, translate("begin snapshot", err)
	}
	// A deferred transaction takes its snapshot at its first read: read
	// now, so that every table is read as of this moment.
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&n); err != nil {
		_ = tx.Rollback()
		return nil, translate("begin snapshot", err)
	}
	return &Snapshot{schema: schema{tx}, tx: tx}, nil
}

// Rows streams the rows of table, in primary-key order, as the values of
// columns in the form this store keeps them: string, int64, float64,
// []byte or nil.
func (sn *Snapshot) Rows(ctx context.Context, table string, columns []string) iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		cols, err := copyColumns(ctx, sn.tx, table)
		if err != nil {
			yield(nil, err)
			return
		}
		order := make([]string, len(cols))
		keys := 0
		for _, c := range cols {
			if c.pk > 0 && c.pk <= len(cols) {
				order[c.pk-1] = quoteIdent(c.name)
				keys++
			}
		}
		q := `SELECT ` + quoteList(columns) + ` FROM ` + quoteIdent(table)
		if keys > 0 {
			q += ` ORDER BY ` + strings.Join(order[:keys], ", ")
		}
		rows, err := sn.tx.QueryContext(ctx, q)
		if err != nil {
			yield(nil, translate("read "+table, err))
			return
		}
		defer rows.Close()
		vals := make([]any, len(columns))
		ptrs := make([]any, len(columns))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			// Scan into *any copies []byte values: row is the caller's.
			if err := rows.Scan(ptrs...); err != nil {
				yield(nil, translate("read "+table, err))
				return
			}
			row := make([]any, len(vals))
			copy(row, vals)
			if !yield(row, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, translate("read "+table, err))
		}
	}
}

// Close ends the snapshot's read transaction.
func (sn *Snapshot) Close() error {
	if err := sn.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return translate("end snapshot", err)
	}
	return nil
}

// Loader writes whole tables into the store in one write transaction, for
// copying another store into this one. The store's triggers are dropped
// for the load and created again by Commit: the rows copied already carry
// what the triggers made (the outbox rows of each objection), which must
// not be made twice. Foreign keys are checked at Commit. Nothing is
// visible, and nothing changed, until Commit; Close without Commit rolls
// everything back.
type Loader struct {
	schema
	s        *Store
	tx       *sql.Tx
	triggers []string // the CREATE TRIGGER statements to run again at Commit
	done     bool
}

// Loader begins the load: it takes the store's write lock for the whole
// load and drops the triggers inside the transaction. EUNAVAILABLE when
// the lock cannot be had.
func (s *Store) Loader(ctx context.Context) (*Loader, error) {
	select {
	case s.wslot <- struct{}{}:
	case <-ctx.Done():
		return nil, objections.Unavailable("begin load", ctx.Err())
	}
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		<-s.wslot
		return nil, translate("begin load", err)
	}
	l := &Loader{schema: schema{tx}, s: s, tx: tx}
	if err := l.dropTriggers(ctx); err != nil {
		_ = l.Close()
		return nil, err
	}
	return l, nil
}

func (l *Loader) dropTriggers(ctx context.Context) error {
	if _, err := l.tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
		return translate("begin load: defer foreign keys", err)
	}
	rows, err := l.tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name`)
	if err != nil {
		return translate("begin load: read triggers", err)
	}
	var names []string
	for rows.Next() {
		var name, stmt string
		if err := rows.Scan(&name, &stmt); err != nil {
			rows.Close()
			return translate("begin load: read triggers", err)
		}
		names, l.triggers = append(names, name), append(l.triggers, stmt)
	}
	if err := rows.Close(); err != nil {
		return translate("begin load: read triggers", err)
	}
	for _, name := range names {
		if _, err := l.tx.ExecContext(ctx, `DROP TRIGGER `+quoteIdent(name)); err != nil {
			return translate("begin load: drop trigger "+name, err)
		}
	}
	return nil
}

// Load inserts rows into table's columns and returns how many it inserted.
// Each value is converted to the column's form here: time.Time to the
// fixed-width UTC text, bool to 0/1, []byte to text in a TEXT column, and
// nil to ” in a NOT NULL TEXT column (this store's "none", where
// PostgreSQL keeps NULL). EINVALID for a value the column cannot hold; the
// message names the table, the column and the types, never the value.
func (l *Loader) Load(ctx context.Context, table string, columns []string, rows iter.Seq2[[]any, error]) (int64, error) {
	all, err := copyColumns(ctx, l.tx, table)
	if err != nil {
		return 0, err
	}
	byName := make(map[string]column, len(all))
	for _, c := range all {
		byName[c.name] = c
	}
	cols := make([]column, len(columns))
	for i, name := range columns {
		c, ok := byName[name]
		if !ok {
			return 0, objections.Invalid("column", table+"."+name, "is not a column of the target")
		}
		cols[i] = c
	}
	if len(cols) == 0 {
		return 0, objections.Errorf(objections.EINTERNAL, "load %s: no columns", table)
	}
	var n int64
	batch := make([]any, 0, loadBatch*len(cols))
	var full *sql.Stmt // the statement of a whole batch, prepared once
	defer func() {
		if full != nil {
			_ = full.Close()
		}
	}()
	flush := func() error {
		rows := len(batch) / len(cols)
		if rows == 0 {
			return nil
		}
		var err error
		if rows == loadBatch && full != nil {
			_, err = full.ExecContext(ctx, batch...)
		} else {
			var st *sql.Stmt
			if st, err = l.tx.PrepareContext(ctx, insertSQL(table, columns, rows)); err == nil {
				_, err = st.ExecContext(ctx, batch...)
				if rows == loadBatch {
					full = st
				} else {
					_ = st.Close()
				}
			}
		}
		if err != nil {
			return translate("load "+table, err)
		}
		n += int64(rows)
		batch = batch[:0]
		return nil
	}
	for row, err := range rows {
		if err != nil {
			return n, err
		}
		if len(row) != len(cols) {
			return n, objections.Errorf(objections.EINTERNAL, "load %s: a row of %d values for %d columns", table, len(row), len(cols))
		}
		for i, v := range row {
			sv, err := cols[i].store(v)
			if err != nil {
				return n, objections.Invalid("column", table+"."+cols[i].name, "%v", err)
			}
			batch = append(batch, sv)
		}
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// loadBatch is how many rows one INSERT of Load carries: fewer statements
// to run, and far below SQLite's limit of 32766 parameters for any of the
// schema's tables.
const loadBatch = 64

// insertSQL is the INSERT of rows rows into table's columns.
func insertSQL(table string, columns []string, rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(columns)), ", ") + ")"
	return `INSERT INTO ` + quoteIdent(table) + ` (` + quoteList(columns) + `) VALUES ` +
		strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// Commit creates the triggers again and commits the load; the deferred
// foreign keys are checked now.
func (l *Loader) Commit(ctx context.Context) error {
	if l.done {
		return objections.Errorf(objections.EINTERNAL, "commit load: already ended")
	}
	for _, stmt := range l.triggers {
		if _, err := l.tx.ExecContext(ctx, stmt); err != nil {
			_ = l.Close()
			return translate("commit load: create trigger", err)
		}
	}
	err := l.tx.Commit()
	l.end()
	if err != nil {
		return translate("commit load", err)
	}
	return nil
}

// Close rolls back a load that was not committed; after Commit it does
// nothing.
func (l *Loader) Close() error {
	if l.done {
		return nil
	}
	err := l.tx.Rollback()
	l.end()
	if err != nil && !errors.Is(err, sql.ErrTxDone) {
		return translate("roll back load", err)
	}
	return nil
}

func (l *Loader) end() {
	if !l.done {
		l.done = true
		<-l.s.wslot
	}
}

// column is one column as pragma_table_info describes it.
type column struct {
	name    string
	typ     string // declared type, upper case: TEXT, INTEGER, BLOB, REAL, ANY
	notNull bool
	pk      int // position in the primary key, 0 when not in it
}

func columnNames(cols []column) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return names
}

// store converts a neutral value to what c keeps.
func (c column) store(v any) (any, error) {
	text := strings.Contains(c.typ, "TEXT") || strings.Contains(c.typ, "CHAR") || strings.Contains(c.typ, "CLOB")
	switch x := v.(type) {
	case nil:
		if c.notNull && text {
			return "", nil // this store's "none" for an optional text or time
		}
		return nil, nil
	case string:
		if c.typ == "BLOB" {
			return []byte(x), nil
		}
		return x, nil
	case []byte:
		if text {
			return string(x), nil
		}
		return x, nil
	case time.Time:
		if !text {
			return nil, fmt.Errorf("a time cannot go into a %s column", c.typ)
		}
		return formatTime(x), nil
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case int64, float64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case float32:
		return float64(x), nil
	}
	return nil, fmt.Errorf("a %T cannot go into a %s column", v, c.typ)
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

// querier is a transaction or the pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// copyTables reads the tables and the tables their foreign keys reference.
func copyTables(ctx context.Context, q querier) (map[string][]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, translate("read tables", err)
	}
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return nil, translate("read tables", err)
		}
		if !copyExcluded[name] {
			names = append(names, name)
		}
	}
	if err := rows.Close(); err != nil {
		return nil, translate("read tables", err)
	}
	out := make(map[string][]string, len(names))
	for _, name := range names {
		refs, err := q.QueryContext(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?) ORDER BY 1`, name)
		if err != nil {
			return nil, translate("read foreign keys of "+name, err)
		}
		out[name] = []string{}
		for refs.Next() {
			var ref string
			if err := refs.Scan(&ref); err != nil {
				refs.Close()
				return nil, translate("read foreign keys of "+name, err)
			}
			if ref != name {
				out[name] = append(out[name], ref)
			}
		}
		if err := refs.Close(); err != nil {
			return nil, translate("read foreign keys of "+name, err)
		}
	}
	return out, nil
}

// copyColumns reads table's columns; ENOTFOUND for a table that does not
// exist.
func copyColumns(ctx context.Context, q querier, table string) ([]column, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, upper(type), "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, translate("read columns of "+table, err)
	}
	defer rows.Close()
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.pk); err != nil {
			return nil, translate("read columns of "+table, err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, translate("read columns of "+table, err)
	}
	if len(cols) == 0 {
		return nil, objections.NotFound("table", table)
	}
	return cols, nil
}

func copyCount(ctx context.Context, q querier, table string) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(table)).Scan(&n); err != nil {
		return 0, translate("count "+table, err)
	}
	return n, nil
}

// quoteIdent quotes a table or column name read from the schema.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// Backup writes a consistent copy of the whole database to path while the
// store stays in use (VACUUM INTO: one read transaction, writers go on). It
// refuses a path that exists (EINVALID). The copy is written to a
// temporary file beside path, flushed to disk, and only then linked to
// path, so that path is either absent or a complete copy; the file is
// readable by its owner only.
func (s *Store) Backup(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return objections.Invalid("FILE", path, "cannot be made absolute: %v", err)
	}
	if _, err := os.Lstat(abs); err == nil {
		return objections.Invalid("FILE", path, "exists already: a backup never overwrites a file; name a new one")
	} else if !errors.Is(err, fs.ErrNotExist) {
		return objections.Invalid("FILE", path, "cannot be checked: %v", err)
	}
	dir := filepath.Dir(abs)
	// An empty file is what VACUUM INTO accepts besides a missing one;
	// creating it claims a unique name with mode 0600.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(abs)+".partial-*")
	if err != nil {
		return objections.Invalid("FILE", path, "cannot be written: %v", err)
	}
	tmpName := tmp.Name()
	_ = tmp.Close()
	defer os.Remove(tmpName) // after the link, or when anything failed
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, tmpName); err != nil {
		return translate("back up database", err)
	}
	if err := syncFile(tmpName); err != nil {
		return objections.Unavailable("back up database: flush", err)
	}
	// Link, not rename: it refuses a file made at path meanwhile.
	if err := os.Link(tmpName, abs); err != nil {
		if _, serr := os.Lstat(abs); errors.Is(err, fs.ErrExist) || serr == nil {
			return objections.Invalid("FILE", path, "was created while the backup ran: a backup never overwrites a file")
		}
		// A file system without hard links: rename, having checked again.
		if err := os.Rename(tmpName, abs); err != nil {
			return objections.Unavailable("back up database: move into place", err)
		}
	}
	if err := syncFile(dir); err != nil {
		return objections.Unavailable("back up database: flush directory", err)
	}
	return nil
}

// syncFile flushes a file or directory to disk.
func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
