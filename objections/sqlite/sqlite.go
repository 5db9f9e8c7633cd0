package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/verzet/verzet/objections"
	"github.com/verzet/verzet/objections/access"
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

// The capabilities declared in the packages a store may import. Those its
// users declare (httpapi.Outbox, review.Records, twilio.Calls, …) are
// checked where cmd/verzet wires them (stores.go).
var (
	_ objections.Store = (*Store)(nil)
	_ access.Store     = (*Store)(nil)
)

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
		return nil, translate("open database", err)
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
		return translate("close database", err)
	}
	return nil
}

// Ping runs a trivial query; EUNAVAILABLE when it fails.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return objections.Unavailable("ping database", flatten(err))
	}
	return nil
}

// write runs fn in an IMMEDIATE transaction and commits it. Errors that are
// not objections errors already are translated with translate.
func (s *Store) write(ctx context.Context, doing string, fn func(q dbtx) error) error {
	select {
	case s.wslot <- struct{}{}:
	case <-ctx.Done():
		return objections.Unavailable(doing, ctx.Err())
	}
	defer func() { <-s.wslot }()

	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE (_txlock)
	if err != nil {
		return translate(doing+": begin", err)
	}
	if err := fn(dbtx{s: s, tx: tx}); err != nil {
		_ = tx.Rollback()
		return translate(doing, err)
	}
	if err := tx.Commit(); err != nil {
		return translate(doing+": commit", err)
	}
	return nil
}

// writeOne runs fn in a write transaction (see write) and returns what fn
// returned.
func writeOne[T any](ctx context.Context, s *Store, doing string, fn func(tx dbtx) (T, error)) (T, error) {
	var out T
	err := s.write(ctx, doing, func(tx dbtx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// exec runs one statement in a write transaction.
func (s *Store) exec(ctx context.Context, doing, query string, args ...any) error {
	return s.write(ctx, doing, func(tx dbtx) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	})
}

// execCount runs one statement in a write transaction and returns how
// many rows it changed.
func (s *Store) execCount(ctx context.Context, doing, query string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, doing, func(tx dbtx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// read runs fn in a read-only transaction: one consistent snapshot of the
// WAL, without taking the write lock.
func (s *Store) read(ctx context.Context, doing string, fn func(q dbtx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translate(doing+": begin", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(dbtx{s: s, tx: tx}); err != nil {
		return translate(doing, err)
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
