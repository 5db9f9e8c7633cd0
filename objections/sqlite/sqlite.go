package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/verzet/verzet/objections"
)

// BusyTimeout is how long a write waits for another process's write lock
// before it fails with EUNAVAILABLE.
const BusyTimeout = 5 * time.Second

// Store is the SQLite implementation of objections.Store. It is safe for
// concurrent use, and several Stores (in one process or in several) may
// share one file.
type Store struct {
	db *sql.DB
	// wslot queues this Store's writers in the process (size 1: one write
	// transaction at a time), so that they wait in order instead of
	// polling SQLite's busy handler against each other. Other processes
	// still meet the file lock and the busy timeout.
	wslot chan struct{}
	// stmts caches prepared statements by their SQL: parsing costs more
	// than running most of these queries. database/sql prepares each once
	// per connection and reuses it inside transactions. The SQL comes from
	// a fixed set of templates, so the cache is bounded.
	stmts sync.Map // string → *sql.Stmt
}

var _ objections.Store = (*Store)(nil)

// Open opens (creating when missing, with its parent directory) the database
// file at path. Call Migrate before use. EUNAVAILABLE when the file cannot
// be opened or put in WAL mode.
func Open(ctx context.Context, path string) (*Store, error) {
	if strings.TrimSpace(path) == "" {
		return nil, objections.Invalid("path", path, "is empty")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, objections.Invalid("path", path, "cannot be made absolute: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, objections.Unavailable("create database directory", err)
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, objections.Internal("open database", err)
	}
	// Idle connections keep their prepared statements; WAL readers do not
	// block the writer, so a few may stay open. The pool must not be
	// limited to one connection: a statement is prepared on the pool while
	// a write transaction holds a connection.
	db.SetMaxIdleConns(4)
	s := &Store{db: db, wslot: make(chan struct{}, 1)}

	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		_ = db.Close()
		return nil, storeError("open database", err)
	}
	if !strings.EqualFold(mode, "wal") {
		_ = db.Close()
		return nil, objections.Errorf(objections.EUNAVAILABLE,
			"open database: journal mode is %q, not wal (the file system may not support WAL)", mode)
	}
	return s, nil
}

// dsn builds the modernc.org/sqlite data source name for the file at the
// absolute path abs. The _pragma parameters run on every new connection of
// the pool: busy_timeout first (the driver sorts it so), then the rest.
// _txlock=immediate makes every read-write transaction BEGIN IMMEDIATE;
// read-only transactions stay plain BEGIN.
func dsn(abs string) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a drive letter: file:/C:/…
	}
	u := url.URL{Scheme: "file", Path: p, OmitHost: true}
	q := []string{
		"_pragma=" + url.QueryEscape(fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds())),
		"_pragma=" + url.QueryEscape("journal_mode(WAL)"),
		"_pragma=" + url.QueryEscape("synchronous(FULL)"),
		"_pragma=" + url.QueryEscape("foreign_keys(1)"),
		"_txlock=immediate",
	}
	return u.String() + "?" + strings.Join(q, "&")
}

// Close closes the database.
func (s *Store) Close() error {
	s.stmts.Range(func(k, v any) bool {
		_ = v.(*sql.Stmt).Close()
		s.stmts.Delete(k)
		return true
	})
	if err := s.db.Close(); err != nil {
		return storeError("close database", err)
	}
	return nil
}

// Ping runs a trivial query; EUNAVAILABLE when it fails.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return objections.Unavailable("ping database", detach(err))
	}
	return nil
}

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationSplit ends the "up" part of a migration file (the tern format of
// objections/postgres); what follows it is the "down" part, which Migrate
// does not run.
const migrationSplit = "---- create above / drop below ----"

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, p := range names {
		name := filepath.Base(p)
		digits := name[:strings.IndexFunc(name+"x", func(r rune) bool { return r < '0' || r > '9' })]
		v, err := strconv.Atoi(digits)
		if err != nil {
			return nil, fmt.Errorf("migration %s: name does not start with a number", name)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		up, _, _ := strings.Cut(string(b), migrationSplit)
		ms = append(ms, migration{version: v, name: name, sql: up})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// Migrate brings the schema up to date with the embedded migrations. It runs
// in one IMMEDIATE transaction, so that two processes starting at once apply
// each migration once, and it is a no-op on an up-to-date database.
// EINTERNAL when the database has a newer schema than this build knows.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFS)
	if err != nil {
		return objections.Internal("load migrations", err)
	}
	return s.write(ctx, "migrate database", func(q dbtx) error {
		tx := q.tx // not q: migration SQL runs once and is not cached
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    INTEGER NOT NULL PRIMARY KEY,
			name       TEXT    NOT NULL,
			applied_at TEXT    NOT NULL
		) STRICT`); err != nil {
			return fmt.Errorf("create schema_version: %w", err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(ms) {
			return objections.Errorf(objections.EINTERNAL,
				"database schema version %d is newer than this build knows (%d)", current, len(ms))
		}
		for _, m := range ms[current:] {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("apply migration %s: %w", m.name, err)
			}
			if _, err := tx.ExecContext(ctx,
				"INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, formatTime(time.Now())); err != nil {
				return fmt.Errorf("record migration %s: %w", m.name, err)
			}
		}
		return nil
	})
}

// write runs fn in an IMMEDIATE transaction and commits it. Errors that are
// not objections errors already are translated with storeError.
func (s *Store) write(ctx context.Context, doing string, fn func(q dbtx) error) error {
	select {
	case s.wslot <- struct{}{}:
	case <-ctx.Done():
		return objections.Unavailable(doing, ctx.Err())
	}
	defer func() { <-s.wslot }()

	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return storeError(doing+": begin", err)
	}
	if err := fn(dbtx{s: s, tx: tx}); err != nil {
		_ = tx.Rollback()
		return storeError(doing, err)
	}
	if err := tx.Commit(); err != nil {
		return storeError(doing+": commit", err)
	}
	return nil
}

// read runs fn in a read-only transaction: one consistent snapshot of the
// WAL, without taking the write lock.
func (s *Store) read(ctx context.Context, doing string, fn func(q dbtx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return storeError(doing+": begin", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(dbtx{s: s, tx: tx}); err != nil {
		return storeError(doing, err)
	}
	return nil
}

// dbtx runs cached statements in tx, or on the pool when tx is nil.
type dbtx struct {
	s  *Store
	tx *sql.Tx
}

// q returns a dbtx that runs statements on the pool, outside a transaction.
func (s *Store) q() dbtx { return dbtx{s: s} }

func (d dbtx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	v, ok := d.s.stmts.Load(query)
	if !ok {
		st, err := d.s.db.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		var loaded bool
		if v, loaded = d.s.stmts.LoadOrStore(query, st); loaded {
			_ = st.Close()
		}
	}
	st := v.(*sql.Stmt)
	if d.tx != nil {
		// Closed with the transaction.
		st = d.tx.StmtContext(ctx, st)
	}
	return st, nil
}

func (d dbtx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := d.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (d dbtx) QueryRowContext(ctx context.Context, query string, args ...any) rowScanner {
	st, err := d.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

func (d dbtx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := d.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// errRow is a row whose statement could not be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// coder is met by the driver's errors: the SQLite (extended) result code.
type coder interface{ Code() int }

// storeError translates err at the store's boundary. objections errors pass
// unchanged; a constraint violation is ECONFLICT; a busy, locked, full or
// failing database, or an ended context, is EUNAVAILABLE; anything else is
// EINTERNAL. The driver's error is replaced by its message.
func storeError(doing string, err error) error {
	if err == nil {
		return nil
	}
	var oe *objections.Error
	if errors.As(err, &oe) {
		return err
	}
	var c coder
	if errors.As(err, &c) {
		switch c.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			return &objections.Error{Code: objections.ECONFLICT, Message: doing + ": conflicts with a stored record", Err: detach(err)}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_READONLY,
			sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_INTERRUPT:
			return objections.Unavailable(doing, detach(err))
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone) {
		return objections.Unavailable(doing, detach(err))
	}
	return objections.Internal(doing, detach(err))
}

// detach returns err without the driver's types in its chain; the context
// errors stay matchable with errors.Is.
func detach(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", err.Error(), context.Canceled)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", err.Error(), context.DeadlineExceeded)
	}
	return errors.New(err.Error())
}

// notFound maps sql.ErrNoRows to ENOTFOUND naming field and value.
func notFound(err error, field, value string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return objections.NotFound(field, value)
	}
	return err
}

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

// micro is the precision both stores keep.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

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

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// rowScanner is met by *sql.Row and *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }
